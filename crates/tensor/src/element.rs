//! The scalar type the whole workspace is generic over.

use std::fmt::{Debug, Display};

use serde::{Deserialize, Serialize};

/// A floating-point element: `f32` or `f64`.
///
/// Everything numeric in backprop is generic over this trait; a config picks one with
/// `experiment.dtype`. Conversions go through `f64`, which holds every `f32` exactly.
pub trait Element:
    num_traits::Float
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + std::iter::Sum
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
{
    /// The dtype this type stands for.
    const DTYPE: Dtype;
    /// Converts from `f64` (rounding to nearest for `f32`).
    fn of(x: f64) -> Self;
    /// Converts to `f64` (exact).
    fn f64(self) -> f64;
}

impl Element for f32 {
    const DTYPE: Dtype = Dtype::F32;
    #[inline(always)]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        f64::from(self)
    }
}

impl Element for f64 {
    const DTYPE: Dtype = Dtype::F64;
    #[inline(always)]
    fn of(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self
    }
}

/// The runtime name of an [`Element`] type, as written in configs and model files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float (the default: the post's program is numpy float64).
    #[default]
    F64,
}

impl Dtype {
    /// `"f32"` or `"f64"`.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }
}

impl Display for Dtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names configs and model files write (`dtype = "f32"`).
    #[test]
    fn dtypes_are_named_as_configs_write_them() {
        assert_eq!((Dtype::F32.name(), Dtype::F64.name()), ("f32", "f64"));
        assert_eq!((Dtype::F32.to_string(), Dtype::F64.to_string()), ("f32".to_string(), "f64".to_string()));
    }
}
