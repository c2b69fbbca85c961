//! `[model]`: the architecture and the start of a network, as a config writes it.

use std::path::PathBuf;

use backprop_tensor::init::InitSpec;
use backprop_tensor::{SpecError, Validate};
use serde::{Deserialize, Serialize};

use crate::ActivationSpec;

/// The most parameters a config may ask for (2³¹, 8 GiB of f32): larger is refused before any
/// memory is taken.
pub const MAX_PARAMS: usize = 1 << 31;

/// One layer: its units and activation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    /// Number of units (outputs of the layer).
    pub units: usize,
    /// Its activation (default sigmoid).
    #[serde(default)]
    pub activation: ActivationSpec,
}

impl LayerSpec {
    /// A layer of `units` with `activation`.
    pub fn new(units: usize, activation: ActivationSpec) -> Self {
        LayerSpec { units, activation }
    }
}

/// A hidden layer as `[[model.layers]]` writes it: the activation may be left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HiddenLayer {
    /// Number of units.
    pub units: usize,
    /// Its activation (default: `model.activation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<ActivationSpec>,
}

/// The `[model]` table.
///
/// ```toml
/// [model]
/// hidden = [2, 2]
/// activation = "sigmoid"        # every layer; `output_activation` may override the last
/// init = { kind = "uniform", low = -1.0, high = 1.0 }
/// ```
/// The output layer's size comes from the data (its number of targets). Instead of `hidden`,
/// `[[model.layers]]` tables (`units`, optional `activation`) list the hidden layers one by one.
/// `init_from = "model.json"` starts from saved weights instead of `init`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Units of each hidden layer, input side first (default: none, a single layer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<Vec<usize>>,
    /// Hidden layers one by one, as an alternative to `hidden`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<HiddenLayer>>,
    /// Activation of every layer (default `sigmoid`, the post's).
    #[serde(default)]
    pub activation: ActivationSpec,
    /// Activation of the output layer (default: `activation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_activation: Option<ActivationSpec>,
    /// How to draw the initial weights and biases (default: the post's U(−1, 1)).
    #[serde(default)]
    pub init: InitSpec,
    /// A model file to start from instead of drawing weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_from: Option<PathBuf>,
}

impl ModelSpec {
    /// Every layer, hidden ones first, then an output layer of `outputs` units.
    pub fn architecture(&self, outputs: usize) -> Vec<LayerSpec> {
        let mut layers: Vec<LayerSpec> = match (&self.hidden, &self.layers) {
            (_, Some(layers)) => layers
                .iter()
                .map(|h| LayerSpec::new(h.units, h.activation.clone().unwrap_or_else(|| self.activation.clone())))
                .collect(),
            (Some(hidden), None) => hidden.iter().map(|&u| LayerSpec::new(u, self.activation.clone())).collect(),
            (None, None) => Vec::new(),
        };
        let out_act = self.output_activation.clone().unwrap_or_else(|| self.activation.clone());
        layers.push(LayerSpec::new(outputs, out_act));
        layers
    }

    /// Checks the sizes for a network of `inputs` inputs and `outputs` outputs, including the
    /// total parameter count against [`MAX_PARAMS`].
    pub fn validate_for(&self, inputs: usize, outputs: usize) -> Result<(), SpecError> {
        self.validate()?;
        let mut total: usize = 0;
        let mut fan_in = inputs;
        for layer in self.architecture(outputs) {
            let n = fan_in.checked_mul(layer.units).and_then(|w| w.checked_add(layer.units));
            total = n.and_then(|n| total.checked_add(n)).unwrap_or(usize::MAX);
            fan_in = layer.units;
        }
        if total > MAX_PARAMS {
            let key = if self.layers.is_some() { "layers" } else { "hidden" };
            return Err(SpecError::new(
                key,
                format!("the network would have {total} parameters, more than the limit of {MAX_PARAMS}"),
            ));
        }
        Ok(())
    }
}

impl Validate for ModelSpec {
    fn validate(&self) -> Result<(), SpecError> {
        if self.hidden.is_some() && self.layers.is_some() {
            return Err(SpecError::new("layers", "give either `hidden` or `[[model.layers]]`, not both"));
        }
        if let Some(hidden) = &self.hidden
            && let Some(i) = hidden.iter().position(|&u| u == 0)
        {
            return Err(SpecError::new(format!("hidden[{i}]"), "a layer needs at least 1 unit, got 0"));
        }
        if let Some(layers) = &self.layers {
            for (i, layer) in layers.iter().enumerate() {
                if layer.units == 0 {
                    return Err(SpecError::new(format!("layers[{i}].units"), "a layer needs at least 1 unit, got 0"));
                }
                if let Some(a) = &layer.activation {
                    a.validate().map_err(|e| e.within(&format!("layers[{i}].activation")))?;
                }
            }
        }
        self.activation.validate().map_err(|e| e.within("activation"))?;
        if let Some(a) = &self.output_activation {
            a.validate().map_err(|e| e.within("output_activation"))?;
        }
        self.init.validate().map_err(|e| e.within("init"))
    }
}
