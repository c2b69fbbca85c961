//! A network's shape, its parameter layout and how initialisers fill it: what a user of this
//! crate reads and writes by hand (a model file's loader, a custom initialiser).

use backprop_layers::{ActivationSpec, LayerSpec, Network, PASS_BYTES, Workspace, parts};
use backprop_tensor::init::{Constant, Fan, Initializer};
use backprop_tensor::linalg::SMALL_GEMM;
use backprop_tensor::rng::{SeededRng, seeded};

/// 3 inputs → 4 sigmoid → 2 sigmoid.
fn net() -> Network<f64> {
    let sigmoid = || ActivationSpec::from_name("sigmoid").expect("registered");
    Network::new(3, &[LayerSpec::new(4, sigmoid()), LayerSpec::new(2, sigmoid())])
}

#[test]
fn shapes_and_the_flat_layout() {
    let net = net();
    assert_eq!((net.inputs(), net.outputs()), (3, 2));
    let layers = net.layers();
    assert_eq!(layers.iter().map(|l| (l.inputs, l.units)).collect::<Vec<_>>(), [(3, 4), (4, 2)]);
    // Each layer's W (row-major, inputs × units) and then its b, layer after layer.
    assert_eq!((layers[0].w_range(), layers[0].b_range()), (0..12, 12..16));
    assert_eq!((layers[1].w_range(), layers[1].b_range()), (16..24, 24..26));
    assert_eq!(net.params().len(), 26);
}

#[test]
fn layer_views_are_the_layout_s_slices() {
    let mut net = net();
    for l in 0..2 {
        let (mut w, mut b) = net.layer_params_mut(l);
        let (rows, cols) = w.dim();
        for ((i, j), x) in w.indexed_iter_mut() {
            *x = (100 * (l + 1) + 10 * i + j) as f64;
        }
        assert_eq!((rows, cols, b.len()), if l == 0 { (3, 4, 4) } else { (4, 2, 2) });
        b.fill(-(l as f64 + 1.0));
    }
    let p = net.params();
    assert_eq!(&p[0..4], [100.0, 101.0, 102.0, 103.0], "row 0 of W¹");
    assert_eq!(&p[8..12], [120.0, 121.0, 122.0, 123.0], "row 2 of W¹");
    assert_eq!(&p[12..16], [-1.0; 4], "b¹");
    assert_eq!(&p[16..18], [200.0, 201.0], "row 0 of W²");
    assert_eq!(&p[22..24], [230.0, 231.0], "row 3 of W²");
    assert_eq!(&p[24..26], [-2.0; 2], "b²");
    assert_eq!(net.weights(1)[[3, 1]], 231.0);
    assert_eq!(net.biases(0).to_vec(), [-1.0; 4]);
    // A gradient buffer has the same layout.
    let grads: Vec<f64> = (0..26).map(f64::from).collect();
    let (gw, gb) = net.layer_grads(1, &grads);
    assert_eq!((gw[[0, 0]], gw[[3, 1]], gb.to_vec()), (16.0, 23.0, vec![24.0, 25.0]));
}

/// Writes `fan_in·1000 + fan_out·100 + (the value's index)`: which block got which fan, in
/// which order.
struct Tagging;

impl Initializer for Tagging {
    fn fill(&self, fan: Fan, out: &mut [f64], _rng: &mut SeededRng) {
        for (i, x) in out.iter_mut().enumerate() {
            *x = (fan.fan_in * 1000 + fan.fan_out * 100 + i) as f64;
        }
    }
}

#[test]
fn initialisers_fill_each_block_with_its_layer_s_fan() {
    let mut net = net();
    net.initialize(&Tagging, &Constant { value: -0.5 }, &mut seeded(1));
    let p = net.params();
    let w1: Vec<f64> = (0..12).map(|i| f64::from(3400 + i)).collect();
    assert_eq!(&p[0..12], w1.as_slice(), "W¹ row by row, fan (3, 4)");
    assert_eq!(&p[12..16], [-0.5; 4]);
    let w2: Vec<f64> = (0..8).map(|i| f64::from(4200 + i)).collect();
    assert_eq!(&p[16..24], w2.as_slice(), "W², fan (4, 2)");
    assert_eq!(&p[24..26], [-0.5; 2]);

    // Per layer: the biases get their layer's fan too.
    let (zero, one) = (Constant { value: 0.0 }, Constant { value: 1.0 });
    net.initialize_layers(|l| if l == 0 { (&one, &Tagging) } else { (&zero, &one) }, &mut seeded(1));
    let p = net.params();
    assert_eq!((&p[0..12], &p[12..16]), (&[1.0; 12][..], &[3400.0, 3401.0, 3402.0, 3403.0][..]));
    assert_eq!((&p[16..24], &p[24..26]), (&[0.0; 8][..], &[1.0; 2][..]));
}

#[test]
fn a_workspace_holds_its_capacity() {
    let net = net();
    let ws = Workspace::new(&net, 7);
    assert_eq!((ws.capacity(), ws.output_units()), (7, 2));
    // A net at most 4 wide gets the tiny passes (the speed path; the same bits, tested in
    // `gradients.rs`); this one, with 4 units from 3 inputs, does.
    assert!(format!("{ws:?}").contains("TinyPasses"), "{ws:?}");
}

#[test]
fn a_pass_over_a_large_set_takes_bounded_balanced_parts() {
    let mut net = net();
    // 4 + 2 units, four buffers each, 8 bytes a value.
    assert_eq!(Workspace::bytes_per_row(&net), 192);
    assert_eq!(Workspace::pass_rows(&net), PASS_BYTES / 192);
    net.set_dropout(&[0.5, 0.0]);
    assert_eq!(Workspace::bytes_per_row(&net), (6 * 4 + 4 * 2) * 8);
    // A wide net's passes stay within PASS_BYTES: its one product is large from one row on.
    let relu = || ActivationSpec::from_name("relu").unwrap();
    let wide = Network::<f32>::new(3, &[LayerSpec::new(1 << 20, relu())]);
    assert_eq!((Workspace::bytes_per_row(&wide), Workspace::pass_rows(&wide)), (16 << 20, 64));
    // A 1 × 1 layer needs SMALL_GEMM + 1 rows for a large product, whatever the rest.
    let thin = Network::<f32>::new(
        3,
        &[LayerSpec::new(1 << 20, relu()), LayerSpec::new(1, relu()), LayerSpec::new(1, relu())],
    );
    assert_eq!(Workspace::pass_rows(&thin), 2 * (SMALL_GEMM + 1));

    // Where memory is short the parts shrink, by halves, down to the floor and no further; the
    // outputs of all rows count in what must fit. No more rows than the set has.
    let (n, per_row) = (1 << 20, 16 << 20);
    let outputs = n * (1 << 20) * 4;
    let fitting = |budget: usize| Workspace::pass_rows_fitting(&wide, n, |bytes| bytes <= budget);
    assert_eq!(fitting(usize::MAX), 64);
    assert_eq!(fitting(outputs + 64 * per_row), 64);
    assert_eq!(fitting(outputs + 64 * per_row - 1), 32);
    assert_eq!(fitting(outputs + 20 * per_row), 16);
    assert_eq!(fitting(0), 2, "the floor: twice the rows of a large product");
    assert_eq!(Workspace::pass_rows_fitting(&wide, 5, |_| true), 5);
    assert_eq!(Workspace::pass_rows_fitting(&wide, 0, |_| true), 1);
    assert_eq!(Workspace::pass_rows_for(&net, 10), 10, "a small set fits here in one pass");

    let lens = |n, most| parts(n, most).map(|r| r.len()).collect::<Vec<_>>();
    assert_eq!(lens(10, 4), [3, 3, 4]);
    assert_eq!(lens(9, 3), [3, 3, 3]);
    assert_eq!(lens(5, 8), [5]);
    assert_eq!(lens(0, 8), [0]);
    assert_eq!(parts(10, 4).collect::<Vec<_>>(), [0..3, 3..6, 6..10]);
}

#[test]
fn prediction_in_parts_of_large_products_gives_one_pass_s_bits() {
    // Parts above SMALL_GEMM rows take the packing GEMM, as one pass does; parts of a few rows
    // take the small products' loops, which sum without FMA and may differ in the last bits.
    let relu = || ActivationSpec::from_name("relu").expect("registered");
    let mut net = Network::<f64>::new(40, &[LayerSpec::new(64, relu()), LayerSpec::new(3, relu())]);
    net.initialize(&backprop_tensor::init::XavierUniform::default(), &Constant { value: 0.1 }, &mut seeded(3));
    let n = 3 * (SMALL_GEMM + 1) + 5;
    let x = ndarray::Array2::from_shape_fn((n, 40), |(i, j)| ((i * 40 + j) % 17) as f64 / 8.0 - 1.0);
    let whole = net.predict_in_parts(x.view(), n);
    assert_eq!(whole.dim(), (n, 3));
    assert!(whole.iter().any(|&v| v > 0.0));
    let same = |rows| net.predict_in_parts(x.view(), rows).iter().zip(&whole).all(|(a, b)| a.to_bits() == b.to_bits());
    assert!(same(2 * (SMALL_GEMM + 1)) && same(SMALL_GEMM + 1), "parts above SMALL_GEMM rows");
    assert!(!same(7), "parts of 7 rows take the small loops: if they now give the same bits, say so in predict's docs");
    assert_eq!(net.predict(x.view()), whole);
}

/// A network past `MAX_PARAMS` panics with a message where its allocation aborted the process
/// (4 TiB of f32 for a 2²⁰-wide layer), and a count that overflows `usize` panics the same.
#[test]
fn a_network_past_max_params_panics_instead_of_aborting() {
    let wide = |units| LayerSpec::new(units, ActivationSpec::from_name("relu").unwrap());
    let message = |f: &dyn Fn()| {
        let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("panics");
        e.downcast_ref::<String>().cloned().unwrap_or_default()
    };
    let m = message(&|| drop(Network::<f32>::new(1 << 20, &[wide(1 << 20)])));
    assert!(m.starts_with("Network::new: more than 2147483648 parameters (MAX_PARAMS) by layer 1"), "{m}");
    let m = message(&|| drop(Network::<f32>::new(usize::MAX / 2, &[wide(4)])));
    assert!(m.contains("by layer 1"), "inputs × units overflows usize: {m}");
    let m = message(&|| drop(Network::<f32>::new(1, &[wide(usize::MAX)])));
    assert!(m.contains("by layer 1"), "the biases' end overflows usize: {m}");
}
