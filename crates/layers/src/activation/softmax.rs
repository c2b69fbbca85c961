use backprop_tensor::{Element, MatView, MatViewMut, Validate, math};
use ndarray::Zip;
use serde::{Deserialize, Serialize};

use super::Activation;

/// row-wise softmax, a_i = e^(z_i) / Σ_j e^(z_j), computed stably.
///
/// `softmax`: each row (one sample's outputs) becomes a probability distribution,
/// a_i = e^(z_i − m) / Σ_j e^(z_j − m), m = max_j z_j (PyTorch `nn.Softmax(dim=1)` on a batch).
///
/// Subtracting the row maximum changes nothing mathematically and keeps every exponent ≤ 0, so
/// inputs like 1000 cannot overflow. Range (0, 1), each row summing to 1.
///
/// Softmax couples a row, so it implements [`Activation`] directly rather than
/// [`Elementwise`](super::Elementwise). Its Jacobian is ∂a_i/∂z_k = a_i·(δ_ik − a_k), and backward
/// is the Jacobian-vector product per row: grad_z_i = a_i·(grad_a_i − Σ_j grad_a_j·a_j), without
/// forming the matrix. Pair it with a cross-entropy loss for the usual classifier head.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Softmax {}

impl Validate for Softmax {}

impl<F: Element> Activation<F> for Softmax {
    fn forward(&self, z: MatView<'_, F>, mut a: MatViewMut<'_, F>) {
        Zip::from(a.rows_mut()).and(z.rows()).for_each(|mut a, z| {
            let max = z.fold(F::neg_infinity(), |m, &x| m.max(x));
            Zip::from(&mut a).and(&z).for_each(|a, &z| *a = math::exp(z - max));
            let sum = a.sum();
            a.mapv_inplace(|x| x / sum);
        });
    }

    fn backward(&self, _z: MatView<'_, F>, a: MatView<'_, F>, grad_a: MatView<'_, F>, mut grad_z: MatViewMut<'_, F>) {
        Zip::from(grad_z.rows_mut()).and(a.rows()).and(grad_a.rows()).for_each(|mut d, a, g| {
            let dot = a.dot(&g);
            Zip::from(&mut d).and(&a).and(&g).for_each(|d, &a, &g| *d = a * (g - dot));
        });
    }
}

#[cfg(test)]
mod tests {
    use backprop_tensor::Matrix;
    use ndarray::array;

    use super::*;

    fn forward(z: &Matrix<f64>) -> Matrix<f64> {
        let mut a = Matrix::zeros(z.raw_dim());
        Softmax {}.forward(z.view(), a.view_mut());
        a
    }

    fn backward(z: &Matrix<f64>, grad_a: &Matrix<f64>) -> Matrix<f64> {
        let a = forward(z);
        let mut grad_z = Matrix::zeros(z.raw_dim());
        Softmax {}.backward(z.view(), a.view(), grad_a.view(), grad_z.view_mut());
        grad_z
    }

    #[test]
    fn values() {
        // Expected values from Python 3: e = [math.exp(x) for x in (1, 2, 3)]; [x / sum(e) for x in e].
        let a = forward(&array![[1.0, 2.0, 3.0]]);
        let expected = [0.09003057317038046, 0.24472847105479767, 0.6652409557748219];
        for (got, want) in a.iter().zip(expected) {
            assert!((got - want).abs() <= 4.0 * f64::EPSILON * want, "{got} vs {want}");
        }
    }

    #[test]
    fn rows_sum_to_one() {
        let a = forward(&array![[0.3, -1.2, 2.0, 0.5], [10.0, 10.0, 10.0, 10.0], [-5.0, 0.0, 5.0, 50.0]]);
        for row in a.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-15, "{row}");
            assert!(row.iter().all(|&x| (0.0..=1.0).contains(&x)));
        }
        assert_eq!(a.row(1), array![0.25, 0.25, 0.25, 0.25]);
    }

    #[test]
    fn large_inputs_do_not_overflow() {
        assert_eq!(forward(&array![[1000.0, 0.0, -1000.0]]), array![[1.0, 0.0, 0.0]]);
        let mut a = Matrix::<f32>::zeros((1, 2));
        Softmax {}.forward(array![[1000.0_f32, 1000.0]].view(), a.view_mut());
        assert_eq!(a, array![[0.5_f32, 0.5]]);
    }

    #[test]
    fn backward_is_the_jacobian_times_grad_a() {
        let z = array![[0.3, -1.2, 2.0, 0.5], [1.0, 0.0, -1.0, 3.0]];
        let grad_a = array![[0.7, -0.1, 0.25, 2.0], [-1.0, 0.5, 0.0, 0.3]];
        let a = forward(&z);
        let got = backward(&z, &grad_a);
        for r in 0..z.nrows() {
            for i in 0..z.ncols() {
                // (diag(a) − a aᵀ) is symmetric, so the row's grad_z = J · grad_a.
                let mut want = 0.0;
                for j in 0..z.ncols() {
                    let jacobian = if i == j { a[[r, i]] } else { 0.0 } - a[[r, i]] * a[[r, j]];
                    want += jacobian * grad_a[[r, j]];
                }
                assert!((got[[r, i]] - want).abs() < 1e-15, "row {r}, {i}: {} vs {want}", got[[r, i]]);
            }
        }
    }

    #[test]
    fn backward_matches_central_difference() {
        // C = Σ grad_a ⊙ softmax(z), so ∂C/∂z is backward(z, grad_a).
        let z = array![[0.3, -1.2, 2.0, 0.5]];
        let grad_a = array![[0.7, -0.1, 0.25, 2.0]];
        let cost = |z: &Matrix<f64>| (forward(z) * &grad_a).sum();
        let got = backward(&z, &grad_a);
        let eps = 1e-6;
        for k in 0..z.ncols() {
            let (mut plus, mut minus) = (z.clone(), z.clone());
            plus[[0, k]] += eps;
            minus[[0, k]] -= eps;
            let numeric = (cost(&plus) - cost(&minus)) / (2.0 * eps);
            assert!((numeric - got[[0, k]]).abs() <= 1e-6 * numeric.abs() + 1e-9, "{k}: {numeric} vs {}", got[[0, k]]);
        }
    }
}
