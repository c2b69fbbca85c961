//! The error every config spec reports, and the trait that checks a spec's values.

/// A config value that deserialised but makes no sense (`lr = -1`, `units = 0`).
///
/// `key` is the dotted path *inside* the spec that reported it (`"lr"`, `"init.low"`); the crate
/// that composes specs prefixes its own section with [`SpecError::within`], so the final key is
/// the one a user wrote (`"optim.lr"`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid value for `{key}`: {message}")]
pub struct SpecError {
    /// Dotted path of the offending key.
    pub key: String,
    /// What is wrong, lowercase, naming the accepted range.
    pub message: String,
}

impl SpecError {
    /// An error for `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        SpecError { key: key.into(), message: message.into() }
    }

    /// The same error seen from one table up: `within("optim")` turns `lr` into `optim.lr`.
    pub fn within(mut self, prefix: &str) -> Self {
        self.key = if self.key.is_empty() { prefix.to_string() } else { format!("{prefix}.{}", self.key) };
        self
    }
}

/// Checks the values of a deserialised spec. Types with nothing to check keep the default.
pub trait Validate {
    /// `Ok` when every value is in range.
    fn validate(&self) -> Result<(), SpecError> {
        Ok(())
    }
}

/// Fails with `key` unless `value` is finite and `> 0`.
pub fn positive(key: &str, value: f64) -> Result<(), SpecError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(SpecError::new(key, format!("must be a finite number > 0, got {value}")))
    }
}

/// Fails with `key` unless `value` is finite.
pub fn finite(key: &str, value: f64) -> Result<(), SpecError> {
    if value.is_finite() { Ok(()) } else { Err(SpecError::new(key, format!("must be a finite number, got {value}"))) }
}

/// Fails with `key` unless `value` is finite and in `[low, high]`.
pub fn in_range(key: &str, value: f64, low: f64, high: f64) -> Result<(), SpecError> {
    if value.is_finite() && (low..=high).contains(&value) {
        Ok(())
    } else {
        Err(SpecError::new(key, format!("must be in [{low}, {high}], got {value}")))
    }
}

/// Serde's "unknown field `x`, expected …" (or "…, there are no fields") with `own_keys` added
/// to the expected names: for a table that mixes a component's keys with a few of its own
/// (`[optim]`'s `clip_norm`, a data source's `validation`), so that the message, and the "did
/// you mean" built from it, name every key the table takes. `None` for any other message, or one
/// with more after the names (a position).
pub fn unknown_field_with(message: &str, own_keys: &[&str]) -> Option<String> {
    let (field, tail) = message.strip_prefix("unknown field `")?.split_once("`, ")?;
    let fields: Vec<&str> = if tail == "there are no fields" {
        Vec::new()
    } else if tail.starts_with("expected ") && tail.ends_with('`') {
        tail.split('`').skip(1).step_by(2).collect()
    } else {
        return None;
    };
    let names: Vec<String> = fields.iter().chain(own_keys).map(|n| format!("`{n}`")).collect();
    let expected = match names.len() {
        0 => "there are no fields".to_string(),
        1 => format!("expected {}", names[0]),
        2 => format!("expected {} or {}", names[0], names[1]),
        _ => format!("expected one of {}", names.join(", ")),
    };
    Some(format!("unknown field `{field}`, {expected}"))
}
