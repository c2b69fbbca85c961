//! Feature scaling fitted on the training split: x′ = (x − shift) / scale, per feature.
//!
//! - `standardize`: shift = mean, scale = standard deviation (over the training samples, divided
//!   by N as scikit-learn's `StandardScaler` does); a constant feature gets scale 1, constant as
//!   scikit-learn tells it: a variance σ² ≤ N·ε·σ² + (N·mean·ε)², within the rounding of
//!   computing it (a column of 0.1s has a std of 1.4·10⁻¹⁷ in f64, not 0).
//! - `minmax`: shift = min, scale = max − min; a constant feature (a range under 10·ε, as in
//!   scikit-learn's `MinMaxScaler`) gets scale 1.
//! - `none`: x′ = x.
//!
//! Inputs are scaled by `normalize`; regression targets by `normalize_targets` (default
//! `none`), with a normalizer of their own, as scikit-learn's `TransformedTargetRegressor`
//! scales them: the network learns the scaled targets, and [`Normalizer::invert`] turns its
//! outputs back into the targets' units. The [`Normalizer`] is plain data (serde), so a model
//! file can carry it and apply the same scaling at prediction time.

use backprop_tensor::{Element, Matrix};
use serde::{Deserialize, Serialize};

use crate::DataError;

/// Which scaling `normalize` asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NormalizeKind {
    /// No scaling (the default).
    #[default]
    None,
    /// (x − mean) / std per feature.
    Standardize,
    /// (x − min) / (max − min) per feature.
    Minmax,
}

/// A fitted per-feature scaling: x′ = (x − shiftⱼ) / scaleⱼ. For [`NormalizeKind::None`]
/// both vectors are empty and [`apply`](Normalizer::apply) changes nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Normalizer {
    /// The scaling it was fitted for.
    pub kind: NormalizeKind,
    /// Subtracted from each feature (mean or min).
    pub shift: Vec<f64>,
    /// Then divided into each feature (std or range; never 0 when fitted here).
    pub scale: Vec<f64>,
}

impl NormalizeKind {
    /// True for [`NormalizeKind::None`] (a config leaves `normalize_targets` out then).
    pub fn is_none(&self) -> bool {
        *self == NormalizeKind::None
    }

    /// Its config name: `none`, `standardize` or `minmax`.
    pub fn name(self) -> &'static str {
        match self {
            NormalizeKind::None => "none",
            NormalizeKind::Standardize => "standardize",
            NormalizeKind::Minmax => "minmax",
        }
    }
}

impl Normalizer {
    /// The scaling that changes nothing.
    pub fn identity() -> Self {
        Normalizer::default()
    }

    /// True when [`apply`](Self::apply) changes nothing.
    pub fn is_identity(&self) -> bool {
        self.kind == NormalizeKind::None
    }

    /// Fits `kind` on `inputs` (samples, features). A constant feature (see the module's
    /// documentation; also a std or range that is not finite) gets scale 1, so it becomes about
    /// 0 (standardize: x − mean) or x − min (minmax). Inputs are meant finite (a data set this
    /// crate loads always is): a NaN makes a standardize shift NaN, which
    /// [`fit_checked`](Self::fit_checked) refuses, and minmax passes over it (as scikit-learn's
    /// scalers pass over NaN).
    ///
    /// ```
    /// use backprop_data::{Normalizer, NormalizeKind};
    /// use ndarray::array;
    ///
    /// let train = array![[0.0, 5.0], [10.0, 5.0]];
    /// let n = Normalizer::fit(NormalizeKind::Minmax, &train);
    /// let mut x = array![[5.0, 7.0]];
    /// n.apply(&mut x).unwrap();
    /// assert_eq!(x, array![[0.5, 2.0]]);
    /// ```
    pub fn fit<F: Element>(kind: NormalizeKind, inputs: &Matrix<F>) -> Self {
        Self::fit_raw(kind, inputs).usable()
    }

    /// [`fit`](Self::fit), or the first column whose shift or scale is not finite: to minmax,
    /// one whose range overflows f64 (values near ±1e308 of both signs; the std of finite
    /// values never does: 1e200 and 3e200 standardize by a mean of 2e200 and a std of 1e200), or, to
    /// standardize, one holding a NaN or an infinity (a data set this crate loads never does; a
    /// matrix built by hand may). There the plain `fit` would divide by 1 or shift by NaN.
    pub fn fit_checked<F: Element>(kind: NormalizeKind, inputs: &Matrix<F>) -> Result<Self, usize> {
        let raw = Self::fit_raw(kind, inputs);
        match raw.shift.iter().zip(&raw.scale).position(|(s, k)| !(s.is_finite() && k.is_finite())) {
            Some(j) => Err(j),
            None => Ok(raw.usable()),
        }
    }

    /// With every scale that would not scale anything (0, or not finite) made 1.
    fn usable(self) -> Self {
        Normalizer { scale: self.scale.into_iter().map(usable).collect(), ..self }
    }

    /// The shift and the scale as computed, before a scale of 0 becomes 1.
    fn fit_raw<F: Element>(kind: NormalizeKind, inputs: &Matrix<F>) -> Self {
        let d = inputs.ncols();
        let n = inputs.nrows().max(1) as f64;
        let (shift, scale) = match kind {
            NormalizeKind::None => (Vec::new(), Vec::new()),
            NormalizeKind::Standardize => {
                // A column with values past 2²⁵⁶ is first scaled by a power of two, which is
                // exact, so that its sum and its squares do not overflow where its mean and std
                // do not (1e200 and 3e200 have a std of 1e200, but a square of 9e400). Other
                // columns are summed as they are: the same bits as before this scaling.
                let mut largest = vec![0.0f64; d];
                for row in inputs.rows() {
                    for (l, x) in largest.iter_mut().zip(row) {
                        *l = l.max(x.f64().abs());
                    }
                }
                let unit: Vec<f64> = largest.iter().map(|&l| power_of_two_below(l)).collect();
                let mut mean = vec![0.0; d];
                for row in inputs.rows() {
                    for ((m, x), u) in mean.iter_mut().zip(row).zip(&unit) {
                        *m += x.f64() / u;
                    }
                }
                mean.iter_mut().for_each(|m| *m /= n);
                let mut var = vec![0.0; d];
                for row in inputs.rows() {
                    for (((v, m), x), u) in var.iter_mut().zip(&mean).zip(row).zip(&unit) {
                        *v += (x.f64() / u - m).powi(2);
                    }
                }
                // scikit-learn's test for a constant feature (`_is_constant_feature`): a variance
                // within the rounding error of computing it. A column of 0.1s has a mean of
                // 0.09999999999999999 and a std of 1.4e-17, which would scale it to 1s.
                // (A variance that overflows is not constant: `fit_checked` names its column.)
                let constant = |var: f64, mean: f64| {
                    var.is_finite() && var <= n * f64::EPSILON * var + (n * mean * f64::EPSILON).powi(2)
                };
                // (Both sides scale by the unit's square: the test is the same on scaled values.)
                let scale = var
                    .iter()
                    .zip(&mean)
                    .zip(&unit)
                    .map(|((&v, &m), u)| if constant(v / n, m) { 0.0 } else { (v / n).sqrt() * u })
                    .collect();
                let mean = mean.iter().zip(&unit).map(|(m, u)| m * u).collect();
                (mean, scale)
            }
            NormalizeKind::Minmax => {
                let mut low = vec![f64::INFINITY; d];
                let mut high = vec![f64::NEG_INFINITY; d];
                for row in inputs.rows() {
                    for ((lo, hi), x) in low.iter_mut().zip(high.iter_mut()).zip(row) {
                        *lo = lo.min(x.f64());
                        *hi = hi.max(x.f64());
                    }
                }
                let low: Vec<f64> = low.into_iter().map(|l| if l.is_finite() { l } else { 0.0 }).collect();
                // scikit-learn's `MinMaxScaler` takes a range under 10 ε as constant too.
                let range = high.iter().zip(&low).map(|(h, l)| if h - l >= 10.0 * f64::EPSILON { h - l } else { 0.0 });
                let range = range.collect();
                (low, range)
            }
        };
        Normalizer { kind, shift, scale }
    }

    /// Scales `inputs` in place; [`DataError::NormalizerWidth`] when its width is not the one the
    /// normalizer was fitted on (or the normalizer's two vectors disagree).
    pub fn apply<F: Element>(&self, inputs: &mut Matrix<F>) -> Result<(), DataError> {
        // Where x − shift overflows (±1.7e308 about a mean near 0) its quotient need not:
        // divided first. Elsewhere the plain form, and its bits.
        self.map_columns(inputs, |x, shift, scale| match x - shift {
            d if d.is_finite() => d / scale,
            _ => x / scale - shift / scale,
        })
    }

    /// The inverse of [`apply`](Self::apply): x = x′·scale + shift per column (a network's
    /// outputs back in the units of targets this normalizer scaled), computed in f64 and rounded
    /// to `F` once. A value past `F`'s range comes out infinite; the caller checks.
    ///
    /// ```
    /// use backprop_data::{Normalizer, NormalizeKind};
    /// use ndarray::array;
    ///
    /// let prices = array![[100.0], [300.0]];
    /// let n = Normalizer::fit(NormalizeKind::Standardize, &prices);
    /// let mut scaled = prices.clone();
    /// n.apply(&mut scaled).unwrap();
    /// assert_eq!(scaled, array![[-1.0], [1.0]]);
    /// n.invert(&mut scaled).unwrap();
    /// assert_eq!(scaled, prices);
    /// ```
    pub fn invert<F: Element>(&self, values: &mut Matrix<F>) -> Result<(), DataError> {
        // Where x·scale overflows and adding the shift brings it back, halved first (exact).
        self.map_columns(values, |x, shift, scale| match x * scale + shift {
            y if y.is_finite() || !shift.is_finite() => y,
            _ => 2.0 * (x * (scale / 2.0) + shift / 2.0),
        })
    }

    /// `x ← f(x, shiftⱼ, scaleⱼ)` for every value of column j, in f64, rounded to `F` once;
    /// nothing for the identity, [`DataError::NormalizerWidth`] for another width.
    fn map_columns<F: Element>(
        &self,
        values: &mut Matrix<F>,
        f: impl Fn(f64, f64, f64) -> f64,
    ) -> Result<(), DataError> {
        if self.is_identity() {
            return Ok(());
        }
        if self.shift.len() != values.ncols() || self.scale.len() != self.shift.len() {
            return Err(DataError::NormalizerWidth { expected: self.shift.len(), found: values.ncols() });
        }
        for mut row in values.rows_mut() {
            for ((x, &shift), &scale) in row.iter_mut().zip(&self.shift).zip(&self.scale) {
                *x = F::of(f(x.f64(), shift, scale));
            }
        }
        Ok(())
    }
}

/// 1 for a value up to 2²⁵⁶ (or not finite), else the largest power of two up to it (at most
/// 2¹⁰²², so that its reciprocal is a normal number): dividing by it is exact, and leaves the
/// value in [1, 2).
fn power_of_two_below(x: f64) -> f64 {
    const FROM: f64 = f64::from_bits((1023 + 256) << 52);
    if !(x.is_finite() && x >= FROM) {
        return 1.0;
    }
    let exponent = ((x.to_bits() >> 52) & 0x7ff).min(1023 + 1022);
    f64::from_bits(exponent << 52)
}

/// `s`, or 1 where dividing by it would not scale anything.
fn usable(s: f64) -> f64 {
    if s.is_finite() && s > 0.0 { s } else { 1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn standardize_gives_mean_0_and_std_1_and_leaves_constants_at_0() {
        let train: Matrix<f64> = array![[1.0, 3.0], [3.0, 3.0], [5.0, 3.0]];
        let n = Normalizer::fit(NormalizeKind::Standardize, &train);
        assert_eq!(n.shift, vec![3.0, 3.0]);
        assert!((n.scale[0] - (8.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!(n.scale[1], 1.0);
        let mut x = train.clone();
        n.apply(&mut x).unwrap();
        assert!(x.column(0).sum().abs() < 1e-12);
        assert_eq!(x.column(1).to_vec(), vec![0.0; 3]);
    }

    /// A NaN in a column: standardize's `fit` shifts it by NaN and `fit_checked` names the
    /// column; minmax passes over it.
    #[test]
    fn a_nan_column_is_refused_to_standardize_and_passed_over_by_minmax() {
        let train: Matrix<f64> = array![[1.0, 3.0], [2.0, f64::NAN], [4.0, 5.0]];
        assert_eq!(Normalizer::fit_checked(NormalizeKind::Standardize, &train), Err(1));
        assert!(Normalizer::fit(NormalizeKind::Standardize, &train).shift[1].is_nan());
        let minmax = Normalizer::fit_checked(NormalizeKind::Minmax, &train).expect("passes over it");
        assert_eq!((minmax.shift, minmax.scale), (vec![1.0, 3.0], vec![3.0, 2.0]));
    }

    /// A column of one value whose mean and std are not exact (0.1 seven times: mean
    /// 0.09999999999999999, std 1.4e-17) is constant, as scikit-learn tells: scale 1, values
    /// about 0 (not 1), and a new value of 0.2 is 0.1 above it (not 7.2e15).
    #[test]
    fn a_constant_column_with_rounding_in_its_mean_is_constant() {
        for v in [0.1, 0.7, 1.1, 2.3, 123456.7] {
            for n in [2, 3, 7, 10, 49, 200] {
                let train: Matrix<f64> = Matrix::from_shape_fn((n, 2), |(i, j)| if j == 0 { v } else { i as f64 });
                let norm = Normalizer::fit(NormalizeKind::Standardize, &train);
                assert_eq!(norm.scale[0], 1.0, "{v} × {n}");
                assert!(norm.scale[1] > 0.1, "{v} × {n}");
                let mut x = train.clone();
                norm.apply(&mut x).unwrap();
                assert!(x.column(0).iter().all(|x| x.abs() < 1e-9), "{v} × {n}: {x}");
                let mut new = ndarray::array![[v + 0.1, 0.0]];
                norm.apply(&mut new).unwrap();
                assert!((new[[0, 0]] - 0.1).abs() < 1e-9, "{v} × {n}: {new}");
            }
        }
        // A small spread is not constant: 1 and 1 + 1e-9 standardize to -1 and 1.
        let train = ndarray::array![[1.0], [1.0 + 1e-9]];
        let norm = Normalizer::fit(NormalizeKind::Standardize, &train);
        assert!((norm.scale[0] - 5e-10).abs() < 1e-15, "{:?}", norm.scale);
        // Minmax: a range under 10 ε is constant; 1e-14 is not.
        let tiny = ndarray::array![[1.0], [1.0 + f64::EPSILON]];
        assert_eq!(Normalizer::fit(NormalizeKind::Minmax, &tiny).scale, [1.0]);
        let small = ndarray::array![[0.0], [1e-14]];
        assert_eq!(Normalizer::fit(NormalizeKind::Minmax, &small).scale, [1e-14]);
    }

    /// Values whose squares (or sum) overflow f64 standardize by a mean and std that do not:
    /// the same numbers as the same column scaled down by 2¹⁰⁰⁰ gives, times 2¹⁰⁰⁰. Values
    /// whose std overflows f64 are refused by `fit_checked`.
    #[test]
    fn huge_values_standardize_where_their_mean_and_std_are_finite() {
        let unit = 2f64.powi(1000);
        let columns = [[1e200, 3e200, 2e200], [f64::MAX, f64::MAX, f64::MAX / 2.0], [-1e300, 1e300, 0.0]];
        for column in columns {
            let big = Matrix::from_shape_fn((3, 1), |(i, _)| column[i]);
            let fitted = Normalizer::fit_checked(NormalizeKind::Standardize, &big).expect("finite mean and std");
            let small = Normalizer::fit(NormalizeKind::Standardize, &big.mapv(|x| x / unit));
            assert_eq!(fitted.shift, vec![small.shift[0] * unit], "{column:?}");
            assert_eq!(fitted.scale, vec![small.scale[0] * unit], "{column:?}");
            let mut x = big.clone();
            fitted.apply(&mut x).unwrap();
            assert!((x.column(0).sum()).abs() < 1e-12 && (x.column(0).mapv(|x| x * x).sum() - 3.0).abs() < 1e-12);
        }
        // 1e200 and 3e200: mean 2e200, std 1e200.
        let n = Normalizer::fit_checked(NormalizeKind::Standardize, &array![[1e200], [3e200]]).unwrap();
        assert_eq!((n.shift[0], n.scale[0]), (2e200, 1e200));
        // The std of finite values is at most their largest magnitude: ±MAX standardize, by a
        // std of MAX; their range overflows, and minmax is refused.
        let widest = array![[f64::MAX], [-f64::MAX]];
        let n = Normalizer::fit_checked(NormalizeKind::Standardize, &widest).unwrap();
        assert_eq!((n.shift[0], n.scale[0]), (0.0, f64::MAX));
        assert_eq!(Normalizer::fit_checked(NormalizeKind::Minmax, &widest), Err(0));
        // x − mean past f64 (1.7e308 − (−8.5e307)) is standardized all the same, and scaled
        // back to itself.
        let wide = array![[1.7e308], [-1.7e308], [-1.7e308], [-1.7e308]];
        let n = Normalizer::fit_checked(NormalizeKind::Standardize, &wide).unwrap();
        let mut x = wide.clone();
        n.apply(&mut x).unwrap();
        let expected = [3f64.sqrt(), -1.0 / 3f64.sqrt(), -1.0 / 3f64.sqrt(), -1.0 / 3f64.sqrt()];
        assert!(x.iter().zip(expected).all(|(a, e)| (a - e).abs() < 1e-12), "{x}");
        n.invert(&mut x).unwrap();
        assert!(x.iter().zip(wide.iter()).all(|(a, e)| (a / e - 1.0).abs() < 1e-12), "{x}");
        // A huge constant column is constant: scale 1.
        let constant = array![[1e300, 1.0], [1e300, 2.0]];
        assert_eq!(Normalizer::fit(NormalizeKind::Standardize, &constant).scale[0], 1.0);
    }

    /// The scaling by a power of two leaves ordinary columns alone.
    #[test]
    fn power_of_two_below_is_1_up_to_2_to_the_256() {
        assert_eq!(power_of_two_below(1e77), 1.0);
        assert_eq!(power_of_two_below(f64::INFINITY), 1.0);
        assert_eq!(power_of_two_below(f64::NAN), 1.0);
        assert_eq!(power_of_two_below(2f64.powi(256)), 2f64.powi(256));
        assert_eq!(power_of_two_below(3e200), 2f64.powi(665));
        assert_eq!(power_of_two_below(f64::MAX), 2f64.powi(1022));
    }

    #[test]
    fn minmax_maps_the_training_range_to_0_1() {
        let train = array![[2.0f32, -1.0], [4.0, 1.0]];
        let n = Normalizer::fit(NormalizeKind::Minmax, &train);
        let mut x = array![[3.0f32, 0.0], [6.0, 1.0]];
        n.apply(&mut x).unwrap();
        assert_eq!(x, array![[0.5, 0.5], [2.0, 1.0]]);
    }

    #[test]
    fn none_and_width_mismatch() {
        let n = Normalizer::fit(NormalizeKind::None, &array![[1.0, 2.0]]);
        assert!(n.is_identity());
        let mut x = array![[7.0]];
        n.apply(&mut x).unwrap();
        assert_eq!(x, array![[7.0]]);
        let s = Normalizer::fit(NormalizeKind::Standardize, &array![[1.0, 2.0]]);
        let err = s.apply(&mut x).unwrap_err();
        assert_eq!(err.to_string(), "the normalizer was fitted on 2 features, the inputs have 1");
        // Inverting (a model's outputs back into its targets' units) checks the width too, and
        // the identity inverts nothing.
        let err = s.invert(&mut x).unwrap_err();
        assert_eq!(err.to_string(), "the normalizer was fitted on 2 features, the inputs have 1");
        assert_eq!(x, array![[7.0]]);
        n.invert(&mut x).unwrap();
        assert_eq!(x, array![[7.0]]);
    }

    #[test]
    fn serialises_with_lowercase_kind() {
        let n = Normalizer { kind: NormalizeKind::Minmax, shift: vec![1.0], scale: vec![2.0] };
        let text = toml::to_string(&n).unwrap();
        assert!(text.contains("kind = \"minmax\""), "{text}");
        assert_eq!(toml::from_str::<Normalizer>(&text).unwrap(), n);
    }
}
