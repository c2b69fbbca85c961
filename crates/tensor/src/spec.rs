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
