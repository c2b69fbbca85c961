//! `[model]`: the architecture and the start of a network, as a config writes it.

use std::path::PathBuf;

use backprop_tensor::init::{InitSpec, KaimingUniform, XavierUniform, Zeros};
use backprop_tensor::{SpecError, Validate};
use serde::{Deserialize, Serialize};

use crate::ActivationSpec;

/// `[model] init`: one initialiser for weights and biases alike
/// (`init = { kind = "uniform", low = -1.0, high = 1.0 }`), or each on its own
/// (`init = { weights = { kind = "xavier_normal" }, biases = "zeros" }`; either may be left out
/// and then takes its default).
///
/// The defaults, per layer: weights `kaiming_uniform` (He, gain √2) for relu-like activations
/// (relu, leaky_relu, elu, gelu, silu/swish, softplus) and `xavier_uniform` (Glorot, gain 1)
/// for the others (sigmoid, tanh, identity, softmax); biases `zeros` (Keras's choice).
#[derive(Clone, Debug, PartialEq)]
pub enum InitConfig {
    /// The same initialiser for weights and biases (the post's `uniform`).
    Both(InitSpec),
    /// Separate initialisers.
    Split {
        /// For the weights (default: by activation).
        weights: Option<InitSpec>,
        /// For the biases (default: zeros).
        biases: Option<InitSpec>,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SplitRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    weights: Option<InitSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    biases: Option<InitSpec>,
}

impl Serialize for InitConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            InitConfig::Both(spec) => spec.serialize(s),
            InitConfig::Split { weights, biases } => {
                SplitRepr { weights: weights.clone(), biases: biases.clone() }.serialize(s)
            }
        }
    }
}

impl<'de> Deserialize<'de> for InitConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = toml::Value::deserialize(d)?;
        let split = matches!(&value, toml::Value::Table(t) if t.contains_key("weights") || t.contains_key("biases"));
        if split {
            let r: SplitRepr = serde_path_to_error::deserialize(value).map_err(|e| {
                let path = e.path().to_string();
                let message = e.inner().message().trim().to_string();
                match path.as_str() {
                    "." => D::Error::custom(message),
                    _ => D::Error::custom(format!("at `{path}`: {}", message.trim_start_matches("at `kind`: "))),
                }
            })?;
            Ok(InitConfig::Split { weights: r.weights, biases: r.biases })
        } else {
            InitSpec::deserialize(value).map(InitConfig::Both).map_err(|e| D::Error::custom(e.message().trim()))
        }
    }
}

impl Validate for InitConfig {
    fn validate(&self) -> Result<(), SpecError> {
        match self {
            InitConfig::Both(spec) => spec.validate(),
            InitConfig::Split { weights, biases } => {
                if let Some(w) = weights {
                    w.validate().map_err(|e| e.within("weights"))?;
                }
                if let Some(b) = biases {
                    b.validate().map_err(|e| e.within("biases"))?;
                }
                Ok(())
            }
        }
    }
}

/// Whether `activation` is relu-like (its default weight initialiser is He's).
pub fn relu_like(activation: &ActivationSpec) -> bool {
    matches!(activation.name(), "relu" | "leaky_relu" | "elu" | "gelu" | "silu" | "swish" | "softplus")
}

/// The initialisers of a layer with `activation` under `init` (see [`InitConfig`] for defaults).
pub fn layer_initializers(init: Option<&InitConfig>, activation: &ActivationSpec) -> (InitSpec, InitSpec) {
    let default_weights = || {
        if relu_like(activation) {
            InitSpec::KaimingUniform(KaimingUniform::default())
        } else {
            InitSpec::XavierUniform(XavierUniform::default())
        }
    };
    let default_biases = || InitSpec::Zeros(Zeros::default());
    match init {
        Some(InitConfig::Both(spec)) => (spec.clone(), spec.clone()),
        Some(InitConfig::Split { weights, biases }) => {
            (weights.clone().unwrap_or_else(default_weights), biases.clone().unwrap_or_else(default_biases))
        }
        None => (default_weights(), default_biases()),
    }
}

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
    /// Dropout probability applied to this layer's outputs in training (default 0: none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropout: f64,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

impl LayerSpec {
    /// A layer of `units` with `activation`, no dropout.
    pub fn new(units: usize, activation: ActivationSpec) -> Self {
        LayerSpec { units, activation, dropout: 0.0 }
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
    /// Its dropout probability (default: `model.dropout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropout: Option<f64>,
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
    /// How to draw the initial weights and biases (default: by activation, see [`InitConfig`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<InitConfig>,
    /// Dropout probability after every hidden layer, in training only (default 0: none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropout: f64,
    /// A model file to start from instead of drawing weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_from: Option<PathBuf>,
}

impl ModelSpec {
    /// Every layer, hidden ones first, then an output layer of `outputs` units (which never has
    /// dropout).
    pub fn architecture(&self, outputs: usize) -> Vec<LayerSpec> {
        let mut layers: Vec<LayerSpec> = match (&self.hidden, &self.layers) {
            (_, Some(layers)) => layers
                .iter()
                .map(|h| LayerSpec {
                    units: h.units,
                    activation: h.activation.clone().unwrap_or_else(|| self.activation.clone()),
                    dropout: h.dropout.unwrap_or(self.dropout),
                })
                .collect(),
            (Some(hidden), None) => hidden
                .iter()
                .map(|&u| LayerSpec { units: u, activation: self.activation.clone(), dropout: self.dropout })
                .collect(),
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
                if let Some(p) = layer.dropout {
                    dropout_in_range(&format!("layers[{i}].dropout"), p)?;
                }
            }
        }
        self.activation.validate().map_err(|e| e.within("activation"))?;
        if let Some(a) = &self.output_activation {
            a.validate().map_err(|e| e.within("output_activation"))?;
        }
        dropout_in_range("dropout", self.dropout)?;
        match &self.init {
            Some(init) => init.validate().map_err(|e| e.within("init")),
            None => Ok(()),
        }
    }
}

/// `p` in `[0, 1)`: a probability, but not 1, which would drop every unit.
fn dropout_in_range(key: &str, p: f64) -> Result<(), SpecError> {
    if p.is_finite() && (0.0..1.0).contains(&p) {
        return Ok(());
    }
    Err(SpecError::new(key, format!("must be in [0, 1) (1 would drop every unit), got {p}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(src: &str) -> ModelSpec {
        toml::from_str(src).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    fn act(name: &str) -> ActivationSpec {
        ActivationSpec::from_name(name).expect("registered")
    }

    /// He's initialiser for the relu family, Xavier's for the others, zero biases; `init` sets
    /// both, or each on its own.
    #[test]
    fn default_initializers_follow_the_activation() {
        for name in ActivationSpec::NAMES {
            let (w, b) = layer_initializers(None, &act(name));
            let he = ["relu", "leaky_relu", "elu", "gelu", "silu", "swish", "softplus"].contains(name);
            assert_eq!(relu_like(&act(name)), he, "{name}");
            assert_eq!(w.name(), if he { "kaiming_uniform" } else { "xavier_uniform" }, "{name}");
            assert_eq!(b.name(), "zeros", "{name}");
        }
        let both = model("init = { kind = \"uniform\", low = -1.0, high = 1.0 }").init;
        let (w, b) = layer_initializers(both.as_ref(), &act("relu"));
        assert_eq!((w.name(), b.name()), ("uniform", "uniform"));
        let weights_only = model("init = { weights = \"normal\" }").init;
        let (w, b) = layer_initializers(weights_only.as_ref(), &act("relu"));
        assert_eq!((w.name(), b.name()), ("normal", "zeros"));
        let biases_only = model("init = { biases = \"normal\" }").init;
        let (w, b) = layer_initializers(biases_only.as_ref(), &act("tanh"));
        assert_eq!((w.name(), b.name()), ("xavier_uniform", "normal"));
    }

    /// Hidden layers from `hidden` or `[[layers]]` (each overriding the model's activation and
    /// dropout), then the output layer: the output activation, never dropout.
    #[test]
    fn the_architecture_lists_hidden_layers_then_the_output() {
        let hidden = model("hidden = [3, 4]\nactivation = \"tanh\"\ndropout = 0.2\noutput_activation = \"softmax\"");
        let got = hidden.architecture(2);
        let mut want = vec![LayerSpec::new(3, act("tanh")), LayerSpec::new(4, act("tanh"))];
        want.iter_mut().for_each(|l| l.dropout = 0.2);
        want.push(LayerSpec::new(2, act("softmax")));
        assert_eq!(got, want);
        let layers = model(
            "activation = \"relu\"\ndropout = 0.1\n[[layers]]\nunits = 5\n[[layers]]\nunits = 6\nactivation = \"elu\"\ndropout = 0.0",
        );
        let got = layers.architecture(1);
        assert_eq!(got.len(), 3);
        assert_eq!((got[0].units, got[0].activation.name(), got[0].dropout), (5, "relu", 0.1));
        assert_eq!((got[1].units, got[1].activation.name(), got[1].dropout), (6, "elu", 0.0));
        assert_eq!((got[2].units, got[2].activation.name(), got[2].dropout), (1, "relu", 0.0));
        assert_eq!(model("").architecture(3), [LayerSpec::new(3, act("sigmoid"))], "no hidden layers");
    }

    #[test]
    fn bad_models_are_refused_naming_the_key() {
        let key = |src: &str| model(src).validate().err().map(|e| e.key);
        assert_eq!(key("hidden = [2]\n[[layers]]\nunits = 2"), Some("layers".into()));
        assert_eq!(key("hidden = [2, 0]"), Some("hidden[1]".into()));
        assert_eq!(key("[[layers]]\nunits = 2\n[[layers]]\nunits = 0"), Some("layers[1].units".into()));
        assert_eq!(key("[[layers]]\nunits = 2\ndropout = 1.0"), Some("layers[0].dropout".into()));
        assert_eq!(
            key("[[layers]]\nunits = 2\nactivation = { kind = \"softplus\", beta = 0.0 }"),
            Some("layers[0].activation.beta".into())
        );
        assert_eq!(key("hidden = [2]\ndropout = -0.1"), Some("dropout".into()));
        assert_eq!(key("hidden = [2]\ndropout = 0.99"), None);
        let init = key("init = { weights = { kind = \"uniform\", low = 1.0, high = 0.0 } }");
        assert_eq!(init.as_deref(), Some("init.weights.high"));
    }

    /// The parameter count is checked against [`MAX_PARAMS`] before anything is allocated.
    #[test]
    fn too_many_parameters_are_refused() {
        // 46341² > 2³¹: one hidden layer of 46341 units on 46341 inputs.
        let err = model("hidden = [46341]").validate_for(46341, 1).expect_err("too many");
        assert_eq!(err.key, "hidden");
        assert!(err.message.contains("more than the limit of 2147483648"), "{}", err.message);
        let err = model("[[layers]]\nunits = 46341").validate_for(46341, 1).expect_err("too many");
        assert_eq!(err.key, "layers");
        assert!(model("hidden = [1000]").validate_for(1000, 10).is_ok());
    }
}
