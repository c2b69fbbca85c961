//! Activations, each one file, registered by name in [`ActivationSpec`].
//!
//! An activation maps a layer's pre-activations `z` to its outputs `a = σ(z)` and, going back,
//! turns `∂C/∂a` into the layer's delta `δ = ∂C/∂z`. For an element-wise σ that is the post's
//! `δ = ∂C/∂a ⊙ σ′(z)`; an activation that couples a row (softmax) implements [`Activation`]
//! directly with its Jacobian-vector product.
//!
//! To add one: write `my_act.rs` with a struct implementing [`Elementwise`] (or [`Activation`])
//! and [`Validate`](backprop_tensor::Validate), then add its line to the `registry!` below, beside
//! the file's `mod` and `pub use` lines (ARCHITECTURE.md, "Adding a component", has the rest).
//! `value` and `derivative` are all an element-wise one needs; for speed it may also override
//! [`Elementwise::values`] and [`Elementwise::deltas`] with a kernel across four lanes (silu's
//! file is the short example), which `testing::check_slices_match_scalars` checks against them
//! bit for bit.

mod elu;
mod gelu;
mod identity;
mod leaky_relu;
mod relu;
mod sigmoid;
mod silu;
mod softmax;
mod softplus;
mod tanh;

pub use elu::Elu;
pub use gelu::{Approximate, Gelu};
pub use identity::Identity;
pub use leaky_relu::LeakyRelu;
pub use relu::Relu;
pub use sigmoid::Sigmoid;
pub use silu::Silu;
pub use softmax::Softmax;
pub use softplus::Softplus;
pub use tanh::Tanh;

use backprop_tensor::{Element, MatView, MatViewMut};
use ndarray::Zip;

/// A layer's non-linearity, forward and backward, over a batch (rows are samples).
pub trait Activation<F: Element> {
    /// `a ← σ(z)`.
    fn forward(&self, z: MatView<'_, F>, a: MatViewMut<'_, F>);
    /// `grad_z ← ∂C/∂z` given `grad_a = ∂C/∂a`, with `a = σ(z)` as `forward` left it.
    fn backward(&self, z: MatView<'_, F>, a: MatView<'_, F>, grad_a: MatView<'_, F>, grad_z: MatViewMut<'_, F>);

    /// [`forward`](Self::forward) on row-major buffers with `cols` columns: what
    /// [`Network`](crate::Network)'s forward pass calls; the default makes views.
    ///
    /// # Panics
    /// When `z` and `a` differ in length or do not hold whole rows.
    fn forward_buffers(&self, cols: usize, z: &[F], a: &mut [F]) {
        let shape = (z.len().checked_div(cols).unwrap_or(0), cols);
        let z = MatView::from_shape(shape, z).expect("z holds whole rows");
        self.forward(z, MatViewMut::from_shape(shape, a).expect("a has the shape of z"));
    }

    /// [`backward`](Self::backward) on row-major buffers with `cols` columns. What
    /// [`Network`](crate::Network)'s backward pass calls; the default makes views and calls
    /// [`backward`](Self::backward).
    ///
    /// # Panics
    /// When the buffers differ in length or do not hold whole rows.
    fn backward_buffers(&self, cols: usize, z: &[F], a: &[F], grad_a: &[F], grad_z: &mut [F]) {
        let shape = (z.len().checked_div(cols).unwrap_or(0), cols);
        let view = |s| MatView::from_shape(shape, s).expect("buffers have the shape of z");
        let grad_z = MatViewMut::from_shape(shape, grad_z).expect("grad_z has the shape of z");
        self.backward(view(z), view(a), view(grad_a), grad_z);
    }
}

/// An activation applied to each element on its own: the common case.
///
/// Implementing this gives [`Activation`] for free: forward maps [`value`](Self::value), backward
/// multiplies by [`derivative`](Self::derivative). The methods, not the trait, are generic over the
/// element type, so that a type that is not `Elementwise` (softmax) can implement [`Activation`]
/// directly beside the blanket impl.
pub trait Elementwise {
    /// `σ(z)`.
    fn value<F: Element>(&self, z: F) -> F;
    /// `σ′(z)`, given also `a = σ(z)` (sigmoid and tanh are cheaper from `a`).
    fn derivative<F: Element>(&self, z: F, a: F) -> F;
    /// `a ← σ(z)` element by element, with the bits of [`value`](Self::value) on each. The
    /// default maps `value`; an activation overrides it to work on the whole slice at once
    /// (sigmoid's exponentials four at a time with `math::map_exp`; silu, elu, softplus and gelu
    /// with a [`Lanes`](backprop_tensor::math::Lanes) kernel and `math::lanes_map`).
    #[inline]
    fn values<F: Element>(&self, z: &[F], a: &mut [F]) {
        for (a, &z) in a.iter_mut().zip(z) {
            *a = self.value(z);
        }
    }
    /// `grad_z ← grad_a ⊙ σ′(z)` element by element, with the bits of
    /// `grad_a[i] · derivative(z[i], a[i])` on each. The default loops over `derivative`; an
    /// activation whose derivative takes an exponential overrides it to work four at a time
    /// (silu's, elu's, softplus's and gelu's, with
    /// [`math::lanes_map3`](backprop_tensor::math::lanes_map3)).
    ///
    /// # Panics
    /// When `z`, `a` or `grad_a` is shorter than `grad_z`.
    #[inline]
    fn deltas<F: Element>(&self, z: &[F], a: &[F], grad_a: &[F], grad_z: &mut [F]) {
        let len = grad_z.len();
        // Indices over slices of one checked length: the compiler vectorises this, and not a
        // zip of four iterators.
        let (z, a, grad_a) = (&z[..len], &a[..len], &grad_a[..len]);
        for i in 0..len {
            grad_z[i] = grad_a[i] * self.derivative(z[i], a[i]);
        }
    }
}

impl<F: Element, T: Elementwise> Activation<F> for T {
    fn forward(&self, z: MatView<'_, F>, mut a: MatViewMut<'_, F>) {
        // Workspace buffers are contiguous: plain slice loops, no iterator machinery.
        if let (Some(zs), Some(out)) = (z.as_slice(), a.as_slice_mut()) {
            self.values(zs, out);
            return;
        }
        Zip::from(a).and(z).for_each(|a, &z| *a = self.value(z));
    }

    fn backward(&self, z: MatView<'_, F>, a: MatView<'_, F>, grad_a: MatView<'_, F>, mut grad_z: MatViewMut<'_, F>) {
        if let (Some(zs), Some(as_), Some(gs), Some(ds)) =
            (z.as_slice(), a.as_slice(), grad_a.as_slice(), grad_z.as_slice_mut())
        {
            self.deltas(zs, as_, gs, ds);
            return;
        }
        Zip::from(grad_z).and(z).and(a).and(grad_a).for_each(|d, &z, &a, &g| *d = g * self.derivative(z, a));
    }

    fn forward_buffers(&self, _cols: usize, z: &[F], a: &mut [F]) {
        assert_eq!(z.len(), a.len(), "z and a differ in length");
        self.values(z, a);
    }

    fn backward_buffers(&self, _cols: usize, z: &[F], a: &[F], grad_a: &[F], grad_z: &mut [F]) {
        let len = grad_z.len();
        assert!(z.len() == len && a.len() == len && grad_a.len() == len, "backward buffers differ in length");
        self.deltas(z, a, grad_a, grad_z);
    }
}

backprop_tensor::registry! {
    /// The activations a config can name: `activation = "tanh"` or
    /// `activation = { kind = "…", param = … }`.
    pub enum ActivationSpec: dyn Activation<F> {
        /// `σ(z) = 1 / (1 + e^(−z))`.
        "sigmoid" => Sigmoid(Sigmoid),
        /// `tanh(z)`.
        "tanh" => Tanh(Tanh),
        /// `max(0, z)`.
        "relu" => Relu(Relu),
        /// `z`.
        "identity" => Identity(Identity),
        /// `z` if `z > 0`, else `negative_slope·z` (PyTorch `LeakyReLU`; `alpha` is another name).
        "leaky_relu" => LeakyRelu(LeakyRelu),
        /// `z` if `z > 0`, else `alpha·(e^z − 1)` (PyTorch `ELU`).
        "elu" => Elu(Elu),
        /// `z·Φ(z)`, exact, or its tanh approximation with `approximate = "tanh"` (PyTorch `GELU`).
        "gelu" => Gelu(Gelu),
        /// `ln(1 + e^(beta·z)) / beta` (PyTorch `Softplus`).
        "softplus" => Softplus(Softplus),
        /// `z·sigmoid(z)` (PyTorch `SiLU`).
        "silu" => Silu(Silu),
        /// Another name for `silu`.
        "swish" => Swish(Silu),
        /// `e^(z_i) / Σ_j e^(z_j)` over each row (PyTorch `Softmax(dim=1)`).
        "softmax" => Softmax(Softmax),
    }
}

impl Default for ActivationSpec {
    /// The post's activation, sigmoid.
    fn default() -> Self {
        ActivationSpec::Sigmoid(Sigmoid {})
    }
}

#[cfg(test)]
mod tests {
    use backprop_tensor::{Matrix, Validate};

    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Doc {
        x: ActivationSpec,
    }

    fn parse(text: &str) -> ActivationSpec {
        toml::from_str::<Doc>(text).unwrap_or_else(|e| panic!("{text}: {e}")).x
    }

    #[test]
    fn every_name_round_trips_through_serde() {
        for &name in ActivationSpec::NAMES {
            let spec = ActivationSpec::from_name(name).expect("every listed name is known");
            assert_eq!(spec.name(), name);
            assert!(spec.is_default());
            assert_eq!(parse(&format!("x = \"{name}\"")), spec, "{name} as a bare name");
            assert_eq!(parse(&format!("x = {{ kind = \"{name}\" }}")), spec, "{name} as a table");
            let written = toml::to_string(&std::collections::BTreeMap::from([("x", &spec)])).unwrap();
            assert_eq!(written.trim(), format!("x = \"{name}\""));
            assert_eq!(parse(&written), spec, "{name} written back");
        }
    }

    /// Every activation gives the same bits through each way the library calls it: the
    /// workspace's row-major buffers (`forward_buffers`, `backward_buffers`), row-major views and
    /// column-major views (`forward`, `backward`); and for an element-wise one, the bits of
    /// `value(z)` and of `grad_a·derivative(z, a)`, element by element. (A default method or a
    /// loop that went wrong in one of them would train differently in one layout only.)
    #[test]
    fn every_way_to_run_an_activation_gives_the_same_bits() {
        use ndarray::ShapeBuilder;
        let (rows, cols) = (3, 4);
        let z = Matrix::<f64>::from_shape_fn((rows, cols), |(i, j)| (i as f64 - 1.3) * (j as f64 + 0.7));
        let grad_a = Matrix::<f64>::from_shape_fn((rows, cols), |(i, j)| 0.25 + (i * cols + j) as f64 / 7.0);
        let column_major = |m: &Matrix<f64>| {
            let mut c = Matrix::<f64>::zeros((rows, cols).f());
            c.assign(m);
            c
        };
        let bits = |m: &Matrix<f64>| m.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for &name in ActivationSpec::NAMES {
            let spec = ActivationSpec::from_name(name).expect("registered");
            let act = spec.get::<f64>();
            // Buffers.
            let mut a = Matrix::<f64>::from_elem((rows, cols), f64::NAN);
            act.forward_buffers(cols, z.as_slice().unwrap(), a.as_slice_mut().unwrap());
            let mut grad_z = Matrix::<f64>::from_elem((rows, cols), f64::NAN);
            let g = grad_z.as_slice_mut().unwrap();
            act.backward_buffers(cols, z.as_slice().unwrap(), a.as_slice().unwrap(), grad_a.as_slice().unwrap(), g);
            assert!(a.iter().chain(&grad_z).all(|x| x.is_finite()), "{name}: {a} {grad_z}");
            assert!(grad_z.iter().any(|&x| x != 0.0), "{name}: a gradient of zeros");
            // Views, row-major and column-major.
            let nan = Matrix::<f64>::from_elem((rows, cols), f64::NAN);
            let row_major = |m: &Matrix<f64>| m.clone();
            for (layout, lay) in
                [("row-major", &row_major as &dyn Fn(&Matrix<f64>) -> Matrix<f64>), ("column-major", &column_major)]
            {
                let (zv, gv, mut av, mut dv) = (lay(&z), lay(&grad_a), lay(&nan), lay(&nan));
                act.forward(zv.view(), av.view_mut());
                act.backward(zv.view(), av.view(), gv.view(), dv.view_mut());
                assert_eq!(bits(&av), bits(&a), "{name}: forward on {layout} views");
                assert_eq!(bits(&dv), bits(&grad_z), "{name}: backward on {layout} views");
            }
            // Element by element.
            let (want_a, want_grad_z) = match &spec {
                ActivationSpec::Sigmoid(e) => one_by_one(e, &z, &a, &grad_a),
                ActivationSpec::Tanh(e) => one_by_one(e, &z, &a, &grad_a),
                ActivationSpec::Relu(e) => one_by_one(e, &z, &a, &grad_a),
                ActivationSpec::Identity(e) => one_by_one(e, &z, &a, &grad_a),
                ActivationSpec::LeakyRelu(e) => one_by_one(e, &z, &a, &grad_a),
                ActivationSpec::Elu(e) => one_by_one(e, &z, &a, &grad_a),
                ActivationSpec::Gelu(e) => one_by_one(e, &z, &a, &grad_a),
                ActivationSpec::Softplus(e) => one_by_one(e, &z, &a, &grad_a),
                ActivationSpec::Silu(e) | ActivationSpec::Swish(e) => one_by_one(e, &z, &a, &grad_a),
                ActivationSpec::Softmax(_) => continue,
            };
            assert_eq!(bits(&a), want_a, "{name}: value(z), element by element");
            assert_eq!(bits(&grad_z), want_grad_z, "{name}: grad_a·derivative(z, a), element by element");
        }
    }

    /// The bits of `value(z)` and of `grad_a·derivative(z, a)`, element by element.
    fn one_by_one<E: Elementwise>(
        e: &E,
        z: &Matrix<f64>,
        a: &Matrix<f64>,
        grad_a: &Matrix<f64>,
    ) -> (Vec<u64>, Vec<u64>) {
        let values = z.iter().map(|&z| e.value(z).to_bits()).collect();
        let grads = z.iter().zip(a).zip(grad_a).map(|((&z, &a), &g)| (g * e.derivative(z, a)).to_bits()).collect();
        (values, grads)
    }

    /// A NaN pre-activation gives a NaN activation in every activation, as in PyTorch (softmax:
    /// its whole row), so a NaN input or weight is never turned into a plausible output.
    #[test]
    fn nan_goes_through_every_activation() {
        for name in ActivationSpec::NAMES {
            let spec = ActivationSpec::from_name(name).unwrap();
            let act = spec.get::<f64>();
            let z = Matrix::from_shape_vec((2, 3), vec![0.5, f64::NAN, -1.0, f64::NAN, 2.0, -3.0]).unwrap();
            let mut a = Matrix::zeros((2, 3));
            act.forward(z.view(), a.view_mut());
            for ((i, j), &v) in a.indexed_iter() {
                let nan_expected = z[[i, j]].is_nan() || *name == "softmax";
                assert_eq!(v.is_nan(), nan_expected, "{name}({}) = {v}", z[[i, j]]);
            }
        }
    }

    #[test]
    fn parameters_come_from_tables() {
        let spec = parse("x = { kind = \"leaky_relu\", negative_slope = 0.1 }");
        assert_eq!(spec, ActivationSpec::LeakyRelu(LeakyRelu { negative_slope: 0.1 }));
        let written = toml::to_string(&std::collections::BTreeMap::from([("x", &spec)])).unwrap();
        assert!(written.contains("negative_slope = 0.1"), "PyTorch's name is the one written: {written}");
        assert_eq!(parse(&written), spec);
        // Keras 2's name, which model files before the twenty-sixth session wrote, still reads.
        assert_eq!(parse("x = { kind = \"leaky_relu\", alpha = 0.1 }"), spec);
        assert_eq!(parse("x = \"gelu\""), ActivationSpec::Gelu(Gelu::default()));
        let tanh = ActivationSpec::Gelu(Gelu { approximate: Approximate::Tanh });
        assert_eq!(parse("x = { kind = \"gelu\", approximate = \"tanh\" }"), tanh);
        assert_eq!(parse("x = { kind = \"gelu\", approximate = \"none\" }"), ActivationSpec::Gelu(Gelu::default()));
        assert!(toml::from_str::<Doc>("x = { kind = \"elu\", beta = 1.0 }").is_err());
        assert!(parse("x = { kind = \"softplus\", beta = 0.0 }").validate().is_err());
        // A beta below f32's smallest normal number makes 1/beta infinite in an f32 run (below
        // f64's, in any): every output, whatever the weights (it was a training failure, blamed
        // on the starting weights).
        for tiny in ["1e-320", "1e-39"] {
            let e = parse(&format!("x = {{ kind = \"softplus\", beta = {tiny} }}")).validate().unwrap_err();
            assert_eq!(e.key, "beta");
            assert!(e.message.starts_with("must be at least 1.1754943508222875e-38"), "{}", e.message);
        }
        assert!(parse("x = { kind = \"softplus\", beta = 1.1754943508222875e-38 }").validate().is_ok());
        let softplus = Softplus { beta: f64::from(f32::MIN_POSITIVE), ..Default::default() };
        assert!(softplus.value(0.0f32).is_finite() && softplus.value(0.0f64).is_finite());
    }
}

/// Shared checks for the activations' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use backprop_tensor::Element;

    use super::Elementwise;

    /// Asserts `σ(z) = expected` to within a few ulps, for each `(z, expected)`.
    pub(crate) fn check_values(act: &impl Elementwise, cases: &[(f64, f64)]) {
        for &(z, expected) in cases {
            let got: f64 = act.value(z);
            assert!((got - expected).abs() <= 4.0 * f64::EPSILON * expected.abs(), "σ({z}) = {got}, want {expected}");
        }
    }

    /// Asserts `σ′(z)` matches a central difference (step 1e-6) to 1e-6 relative, 1e-9 absolute.
    pub(crate) fn check_derivative(act: &impl Elementwise, points: &[f64]) {
        let eps = 1e-6;
        for &z in points {
            let numeric = (act.value(z + eps) - act.value(z - eps)) / (2.0 * eps);
            let analytic: f64 = act.derivative(z, act.value(z));
            let tolerance = 1e-6 * analytic.abs().max(numeric.abs()) + 1e-9;
            assert!((numeric - analytic).abs() <= tolerance, "σ′({z}) = {analytic}, central difference {numeric}");
        }
    }

    /// Asserts that the slice passes (`values` and `deltas`, for an activation that overrides
    /// them) give the bits of `value(z)` and of `grad_a·derivative(z, a)` on every element, in
    /// f64 and f32: a grid over [−12, 12], then zeros, tiny, large, infinite, NaN and round inputs, in
    /// every lane position (the slices are cut at every length from 0 to 9 elements too).
    pub(crate) fn check_slices_match_scalars(act: &impl Elementwise) {
        let mut z: Vec<f64> = (0..66).map(|k| -12.0 + k as f64 * 0.37).collect();
        // Round values too, where a threshold (softplus's) may fall.
        let specials = [0.0, -0.0, 1e-30, -1e-30, 30.0, -30.0, 45.0, -45.0, 800.0, -800.0, f64::INFINITY];
        z.extend(specials.iter().chain(&[f64::NEG_INFINITY, f64::NAN, 0.5, 4.0, 20.0]));
        check_slices::<f64>(act, &z);
        check_slices::<f32>(act, &z.iter().map(|&z| z as f32).collect::<Vec<_>>());
    }

    fn check_slices<F: Element>(act: &impl Elementwise, z: &[F]) {
        // NaN compares as NaN, whatever its payload; everything else by its bits.
        let key = |x: F| if x.is_nan() { u64::MAX } else { x.f64().to_bits() };
        let n = z.len();
        let grad_a: Vec<F> = (0..n).map(|i| F::of(0.25 + (i % 7) as f64 * 0.5 - 1.5)).collect();
        for (from, to) in (0..10).map(|len| (0, len)).chain([(0, n), (1, n), (3, n)]) {
            let (z, grad_a) = (&z[from..to], &grad_a[from..to]);
            let mut a = vec![F::of(7.0); z.len()];
            act.values(z, &mut a);
            let want: Vec<u64> = z.iter().map(|&z| key(act.value(z))).collect();
            assert_eq!(a.iter().map(|&x| key(x)).collect::<Vec<_>>(), want, "values over {from}..{to}");
            let mut d = vec![F::of(7.0); z.len()];
            act.deltas(z, &a, grad_a, &mut d);
            let want: Vec<u64> = (0..z.len()).map(|i| key(grad_a[i] * act.derivative(z[i], a[i]))).collect();
            assert_eq!(d.iter().map(|&x| key(x)).collect::<Vec<_>>(), want, "deltas over {from}..{to}");
        }
    }
}
