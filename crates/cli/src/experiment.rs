//! The experiment a config describes, as `backprop train` sets it up: its data (read, split,
//! normalised), its starting network (drawn from the seed, or read from a model file), the
//! [`TrainOptions`] for that data, and the seed streams each draws from. A program that trains
//! with the library (without the `cli` feature) reproduces a `backprop train` run bit for bit
//! with these:
//!
//! ```
//! use backprop_cli::{config, experiment};
//! use backprop_cli::train::Trainer;
//!
//! let text = "[data]\nsource = \"xor\"\n[train]\nepochs = 50\nlog_every = 0";
//! let loaded = config::load_text(text.into(), "xor.toml".as_ref(), &[]).unwrap();
//! let cfg = &loaded.config;
//! let (splits, net) = experiment::prepare_splits::<f64>(&loaded, None).unwrap();
//! let opts = experiment::train_options(cfg, &splits);
//! let mut trainer = Trainer::try_new(net, &splits.train, cfg.loss.get(), cfg.optim.optimizer.get(), opts).unwrap();
//! if let Some(v) = &splits.validation {
//!     trainer = trainer.try_with_validation(v).unwrap();
//! }
//! let outcome = trainer.try_run(&mut experiment::shuffle_rng(cfg), &mut std::io::sink()).unwrap();
//! assert_eq!(outcome.epochs_run, 50);
//! ```

use std::path::Path;

use backprop_data::{DataError, Dataset, NormalizeKind, Normalizer, Splits, Task, Trained};
use backprop_layers::Network;
use backprop_tensor::rng::{SeededRng, derive_seed, seeded};
use backprop_tensor::{Element, SpecError};

use crate::config::{Config, Loaded};
use crate::error::CliError;
use crate::model_file::ModelFile;
use crate::train::TrainOptions;

/// The least and the largest value an output layer with `activation` can give (±∞ where it
/// grows without bound): its outputs over pre-activations from −10³⁰⁰ to 10³⁰⁰, finely spaced
/// in [−10, 10], where the smooth ones (gelu, silu) have their least value; a side where the
/// outputs still grow from z = ∓10¹⁵⁰ to ∓10³⁰⁰ is unbounded (leaky_relu's, whatever its
/// slope). Found by running the activation, so that an activation added later needs nothing here.
pub(crate) fn output_bounds(activation: &backprop_layers::ActivationSpec) -> (f64, f64) {
    let far = (1..=6).map(|k| 10f64.powi(k * 50)).chain([1e3, 1e5, 1e10]);
    let mut z: Vec<f64> = far.flat_map(|v| [v, -v]).collect();
    z.extend((-1000..=1000).map(|i| f64::from(i) / 100.0));
    // Rows (z, −z): a row-wise activation (softmax) sees rows of two, an element-wise one each value.
    let probe: Vec<f64> = z.iter().flat_map(|&v| [v, -v]).collect();
    let mut a = vec![0.0; probe.len()];
    activation.get::<f64>().forward_buffers(2, &probe, &mut a);
    let (lo, hi) = a
        .iter()
        .filter(|v| !v.is_nan())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    // The outputs at z = ±10¹⁵⁰ and ±10³⁰⁰ (z's 4th, 5th, 10th and 11th values; each row's first).
    let at = |k: usize| a[2 * k];
    let (up_far, up_near, down_far, down_near) = (at(10), at(4), at(11), at(5));
    (if down_far < down_near { f64::NEG_INFINITY } else { lo }, if up_far > up_near { f64::INFINITY } else { hi })
}

/// The least and the largest of `targets` (`(∞, −∞)` when there are none).
fn target_bounds<F: Element>(targets: &backprop_tensor::Matrix<F>) -> (f64, f64) {
    targets.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| (lo.min(t.f64()), hi.max(t.f64())))
}

/// A bound of an activation's values for people: three decimals (gelu's least value is
/// −0.16997…), an exponent form for large ones (elu with α = 10⁶⁰), ±∞.
fn bound_text(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "∞".into() } else { "-∞".into() };
    }
    if v.abs() >= 1e4 {
        return format!("{v:e}");
    }
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_string() } else { text.to_string() }
}

/// What `train` says when the output layer's activation cannot give what the loss compares it
/// with: a loss on logits over an output layer that limits what they can express
/// (`bce_with_logits`, which takes each logit on its own, over relu, whose logits ≥ 0 never give
/// below ½; `cross_entropy`, whose softmax ignores a shift of a row's logits, only over an
/// activation bounded on both sides), target values outside the values of the output layer
/// (standardized targets below 0 under relu, the default when `model.output_activation` is
/// unset and the hidden layers are relu), or a softmax output layer, whose rows sum to 1, under
/// targets whose rows do not (the half adder's). Keras's and PyTorch's output layers are linear
/// unless told otherwise; here the output layer takes `model.activation` (the post's net is
/// sigmoid throughout), which fitted 495 of 1000 house prices with the targets' mean.
fn output_layer_warning<F: Element>(
    cfg: &Config,
    targets: &backprop_tensor::Matrix<F>,
    scaled: bool,
) -> Option<String> {
    let (key, out) = cfg.output_activation();
    let loss = cfg.loss.get::<F>();
    let unset = if key == "model.activation" { ", as `model.output_activation` is not set" } else { "" };
    let layer = format!("the output layer is `{}` (`{key}`{unset})", out.name());
    let (lo, hi) = output_bounds(out);
    let bounds = format!(
        "{}{}, {}{}",
        if lo.is_finite() { "[" } else { "(" },
        bound_text(lo),
        bound_text(hi),
        if hi.is_finite() { "]" } else { ")" }
    );
    let (min, max) = target_bounds(targets);
    // Softmax's rows sum to 1: targets whose rows do not (the half adder's (0, 0)) it cannot
    // give, nor can `cross_entropy`, which applies it (written to a few decimals, a row of
    // thirds sums to 0.999999).
    let rows_off = || targets.outer_iter().filter(|row| (row.iter().map(|t| t.f64()).sum::<f64>() - 1.0).abs() > 1e-4);
    let row_sums = |whose: String| {
        let off = rows_off().count();
        (off > 0 && targets.ncols() >= 2).then(|| {
            format!(
                "{whose}, whose outputs sum to 1 in each row, but {off} of the {} training rows' targets do not: \
                 the network cannot fit them (`sigmoid` gives each output on its own{})",
                targets.nrows(),
                if loss.absorbs() == Some("softmax") { ", with `bce_with_logits`" } else { "" }
            )
        })
    };
    match loss.absorbs() {
        Some("softmax") if matches!(out.name(), "softmax" | "identity") => {
            row_sums(format!("loss `{}` applies softmax to the output layer's values", cfg.loss.name()))
        }
        Some(absorbed) if out.name() == absorbed => None,
        Some(absorbed) => {
            // Softmax takes a row's logits less their largest: bounded on one side, they still
            // reach any probabilities. A sigmoid takes each on its own.
            let limits =
                if absorbed == "softmax" { lo.is_finite() && hi.is_finite() } else { lo.is_finite() || hi.is_finite() };
            limits.then(|| {
                format!(
                    "loss `{}` takes logits, and {layer}, which limits them to {bounds}: use a `{absorbed}` output \
                     layer (the loss applies it to the logits) or `identity`",
                    cfg.loss.name()
                )
            })
        }
        None => {
            // Targets outside a cross-entropy's range are warned of already (`target_range`).
            if let Some((low, high)) = loss.target_range()
                && (min < low || max > high)
            {
                return None;
            }
            let number = |v: f64| crate::report::number_in(F::of(v));
            let slack = |b: f64| 1e-4 * (1.0 + b.abs());
            let outside = targets.iter().filter(|t| t.f64() < lo - slack(lo) || t.f64() > hi + slack(hi)).count();
            if outside > 0 {
                let scaled = if scaled { " (as normalize_targets scales them)" } else { "" };
                return Some(format!(
                    "{layer}, whose values lie in {bounds}, but {outside} of the {} training target values lie \
                     outside it, from {} to {}{scaled}: the network cannot fit them (for targets that are values, \
                     set `model.output_activation = \"identity\"`, the linear output Keras and PyTorch use unless \
                     told otherwise)",
                    targets.len(),
                    number(min),
                    number(max),
                ));
            }
            if out.name() != "softmax" {
                return None;
            }
            row_sums(layer)
        }
    }
}

/// Stream index of the initial weights under the experiment seed.
pub const STREAM_INIT: u64 = 0;
/// Stream index of the mini-batch shuffles under the experiment seed.
pub const STREAM_SHUFFLE: u64 = 1;
/// Stream index of the data (synthetic samples, split shuffles) under the experiment seed.
pub const STREAM_DATA: u64 = 2;

/// The options `backprop train` trains `splits` with: the config's
/// ([`TrainOptions::from_config`]), and `classification` from the data (accuracy is measured,
/// and early stopping may monitor it, for classes only).
pub fn train_options<F: Element>(cfg: &Config, splits: &Splits<F>) -> TrainOptions {
    TrainOptions { classification: splits.task == Task::Classification, ..TrainOptions::from_config(cfg) }
}

/// The stream `backprop train` shuffles mini-batches (and draws dropout masks) from: the
/// experiment seed's [`STREAM_SHUFFLE`].
pub fn shuffle_rng(cfg: &Config) -> SeededRng {
    seeded(derive_seed(cfg.experiment.seed, STREAM_SHUFFLE))
}

/// The training data and the starting network of a config: from `model` (or the config's
/// `model.init_from`) when given, else drawn from the config's initialiser and seed.
pub fn prepare<F: Element>(loaded: &Loaded, model: Option<&Path>) -> Result<(Dataset<F>, Network<F>), CliError> {
    let (splits, net) = prepare_splits(loaded, model)?;
    Ok((splits.train, net))
}

/// Every split of a config's data and the starting network. With `model` (a trained model to
/// evaluate or inspect), the data is read as the model sees it: its classes and its
/// normalizers (as `predict` does); otherwise normalised as the config says.
pub fn prepare_splits<F: Element>(loaded: &Loaded, model: Option<&Path>) -> Result<(Splits<F>, Network<F>), CliError> {
    let model = model.map(|path| ModelFile::read(path).map(|file| (path.to_path_buf(), file))).transpose()?;
    prepare_splits_of(loaded, model)
}

/// [`prepare_splits`] with the model file already read (`eval` reads it first, for its dtype).
pub(crate) fn prepare_splits_of<F: Element>(
    loaded: &Loaded,
    model: Option<(std::path::PathBuf, ModelFile)>,
) -> Result<(Splits<F>, Network<F>), CliError> {
    let cfg = &loaded.config;
    // Read by position, another set's columns would give numbers that mean nothing.
    let other_features = |path: &Path, names: &[String], have: &[String]| {
        CliError::Input(format!(
            "{}: the model was trained on the features [{}], and the config's data has [{}]",
            path.display(),
            names.join(", "),
            have.join(", ")
        ))
    };
    let mut splits: Splits<F> = match &model {
        Some((path, file)) => {
            // A model without a normalizer scales nothing, as `predict` reads it: not the
            // config's scaling fitted on the data evaluated. So for its targets.
            let identity = Normalizer::identity();
            let normalizer = Some(file.normalizer.as_ref().unwrap_or(&identity));
            let target_normalizer = Some(file.target_normalizer.as_ref().unwrap_or(&identity));
            let trained = Trained { classes: file.classes.as_deref(), normalizer, target_normalizer };
            load_data_as(loaded, trained).map_err(|e| {
                // Read as the model sees it, data of other features fails first on what follows
                // from them (a normalizer of another count, other classes): the features are
                // the reason, when the data read alone has others.
                match (&file.features, load_data::<F>(loaded)) {
                    (Some(names), Ok(own)) if *names != own.feature_names => {
                        other_features(path, names, &own.feature_names)
                    }
                    _ => e,
                }
            })?
        }
        None => load_data(loaded)?,
    };
    let data = &splits.train;
    if let Some((path, ModelFile { features: Some(names), .. })) = &model
        && *names != splits.feature_names
    {
        return Err(other_features(path, names, &splits.feature_names));
    }
    // Regression targets in another order would be scaled by each other's shift and scale, and
    // scored against each other's outputs.
    if let Some((path, ModelFile { targets: Some(names), classes: None, .. })) = &model
        && splits.task == backprop_data::Task::Regression
        && *names != splits.target_names
    {
        return Err(CliError::Input(format!(
            "{}: the model was trained on the targets [{}], and the config's data has [{}]",
            path.display(),
            names.join(", "),
            splits.target_names.join(", ")
        )));
    }
    // Training (weights drawn or read from `model.init_from`) checks the config against the data;
    // a model given on the command line brings its own shape, checked below.
    let given = model.is_some();
    if !given {
        cfg.model.validate_for(data.features(), data.outputs()).map_err(|e| loaded.spec_error(&e.within("model")))?;
        let classification = splits.task == backprop_data::Task::Classification;
        cfg.validate_for_data(data.outputs(), classification).map_err(|mut e| {
            // A classifier's config over one regression target of whole numbers: class labels
            // 1, 2, 3 read as a number, because `task` was left at its default.
            let few_whole = |t: &backprop_tensor::Matrix<F>| {
                let mut seen: Vec<f64> = t.iter().map(|v| v.f64()).collect();
                seen.sort_by(f64::total_cmp);
                seen.dedup();
                seen.len() <= 100 && seen.iter().all(|v| v.fract() == 0.0)
            };
            if !classification && data.outputs() == 1 && few_whole(&data.targets) {
                e.message += "; the target holds whole numbers: if they are class labels, set \
                              `data.task = \"classification\"` (the default is regression)";
            }
            // A fault of the data rather than of a key: its file named.
            if e.key == "data" {
                e.message = format!("{}: {}", data.name, e.message);
            }
            loaded.spec_error(&e)
        })?;
        // A loss on probabilities against targets that are not (bce on prices): PyTorch and
        // Keras compute it, and so does this; its cost can fall below 0 and its minimum is not
        // at the targets, which a run's numbers do not show. Said, not refused.
        if let Some((low, high)) = cfg.loss.get::<F>().target_range() {
            let (min, max) = target_bounds(&data.targets);
            if min < low || max > high {
                let scaled =
                    if splits.target_normalizer.is_identity() { "" } else { " (as normalize_targets scales them)" };
                splits.warnings.push(format!(
                    "loss `{}` takes targets in [{low}, {high}] (probabilities), and the training targets run from \
                     {} to {}{scaled}: its cost can fall below 0 and is not least at the targets (for targets that \
                     are values, use `mse`)",
                    cfg.loss.name(),
                    crate::report::number(min),
                    crate::report::number(max),
                ));
            }
        }
        if let Some(warning) = output_layer_warning(cfg, &data.targets, !splits.target_normalizer.is_identity()) {
            splits.warnings.push(warning);
        }
        // Classes the source knows of (an IDX file's ten digits) but the training samples lack:
        // one class present leaves nothing to learn, as scikit-learn's classifiers refuse it.
        let present: Vec<usize> =
            (0..data.outputs()).filter(|&k| data.targets.column(k).iter().any(|t| *t != F::zero())).collect();
        if classification && data.outputs() > 1 && present.len() < 2 {
            let name = present.first().and_then(|&k| splits.classes.as_ref()?.get(k).cloned()).unwrap_or_default();
            let message = format!(
                "{}: the training samples are all of one class (`{name}`): a classifier needs at least 2",
                data.name
            );
            return Err(loaded.spec_error(&SpecError::new("data", message)));
        }
        // Classes no training sample has (IDX labels 0 and 255 make 256 classes): each is an
        // output that learns only to stay low. Said, not refused (a digit missing from a subset).
        if classification && present.len() < data.outputs() {
            let absent: Vec<String> = (0..data.outputs())
                .filter(|k| !present.contains(k))
                .map(|k| splits.classes.as_ref().and_then(|c| c.get(k).cloned()).unwrap_or_else(|| k.to_string()))
                .collect();
            let shown: Vec<String> = absent.iter().take(10).map(|c| format!("`{c}`")).collect();
            let more = if absent.len() > 10 { format!(" and {} more", absent.len() - 10) } else { String::new() };
            splits.warnings.push(format!(
                "{}: {} of the {} classes have no training sample ({}{more}): the network has an output for each, \
                 which learns only to stay low",
                data.name,
                absent.len(),
                data.outputs(),
                shown.join(", ")
            ));
        }
    }
    let from = match (model, &cfg.model.init_from) {
        (Some(given), _) => Some(given),
        (None, Some(p)) => {
            let path = loaded.resolve_key_path("model.init_from", p);
            let file = ModelFile::read(&path)
                .map_err(|e| loaded.spec_error(&SpecError::new("model.init_from", e.to_string())))?;
            Some((path, file))
        }
        (None, None) => None,
    };
    let mut init_warning = None;
    let mut name_warnings = Vec::new();
    let net = match from {
        Some((path, file)) => {
            let want = cfg.model.architecture(data.outputs());
            if let Some(differs) = init_from_mismatch(&file, &cfg.model, data.features(), data.outputs()) {
                let message = format!("{}: {differs}", path.display());
                // From the config's `model.init_from`: at that key.
                return Err(if given {
                    CliError::Input(message)
                } else {
                    loaded.spec_error(&SpecError::new("model.init_from", message))
                });
            }
            // Weights read by position: the model's features, classes or targets in another order
            // than the data's would start each input and output as another one (a table with its
            // columns reordered started at 0.26 accuracy, silently). The same names in another
            // order are refused (`data.features` picks columns in the model's order); other names
            // are said (fine-tuning on renamed columns or new classes is what `init_from` allows).
            if !given {
                let pairs = [
                    ("features", file.features.as_deref(), Some(splits.feature_names.as_slice())),
                    ("classes", file.classes.as_deref(), splits.classes.as_deref()),
                    (
                        "targets",
                        file.targets.as_deref().filter(|_| file.classes.is_none()),
                        Some(splits.target_names.as_slice()).filter(|_| splits.classes.is_none()),
                    ),
                ];
                for (what, model, data) in pairs {
                    let (Some(model), Some(data)) = (model, data) else { continue };
                    if model == data {
                        continue;
                    }
                    let list = |names: &[String]| names.join(", ");
                    let (mut a, mut b) = (model.to_vec(), data.to_vec());
                    a.sort();
                    b.sort();
                    if a == b {
                        let hint = match what {
                            "features" => format!(": list them in its order, `data.features = {model:?}`"),
                            "targets" => format!(": list them in its order, `data.targets = {model:?}`"),
                            _ => String::new(),
                        };
                        let message = format!(
                            "{}: the model's {what} are [{}], and this run's data has them in another order, [{}]; its \
                             weights read them by position{hint}",
                            path.display(),
                            list(model),
                            list(data)
                        );
                        return Err(loaded.spec_error(&SpecError::new("model.init_from", message)));
                    }
                    name_warnings.push(format!(
                        "model.init_from {}: its {what} were [{}], this run's are [{}]: its weights take them by position",
                        path.display(),
                        list(model),
                        list(data)
                    ));
                }
            }
            // Weights learnt on inputs or targets scaled by another kind of scaling than this
            // run's start in other units (targets of 1e5 against outputs of about 1): said, not
            // refused, as fine-tuning is what `init_from` is for. (A scaling of the same kind
            // fitted on other data is fine-tuning's usual case, and not said.)
            if !given {
                let kind = |n: Option<&Normalizer>| n.map_or(NormalizeKind::None, |n| n.kind);
                let other: Vec<String> = [
                    ("normalize", kind(file.normalizer.as_ref()), splits.normalizer.kind),
                    ("normalize_targets", kind(file.target_normalizer.as_ref()), splits.target_normalizer.kind),
                ]
                .into_iter()
                .filter(|(_, model, run)| model != run)
                .map(|(key, model, run)| format!("its `{key}` was {}, this run's is {}", model.name(), run.name()))
                .collect();
                if !other.is_empty() {
                    init_warning = Some(format!(
                        "model.init_from {}: {}: its weights start in other units than this run's data",
                        path.display(),
                        other.join(", ")
                    ));
                }
            }
            let mut net: Network<F> = file.to_network();
            net.set_dropout(&want.iter().map(|l| l.dropout).collect::<Vec<_>>());
            if let Some(x) = net.params().iter().find(|x| !x.is_finite()) {
                // A weight past the dtype's range (1e39 in an f32 run): refused before training,
                // which would call it a divergence and write a model nothing can read.
                let message =
                    format!("{}: holds a weight that is {x} in {}, beyond its range", path.display(), F::DTYPE.name());
                return Err(if given {
                    CliError::Input(message)
                } else {
                    loaded.spec_error(&SpecError::new("model.init_from", message))
                });
            }
            net
        }
        None => {
            let layers = cfg.model.architecture(data.outputs());
            fits_in_memory::<F>(loaded, data.features(), &layers, backprop_layers::allocatable)?;
            let mut net = Network::<F>::new(data.features(), &layers);
            let mut rng = seeded(derive_seed(cfg.experiment.seed, STREAM_INIT));
            let inits: Vec<_> = net
                .layers()
                .iter()
                .map(|layer| backprop_layers::layer_initializers(cfg.model.init.as_ref(), &layer.activation))
                .collect();
            net.initialize_layers(|l| (inits[l].0.get(), inits[l].1.get()), &mut rng);
            if let Some(x) = net.params().iter().find(|x| !x.is_finite()) {
                // A value past the dtype's range (1e300 in f32): a bad config, not a divergence.
                let message = format!("draws {x} in {}, beyond its range", F::DTYPE.name());
                return Err(loaded.spec_error(&SpecError::new("model.init", message)));
            }
            net
        }
    };
    data.check_fits(net.inputs(), net.outputs()).map_err(|e| CliError::Input(e.to_string()))?;
    splits.warnings.extend(name_warnings);
    splits.warnings.extend(init_warning);
    Ok((splits, net))
}

/// Refuses, before any of it is allocated, a network whose parameters (four copies, as training
/// keeps them: the weights, their gradients, the last good and the best) and the initialiser's
/// buffer (f64, for its largest range) this machine cannot allocate. Drawing the weights of a
/// network past memory aborted the process (exit 134), or had the kernel kill it; `train`'s
/// full check of its buffers comes later, once the network is there to measure.
fn fits_in_memory<F: Element>(
    loaded: &Loaded,
    inputs: usize,
    layers: &[backprop_layers::LayerSpec],
    allocatable: impl Fn(usize) -> bool,
) -> Result<(), CliError> {
    let (mut params, mut widest, mut fan_in) = (0usize, 0usize, inputs);
    for layer in layers {
        let weights = fan_in.saturating_mul(layer.units);
        params = params.saturating_add(weights).saturating_add(layer.units);
        widest = widest.max(weights);
        fan_in = layer.units;
    }
    let need = params.saturating_mul(4 * std::mem::size_of::<F>()).saturating_add(widest.saturating_mul(8));
    if allocatable(need) {
        return Ok(());
    }
    let message = format!(
        "the network's {params} parameters need about {} (the weights, their gradients and copies), more than \
         this machine can allocate; a smaller network needs less",
        crate::fsutil::size_text(need)
    );
    Err(loaded.spec_error(&SpecError::new("model", message)))
}

/// The config's data: read, split and normalised (files resolve against the config's folder;
/// the splits and synthetic sets draw from the experiment seed's data stream).
pub fn load_data<F: Element>(loaded: &Loaded) -> Result<Splits<F>, CliError> {
    load_data_as(loaded, Trained::default())
}

/// [`load_data`] as a trained model sees the data ([`DataSpec::load_splits_as`]).
///
/// [`DataSpec::load_splits_as`]: backprop_data::DataSpec::load_splits_as
pub fn load_data_as<F: Element>(loaded: &Loaded, trained: Trained<'_>) -> Result<Splits<F>, CliError> {
    let cfg = &loaded.config;
    // `data.seed` fixes the data's draw and split apart from the experiment's seed.
    let seed =
        cfg.data.preprocess().and_then(|p| p.seed).unwrap_or_else(|| derive_seed(cfg.experiment.seed, STREAM_DATA));
    cfg.data.load_splits_as(&loaded.base_dir, seed, trained).map_err(|e| match e {
        DataError::Spec(spec) => loaded.spec_error(&spec.within("data")),
        // A column the config names that the file lacks: a config error at that key.
        DataError::MissingColumn { key: Some(key), .. } => {
            loaded.spec_error(&SpecError::new(format!("data.{}", key.name()), e.to_string()))
        }
        DataError::SplitTooSmall { ref split, .. } | DataError::NoneToSpare { ref split, .. } => {
            loaded.spec_error(&SpecError::new(format!("data.{split}"), e.to_string()))
        }
        // A synthetic set whose values overflow: its `noise` made them (nothing else of a
        // generator's is unbounded), a config error at that key.
        DataError::NonFinite { .. }
        | DataError::NormalizeOverflow { .. }
        | DataError::NormalizeTargetsOverflow { .. }
            if trained.normalizer.is_none()
                && toml::Value::try_from(&cfg.data).is_ok_and(|v| v.get("noise").is_some()) =>
        {
            loaded.spec_error(&SpecError::new("data.noise", e.to_string()))
        }
        // A file that cannot be read (missing, a folder): at the key that names it.
        DataError::Io { ref path, .. } => match data_key_naming(loaded, path) {
            Some(key) => loaded.spec_error(&SpecError::new(key, e.to_string())),
            None => CliError::Input(e.to_string()),
        },
        other => CliError::Input(other.to_string()),
    })
}

/// The `data.*` key whose path, resolved, is `path` (`data.path`, `data.test_images`, …).
fn data_key_naming(loaded: &Loaded, path: &Path) -> Option<String> {
    let data = toml::Value::try_from(&loaded.config.data).ok()?;
    crate::config::PATH_KEYS.iter().filter(|(section, _)| *section == "data").find_map(|(_, key)| {
        let key = format!("data.{key}");
        let value = data.get(key.trim_start_matches("data."))?.as_str()?;
        (loaded.resolve_key_path(&key, Path::new(value)) == path).then_some(key)
    })
}

/// How a model file to start from (`model.init_from`) is not the network `model` asks for over
/// data of `inputs` features and `outputs` outputs (other inputs, layers or activations), or
/// `None` when it is: its weights are read into that network as they are.
pub fn init_from_mismatch(
    file: &ModelFile,
    model: &backprop_layers::ModelSpec,
    inputs: usize,
    outputs: usize,
) -> Option<String> {
    let want = model.architecture(outputs);
    let shape = |layers: &[backprop_layers::LayerSpec]| {
        layers.iter().map(|l| (l.units, l.activation.clone())).collect::<Vec<_>>()
    };
    if shape(&file.architecture()) == shape(&want) && file.inputs == inputs {
        return None;
    }
    // Names alone when they differ; the activations' parameters when only those do (leaky_relu's
    // slope, say), or the two would read the same.
    let (mut have, mut asked) = (describe(&file.architecture(), false), describe(&want, false));
    if have == asked {
        (have, asked) = (describe(&file.architecture(), true), describe(&want, true));
    }
    Some(format!(
        "the model has {} inputs and layers {have}, but the config asks for {inputs} inputs and layers {asked}",
        file.inputs
    ))
}

/// `[2 sigmoid, 2 sigmoid]`; with `parameters`, each activation as its config would write it
/// (`5 { kind = "leaky_relu", negative_slope = 0.2 }`).
fn describe(layers: &[backprop_layers::LayerSpec], parameters: bool) -> String {
    let activation = |l: &backprop_layers::LayerSpec| match toml::Value::try_from(&l.activation) {
        Ok(toml::Value::Table(t)) if parameters => toml::Value::Table(t).to_string(),
        _ => l.activation.name().to_string(),
    };
    let parts: Vec<String> = layers.iter().map(|l| format!("{} {}", l.units, activation(l))).collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use backprop_layers::{ActivationSpec, LayerSpec};

    use super::*;

    /// The parameters' bytes are asked for before the network is built: 2 inputs, 3 and 2 units
    /// are 17 parameters, four copies of f64 (544 bytes) and the widest range's buffer (6
    /// weights, 48 bytes).
    #[test]
    fn a_network_past_memory_is_refused_before_it_is_built() {
        let loaded = crate::config::load_text("[train]\nepochs = 1".into(), "m.toml".as_ref(), &[]).unwrap();
        let relu = |units| LayerSpec::new(units, ActivationSpec::from_name("relu").unwrap());
        let layers = [relu(3), relu(2)];
        let asked = std::cell::Cell::new(0);
        let probe = |ok: bool| {
            let asked = &asked;
            move |bytes: usize| {
                asked.set(bytes);
                ok
            }
        };
        assert!(fits_in_memory::<f64>(&loaded, 2, &layers, probe(true)).is_ok());
        assert_eq!(asked.get(), 17 * 4 * 8 + 6 * 8);
        let err = fits_in_memory::<f32>(&loaded, 2, &layers, probe(false)).unwrap_err().to_string();
        assert_eq!(asked.get(), 17 * 4 * 4 + 6 * 8);
        assert!(err.starts_with("m.toml"), "{err}");
        assert!(err.contains("key `model`: the network's 17 parameters need about 1 KiB"), "{err}");
    }

    #[test]
    fn output_bounds_are_each_activations_range() {
        let bounds = |name: &str| output_bounds(&ActivationSpec::from_name(name).unwrap());
        let inf = f64::INFINITY;
        assert_eq!(bounds("sigmoid"), (0.0, 1.0));
        assert_eq!(bounds("softmax"), (0.0, 1.0));
        assert_eq!(bounds("tanh"), (-1.0, 1.0));
        assert_eq!(bounds("relu"), (0.0, inf));
        assert_eq!(bounds("softplus"), (0.0, inf));
        assert_eq!(bounds("elu"), (-1.0, inf));
        assert_eq!(bounds("identity"), (-inf, inf));
        assert_eq!(bounds("leaky_relu"), (-inf, inf));
        let slight = ActivationSpec::from_name("leaky_relu").unwrap();
        let slight = match slight {
            ActivationSpec::LeakyRelu(mut l) => {
                l.negative_slope = 1e-290;
                ActivationSpec::LeakyRelu(l)
            }
            other => other,
        };
        assert_eq!(output_bounds(&slight), (-inf, inf), "unbounded however slight the slope");
        assert_eq!(
            (bound_text(-0.169971), bound_text(-1e60), bound_text(-inf), bound_text(-0.0)),
            ("-0.17".into(), "-1e60".into(), "-∞".into(), "0".into())
        );
        // gelu's least value is −0.16997… at z ≈ −0.7518, silu's −0.27846… at z ≈ −1.2785.
        let (gelu, silu) = (bounds("gelu"), bounds("silu"));
        assert!((gelu.0 + 0.169971).abs() < 1e-5 && gelu.1 == inf, "{gelu:?}");
        assert!((silu.0 + 0.278465).abs() < 1e-5 && silu.1 == inf, "{silu:?}");
    }

    /// Standardized targets under a relu output layer (the default when only `activation` is
    /// given), and `cross_entropy` over a relu output layer, are said; a linear output layer,
    /// targets within the output's range, and the output layer a loss on logits absorbs are not.
    #[test]
    fn an_output_layer_that_cannot_give_the_targets_is_said() {
        let warning = |data: &str, rest: &str| {
            let text = format!("[data]\n{data}\n[train]\nepochs = 1\n{rest}");
            let loaded = crate::config::load_text(text, "w.toml".as_ref(), &[]).unwrap();
            let (splits, _) = prepare_splits::<f64>(&loaded, None).unwrap();
            splits.warnings.into_iter().find(|w| w.contains("output layer"))
        };
        let sine = |scaling: &str| format!("source = \"sine\"\nnormalize_targets = \"{scaling}\"");
        let said = warning(&sine("standardize"), "[model]\nactivation = \"relu\"").expect("relu");
        assert!(
            said.starts_with(
                "the output layer is `relu` (`model.activation`, as `model.output_activation` is not set), whose \
                 values lie in [0, ∞), but "
            ),
            "{said}"
        );
        assert!(said.contains("(as normalize_targets scales them)"), "{said}");
        assert!(said.contains("set `model.output_activation = \"identity\"`"), "{said}");
        let linear = "[model]\nactivation = \"relu\"\noutput_activation = \"identity\"";
        assert_eq!(warning(&sine("standardize"), linear), None);
        let tanh = warning(&sine("standardize"), "[model]\nactivation = \"tanh\"").expect("tanh");
        assert!(
            tanh.contains("(`model.activation`, as") && tanh.contains("whose values lie in [-1, 1], but "),
            "{tanh}"
        );
        // minmax scales the targets into [0, 1]: within tanh's and sigmoid's values.
        assert_eq!(warning(&sine("minmax"), "[model]\nactivation = \"tanh\""), None);
        let sigmoid = warning(&sine("minmax"), "[model]\nactivation = \"relu\"\noutput_activation = \"sigmoid\"");
        assert_eq!(sigmoid, None);

        let moons = "source = \"moons\"";
        // Softmax ignores a shift of a row's logits: bounded on one side, they limit nothing; a
        // sigmoid takes each logit on its own, and relu's never give below ½.
        assert_eq!(warning(moons, "[loss]\nkind = \"cross_entropy\"\n[model]\nactivation = \"relu\""), None);
        let logits = warning("source = \"xor\"", "[loss]\nkind = \"bce_with_logits\"\n[model]\nactivation = \"relu\"");
        let logits = logits.expect("relu under bce_with_logits");
        assert!(
            logits
                .starts_with("loss `bce_with_logits` takes logits, and the output layer is `relu` (`model.activation`")
                && logits.contains("which limits them to [0, ∞): use a `sigmoid` output layer"),
            "{logits}"
        );
        let explicit = "[loss]\nkind = \"cross_entropy\"\n[model]\noutput_activation = \"sigmoid\"";
        let said = warning(moons, explicit).expect("sigmoid");
        assert!(said.contains("`sigmoid` (`model.output_activation`), which limits them to [0, 1]:"), "{said}");
        // Softmax's rows sum to 1, and the half adder's first target row (0, 0) does not.
        let said = warning("source = \"half_adder\"", "[model]\noutput_activation = \"softmax\"").expect("softmax");
        assert!(
            said.contains("whose outputs sum to 1 in each row, but 1 of the 4 training rows' targets do not"),
            "{said}"
        );
        for output in ["softmax", "identity"] {
            let ce = format!("[loss]\nkind = \"cross_entropy\"\n[model]\noutput_activation = \"{output}\"");
            let said = warning("source = \"half_adder\"", &ce).expect("cross_entropy");
            let start = "loss `cross_entropy` applies softmax to the output layer's values, whose outputs sum to 1";
            assert!(said.starts_with(start) && said.contains("but 1 of the 4"), "{said}");
            assert!(said.ends_with("(`sigmoid` gives each output on its own, with `bce_with_logits`)"), "{said}");
        }
        for output in ["softmax", "identity"] {
            let fine = format!(
                "[loss]\nkind = \"cross_entropy\"\n[model]\nactivation = \"relu\"\noutput_activation = \"{output}\""
            );
            assert_eq!(warning(moons, &fine), None, "{output}");
        }
    }
}
