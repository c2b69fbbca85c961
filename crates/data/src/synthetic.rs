//! Seeded synthetic datasets, after scikit-learn's `make_moons`, `make_circles` and `make_blobs`
//! and CS231n's spiral: every draw comes from one portable ChaCha stream
//! ([`backprop_tensor::rng`]), so a seed gives the same samples on every platform.
//!
//! Samples come in class order (all of class 0, then class 1, …); splits and mini-batches
//! shuffle. Classification sets have one-hot targets over classes named `"0"`, `"1"`, ….

use std::f64::consts::PI;

use backprop_tensor::rng::{self, SeededRng};
use backprop_tensor::{Element, SpecError, Validate, math};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::samples::{Loaded, Samples, Targets, class_names, numbered};
use crate::{DataError, Dataset, Task};

/// The most samples a synthetic source may draw.
pub const MAX_SAMPLES: usize = 10_000_000;
/// The most values (samples × features) a synthetic source may draw.
const MAX_VALUES: usize = 100_000_000;
/// The most classes of `spirals` and `blobs`.
const MAX_CLASSES: usize = 1000;

/// Two interleaving half circles (scikit-learn's `make_moons`), 2 features, 2 classes.
///
/// Class 0 is the upper arc (cos t, sin t), class 1 the lower (1 − cos t, ½ − sin t), t evenly
/// spaced in [0, π] (⌊samples/2⌋ points on the upper arc); then N(0, noise²) is added to every
/// coordinate.
///
/// Keys: `samples` (default 200), `noise` (default 0.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Moons {
    /// Number of samples (≥ 1).
    pub samples: usize,
    /// Standard deviation of the Gaussian noise on each coordinate (≥ 0).
    pub noise: f64,
}

/// Two concentric circles (scikit-learn's `make_circles`), 2 features, 2 classes.
///
/// Class 0 is the outer circle of radius 1, class 1 the inner one of radius `factor`, angles
/// evenly spaced in [0, 2π) (⌊samples/2⌋ points on the outer circle); then N(0, noise²) is added
/// to every coordinate.
///
/// Keys: `samples` (default 200), `noise` (default 0.1), `factor` (default 0.5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Circles {
    /// Number of samples (≥ 1).
    pub samples: usize,
    /// Standard deviation of the Gaussian noise on each coordinate (≥ 0).
    pub noise: f64,
    /// Radius of the inner circle relative to the outer one, in (0, 1).
    pub factor: f64,
}

/// Interleaved spiral arms, one per class (the CS231n spiral), 2 features.
///
/// Arm j has radii r evenly spaced in [0, 1] and angles t evenly spaced in [4j, 4(j + 1)] plus
/// N(0, noise²); its points are (r·sin t, r·cos t). Samples are shared out evenly, the first arms
/// taking the remainder.
///
/// Keys: `samples` (default 300), `noise` (default 0.2, on the angle in radians), `classes`
/// (default 3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Spirals {
    /// Number of samples (≥ `classes`).
    pub samples: usize,
    /// Standard deviation of the Gaussian noise on each angle, in radians (≥ 0).
    pub noise: f64,
    /// Number of arms (classes, ≥ 2).
    pub classes: usize,
}

/// Gaussian blobs (scikit-learn's `make_blobs`): one isotropic cluster per class.
///
/// The centres are drawn uniformly from [−10, 10]^features, then each class's points are its
/// centre plus N(0, noise²) on every coordinate. Samples are shared out evenly, the first classes
/// taking the remainder.
///
/// Keys: `samples` (default 200), `noise` (default 1.0, the clusters' standard deviation),
/// `classes` (default 3), `features` (default 2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Blobs {
    /// Number of samples (≥ `classes`).
    pub samples: usize,
    /// Standard deviation of each cluster (≥ 0).
    pub noise: f64,
    /// Number of clusters (classes, ≥ 2).
    pub classes: usize,
    /// Features per sample (≥ 1).
    pub features: usize,
}

/// A noisy sine (regression): x uniform in [−π, π), y = sin x + N(0, noise²). 1 feature, 1 target.
///
/// Keys: `samples` (default 200), `noise` (default 0.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sine {
    /// Number of samples (≥ 1).
    pub samples: usize,
    /// Standard deviation of the Gaussian noise on y (≥ 0).
    pub noise: f64,
}

impl Default for Moons {
    fn default() -> Self {
        Moons { samples: 200, noise: 0.1 }
    }
}

impl Default for Circles {
    fn default() -> Self {
        Circles { samples: 200, noise: 0.1, factor: 0.5 }
    }
}

impl Default for Spirals {
    fn default() -> Self {
        Spirals { samples: 300, noise: 0.2, classes: 3 }
    }
}

impl Default for Blobs {
    fn default() -> Self {
        Blobs { samples: 200, noise: 1.0, classes: 3, features: 2 }
    }
}

impl Default for Sine {
    fn default() -> Self {
        Sine { samples: 200, noise: 0.1 }
    }
}

fn check_samples(samples: usize, at_least: usize) -> Result<(), SpecError> {
    if samples < at_least.max(1) || samples > MAX_SAMPLES {
        let least = if at_least > 1 { format!("`classes` ({at_least})") } else { "1".into() };
        return Err(SpecError::new(
            "samples",
            format!("must be at least {least} and at most {MAX_SAMPLES}, got {samples}"),
        ));
    }
    Ok(())
}

fn check_noise(noise: f64) -> Result<(), SpecError> {
    if noise.is_finite() && noise >= 0.0 {
        Ok(())
    } else {
        Err(SpecError::new("noise", format!("must be a finite number ≥ 0, got {noise}")))
    }
}

fn check_classes(classes: usize) -> Result<(), SpecError> {
    if (2..=MAX_CLASSES).contains(&classes) {
        Ok(())
    } else {
        Err(SpecError::new("classes", format!("must be in [2, {MAX_CLASSES}], got {classes}")))
    }
}

impl Validate for Moons {
    fn validate(&self) -> Result<(), SpecError> {
        check_samples(self.samples, 1)?;
        check_noise(self.noise)
    }
}

impl Validate for Circles {
    fn validate(&self) -> Result<(), SpecError> {
        check_samples(self.samples, 1)?;
        check_noise(self.noise)?;
        if !(self.factor > 0.0 && self.factor < 1.0) {
            return Err(SpecError::new("factor", format!("must be in (0, 1), got {}", self.factor)));
        }
        Ok(())
    }
}

impl Validate for Spirals {
    fn validate(&self) -> Result<(), SpecError> {
        check_classes(self.classes)?;
        check_samples(self.samples, self.classes)?;
        check_noise(self.noise)
    }
}

impl Validate for Blobs {
    fn validate(&self) -> Result<(), SpecError> {
        check_classes(self.classes)?;
        check_samples(self.samples, self.classes)?;
        check_noise(self.noise)?;
        if self.features == 0 || self.features.saturating_mul(self.samples) > MAX_VALUES {
            return Err(SpecError::new(
                "features",
                format!("must be at least 1 with samples × features ≤ {MAX_VALUES}, got {}", self.features),
            ));
        }
        Ok(())
    }
}

impl Validate for Sine {
    fn validate(&self) -> Result<(), SpecError> {
        check_samples(self.samples, 1)?;
        check_noise(self.noise)
    }
}

/// `k` evenly spaced points from `start` to `end` (numpy's `linspace`; `[start]` when `k` = 1).
fn linspace(start: f64, end: f64, k: usize, endpoint: bool) -> impl Iterator<Item = f64> {
    let steps = if endpoint { k.saturating_sub(1).max(1) } else { k.max(1) };
    (0..k).map(move |i| start + (end - start) * i as f64 / steps as f64)
}

/// `samples` shared out over `classes`, the first classes taking the remainder.
fn shares(samples: usize, classes: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..classes).map(move |c| (c, samples / classes + usize::from(c < samples % classes)))
}

/// A classification set of 2-D points from (x, y, class) triples.
fn points(name: &str, rows: Vec<[f64; 2]>, labels: Vec<usize>) -> Samples<f64> {
    let flat: Vec<f64> = rows.into_iter().flatten().collect();
    let inputs = Array2::from_shape_vec((labels.len(), 2), flat).expect("two coordinates per label");
    Samples { name: name.to_string(), inputs, targets: Targets::Labels(labels) }
}

fn add_noise(inputs: &mut Array2<f64>, noise: f64, rng: &mut SeededRng) {
    for x in inputs.iter_mut() {
        *x += noise * rng::standard_normal(rng);
    }
}

impl Moons {
    fn draw(&self, rng: &mut SeededRng) -> Samples<f64> {
        let n_out = self.samples / 2;
        let n_in = self.samples - n_out;
        let outer = linspace(0.0, PI, n_out, true).map(|t| [math::cos(t), math::sin(t)]);
        let inner = linspace(0.0, PI, n_in, true).map(|t| [1.0 - math::cos(t), 1.0 - math::sin(t) - 0.5]);
        let labels = [vec![0; n_out], vec![1; n_in]].concat();
        let mut s = points("moons", outer.chain(inner).collect(), labels);
        add_noise(&mut s.inputs, self.noise, rng);
        s
    }

    /// The dataset drawn from `seed`'s stream; [`DataError::Spec`] when a value is out of range.
    ///
    /// ```
    /// let data = backprop_data::Moons { samples: 10, noise: 0.0 }.generate::<f64>(0).unwrap();
    /// assert_eq!(data.inputs.row(0).to_vec(), vec![1.0, 0.0]);
    /// assert_eq!(data.targets.row(9).to_vec(), vec![0.0, 1.0]);
    /// ```
    pub fn generate<F: Element>(&self, seed: u64) -> Result<Dataset<F>, DataError> {
        self.validate().map_err(DataError::Spec)?;
        Ok(self.draw(&mut rng::seeded(seed)).cast().into_dataset(2))
    }
}

impl Circles {
    fn draw(&self, rng: &mut SeededRng) -> Samples<f64> {
        let n_out = self.samples / 2;
        let n_in = self.samples - n_out;
        let outer = linspace(0.0, 2.0 * PI, n_out, false).map(|t| [math::cos(t), math::sin(t)]);
        let f = self.factor;
        let inner = linspace(0.0, 2.0 * PI, n_in, false).map(|t| [f * math::cos(t), f * math::sin(t)]);
        let labels = [vec![0; n_out], vec![1; n_in]].concat();
        let mut s = points("circles", outer.chain(inner).collect(), labels);
        add_noise(&mut s.inputs, self.noise, rng);
        s
    }

    /// The dataset drawn from `seed`'s stream; [`DataError::Spec`] when a value is out of range.
    pub fn generate<F: Element>(&self, seed: u64) -> Result<Dataset<F>, DataError> {
        self.validate().map_err(DataError::Spec)?;
        Ok(self.draw(&mut rng::seeded(seed)).cast().into_dataset(2))
    }
}

impl Spirals {
    fn draw(&self, rng: &mut SeededRng) -> Samples<f64> {
        let mut rows = Vec::with_capacity(self.samples);
        let mut labels = Vec::with_capacity(self.samples);
        for (j, n) in shares(self.samples, self.classes) {
            let angles = linspace(4.0 * j as f64, 4.0 * (j + 1) as f64, n, true);
            for (r, t) in linspace(0.0, 1.0, n, true).zip(angles) {
                let t = t + self.noise * rng::standard_normal(rng);
                rows.push([r * math::sin(t), r * math::cos(t)]);
                labels.push(j);
            }
        }
        points("spirals", rows, labels)
    }

    /// The dataset drawn from `seed`'s stream; [`DataError::Spec`] when a value is out of range.
    pub fn generate<F: Element>(&self, seed: u64) -> Result<Dataset<F>, DataError> {
        self.validate().map_err(DataError::Spec)?;
        Ok(self.draw(&mut rng::seeded(seed)).cast().into_dataset(self.classes))
    }
}

impl Blobs {
    fn draw(&self, rng: &mut SeededRng) -> Samples<f64> {
        let d = self.features;
        let centres: Vec<f64> = (0..self.classes * d).map(|_| -10.0 + 20.0 * rng::unit(rng)).collect();
        let mut inputs = Array2::zeros((self.samples, d));
        let mut labels = Vec::with_capacity(self.samples);
        let mut rows = inputs.outer_iter_mut();
        for (c, n) in shares(self.samples, self.classes) {
            for mut row in rows.by_ref().take(n) {
                for (x, &centre) in row.iter_mut().zip(&centres[c * d..(c + 1) * d]) {
                    *x = centre + self.noise * rng::standard_normal(rng);
                }
                labels.push(c);
            }
        }
        Samples { name: "blobs".into(), inputs, targets: Targets::Labels(labels) }
    }

    /// The dataset drawn from `seed`'s stream; [`DataError::Spec`] when a value is out of range.
    pub fn generate<F: Element>(&self, seed: u64) -> Result<Dataset<F>, DataError> {
        self.validate().map_err(DataError::Spec)?;
        Ok(self.draw(&mut rng::seeded(seed)).cast().into_dataset(self.classes))
    }
}

impl Sine {
    fn draw(&self, rng: &mut SeededRng) -> Samples<f64> {
        let mut x = Array2::zeros((self.samples, 1));
        let mut y = Array2::zeros((self.samples, 1));
        for (xi, yi) in x.iter_mut().zip(y.iter_mut()) {
            *xi = -PI + 2.0 * PI * rng::unit(rng);
            *yi = math::sin(*xi) + self.noise * rng::standard_normal(rng);
        }
        Samples { name: "sine".into(), inputs: x, targets: Targets::Values(y) }
    }

    /// The dataset drawn from `seed`'s stream; [`DataError::Spec`] when a value is out of range.
    pub fn generate<F: Element>(&self, seed: u64) -> Result<Dataset<F>, DataError> {
        self.validate().map_err(DataError::Spec)?;
        Ok(self.draw(&mut rng::seeded(seed)).cast().into_dataset(0))
    }
}

/// A classification set of `classes` classes over features `x0`, `x1`, ….
fn classified<F: Element>(s: Samples<f64>, classes: usize) -> Loaded<F> {
    let features = numbered("x", s.inputs.ncols());
    Loaded::single(s.cast(), Task::Classification, Some(class_names(classes)), features, vec!["class".into()])
}

pub(crate) fn load_moons<F: Element>(m: &Moons, seed: u64) -> Loaded<F> {
    classified(m.draw(&mut rng::seeded(seed)), 2)
}

pub(crate) fn load_circles<F: Element>(c: &Circles, seed: u64) -> Loaded<F> {
    classified(c.draw(&mut rng::seeded(seed)), 2)
}

pub(crate) fn load_spirals<F: Element>(s: &Spirals, seed: u64) -> Loaded<F> {
    classified(s.draw(&mut rng::seeded(seed)), s.classes)
}

pub(crate) fn load_blobs<F: Element>(b: &Blobs, seed: u64) -> Loaded<F> {
    classified(b.draw(&mut rng::seeded(seed)), b.classes)
}

pub(crate) fn load_sine<F: Element>(s: &Sine, seed: u64) -> Loaded<F> {
    let samples = s.draw(&mut rng::seeded(seed)).cast();
    Loaded::single(samples, Task::Regression, None, vec!["x".into()], vec!["y".into()])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Same seed, same data; another seed, other data; and the expected shape and class counts.
    fn check<F: Fn(u64) -> Dataset<f64>>(generate: F, shape: (usize, usize, usize), per_class: &[usize]) {
        let (a, b, c) = (generate(1), generate(1), generate(2));
        assert_eq!(a, b);
        assert_ne!(a.inputs, c.inputs);
        assert_eq!((a.len(), a.features(), a.outputs()), shape);
        assert!(a.inputs.iter().chain(a.targets.iter()).all(|x| x.is_finite()));
        if !per_class.is_empty() {
            let counts: Vec<usize> =
                (0..a.outputs()).map(|k| a.targets.column(k).iter().filter(|&&v| v == 1.0).count()).collect();
            assert_eq!(counts, per_class);
            assert!(a.targets.rows().into_iter().all(|r| r.sum() == 1.0), "one-hot rows");
        }
    }

    #[test]
    fn generators_are_deterministic_and_shaped() {
        check(|s| Moons { samples: 101, noise: 0.1 }.generate(s).unwrap(), (101, 2, 2), &[50, 51]);
        check(|s| Circles { samples: 100, ..Circles::default() }.generate(s).unwrap(), (100, 2, 2), &[50, 50]);
        check(|s| Spirals { samples: 100, noise: 0.2, classes: 3 }.generate(s).unwrap(), (100, 2, 3), &[34, 33, 33]);
        check(|s| Blobs { samples: 20, classes: 4, features: 5, noise: 1.0 }.generate(s).unwrap(), (20, 5, 4), &[5; 4]);
        check(|s| Sine::default().generate(s).unwrap(), (200, 1, 1), &[]);
    }

    #[test]
    fn noiseless_shapes_follow_their_formulas() {
        let m = Moons { samples: 4, noise: 0.0 }.generate::<f64>(0).unwrap();
        let expect = [[1.0, 0.0], [-1.0, 0.0], [0.0, 0.5], [2.0, 0.5]];
        for (row, want) in m.inputs.rows().into_iter().zip(expect) {
            assert!((row[0] - want[0]).abs() < 1e-12 && (row[1] - want[1]).abs() < 1e-12, "{row} vs {want:?}");
        }
        let c = Circles { samples: 8, noise: 0.0, factor: 0.5 }.generate::<f64>(0).unwrap();
        let radii: Vec<f64> = c.inputs.rows().into_iter().map(|r| (r[0] * r[0] + r[1] * r[1]).sqrt()).collect();
        assert!(radii[..4].iter().all(|r| (r - 1.0).abs() < 1e-12));
        assert!(radii[4..].iter().all(|r| (r - 0.5).abs() < 1e-12));
        let s = Sine { samples: 50, noise: 0.0 }.generate::<f64>(3).unwrap();
        for (x, y) in s.inputs.iter().zip(s.targets.iter()) {
            assert!((-PI..PI).contains(x) && (math::sin(*x) - y).abs() < 1e-15);
        }
        let sp = Spirals { samples: 6, noise: 0.0, classes: 2 }.generate::<f64>(0).unwrap();
        assert_eq!(sp.inputs.row(0).to_vec(), vec![0.0, 0.0]); // r = 0 at each arm's start
        assert!((sp.inputs.row(2)[0] - math::sin(4f64)).abs() < 1e-12); // r = 1, t = 4 at arm 0's end
    }

    #[test]
    fn a_single_sample_is_fine() {
        assert_eq!(
            Moons { samples: 1, noise: 0.1 }.generate::<f32>(0).unwrap().targets.row(0).to_vec(),
            vec![0.0, 1.0]
        );
        assert_eq!(Circles { samples: 1, ..Circles::default() }.generate::<f32>(0).unwrap().len(), 1);
    }

    #[test]
    fn invalid_values_name_their_key() {
        let key = |r: Result<(), SpecError>| r.unwrap_err().key;
        assert_eq!(key(Moons { samples: 0, noise: 0.1 }.validate()), "samples");
        assert_eq!(key(Moons { samples: 10, noise: -0.1 }.validate()), "noise");
        assert_eq!(key(Sine { samples: 10, noise: f64::NAN }.validate()), "noise");
        assert_eq!(key(Spirals { classes: 1, ..Spirals::default() }.validate()), "classes");
        assert_eq!(key(Spirals { samples: 2, ..Spirals::default() }.validate()), "samples");
        assert_eq!(key(Blobs { features: 0, ..Blobs::default() }.validate()), "features");
        assert_eq!(key(Circles { factor: 1.0, ..Circles::default() }.validate()), "factor");
        assert_eq!(key(Sine { samples: MAX_SAMPLES + 1, noise: 0.0 }.validate()), "samples");
        assert_eq!(key(Circles { factor: 0.0, ..Circles::default() }.validate()), "factor");
        // The limits themselves are allowed.
        assert!(Sine { samples: MAX_SAMPLES, noise: 0.0 }.validate().is_ok());
        let blobs = |features| Blobs { samples: MAX_VALUES / 10, features, ..Blobs::default() };
        assert!(blobs(10).validate().is_ok(), "samples × features = MAX_VALUES");
        assert_eq!(key(blobs(11).validate()), "features");
        // The message says what the minimum is.
        let message = |r: Result<(), SpecError>| r.unwrap_err().message;
        assert!(
            message(Spirals { samples: 2, classes: 3, ..Spirals::default() }.validate())
                .contains("at least `classes` (3)")
        );
        assert!(message(Sine { samples: 0, noise: 0.0 }.validate()).contains("at least 1 and at most"));
    }

    /// Each generator's documented formula, and the order it draws from the seed's stream, written
    /// out again: a change to either changes every seeded data set, which the project promises not
    /// to do silently. (Shapes at noise 0 are checked above; here, points where every term
    /// counts.)
    #[test]
    fn each_generator_is_its_documented_formula_drawn_in_order_from_the_seed_s_stream() {
        use rng::{standard_normal, unit};
        let close = |got: &Array2<f64>, want: &[Vec<f64>]| {
            assert_eq!(got.nrows(), want.len());
            for (row, want) in got.rows().into_iter().zip(want) {
                for (g, w) in row.iter().zip(want) {
                    assert!((g - w).abs() <= 1e-12 * (1.0 + w.abs()), "{row} vs {want:?}");
                }
            }
        };
        let (seed, noise) = (9, 0.25);

        // Moons: upper arc (cos t, sin t), lower (1 − cos t, ½ − sin t); then noise on every
        // coordinate, row by row.
        let m = Moons { samples: 7, noise }.generate::<f64>(seed).unwrap();
        let mut r = rng::seeded(seed);
        let mut want = Vec::new();
        for (k, arc) in [(3usize, 0), (4, 1)] {
            for i in 0..k {
                let t = PI * i as f64 / (k - 1) as f64;
                let p = if arc == 0 { [math::cos(t), math::sin(t)] } else { [1.0 - math::cos(t), 0.5 - math::sin(t)] };
                want.push(p.to_vec());
            }
        }
        for row in &mut want {
            for x in row.iter_mut() {
                *x += noise * standard_normal(&mut r);
            }
        }
        close(&m.inputs, &want);

        // Circles: radius 1 and `factor`, t in [0, 2π) without the endpoint.
        let c = Circles { samples: 6, noise, factor: 0.3 }.generate::<f64>(seed).unwrap();
        let mut r = rng::seeded(seed);
        let mut want: Vec<Vec<f64>> = (0..6)
            .map(|i| {
                let (radius, t) =
                    if i < 3 { (1.0, 2.0 * PI * i as f64 / 3.0) } else { (0.3, 2.0 * PI * (i - 3) as f64 / 3.0) };
                vec![radius * math::cos(t), radius * math::sin(t)]
            })
            .collect();
        for row in &mut want {
            for x in row.iter_mut() {
                *x += noise * standard_normal(&mut r);
            }
        }
        close(&c.inputs, &want);

        // Spirals: arm j, r in [0, 1], t in [4j, 4(j + 1)] plus noise on t; (r·sin t, r·cos t).
        let sp = Spirals { samples: 7, noise, classes: 2 }.generate::<f64>(seed).unwrap();
        let mut r = rng::seeded(seed);
        let mut want = Vec::new();
        for (j, k) in [(0usize, 4usize), (1, 3)] {
            for i in 0..k {
                let radius = i as f64 / (k - 1) as f64;
                let t = 4.0 * j as f64 + 4.0 * i as f64 / (k - 1) as f64 + noise * standard_normal(&mut r);
                want.push(vec![radius * math::sin(t), radius * math::cos(t)]);
            }
        }
        close(&sp.inputs, &want);

        // Blobs: every centre first, uniform in [−10, 10]; then each point's coordinates.
        let b = Blobs { samples: 5, classes: 2, features: 3, noise }.generate::<f64>(seed).unwrap();
        let mut r = rng::seeded(seed);
        let centres: Vec<f64> = (0..6).map(|_| -10.0 + 20.0 * unit(&mut r)).collect();
        let want: Vec<Vec<f64>> = [0, 0, 0, 1, 1]
            .iter()
            .map(|&c| (0..3).map(|f| centres[3 * c + f] + noise * standard_normal(&mut r)).collect())
            .collect();
        close(&b.inputs, &want);

        // Sine: per sample, x = −π + 2π·u, then y = sin x + noise·z.
        let sn = Sine { samples: 5, noise }.generate::<f64>(seed).unwrap();
        let mut r = rng::seeded(seed);
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            let x = -PI + 2.0 * PI * unit(&mut r);
            xs.push(vec![x]);
            ys.push(vec![math::sin(x) + noise * standard_normal(&mut r)]);
        }
        close(&sn.inputs, &xs);
        close(&sn.targets, &ys);
    }

    #[test]
    fn linspace_is_numpy_s() {
        assert_eq!(linspace(1.0, 3.0, 5, true).collect::<Vec<_>>(), [1.0, 1.5, 2.0, 2.5, 3.0]);
        assert_eq!(linspace(1.0, 3.0, 4, false).collect::<Vec<_>>(), [1.0, 1.5, 2.0, 2.5]);
        assert_eq!(linspace(-2.0, 2.0, 1, true).collect::<Vec<_>>(), [-2.0]);
    }

    /// Noise is `noise·z` added to every coordinate, `z` standard normal: the difference from the
    /// noiseless set has mean about 0 and standard deviation about `noise`.
    #[test]
    fn noise_has_the_documented_scale() {
        let n = 4000;
        let clean = Moons { samples: n, noise: 0.0 }.generate::<f64>(5).unwrap();
        let noisy = Moons { samples: n, noise: 0.3 }.generate::<f64>(5).unwrap();
        let d: Vec<f64> = noisy.inputs.iter().zip(clean.inputs.iter()).map(|(a, b)| a - b).collect();
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / d.len() as f64).sqrt();
        // 8000 values: the mean's standard error is 0.0034, the deviation's about 0.0024.
        assert!(mean.abs() < 0.02 && (sd - 0.3).abs() < 0.015, "mean {mean}, sd {sd}");
    }
}
