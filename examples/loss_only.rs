//! `backprop-loss` on its own: the cost and the gradient ∂C/∂output of `mse` and
//! `cross_entropy` for a small batch held in plain ndarray matrices (rows are samples), no
//! network involved.
//!
//! Run with `cargo run -p backprop-e2e --example loss_only`.

use backprop_loss::{CrossEntropy, Loss, Mse};
use ndarray::{Array2, array};

fn main() {
    // Two samples, three outputs each.
    let output = array![[0.5, 1.0, -1.0], [0.0, 2.0, 0.5]];
    let target = array![[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

    // mse (PyTorch `MSELoss`): C = 1/(N·K) Σ (a − t)², ∂C/∂a = 2(a − t)/(N·K), N = 2, K = 3.
    let mut grad = Array2::zeros(output.dim());
    let cost = Mse {}.cost(output.view(), target.view());
    Mse {}.gradient(output.view(), target.view(), grad.view_mut());
    println!("mse            C = {cost}\n               ∂C/∂a =\n{grad}");
    assert_eq!(cost, (0.25 + 0.0 + 1.0 + 0.0 + 4.0 + 0.25) / 6.0);
    assert_eq!(grad, (&output - &target) * (2.0 / 6.0));

    // cross_entropy (PyTorch `CrossEntropyLoss`, probability targets) on logits x:
    // C = −1/N Σ_n Σ_k t_nk · log_softmax(x_n)_k, ∂C/∂x = (softmax(x) − t)/N.
    let loss = CrossEntropy::default();
    let cost = loss.cost(output.view(), target.view());
    loss.gradient(output.view(), target.view(), grad.view_mut());
    println!("cross_entropy  C = {cost}\n               ∂C/∂x =\n{grad}");
    // The check's reference uses the standard library's exp and ln: an independent computation
    // (the library's own code keeps to `backprop_tensor::math`).
    #[allow(clippy::disallowed_methods)]
    let softmax = |row: ndarray::ArrayView1<f64>| {
        let e = row.mapv(f64::exp);
        &e / e.sum()
    };
    let p: Vec<_> = output.outer_iter().map(softmax).collect();
    #[allow(clippy::disallowed_methods)]
    let expect = -(p[0][1].ln() + p[1][2].ln()) / 2.0;
    assert!((cost - expect).abs() < 1e-12, "{cost} vs {expect}");
    for (n, p) in p.iter().enumerate() {
        for (k, &pk) in p.iter().enumerate() {
            assert!((grad[[n, k]] - (pk - target[[n, k]]) / 2.0).abs() < 1e-12);
        }
        // Each row of the gradient of a softmax cross-entropy sums to zero.
        assert!(grad.row(n).sum().abs() < 1e-12);
    }
}
