//! What [`Trainer::try_new`](super::Trainer::try_new) and
//! [`Trainer::try_with_validation`](super::Trainer::try_with_validation) check before a
//! trainer allocates anything, and [`SetupError`], what they say when a check fails.

use backprop_data::{DataError, Dataset};
use backprop_layers::Network;
use backprop_loss::Loss;
use backprop_optim::Optimizer;
use backprop_tensor::{Element, SpecError, Validate};

use super::{Monitor, TrainOptions};
use crate::config::BatchSize;

/// Why a trainer cannot be built: a network, data, loss, optimiser or options that training
/// cannot use. `backprop train` checks the same things first and reports them against the
/// config's keys; a program that builds these in code gets them here.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SetupError {
    /// The network has no layers.
    #[error("the network has no layers")]
    NoLayers,
    /// A data set with no samples (`which`: `training` or `validation`).
    #[error("the {which} data has no samples")]
    NoSamples {
        /// `training` or `validation`.
        which: &'static str,
    },
    /// A data set whose inputs and targets have different numbers of rows (its fields are
    /// public, so nothing else keeps them paired).
    #[error("the {which} data has {inputs} rows of inputs and {targets} of targets")]
    RowMismatch {
        /// `training` or `validation`.
        which: &'static str,
        /// Rows of inputs.
        inputs: usize,
        /// Rows of targets.
        targets: usize,
    },
    /// A data set whose features or targets are not the network's inputs and outputs.
    #[error(
        "the {which} data has {features} features and {targets} targets, the network {inputs} inputs and {outputs} outputs"
    )]
    Shape {
        /// `training` or `validation`.
        which: &'static str,
        /// The data's features.
        features: usize,
        /// The data's targets.
        targets: usize,
        /// The network's inputs.
        inputs: usize,
        /// The network's outputs.
        outputs: usize,
    },
    /// [`TrainOptions::batch_size`] of 0 samples.
    #[error("a batch size of 0 samples")]
    EmptyBatch,
    /// A clipping bound (`clip_norm` or `clip_value`) that is not a finite number above 0.
    #[error("{name} must be a finite number above 0, got {bound}")]
    Clip {
        /// `clip_norm` or `clip_value`.
        name: &'static str,
        /// The bound given.
        bound: f64,
    },
    /// A `clip_norm_type` that is not a p-norm's p (above 0, `inf` included).
    #[error("clip_norm_type must be a number above 0 (inf: the largest |g|), got {0}")]
    NormType(f64),
    /// The loss, the optimiser or the schedule fails its [`Validate`] check, or a training
    /// option is out of range; the key is named as a config would name it (`optim.lr`,
    /// `loss.delta`, `optim.schedule.step_size`, `train.stop_below`,
    /// `train.early_stopping.min_delta`).
    #[error("{0}")]
    Invalid(SpecError),
    /// Early stopping monitors a validation metric (`val_cost`, `val_accuracy`), and the trainer
    /// was given no validation set ([`try_with_validation`](super::Trainer::try_with_validation)):
    /// the metric would never be measured, and the run never stop. Found when the run starts
    /// ([`try_run_with`](super::Trainer::try_run_with)), as the set is given after `try_new`.
    #[error("early stopping monitors `{monitor}`, and no validation set was given (Trainer::try_with_validation)")]
    NoValidation {
        /// The monitored metric's name.
        monitor: &'static str,
    },
    /// Early stopping monitors an accuracy (`accuracy`, `val_accuracy`), and
    /// [`TrainOptions::classification`] is false: accuracy is not measured, and the run would
    /// never stop. ([`experiment::train_options`](crate::experiment::train_options) sets it
    /// from the data.)
    #[error(
        "early stopping monitors `{monitor}`, and accuracy is measured for classes only (TrainOptions::classification is false)"
    )]
    NoAccuracy {
        /// The monitored metric's name.
        monitor: &'static str,
    },
    /// A layer of 0 units (nothing passes it; a model file cannot hold it).
    #[error("layer {layer} has 0 units: a layer needs at least 1")]
    EmptyLayer {
        /// The layer, from 1.
        layer: usize,
    },
    /// A softmax output, or a loss that takes one (`cross_entropy`), over a single output: the
    /// softmax is always 1 and the cost always 0, so nothing trains. The text says which.
    #[error("{0}: use a sigmoid output, or `bce_with_logits`")]
    OneOutput(&'static str),
    /// A layer's activation fails its [`Validate`] check (a softplus with `beta = 0`).
    #[error("layer {layer}'s activation: {error}")]
    Activation {
        /// The layer, from 1.
        layer: usize,
        /// What is wrong.
        error: SpecError,
    },
}

/// Every check of [`Trainer::try_new`](super::Trainer::try_new), in the order it makes them.
pub(super) fn check<F: Element>(
    net: &Network<F>,
    data: &Dataset<F>,
    loss: &dyn Loss<F>,
    optimizer: &dyn Optimizer<F>,
    opts: &TrainOptions,
) -> Result<(), SetupError> {
    if net.layers().is_empty() {
        return Err(SetupError::NoLayers);
    }
    if let Some(l) = net.layers().iter().position(|l| l.units == 0) {
        return Err(SetupError::EmptyLayer { layer: l + 1 });
    }
    fits("training", net, data)?;
    if net.outputs() == 1 {
        if net.layers().last().is_some_and(|l| l.activation.name() == "softmax") {
            return Err(SetupError::OneOutput("a softmax over one output is always 1"));
        }
        if loss.absorbs() == Some("softmax") {
            return Err(SetupError::OneOutput("`cross_entropy` over one output is always 0"));
        }
    }
    if opts.batch_size == BatchSize::Size(0) {
        return Err(SetupError::EmptyBatch);
    }
    for (name, bound) in [("clip_norm", opts.clip_norm), ("clip_value", opts.clip_value)] {
        if let Some(bound) = bound.filter(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(SetupError::Clip { name, bound });
        }
    }
    if let Some(p) = opts.clip_norm_type.filter(|&p| !backprop_optim::clip::is_norm_type(p)) {
        return Err(SetupError::NormType(p));
    }
    loss.validate().map_err(|e| SetupError::Invalid(e.within("loss")))?;
    optimizer.validate().map_err(|e| SetupError::Invalid(e.within("optim")))?;
    if let Some(schedule) = &opts.schedule {
        schedule.validate().map_err(|e| SetupError::Invalid(e.within("optim.schedule")))?;
    }
    // The `[train]` table's checks, for options built in code.
    let invalid = |key: &str, message: String| SetupError::Invalid(SpecError::new(key, message));
    if let Some(below) = opts.stop_below.filter(|b| !(b.is_finite() && *b > 0.0)) {
        return Err(invalid("train.stop_below", format!("must be a finite number > 0, got {below}")));
    }
    if let Some(es) = &opts.early_stopping {
        if es.patience == 0 {
            return Err(invalid("train.early_stopping.patience", "must be at least 1, got 0".into()));
        }
        if !(es.min_delta.is_finite() && es.min_delta >= 0.0) {
            let message = format!("must be a finite number ≥ 0, got {}", es.min_delta);
            return Err(invalid("train.early_stopping.min_delta", message));
        }
        if matches!(es.monitor, Monitor::Accuracy | Monitor::ValAccuracy) && !opts.classification {
            return Err(SetupError::NoAccuracy { monitor: es.monitor.name() });
        }
    }
    // A network built in code: its activations' parameters as a config's are checked (a
    // softplus with beta = 0 gave NaN outputs).
    for (l, layer) in net.layers().iter().enumerate() {
        layer.activation.validate().map_err(|error| SetupError::Activation { layer: l + 1, error })?;
    }
    Ok(())
}

/// `Ok` when `data` (the `which` set) has samples, as many rows of targets as of inputs, and
/// `net`'s inputs and outputs.
pub(super) fn fits<F: Element>(which: &'static str, net: &Network<F>, data: &Dataset<F>) -> Result<(), SetupError> {
    // The data crate's own check, its answers said as the trainer's (which set, the network's
    // sizes).
    data.check_fits(net.inputs(), net.outputs()).map_err(|e| match e {
        DataError::RowMismatch { inputs, targets, .. } => SetupError::RowMismatch { which, inputs, targets },
        DataError::Shape { features, outputs, .. } => {
            SetupError::Shape { which, features, targets: outputs, inputs: net.inputs(), outputs: net.outputs() }
        }
        // `Empty`, its only other answer.
        _ => SetupError::NoSamples { which },
    })
}
