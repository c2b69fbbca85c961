//! The network: parameters in one flat buffer, forward and backward passes into a workspace.

use backprop_tensor::init::{Fan, Initializer};
use backprop_tensor::linalg::{DensePlan, Operand, SMALL_GEMM};
use backprop_tensor::rng::{SeededRng, unit};
use backprop_tensor::{Element, MatView, MatViewMut, Matrix};
use ndarray::{ArrayView1, ArrayViewMut1, s};

use crate::{ActivationSpec, LayerSpec};

mod tiny;

use tiny::TinyPasses;

/// One dense layer's shape and where its parameters sit in the flat buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// Inputs (rows of `W`).
    pub inputs: usize,
    /// Units (columns of `W`, length of `b`).
    pub units: usize,
    /// Its activation.
    pub activation: ActivationSpec,
    /// Probability of dropping each of its outputs in training (0: no dropout).
    pub dropout: f64,
    /// Offset of `W` (row-major, `inputs × units`) in the parameter buffer.
    pub w_offset: usize,
    /// Offset of `b` (`units`) in the parameter buffer.
    pub b_offset: usize,
}

impl Dense {
    /// The slice range of `W` in a parameter or gradient buffer.
    pub fn w_range(&self) -> std::ops::Range<usize> {
        self.w_offset..self.w_offset + self.inputs * self.units
    }
    /// The slice range of `b` in a parameter or gradient buffer.
    pub fn b_range(&self) -> std::ops::Range<usize> {
        self.b_offset..self.b_offset + self.units
    }
    fn view<'a, F>(&self, buf: &'a [F]) -> (MatView<'a, F>, ArrayView1<'a, F>) {
        let w = MatView::from_shape((self.inputs, self.units), &buf[self.w_range()]).expect("layout matches shape");
        (w, ArrayView1::from(&buf[self.b_range()]))
    }
    fn view_mut<'a, F>(&self, buf: &'a mut [F]) -> (MatViewMut<'a, F>, ArrayViewMut1<'a, F>) {
        // W comes right before b in the layout.
        let (w, b) = buf[self.w_offset..self.b_offset + self.units].split_at_mut(self.inputs * self.units);
        (MatViewMut::from_shape((self.inputs, self.units), w).expect("layout matches shape"), ArrayViewMut1::from(b))
    }
}

/// A feed-forward network of dense layers.
#[derive(Clone, Debug, PartialEq)]
pub struct Network<F> {
    inputs: usize,
    layers: Vec<Dense>,
    params: Vec<F>,
}

impl<F: Element> Network<F> {
    /// A network with `inputs` inputs and the given layers, every parameter zero. A network
    /// without layers, or with a layer of 0 units, is built, but cannot run a pass (see
    /// [`forward`](Self::forward)); the trainer refuses both
    /// (`backprop_cli::train::Trainer::try_new`).
    ///
    /// # Panics
    /// When the parameters number more than [`MAX_PARAMS`](crate::MAX_PARAMS) (2³¹), rather than
    /// abort the process on an allocation that cannot succeed (`ModelSpec::validate_for` refuses
    /// such a config first; [`allocatable`] tells whether a smaller one fits now).
    pub fn new(inputs: usize, specs: &[LayerSpec]) -> Self {
        let mut layers = Vec::with_capacity(specs.len());
        let (mut offset, mut fan_in) = (0, inputs);
        for spec in specs {
            let w_offset = offset;
            let b_offset = fan_in.checked_mul(spec.units).and_then(|w| w.checked_add(w_offset));
            let end = b_offset.and_then(|b| b.checked_add(spec.units)).filter(|&end| end <= crate::MAX_PARAMS);
            let (Some(b_offset), Some(end)) = (b_offset, end) else {
                panic!(
                    "Network::new: more than {} parameters (MAX_PARAMS) by layer {}",
                    crate::MAX_PARAMS,
                    layers.len() + 1
                );
            };
            offset = end;
            layers.push(Dense {
                inputs: fan_in,
                units: spec.units,
                activation: spec.activation.clone(),
                dropout: spec.dropout,
                w_offset,
                b_offset,
            });
            fan_in = spec.units;
        }
        Network { inputs, layers, params: vec![F::zero(); offset] }
    }

    /// Fills every parameter from `weights` and `biases` initialisers, layer by layer
    /// (each layer's `W` row by row, then its `b`), drawing from `rng`.
    ///
    /// The initialisers are used as given. A config's are checked when it is read: their
    /// parameters ([`Validate`](backprop_tensor::Validate)) and that what they draw is finite
    /// in the run's dtype. One built in code is not: `Uniform { low: -1e308, high: 1e308 }`
    /// passes `validate` yet draws infinite weights, which the first step turns into a NaN cost.
    pub fn initialize(&mut self, weights: &dyn Initializer, biases: &dyn Initializer, rng: &mut SeededRng) {
        self.initialize_layers(|_| (weights, biases), rng);
    }

    /// Like [`initialize`](Self::initialize), with each layer's (weights, biases) initialisers
    /// given by `inits(layer_index)`.
    pub fn initialize_layers<'i>(
        &mut self,
        inits: impl Fn(usize) -> (&'i dyn Initializer, &'i dyn Initializer),
        rng: &mut SeededRng,
    ) {
        let mut buf = Vec::new();
        for (l, layer) in self.layers.iter().enumerate() {
            let fan = Fan { fan_in: layer.inputs, fan_out: layer.units };
            let (weights, biases) = inits(l);
            for (range, init) in [(layer.w_range(), weights), (layer.b_range(), biases)] {
                buf.resize(range.len(), 0.0);
                init.fill(fan, &mut buf, rng);
                for (p, &x) in self.params[range].iter_mut().zip(&buf) {
                    *p = F::of(x);
                }
            }
        }
    }

    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        self.inputs
    }
    /// Number of outputs (units of the last layer; the inputs for a net without layers).
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(self.inputs, |l| l.units)
    }
    /// The layers, input side first.
    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }
    /// Whether training on batches of `rows` would split some product over two threads inside
    /// [`linalg::with_warm_threads`](backprop_tensor::linalg::with_warm_threads), i.e. whether a
    /// training loop should run in one (every product of a layer, `a·W`, `aᵀ·δ` and `δ·Wᵀ`, has
    /// `rows · inputs · units` multiply-adds).
    pub fn wants_warm_threads(&self, rows: usize) -> bool {
        self.layers.iter().any(|l| backprop_tensor::linalg::splits_when_warm(rows * l.inputs * l.units))
    }
    /// Every parameter, in the flat layout.
    pub fn params(&self) -> &[F] {
        &self.params
    }
    /// Every parameter, mutably (for optimisers and loaders).
    pub fn params_mut(&mut self) -> &mut [F] {
        &mut self.params
    }
    /// `W` of layer `l` (0-based; the post's layer `l + 1`).
    ///
    /// # Panics
    /// When there is no layer `l` (as `biases`, `layer_params_mut` and `layer_grads` do).
    pub fn weights(&self, l: usize) -> MatView<'_, F> {
        self.layers[l].view(&self.params).0
    }
    /// `b` of layer `l`.
    pub fn biases(&self, l: usize) -> ArrayView1<'_, F> {
        self.layers[l].view(&self.params).1
    }
    /// `W` and `b` of layer `l`, mutably.
    pub fn layer_params_mut(&mut self, l: usize) -> (MatViewMut<'_, F>, ArrayViewMut1<'_, F>) {
        self.layers[l].view_mut(&mut self.params)
    }
    /// Views of `W` and `b` of layer `l` inside a gradient buffer with this network's layout.
    ///
    /// # Panics
    /// When there is no layer `l`, or `grads` is shorter than the layout.
    pub fn layer_grads<'a>(&self, l: usize, grads: &'a [F]) -> (MatView<'a, F>, ArrayView1<'a, F>) {
        self.layers[l].view(grads)
    }

    /// The forward pass over the first `x.nrows()` rows of the workspace, in evaluation mode (no
    /// dropout): for every layer, `z = a_prev·W + b` and `a = σ(z)`. The output is then
    /// [`Workspace::output`].
    ///
    /// # Panics
    /// When `x` has the wrong number of columns or more rows than the workspace holds, or the
    /// workspace was made for another network.
    pub fn forward(&self, x: MatView<'_, F>, ws: &mut Workspace<F>) {
        self.forward_impl(x, ws, Mode::Eval);
    }

    /// The forward pass in `mode`: [`Mode::Eval`] is [`forward`](Self::forward); in training
    /// modes, layers with dropout multiply their outputs by a mask of `0` (probability `p`) or
    /// `1/(1 − p)` (inverted dropout), drawn afresh ([`Mode::Train`]) or kept from the previous
    /// training pass ([`Mode::TrainFixedMask`], as a gradient check needs).
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_mode(&self, x: MatView<'_, F>, ws: &mut Workspace<F>, mode: Mode<'_>) {
        self.forward_impl(x, ws, mode);
    }

    /// Sets each layer's dropout probability (for a network loaded from a file, which keeps
    /// none).
    ///
    /// # Panics
    /// When `dropout` does not have one value per layer, or one is not in [0, 1) (1 would drop
    /// every unit; above it, or below 0, the scaling 1/(1 − p) is meaningless).
    pub fn set_dropout(&mut self, dropout: &[f64]) {
        assert_eq!(dropout.len(), self.layers.len(), "one dropout value per layer");
        if let Some(p) = dropout.iter().find(|p| !(p.is_finite() && (0.0..1.0).contains(*p))) {
            panic!("set_dropout: a dropout probability must be in [0, 1), got {p}");
        }
        for (layer, &p) in self.layers.iter_mut().zip(dropout) {
            layer.dropout = p;
        }
    }

    /// Whether any layer has dropout.
    pub fn has_dropout(&self) -> bool {
        self.layers.iter().any(|l| l.dropout > 0.0)
    }

    fn forward_impl(&self, x: MatView<'_, F>, ws: &mut Workspace<F>, mut mode: Mode<'_>) {
        let n = ws.check(self, x);
        ws.training = !matches!(mode, Mode::Eval);
        if let Some(xs) = tiny::input(self, ws, x) {
            return tiny::forward(self, xs, ws, n);
        }
        for (l, layer) in self.layers.iter().enumerate() {
            let (inputs, units) = (layer.inputs, layer.units);
            let (before, rest) = ws.a.split_at_mut(l);
            let input = if l == 0 {
                Operand::of(x)
            } else if ws.training && self.layers[l - 1].dropout > 0.0 {
                Operand::Rows(&ws.dropped[l - 1][..n * inputs])
            } else {
                Operand::Rows(&before[l - 1][..n * inputs])
            };
            let z = &mut ws.z[l][..n * units];
            let (w, b) = (&self.params[layer.w_range()], &self.params[layer.b_range()]);
            ws.plans[l].forward(n, input, w, b, z);
            let a = &mut rest[0][..n * units];
            layer.activation.get::<F>().forward_buffers(units, z, a);
            if ws.training && layer.dropout > 0.0 {
                let mask = &mut ws.mask[l][..n * units];
                if let Mode::Train(rng) = &mut mode {
                    let keep = F::of(1.0 / (1.0 - layer.dropout));
                    for m in mask.iter_mut() {
                        *m = if unit(rng) < layer.dropout { F::zero() } else { keep };
                    }
                }
                for ((d, &a), &m) in ws.dropped[l][..n * units].iter_mut().zip(a.iter()).zip(mask.iter()) {
                    *d = a * m;
                }
            }
        }
    }

    /// The backward pass, after [`forward`](Self::forward) on the same `x` and after the loss has
    /// written its gradient through [`Workspace::loss_io`]: `∂C/∂aᴸ`, or, when
    /// `output_delta_ready`, `δᴸ = ∂C/∂zᴸ` itself (a loss that absorbs the output activation). Writes `∂C/∂W` and `∂C/∂b` of every layer into `grads`
    /// (this network's layout), overwriting what was there.
    ///
    /// # Panics
    /// As [`forward`](Self::forward), and when `grads` is not [`params`](Self::params)' length.
    #[inline]
    pub fn backward(&self, x: MatView<'_, F>, ws: &mut Workspace<F>, grads: &mut [F], output_delta_ready: bool) {
        let n = ws.check(self, x);
        assert_eq!(
            grads.len(),
            self.params.len(),
            "gradient buffer of {} for {} parameters",
            grads.len(),
            self.params.len()
        );
        if let Some(xs) = tiny::input(self, ws, x) {
            return tiny::backward(self, xs, ws, grads, output_delta_ready, n);
        }
        let last = self.layers.len().saturating_sub(1);
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let (inputs, units) = (layer.inputs, layer.units);
            let len = n * units;
            if ws.training && layer.dropout > 0.0 {
                // ∂C/∂a = ∂C/∂(a ⊙ m) ⊙ m.
                for (g, &m) in ws.grad_a[l][..len].iter_mut().zip(&ws.mask[l][..len]) {
                    *g *= m;
                }
            }
            let delta = &mut ws.delta[l][..len];
            if l != last || !output_delta_ready {
                let (z, a, grad_a) = (&ws.z[l][..len], &ws.a[l][..len], &ws.grad_a[l][..len]);
                layer.activation.get::<F>().backward_buffers(units, z, a, grad_a, delta);
            }
            let delta = &ws.delta[l][..len];
            let input = if l == 0 {
                Operand::of(x)
            } else if ws.training && self.layers[l - 1].dropout > 0.0 {
                Operand::Rows(&ws.dropped[l - 1][..n * inputs])
            } else {
                Operand::Rows(&ws.a[l - 1][..n * inputs])
            };
            // ∂C/∂W = inputᵀ·δ, ∂C/∂b = Σ_rows δ and, but for the first layer, ∂C/∂a of the
            // layer below = δ·Wᵀ.
            let (gw, gb) = grads[layer.w_offset..layer.b_offset + units].split_at_mut(inputs * units);
            let grad_below = if l > 0 { Some(&mut ws.grad_a[l - 1][..n * inputs]) } else { None };
            ws.plans[l].backward(n, input, delta, &self.params[layer.w_range()], (gw, gb), grad_below);
        }
    }

    /// The outputs for `x` (allocates; for prediction, not for the training loop). A large `x`
    /// goes through in [`parts`] of at most [`Workspace::pass_rows`] (fewer where memory is
    /// short: [`Workspace::pass_rows_for`]), so that a set of millions of rows does not need
    /// buffers for all of them at once, with the same bits as one pass.
    ///
    /// # Panics
    /// When `x` does not have [`inputs`](Self::inputs) columns, or the network has no layers.
    pub fn predict(&self, x: MatView<'_, F>) -> Matrix<F> {
        self.predict_in_parts(x, Workspace::pass_rows_for(self, x.nrows()))
    }

    /// [`predict`](Self::predict) in [`parts`] of at most `rows` rows. The same bits as one pass
    /// when every part is large enough that each layer's product takes the kernel it takes in
    /// one pass (more than [`SMALL_GEMM`] multiply-adds, see [`Workspace::pass_rows`]) or the
    /// network is at most 4 wide (its kernels do not depend on the rows); smaller parts may
    /// differ from it in the last bits.
    ///
    /// # Panics
    /// As [`predict`](Self::predict).
    pub fn predict_in_parts(&self, x: MatView<'_, F>, rows: usize) -> Matrix<F> {
        let n = x.nrows();
        if n <= rows {
            let mut ws = Workspace::new(self, n.max(1));
            self.forward(x, &mut ws);
            return ws.output(n).to_owned();
        }
        let mut out = Matrix::zeros((n, self.outputs()));
        let mut ws = Workspace::new(self, rows.max(1));
        for part in parts(n, rows) {
            self.forward(x.slice(s![part.clone(), ..]), &mut ws);
            out.slice_mut(s![part.clone(), ..]).assign(&ws.output(part.len()));
        }
        out
    }
}

/// The buffers a pass over a large set takes (1 GiB, unless [`Workspace::pass_rows`]'s floor
/// needs more): [`Network::predict`] and the command line's evaluation go through a larger set
/// in [`parts`].
pub const PASS_BYTES: usize = 1 << 30;

/// Whether one allocation of `bytes` succeeds now: a reservation given back at once (its pages
/// are never touched, so it costs a system call, not the memory). In Rust a failed allocation
/// aborts the process; asking first lets a caller refuse, or take less, instead.
pub fn allocatable(bytes: usize) -> bool {
    Vec::<u8>::new().try_reserve_exact(bytes).is_ok()
}

/// `0..n` cut into the fewest ranges of at most `most` rows (at least 1), of balanced lengths
/// (they differ by at most one), in order.
pub fn parts(n: usize, most: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let count = n.div_ceil(most.max(1)).max(1);
    (0..count).map(move |i| i * n / count..(i + 1) * n / count)
}

/// The first `n` rows of a row-major buffer with `cols` columns, as a view.
#[inline]
fn rows<F>(buf: &[F], n: usize, cols: usize) -> MatView<'_, F> {
    // Reshaping a 1-D view checks less than `from_shape` (this runs every step).
    ArrayView1::from(&buf[..n * cols]).into_shape_with_order((n, cols)).expect("workspace buffers hold whole rows")
}

/// The first `n` rows of a row-major buffer with `cols` columns, as a mutable view.
#[inline]
fn rows_mut<F>(buf: &mut [F], n: usize, cols: usize) -> MatViewMut<'_, F> {
    ArrayViewMut1::from(&mut buf[..n * cols])
        .into_shape_with_order((n, cols))
        .expect("workspace buffers hold whole rows")
}

/// How a forward pass treats dropout.
pub enum Mode<'r> {
    /// Evaluation: no dropout.
    Eval,
    /// Training, with fresh dropout masks drawn from the stream.
    Train(&'r mut SeededRng),
    /// Training, with the masks of the previous training pass (a fixed mask).
    TrainFixedMask,
}

/// Every per-layer buffer of a forward and backward pass, for batches of up to `capacity` rows.
///
/// Allocated once per (network, batch size); a smaller batch (the ragged last one) uses the
/// leading rows. Each buffer is row-major, `capacity × units` of its layer.
#[derive(Clone, Debug)]
pub struct Workspace<F> {
    capacity: usize,
    rows: usize,
    training: bool,
    /// Units of each layer (the columns of its buffers).
    units: Vec<usize>,
    /// Each layer's matrix kernels, chosen once for its shape.
    plans: Vec<DensePlan<F>>,
    /// Each layer's passes generated for its shape, when every layer is at most 4 wide.
    tiny: Option<TinyPasses<F>>,
    z: Vec<Vec<F>>,
    a: Vec<Vec<F>>,
    grad_a: Vec<Vec<F>>,
    delta: Vec<Vec<F>>,
    /// Dropout masks and the dropped outputs `a ⊙ m` (empty for layers without dropout).
    mask: Vec<Vec<F>>,
    dropped: Vec<Vec<F>>,
}

impl<F: Element> Workspace<F> {
    /// Buffers for `net` and batches of up to `capacity` rows.
    pub fn new(net: &Network<F>, capacity: usize) -> Self {
        let make = || net.layers.iter().map(|l| vec![F::zero(); capacity * l.units]).collect::<Vec<_>>();
        let make_dropout = || {
            net.layers
                .iter()
                .map(|l| if l.dropout > 0.0 { vec![F::zero(); capacity * l.units] } else { Vec::new() })
                .collect::<Vec<_>>()
        };
        Workspace {
            capacity,
            rows: 0,
            training: false,
            units: net.layers.iter().map(|l| l.units).collect(),
            plans: net.layers.iter().map(|l| DensePlan::new(l.inputs, l.units)).collect(),
            tiny: TinyPasses::of(net),
            z: make(),
            a: make(),
            grad_a: make(),
            delta: make(),
            mask: make_dropout(),
            dropped: make_dropout(),
        }
    }

    /// The bytes a workspace for `net` takes per row of its capacity: four buffers of each
    /// layer's units (six where the layer has dropout).
    pub fn bytes_per_row(net: &Network<F>) -> usize {
        let values: usize = net.layers.iter().map(|l| l.units * if l.dropout > 0.0 { 6 } else { 4 }).sum();
        values.saturating_mul(std::mem::size_of::<F>())
    }

    /// The rows a pass over a large set takes at a time ([`Network::predict`], the command
    /// line's evaluation): as many as [`PASS_BYTES`] of buffers hold, and at least twice the
    /// rows from which every layer's product takes the packing GEMM (more than [`SMALL_GEMM`]
    /// multiply-adds: `SMALL_GEMM / (inputs·units) + 1` rows), so that each of the balanced
    /// [`parts`] takes the kernels (and gives the bits) of one pass over all rows. That floor is
    /// 2 rows for a net whose layers all have more than `SMALL_GEMM` weights, so a wide net's
    /// parts stay within `PASS_BYTES`, and at most 8,194 rows (a 1 × 1 layer).
    pub fn pass_rows(net: &Network<F>) -> usize {
        (PASS_BYTES / Self::bytes_per_row(net).max(1)).max(Self::least_pass_rows(net))
    }

    /// The floor of [`pass_rows`](Self::pass_rows): twice the rows from which every layer's
    /// product takes the packing GEMM.
    fn least_pass_rows(net: &Network<F>) -> usize {
        2 * net.layers.iter().map(|l| SMALL_GEMM / (l.inputs * l.units).max(1) + 1).max().unwrap_or(1)
    }

    /// The rows a pass over `n` rows takes at a time on this machine now: at most `n` and
    /// [`pass_rows`](Self::pass_rows), halved (never below its floor, so that the outputs keep
    /// one pass's bits) while one allocation of their buffers and of the `n` rows of outputs
    /// fails (a reservation given back at once, no page touched). Where memory is short (a
    /// `ulimit -v`, a small container) a large set then goes through in smaller parts instead
    /// of aborting the process, as a failed allocation does in Rust.
    pub fn pass_rows_for(net: &Network<F>, n: usize) -> usize {
        Self::pass_rows_fitting(net, n, allocatable)
    }

    /// [`pass_rows_for`](Self::pass_rows_for) with `fits` saying whether `bytes` can be
    /// allocated (a memory budget of the caller's own, or a test's).
    pub fn pass_rows_fitting(net: &Network<F>, n: usize, fits: impl Fn(usize) -> bool) -> usize {
        let least = Self::least_pass_rows(net);
        let outputs = n.saturating_mul(net.outputs()).saturating_mul(std::mem::size_of::<F>());
        let need = |rows: usize| Self::bytes_per_row(net).saturating_mul(rows).saturating_add(outputs);
        let mut rows = Self::pass_rows(net).min(n.max(1));
        while rows > least && !fits(need(rows)) {
            rows = (rows / 2).max(least);
        }
        rows
    }

    /// The largest batch this workspace holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn check(&mut self, net: &Network<F>, x: MatView<'_, F>) -> usize {
        assert_eq!(x.ncols(), net.inputs, "input has {} columns, the network {} inputs", x.ncols(), net.inputs);
        assert!(x.nrows() <= self.capacity, "batch of {} rows, workspace for {}", x.nrows(), self.capacity);
        assert!(
            self.units.len() == net.layers.len() && self.units.iter().zip(&net.layers).all(|(&u, l)| u == l.units),
            "workspace made for another network"
        );
        self.rows = x.nrows();
        self.rows
    }

    /// The network's output `aᴸ` for the first `n` rows of the last forward pass.
    ///
    /// # Panics
    /// When `n` is above the capacity, or the network has no layers (as `loss_io`, `loss_rows`
    /// and `output_units` do; `z`, `a` and `delta` when there is no layer `l`).
    pub fn output(&self, n: usize) -> MatView<'_, F> {
        rows(self.a.last().expect("a network has layers"), n, self.output_units())
    }
    /// `zˡ` of layer `l`, for the rows of the last forward pass.
    pub fn z(&self, l: usize) -> MatView<'_, F> {
        rows(&self.z[l], self.rows, self.units[l])
    }
    /// `aˡ` of layer `l`, for the rows of the last forward pass.
    pub fn a(&self, l: usize) -> MatView<'_, F> {
        rows(&self.a[l], self.rows, self.units[l])
    }
    /// `δˡ` of layer `l`, from the last backward pass.
    pub fn delta(&self, l: usize) -> MatView<'_, F> {
        rows(&self.delta[l], self.rows, self.units[l])
    }
    /// What the loss reads for the first `n` rows, and where it writes its gradient.
    ///
    /// Normally that is the output `aᴸ` and `∂C/∂aᴸ`. With `fused` (a loss that absorbs the
    /// output activation, see `backprop_loss::Loss::absorbs`) it is the pre-activation `zᴸ` and
    /// `δᴸ = ∂C/∂zᴸ`; then call [`Network::backward`] with `output_delta_ready = true`.
    pub fn loss_io(&mut self, n: usize, fused: bool) -> (MatView<'_, F>, MatViewMut<'_, F>) {
        let cols = self.output_units();
        let (input, grad) = self.loss_rows(n, fused);
        (rows(input, n, cols), rows_mut(grad, n, cols))
    }

    /// [`loss_io`](Self::loss_io) as row-major buffers of `n` rows (the output layer's units
    /// columns), for `Loss::cost_rows` and `Loss::gradient_rows`.
    ///
    /// Always inlined: called out of line, its two slices come back through memory, written
    /// eight bytes at a time and read back sixteen at a time right away, which the processor
    /// cannot forward from its store queue (a fifth of the trainer's own time in W1's epochs).
    #[inline(always)]
    pub fn loss_rows(&mut self, n: usize, fused: bool) -> (&[F], &mut [F]) {
        let len = n * self.output_units();
        let (input, grad) =
            if fused { (self.z.last(), self.delta.last_mut()) } else { (self.a.last(), self.grad_a.last_mut()) };
        (&input.expect("a network has layers")[..len], &mut grad.expect("a network has layers")[..len])
    }

    /// Units of the output layer.
    pub fn output_units(&self) -> usize {
        *self.units.last().expect("a network has layers")
    }
}
