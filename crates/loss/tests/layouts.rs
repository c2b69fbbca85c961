//! Every loss gives the same cost and gradient on views of any memory layout: row-major buffers
//! (the workspace's, which take the slice loops) and column-major views (the loops over views).

use backprop_loss::LossSpec;
use backprop_tensor::{Element, Matrix};
use ndarray::ShapeBuilder;

/// Outputs in (0.05, 0.95) (probabilities, for `bce`) and one-hot targets (for every loss).
fn batch<F: Element>(rows: usize, k: usize) -> (Matrix<F>, Matrix<F>) {
    let output = Matrix::from_shape_fn((rows, k), |(i, j)| F::of(0.05 + 0.9 * (((i * 7 + j * 13) % 17) as f64 / 16.0)));
    let target = Matrix::from_shape_fn((rows, k), |(i, j)| F::of(if (i + 2 * j) % k == 0 { 1.0 } else { 0.0 }));
    (output, target)
}

fn column_major<F: Element>(m: &Matrix<F>) -> Matrix<F> {
    let mut c = Matrix::zeros(m.dim().f());
    c.assign(m);
    c
}

fn same_on_every_layout<F: Element>(tolerance: f64) {
    for name in LossSpec::NAMES {
        let spec = LossSpec::from_name(name).expect("registered");
        let loss = spec.get::<F>();
        for (rows, k) in [(2, 2), (5, 3), (7, 10)] {
            let (output, target) = batch::<F>(rows, k);
            let (oc, tc) = (column_major(&output), column_major(&target));
            assert!(output.as_slice().is_some() && oc.as_slice().is_none(), "the layouts differ");
            let (a, b) = (loss.cost(output.view(), target.view()).f64(), loss.cost(oc.view(), tc.view()).f64());
            assert!(a.is_finite() && a > 0.0, "{name}: cost {a}");
            assert!((a - b).abs() <= tolerance * a, "{name}, {rows}×{k}: cost {a} row-major, {b} column-major");
            let mut g = Matrix::from_elem((rows, k), F::nan());
            loss.gradient(output.view(), target.view(), g.view_mut());
            let mut gc = Matrix::from_elem((rows, k).f(), F::nan());
            loss.gradient(oc.view(), tc.view(), gc.view_mut());
            // Element by element, in the logical (row-major) order of both.
            let bits = |m: &Matrix<F>| m.iter().map(|x| x.f64().to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&g), bits(&gc), "{name}, {rows}×{k}: gradient");
            assert!(g.iter().all(|x| x.f64().is_finite()) && g.iter().any(|x| x.f64() != 0.0), "{name}: {g}");
        }
    }
}

/// The cost may sum in another order on another layout (within rounding); the gradient is the
/// same bits.
#[test]
fn every_loss_gives_the_same_values_on_row_and_column_major_views() {
    same_on_every_layout::<f64>(1e-14);
    same_on_every_layout::<f32>(1e-6);
}

/// An f32 cost over 300 000 elements is as exact as f32 holds: within 10⁻⁶ of the same loss
/// computed in f64 on the same (f32) values. Summed in f32, `mse`'s was off by 6.5·10⁻⁵.
#[test]
fn an_f32_cost_over_a_large_set_is_as_exact_as_f32_holds() {
    let (rows, k) = (100_000, 3);
    let (output, target) = batch::<f32>(rows, k);
    let (output64, target64) = (output.mapv(f64::from), target.mapv(f64::from));
    for name in LossSpec::NAMES {
        let spec = LossSpec::from_name(name).expect("registered");
        let exact = spec.get::<f64>().cost(output64.view(), target64.view());
        let loss = spec.get::<f32>();
        let rows_form = loss.cost_rows(k, output.as_slice().unwrap(), target.as_slice().unwrap());
        let column_major = loss.cost(column_major(&output).view(), column_major(&target).view());
        for (form, cost) in [("cost_rows", rows_form), ("cost (column-major)", column_major)] {
            let error = (f64::from(cost) - exact).abs() / exact;
            assert!(error <= 1e-6, "{name}, {form}: {cost} against {exact} (relative error {error:.1e})");
        }
    }
}
