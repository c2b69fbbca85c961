//! Dropout as PyTorch's `nn.Dropout` in training mode: each output of a layer with dropout `p`
//! is zeroed with probability `p` and the others scaled by `1/(1 − p)` (inverted dropout), so the
//! next layer's input keeps its expected value; evaluation passes drop nothing, and a fixed-mask
//! pass repeats the previous mask.

use backprop_layers::{ActivationSpec, LayerSpec, Mode, Network, Workspace};
use backprop_tensor::Matrix;
use backprop_tensor::rng::seeded;

const UNITS: usize = 4000;
const P: f64 = 0.25;

/// `x → UNITS` identity units with weight 1 and dropout `P`, then one identity unit summing them:
/// the output is `x · Σ mask`.
fn summing_net() -> Network<f64> {
    let identity = || ActivationSpec::from_name("identity").expect("registered");
    let mut hidden = LayerSpec::new(UNITS, identity());
    hidden.dropout = P;
    let mut net = Network::new(1, &[hidden, LayerSpec::new(1, identity())]);
    net.params_mut().fill(0.0);
    for l in 0..2 {
        net.layer_params_mut(l).0.fill(1.0);
    }
    net
}

#[test]
fn training_passes_drop_a_fraction_p_and_scale_the_rest_by_one_over_one_minus_p() {
    let net = summing_net();
    let x = Matrix::from_shape_vec((3, 1), vec![1.0, 2.0, 0.5]).unwrap();
    let mut ws = Workspace::new(&net, 3);

    net.forward_mode(x.view(), &mut ws, Mode::Eval);
    let eval: Vec<f64> = ws.output(3).iter().copied().collect();
    assert_eq!(eval, [UNITS as f64, 2.0 * UNITS as f64, 0.5 * UNITS as f64], "evaluation drops nothing");

    let mut rng = seeded(7);
    net.forward_mode(x.view(), &mut ws, Mode::Train(&mut rng));
    let train: Vec<f64> = ws.output(3).iter().copied().collect();
    let keep = 1.0 / (1.0 - P);
    for (row, (&out, &x)) in train.iter().zip(x.iter()).enumerate() {
        // out = x · keep · (units kept): a whole number of kept units.
        let kept = out / (x * keep);
        assert!((kept - kept.round()).abs() < 1e-6, "row {row}: {out} is no multiple of x·1/(1 − p)");
        // Binomial(4000, 0.75): standard deviation 27; 4% is over 5 of them.
        let fraction = kept.round() / UNITS as f64;
        assert!((fraction - (1.0 - P)).abs() < 0.04, "row {row}: kept {fraction} of the units, not 1 − p");
        // The expected value is kept: x · UNITS within the same bound.
        assert!((out / (x * UNITS as f64) - 1.0).abs() < 0.06, "row {row}: {out}");
    }
    assert!(train[0] != train[1] / 2.0 || train[0] != train[2] * 2.0, "each row draws its own mask");

    net.forward_mode(x.view(), &mut ws, Mode::TrainFixedMask);
    let fixed: Vec<f64> = ws.output(3).iter().copied().collect();
    assert_eq!(fixed, train, "a fixed-mask pass repeats the previous mask");

    let mut again = Workspace::new(&net, 3);
    net.forward_mode(x.view(), &mut again, Mode::Train(&mut seeded(7)));
    assert_eq!(again.output(3).iter().copied().collect::<Vec<_>>(), train, "the same stream, the same masks");
    net.forward_mode(x.view(), &mut ws, Mode::Train(&mut rng));
    assert_ne!(ws.output(3).iter().copied().collect::<Vec<_>>(), train, "the next draw, other masks");
}

#[test]
fn dropout_is_reported_and_set_per_layer() {
    let mut net = summing_net();
    assert!(net.has_dropout());
    net.set_dropout(&[0.0, 0.0]);
    assert!(!net.has_dropout());
    let x = Matrix::from_elem((1, 1), 1.0);
    let mut ws = Workspace::new(&net, 1);
    net.forward_mode(x.view(), &mut ws, Mode::Train(&mut seeded(1)));
    assert_eq!(ws.output(1)[[0, 0]], UNITS as f64, "no dropout left");
    net.set_dropout(&[0.5, 0.0]);
    assert!(net.has_dropout());
}
