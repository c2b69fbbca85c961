//! Holding out validation and test samples: a seeded shuffle, stratified per class for
//! classification.
//!
//! Each class (or, for regression, the whole set) is shuffled with its own Fisher–Yates pass over
//! one ChaCha stream; the first round(test·n) samples go to test, the next round(validation·n) to
//! validation, the rest to training, so every split keeps the class proportions up to rounding.
//! Training keeps at least one sample of every class present. Each split lists its samples in
//! file order.

use backprop_tensor::rng::{self, SeededRng};

/// Row indices of each split, each in increasing order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Parts {
    pub train: Vec<usize>,
    pub validation: Vec<usize>,
    pub test: Vec<usize>,
}

/// Splits rows `0..n`; `labels` (one class index < `classes` per row) stratifies.
pub(crate) fn holdout(n: usize, labels: Option<(&[usize], usize)>, validation: f64, test: f64, seed: u64) -> Parts {
    let groups: Vec<Vec<usize>> = match labels {
        Some((labels, classes)) => {
            let mut groups = vec![Vec::new(); classes];
            for (i, &c) in labels.iter().enumerate() {
                groups[c].push(i);
            }
            groups
        }
        None => vec![(0..n).collect()],
    };
    let mut rng = rng::seeded(seed);
    let mut parts = Parts::default();
    for mut group in groups {
        if group.is_empty() {
            continue;
        }
        shuffle(&mut group, &mut rng);
        let spare = group.len() - 1;
        let n_test = share(test, group.len()).min(spare);
        let n_val = share(validation, group.len()).min(spare - n_test);
        parts.test.extend_from_slice(&group[..n_test]);
        parts.validation.extend_from_slice(&group[n_test..n_test + n_val]);
        parts.train.extend_from_slice(&group[n_test + n_val..]);
    }
    parts.train.sort_unstable();
    parts.validation.sort_unstable();
    parts.test.sort_unstable();
    parts
}

fn share(fraction: f64, n: usize) -> usize {
    (fraction * n as f64).round() as usize
}

/// Fisher–Yates with portable draws.
fn shuffle(items: &mut [usize], rng: &mut SeededRng) {
    for i in (1..items.len()).rev() {
        let j = ((rng::unit(rng) * (i + 1) as f64) as usize).min(i);
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(rows: &[usize], labels: &[usize], class: usize) -> usize {
        rows.iter().filter(|&&i| labels[i] == class).count()
    }

    #[test]
    fn stratified_splits_keep_proportions() {
        let labels: Vec<usize> = (0..100).map(|i| usize::from(i % 10 >= 7)).collect(); // 70 / 30
        let p = holdout(100, Some((&labels, 2)), 0.1, 0.2, 5);
        assert_eq!((count(&p.validation, &labels, 0), count(&p.validation, &labels, 1)), (7, 3));
        assert_eq!((count(&p.test, &labels, 0), count(&p.test, &labels, 1)), (14, 6));
        assert_eq!((count(&p.train, &labels, 0), count(&p.train, &labels, 1)), (49, 21));
        let mut all: Vec<usize> = [p.train.clone(), p.validation.clone(), p.test.clone()].concat();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert!(p.train.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(p, holdout(100, Some((&labels, 2)), 0.1, 0.2, 5));
        assert_ne!(p, holdout(100, Some((&labels, 2)), 0.1, 0.2, 6));
    }

    /// Every class keeps a training sample, however much validation and test ask for.
    #[test]
    fn every_class_keeps_a_training_sample() {
        let labels: Vec<usize> = (0..12).map(|i| i / 2).collect(); // six classes of two
        for seed in 0..20 {
            let p = holdout(12, Some((&labels, 6)), 0.5, 0.45, seed);
            for class in 0..6 {
                assert_eq!(count(&p.train, &labels, class), 1, "seed {seed}, class {class}: {p:?}");
            }
            assert_eq!(p.train.len() + p.validation.len() + p.test.len(), 12);
        }
    }

    /// The shuffle draws every order of three items about equally often (Fisher–Yates; a
    /// draw from `0..i` instead of `0..=i` would give only the two cyclic orders).
    #[test]
    fn the_shuffle_draws_every_order() {
        let mut rng = rng::seeded(3);
        let mut seen = std::collections::BTreeMap::new();
        for _ in 0..6000 {
            let mut items = [0, 1, 2];
            shuffle(&mut items, &mut rng);
            *seen.entry(items).or_insert(0) += 1;
        }
        assert_eq!(seen.len(), 6, "{seen:?}");
        // 1000 each expected; the standard deviation is about 29.
        assert!(seen.values().all(|&n| (850..1150).contains(&n)), "{seen:?}");
    }

    #[test]
    fn regression_and_tiny_classes() {
        let p = holdout(10, None, 0.3, 0.0, 1);
        assert_eq!((p.train.len(), p.validation.len(), p.test.len()), (7, 3, 0));
        // A class of one sample stays in training.
        let p = holdout(3, Some((&[0, 0, 1], 2)), 0.5, 0.0, 1);
        assert_eq!(count(&p.train, &[0, 0, 1], 1), 1);
        assert_eq!(p.validation.len(), 1);
    }
}
