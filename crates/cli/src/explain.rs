//! `backprop explain`: the post's equations with one sample's numbers in them.
//!
//! For one input–target pair, [`explain`] runs the library's own passes
//! ([`forward_cost`] and [`backward_from_loss`] on a one-row batch) and collects, in the post's
//! notation and numbering (the input is layer 0, the first dense layer is layer 1, the output
//! layer is L):
//!
//! ```text
//! forward   zˡ = aˡ⁻¹ Wˡ + bˡ,   aˡ = σ(zˡ),   a⁰ = x
//! cost      C(aᴸ, t) and ∂C/∂aᴸ
//! backward  δᴸ = ∂C/∂aᴸ ⊙ σ′(zᴸ)                   (element-wise σ)
//!           δˡ = (δˡ⁺¹ Wˡ⁺¹ᵀ) ⊙ σ′(zˡ)
//!           δ  = a ⊙ (g − (g·a)), g = ∂C/∂a       (softmax: its Jacobian-vector product)
//!           δᴸ = ∂C/∂zᴸ                          (a loss that absorbs the output activation)
//! gradients ∂C/∂Wˡ = aˡ⁻¹ᵀ δˡ,   ∂C/∂bˡ = δˡ
//! ```
//!
//! The numbers are the workspace's (`Workspace::z`, `a`, `delta`) and the gradient buffer's
//! (`Network::layer_grads`), so they are exactly what training uses; a test checks them against
//! [`gradcheck::analytic`](crate::gradcheck::analytic) bit for bit. An [`Explanation`] renders
//! as text ([`Explanation::to_text`]), Markdown ([`Explanation::to_markdown`]) or JSON
//! ([`Explanation::to_json`]):
//!
//! ```json
//! {"cost": c, "input": [..], "target": [..], "dC_da": [..],
//!  "layers": [{"layer": 1, "activation": "sigmoid", "z": [..], "a": [..], "delta": [..],
//!              "delta_formula": "…", "grad_weights": [[..]], "grad_biases": [..]}, ..]}
//! ```
//!
//! `grad_weights[i][j]` is the gradient of the weight from input `i` to unit `j` (the layout of
//! `model.json`). `dC_da` is `null` when the loss absorbs the output activation (then the loss
//! reads `zᴸ` and hands back `δᴸ` itself); `loss_absorbs` names that activation. `"normalized":
//! true` says that `input` is scaled by the data's normalizer (absent when nothing scales it),
//! `"target_normalized": true` that `target` is scaled by its target normalizer
//! (`normalize_targets`).

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use backprop_data::{Dataset, Normalizer};
use backprop_layers::{Network, Workspace};
use backprop_loss::Loss;
use backprop_tensor::{Dtype, Element, MatView, Matrix};
use ndarray::{Array1, ArrayView1, Axis};
use serde::Serialize;

use crate::app::prepare_splits;
use crate::config::Loaded;
use crate::error::CliError;
use crate::report::number;
use crate::train::{backward_from_loss, forward_cost, fused};

/// One sample's trip through the network and back, with every number the backward pass used.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// The sample's index in the data set (0-based), when it came from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<usize>,
    /// The sample's data row in the source, from 1 (a CSV file's rows after its header, as data
    /// errors count them): the training split leaves out the held-out rows, so `sample` counts
    /// other rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_row: Option<usize>,
    /// The loss's config name (`half_mse`, …), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss: Option<String>,
    /// The cost `C` of this one sample.
    pub cost: f64,
    /// The input `x = a⁰`, as the network sees it.
    pub input: Vec<f64>,
    /// Whether `input` is scaled by the data's normalizer (so not the numbers of the data file
    /// or of `--input`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub normalized: bool,
    /// Whether `target` is scaled by the data's target normalizer (`normalize_targets`): the
    /// network learns the scaled targets, so the cost is theirs.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub target_normalized: bool,
    /// The target `t`.
    pub target: Vec<f64>,
    /// The target the loss compares against, when it is not `t`: `cross_entropy`'s
    /// `label_smoothing` ε makes it `t′ = (1 − ε)·t + ε/K` over K classes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smoothed_target: Option<Vec<f64>>,
    /// The loss's `label_smoothing` ε, when it smooths the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_smoothing: Option<f64>,
    /// `∂C/∂aᴸ` as the loss handed it to the backward pass; `None` when the loss absorbs the
    /// output activation (it then hands back `δᴸ = ∂C/∂zᴸ`, in the last layer's `delta`).
    #[serde(rename = "dC_da")]
    pub dc_da: Option<Vec<f64>>,
    /// The output activation the loss absorbs, when it does (`softmax` for `cross_entropy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_absorbs: Option<String>,
    /// The dense layers, input side first (layer 1 first).
    pub layers: Vec<LayerExplanation>,
}

impl Explanation {
    /// An error (exit 1, as `backprop grad`'s) when the cost or a number of the passes is not
    /// finite at these weights on this sample: printed, they would read `inf`, or `null` in
    /// the JSON, which would then not be `backprop grad`'s.
    pub fn check_finite(&self) -> Result<(), CliError> {
        if !self.cost.is_finite() {
            return Err(CliError::Failed(format!(
                "the cost is not finite ({}) at these weights on this sample",
                self.cost
            )));
        }
        for l in &self.layers {
            let values = l.z.iter().chain(&l.a).chain(&l.delta).chain(l.grad_weights.iter().flatten());
            if values.chain(&l.grad_biases).any(|v| !v.is_finite()) {
                return Err(CliError::Failed(format!(
                    "layer {}'s pass is not finite (NaN or infinite) at these weights on this sample",
                    l.layer
                )));
            }
        }
        Ok(())
    }
}

/// One dense layer's part of an [`Explanation`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerExplanation {
    /// The layer's number in the post's numbering (first dense layer = 1).
    pub layer: usize,
    /// Its activation's name.
    pub activation: String,
    /// Pre-activations `zˡ = aˡ⁻¹ Wˡ + bˡ`.
    pub z: Vec<f64>,
    /// Outputs `aˡ = σ(zˡ)`.
    pub a: Vec<f64>,
    /// `δˡ = ∂C/∂zˡ`.
    pub delta: Vec<f64>,
    /// The formula that produced `delta`, in the post's notation with this layer's numbers.
    pub delta_formula: String,
    /// `∂C/∂Wˡ = aˡ⁻¹ᵀ δˡ`: `grad_weights[i][j]` for the weight from input `i` to unit `j`.
    pub grad_weights: Vec<Vec<f64>>,
    /// `∂C/∂bˡ = δˡ`.
    pub grad_biases: Vec<f64>,
}

/// Output formats of `backprop explain`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text for a terminal.
    #[default]
    Text,
    /// One JSON object (see the module docs).
    Json,
    /// Markdown with tables.
    Markdown,
}

/// Which sample to explain.
#[derive(Clone, Debug, PartialEq)]
pub enum Pick {
    /// The sample at this index of the training data (0-based).
    Index(usize),
    /// These inputs, as the data gives them (before normalisation: the data's normalizer, or
    /// the model file's, is applied to them as to the data, as `predict --input` does). Without
    /// a target, the first sample of the data with exactly these inputs supplies it.
    Input {
        /// One value per feature.
        input: Vec<f64>,
        /// One value per output, or `None` to take it from the data.
        target: Option<Vec<f64>>,
        /// A class of the data's, by its name (`--target versicolor`, or `--target 3` of
        /// integer classes): its one-hot target, where the data has classes and `target` is not
        /// one value per output.
        class: Option<String>,
    },
}

/// Explains one sample: the forward pass, the cost, the deltas and the gradients of `net` on the
/// input `x` and target `t`, computed by the library's own passes on a one-row batch.
///
/// # Panics
/// When `x` does not have `net.inputs()` values or `t` does not have `net.outputs()` values
/// ([`explain_config`] checks both first), or when the network has no layers.
pub fn explain<F: Element>(
    net: &Network<F>,
    loss: &dyn Loss<F>,
    x: ArrayView1<'_, F>,
    t: ArrayView1<'_, F>,
) -> Explanation {
    let (x, t) = (x.insert_axis(Axis(0)), t.insert_axis(Axis(0)));
    let mut ws = Workspace::new(net, 1);
    let cost = forward_cost(net, loss, x, t, &mut ws);
    let mut grads = vec![F::zero(); net.params().len()];
    backward_from_loss(net, loss, x, t, &mut ws, &mut grads);
    let fused = fused(loss, net);
    // Not fused, the loss wrote ∂C/∂aᴸ where `loss_io` points, and the backward pass (in
    // evaluation mode) read it without changing it.
    let dc_da = (!fused).then(|| row(ws.loss_io(1, false).1.view()));
    let last = net.layers().len();
    let layers = net
        .layers()
        .iter()
        .enumerate()
        .map(|(l, layer)| {
            let (gw, gb) = net.layer_grads(l, &grads);
            let activation = layer.activation.name().to_string();
            LayerExplanation {
                layer: l + 1,
                delta_formula: delta_formula(l + 1, last, &activation, fused && l + 1 == last),
                activation,
                z: row(ws.z(l)),
                a: row(ws.a(l)),
                delta: row(ws.delta(l)),
                grad_weights: gw.outer_iter().map(|r| r.iter().map(|v| v.f64()).collect()).collect(),
                grad_biases: gb.iter().map(|v| v.f64()).collect(),
            }
        })
        .collect();
    Explanation {
        sample: None,
        data_row: None,
        smoothed_target: None,
        label_smoothing: None,
        loss: None,
        cost: cost.f64(),
        input: row(x),
        normalized: false,
        target_normalized: false,
        target: row(t),
        dc_da,
        loss_absorbs: fused.then(|| loss.absorbs().unwrap_or_default().to_string()),
        layers,
    }
}

/// Explains the sample `pick` of a config's training data, with the config's initial weights
/// or those of the model file `model` (as `backprop grad` chooses them), in the config's dtype.
pub fn explain_config(loaded: &Loaded, model: Option<&Path>, pick: &Pick) -> Result<Explanation, CliError> {
    match loaded.config.experiment.dtype {
        Dtype::F32 => explain_typed::<f32>(loaded, model, pick),
        Dtype::F64 => explain_typed::<f64>(loaded, model, pick),
    }
}

/// `backprop explain`: [`explain_config`], rendered in `format` to `out`.
pub fn command(
    loaded: &Loaded,
    model: Option<&Path>,
    pick: &Pick,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let explanation = explain_config(loaded, model, pick)?;
    explanation.check_finite()?;
    let text = match format {
        Format::Text => explanation.to_text(),
        Format::Json => explanation.to_json(),
        Format::Markdown => explanation.to_markdown(),
    };
    let _ = writeln!(out, "{}", text.trim_end());
    Ok(())
}

fn explain_typed<F: Element>(loaded: &Loaded, model: Option<&Path>, pick: &Pick) -> Result<Explanation, CliError> {
    let (splits, net) = prepare_splits::<F>(loaded, model)?;
    let scaling = (&splits.normalizer, &splits.target_normalizer);
    let (index, x, t) = pick_sample(&splits.train, scaling, splits.classes.as_deref(), pick)?;
    let mut e = explain(&net, loaded.config.loss.get::<F>(), x.view(), t.view());
    e.sample = index;
    e.data_row = index.and_then(|k| splits.train_rows.get(k)).map(|r| r + 1);
    e.normalized = !splits.normalizer.is_identity();
    e.target_normalized = !splits.target_normalizer.is_identity();
    e.loss = Some(loaded.config.loss.name().to_string());
    if let backprop_loss::LossSpec::CrossEntropy(ce) = &loaded.config.loss
        && ce.label_smoothing > 0.0
    {
        // The loss's own t′, computed as it computes it, in F.
        let (keep, spread) =
            (F::of(1.0 - ce.label_smoothing), F::of(ce.label_smoothing / e.target.len().max(1) as f64));
        e.smoothed_target = Some(e.target.iter().map(|t| (keep * F::of(*t) + spread).f64()).collect());
        e.label_smoothing = Some(ce.label_smoothing);
    }
    Ok(e)
}

/// A sample's index in the data (when it is one of the data's), inputs and target.
type Chosen<F> = (Option<usize>, Array1<F>, Array1<F>);

/// The sample `pick` names in `data`, whose inputs and targets the `(normalizer, target
/// normalizer)` scaled, and whose targets are one-hot over `classes` (for a target given by its
/// class's name). A given `--input` and `--target` are scaled as the data's are.
fn pick_sample<F: Element>(
    data: &Dataset<F>,
    (normalizer, target_normalizer): (&Normalizer, &Normalizer),
    classes: Option<&[String]>,
    pick: &Pick,
) -> Result<Chosen<F>, CliError> {
    match pick {
        Pick::Index(k) => {
            if *k >= data.len() {
                return Err(CliError::Input(format!(
                    "--sample {k}: the data set has {} samples (0 to {})",
                    data.len(),
                    data.len().saturating_sub(1)
                )));
            }
            Ok((Some(*k), data.inputs.row(*k).to_owned(), data.targets.row(*k).to_owned()))
        }
        Pick::Input { input, target, class } => {
            let one_hot;
            let numbers_fit = target.as_ref().is_some_and(|t| t.len() == data.outputs());
            let target = match class {
                Some(name) if !numbers_fit => {
                    let Some(classes) = classes else {
                        return Err(CliError::Input(format!(
                            "--target {name}: not one number per output, and the data has no classes to name"
                        )));
                    };
                    let Some(k) = backprop_data::class_index(classes, name) else {
                        let known = classes.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
                        return Err(CliError::Input(format!(
                            "--target {name}: not a class of the data ({known}), nor one number per output"
                        )));
                    };
                    one_hot = (0..classes.len()).map(|j| if j == k { 1.0 } else { 0.0 }).collect::<Vec<f64>>();
                    Some(&one_hot)
                }
                _ => target.as_ref(),
            };
            if input.len() != data.features() {
                return Err(CliError::Input(format!(
                    "--input {}: {} values, but the data has {} features",
                    list(input),
                    input.len(),
                    data.features()
                )));
            }
            finite("--input", input)?;
            let mut row = Matrix::from_shape_fn((1, input.len()), |(_, j)| F::of(input[j]));
            normalizer.apply(&mut row).map_err(|e| CliError::Input(format!("--input {}: {e}", list(input))))?;
            let x: Array1<F> = row.row(0).to_owned();
            // Finite as given, but not in the run's dtype (1e39 in f32) or once scaled by the
            // data's normalizer (a feature whose spread is below 1).
            if let Some(j) = x.iter().position(|v| !v.is_finite()) {
                return Err(CliError::Input(format!(
                    "--input {}: value {} ({}) is beyond {}'s range{}",
                    list(input),
                    j + 1,
                    number(input[j]),
                    F::DTYPE.name(),
                    if normalizer.is_identity() || !F::of(input[j]).is_finite() {
                        ""
                    } else {
                        " once normalised as the data is"
                    }
                )));
            }
            let found = data.inputs.outer_iter().position(|r| r == x);
            match target {
                Some(t) if t.len() != data.outputs() => Err(CliError::Input(format!(
                    "--target {}: {} values, but the network has {} outputs",
                    list(t),
                    t.len(),
                    data.outputs()
                ))),
                Some(t) => {
                    finite("--target", t)?;
                    if let Some(j) = t.iter().position(|&v| !F::of(v).is_finite()) {
                        return Err(CliError::Input(format!(
                            "--target {}: value {} ({}) is beyond {}'s range",
                            list(t),
                            j + 1,
                            number(t[j]),
                            F::DTYPE.name()
                        )));
                    }
                    let mut row = Matrix::from_shape_fn((1, t.len()), |(_, j)| F::of(t[j]));
                    target_normalizer
                        .apply(&mut row)
                        .map_err(|e| CliError::Input(format!("--target {}: {e}", list(t))))?;
                    if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                        return Err(CliError::Input(format!(
                            "--target {}: value {} ({}) is beyond {}'s range once scaled as the data's targets are",
                            list(t),
                            j + 1,
                            number(t[j]),
                            F::DTYPE.name()
                        )));
                    }
                    let t: Array1<F> = row.row(0).to_owned();
                    // A sample of the data only when its target is this one too.
                    let found = found.filter(|&k| data.targets.row(k) == t);
                    Ok((found, x, t))
                }
                None => match found {
                    Some(k) => Ok((Some(k), x, data.targets.row(k).to_owned())),
                    None => Err(CliError::Input(format!(
                        "--input {}: no sample of the data has these inputs, so there is no target (give one with --target)",
                        list(input)
                    ))),
                },
            }
        }
    }
}

/// `values` as the command line wrote them: comma-separated.
fn list(values: &[f64]) -> String {
    values.iter().map(|&x| number(x)).collect::<Vec<_>>().join(",")
}

/// An error naming `flag` and `values` when one of them is not a finite number.
fn finite(flag: &str, values: &[f64]) -> Result<(), CliError> {
    match values.iter().find(|v| !v.is_finite()) {
        Some(bad) => Err(CliError::Input(format!("{flag} {}: {bad} is not a finite number", list(values)))),
        None => Ok(()),
    }
}

fn row<F: Element>(m: MatView<'_, F>) -> Vec<f64> {
    m.iter().map(|v| v.f64()).collect()
}

/// `n` in superscript digits: `12` → `¹²`.
fn sup(n: usize) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    n.to_string().chars().map(|c| DIGITS[c.to_digit(10).unwrap_or(0) as usize]).collect()
}

/// The formula that produced `δˡ` for layer `l` of `last`, in the post's notation.
fn delta_formula(l: usize, last: usize, activation: &str, fused: bool) -> String {
    let (s, up) = (sup(l), sup(l + 1));
    if fused {
        return format!(
            "δ{s} = ∂C/∂z{s} (the loss absorbs the {activation} output activation: it reads z{s} and hands back δ{s})"
        );
    }
    let g = if l == last { format!("∂C/∂a{s}") } else { format!("δ{up} W{up}ᵀ") };
    if activation == "softmax" {
        format!("δ{s} = a{s} ⊙ (g − (g·a{s})), g = {g} (softmax Jacobian-vector product)")
    } else if l == last {
        format!("δ{s} = {g} ⊙ σ′(z{s})")
    } else {
        format!("δ{s} = ({g}) ⊙ σ′(z{s})")
    }
}

/// A number for people: up to 6 decimals for ordinary magnitudes, scientific otherwise.
fn num(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if (1e-4..1e5).contains(&a) {
        let s = format!("{v:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" { "0".into() } else { s.to_string() }
    } else {
        format!("{v:.4e}")
    }
}

fn vector(v: &[f64]) -> String {
    format!("[{}]", v.iter().map(|&x| num(x)).collect::<Vec<_>>().join(", "))
}

impl Explanation {
    /// The number of the output layer, L.
    fn last(&self) -> usize {
        self.layers.len()
    }

    fn title(&self) -> String {
        match (self.sample, self.data_row) {
            // Said where held-out rows make it another than the sample's own count.
            (Some(k), Some(row)) if row != k + 1 => format!("sample {k} (the data's row {row})"),
            (Some(k), _) => format!("sample {k}"),
            (None, _) => "one sample".into(),
        }
    }

    /// What `label_smoothing` makes of the target, when it smooths it.
    fn smoothing_line(&self) -> Option<String> {
        let (eps, smoothed) = (self.label_smoothing?, self.smoothed_target.as_ref()?);
        Some(format!(
            "label_smoothing ε = {}: the loss compares against t′ = (1 − ε)·t + ε/{} = {}",
            num(eps),
            smoothed.len(),
            vector(smoothed)
        ))
    }

    fn cost_line(&self) -> String {
        let big_l = sup(self.last());
        let reads = if self.loss_absorbs.is_some() { format!("z{big_l}") } else { format!("a{big_l}") };
        let t = if self.smoothed_target.is_some() { "t′" } else { "t" };
        match &self.loss {
            Some(name) => format!("C = {name}({reads}, {t}) = {}", num(self.cost)),
            None => format!("C({reads}, {t}) = {}", num(self.cost)),
        }
    }

    fn dc_da_line(&self) -> String {
        let big_l = sup(self.last());
        match (&self.dc_da, &self.loss_absorbs) {
            (Some(g), _) => format!("∂C/∂a{big_l} = {}", vector(g)),
            (None, act) => format!(
                "∂C/∂a{big_l} is not formed: the loss absorbs the {} output activation and hands back δ{big_l} = ∂C/∂z{big_l}",
                act.as_deref().unwrap_or("output")
            ),
        }
    }

    /// Plain text: the forward pass, the cost, then the backward pass layer by layer, each
    /// number beside the equation that produced it.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Explaining {}: x = a⁰ = {}, target t = {}",
            self.title(),
            vector(&self.input),
            vector(&self.target)
        );
        if self.normalized {
            let _ = writeln!(s, "(x as the network sees it: the input scaled by the data's normalizer)");
        }
        if self.target_normalized {
            let _ = writeln!(s, "(t as the network learns it: the target scaled by the data's target normalizer)");
        }
        if let Some(line) = self.smoothing_line() {
            let _ = writeln!(s, "({line})");
        }
        let _ = writeln!(s, "(the post's numbering: layer 0 is the input, layer {} the output)", self.last());
        let _ = writeln!(s);
        let _ = writeln!(s, "Forward pass: zˡ = aˡ⁻¹ Wˡ + bˡ, aˡ = σ(zˡ)");
        for l in &self.layers {
            let (s0, s1) = (sup(l.layer - 1), sup(l.layer));
            let units = if l.a.len() == 1 { "unit" } else { "units" };
            let _ = writeln!(s, "  layer {} ({}, {} {units})", l.layer, l.activation, l.a.len());
            let _ = writeln!(s, "    z{s1} = a{s0} W{s1} + b{s1} = {}", vector(&l.z));
            let _ = writeln!(s, "    a{s1} = σ(z{s1}) = {}", vector(&l.a));
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "Cost: {}", self.cost_line());
        let _ = writeln!(s, "  {}", self.dc_da_line());
        let _ = writeln!(s);
        let _ = writeln!(s, "Backward pass: δˡ = ∂C/∂zˡ, ∂C/∂Wˡ = aˡ⁻¹ᵀ δˡ, ∂C/∂bˡ = δˡ");
        for l in self.layers.iter().rev() {
            let (s0, s1) = (sup(l.layer - 1), sup(l.layer));
            let _ = writeln!(s, "  layer {} ({})", l.layer, l.activation);
            let _ = writeln!(s, "    {}", l.delta_formula);
            let _ = writeln!(s, "       = {}", vector(&l.delta));
            let _ = writeln!(s, "    ∂C/∂b{s1} = δ{s1} = {}", vector(&l.grad_biases));
            let _ = writeln!(
                s,
                "    ∂C/∂W{s1} = a{s0}ᵀ δ{s1} (row i: from unit i of layer {}; column j: to unit j):",
                l.layer - 1
            );
            for r in &l.grad_weights {
                let _ = writeln!(s, "      {}", vector(r));
            }
        }
        s
    }

    /// Markdown: the same as [`to_text`](Self::to_text), with a table per layer.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "## Explaining {}\n", self.title());
        let scaled = if self.normalized { " (scaled by the data's normalizer)" } else { "" };
        let t_scaled = if self.target_normalized { " (scaled by the data's target normalizer)" } else { "" };
        let (x, t) = (vector(&self.input), vector(&self.target));
        let _ = writeln!(s, "Input x = a⁰ = `{x}`{scaled}, target t = `{t}`{t_scaled}.\n");
        if let Some(line) = self.smoothing_line() {
            let _ = writeln!(s, "With {line}.\n");
        }
        let _ = writeln!(s, "Layer 0 is the input, layer {} the output (the post's numbering).\n", self.last());
        let _ = writeln!(s, "### Forward pass: zˡ = aˡ⁻¹ Wˡ + bˡ, aˡ = σ(zˡ)\n");
        for l in &self.layers {
            let s1 = sup(l.layer);
            let _ = writeln!(s, "**Layer {} ({})**\n", l.layer, l.activation);
            let _ = writeln!(s, "| unit j | z{s1}_j | a{s1}_j |\n|---:|---:|---:|");
            for (j, (z, a)) in l.z.iter().zip(&l.a).enumerate() {
                let _ = writeln!(s, "| {j} | {} | {} |", num(*z), num(*a));
            }
            let _ = writeln!(s);
        }
        let _ = writeln!(s, "### Cost\n\n{}\n\n{}\n", self.cost_line(), self.dc_da_line());
        let _ = writeln!(s, "### Backward pass: ∂C/∂Wˡ = aˡ⁻¹ᵀ δˡ, ∂C/∂bˡ = δˡ\n");
        for l in self.layers.iter().rev() {
            let (s0, s1) = (sup(l.layer - 1), sup(l.layer));
            let _ = writeln!(s, "**Layer {} ({})**: {}\n", l.layer, l.activation, l.delta_formula);
            let _ = writeln!(s, "| unit j | δ{s1}_j = ∂C/∂b{s1}_j |\n|---:|---:|");
            for (j, d) in l.delta.iter().enumerate() {
                let _ = writeln!(s, "| {j} | {} |", num(*d));
            }
            let _ = writeln!(
                s,
                "\n∂C/∂W{s1} = a{s0}ᵀ δ{s1} (row i: from unit i of layer {}; column j: to unit j):\n",
                l.layer - 1
            );
            let units = l.grad_biases.len();
            let head: Vec<String> = (0..units).map(|j| format!("j = {j}")).collect();
            let _ = writeln!(s, "| | {} |\n|---:|{}", head.join(" | "), "---:|".repeat(units));
            for (i, r) in l.grad_weights.iter().enumerate() {
                let cells: Vec<String> = r.iter().map(|&v| num(v)).collect();
                let _ = writeln!(s, "| i = {i} | {} |", cells.join(" | "));
            }
            let _ = writeln!(s);
        }
        s
    }

    /// One JSON object with every number at full precision (see the module docs for the keys).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("an explanation always serialises")
    }
}
