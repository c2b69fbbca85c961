//! Holding out validation and test samples: a seeded shuffle, stratified per class for
//! classification.
//!
//! The test split takes round(test·n) of the n samples, the validation split round(validation·n),
//! training the rest. For classification each split's count is shared among the classes in
//! proportion to their sizes, as scikit-learn's stratified splits share theirs: each class gets
//! the whole part of its quota (fraction × its size), and the samples left over go one each to
//! the classes with the largest fractional parts (ties to the lower class index). So a split
//! keeps the class proportions up to one sample per class, and holds as many samples as the
//! fraction asks of the whole set (rounding each class on its own instead held out 10 of 20
//! samples of ten two-sample classes for a fraction of 0.25, and none of 40 for 0.1). Training
//! keeps at least one sample of every class present (a split then holds fewer, when every
//! class is that small). Each class (or, for regression, the whole set) is shuffled with its own
//! Fisher–Yates pass over one ChaCha stream: its first samples go to test, the next to
//! validation. Each split lists its samples in file order.

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
    let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
    // Every class present keeps a training sample.
    let spare: Vec<usize> = sizes.iter().map(|&g| g.saturating_sub(1)).collect();
    let n_test = apportion(share(test, n), test, &sizes, &spare);
    let left: Vec<usize> = spare.iter().zip(&n_test).map(|(s, t)| s - t).collect();
    let n_val = apportion(share(validation, n), validation, &sizes, &left);
    let mut rng = rng::seeded(seed);
    let mut parts = Parts::default();
    for (c, mut group) in groups.into_iter().enumerate() {
        if group.is_empty() {
            continue;
        }
        shuffle(&mut group, &mut rng);
        let (t, v) = (n_test[c], n_val[c]);
        parts.test.extend_from_slice(&group[..t]);
        parts.validation.extend_from_slice(&group[t..t + v]);
        parts.train.extend_from_slice(&group[t + v..]);
    }
    parts.train.sort_unstable();
    parts.validation.sort_unstable();
    parts.test.sort_unstable();
    parts
}

/// The samples a `fraction` of `n` holds out: round(fraction·n).
pub(crate) fn share(fraction: f64, n: usize) -> usize {
    (fraction * n as f64).round() as usize
}

/// `total` samples shared among groups of `sizes` in proportion (quotas fraction × size): the
/// whole part of each quota, then one more each to the groups with the largest fractional
/// parts (ties to the lower index), never more than a group's `room`; what a full group cannot
/// take goes on to the next groups in that order.
fn apportion(total: usize, fraction: f64, sizes: &[usize], room: &[usize]) -> Vec<usize> {
    let quotas: Vec<f64> = sizes.iter().map(|&g| fraction * g as f64).collect();
    let mut counts: Vec<usize> = quotas.iter().zip(room).map(|(q, &r)| (q.floor() as usize).min(r)).collect();
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| (quotas[b] - quotas[b].floor()).total_cmp(&(quotas[a] - quotas[a].floor())).then(a.cmp(&b)));
    let mut left = total.saturating_sub(counts.iter().sum());
    while left > 0 {
        let before = left;
        for &c in &order {
            if left > 0 && counts[c] < room[c] {
                counts[c] += 1;
                left -= 1;
            }
        }
        if left == before {
            break; // Every group is full.
        }
    }
    counts
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

    /// A split holds round(fraction × n) samples in all, shared by largest remainders, as
    /// scikit-learn's stratified splits hold theirs: ten classes of two with 0.25 held out 10
    /// (half the set) when each class rounded on its own, ten of four with 0.1 none.
    #[test]
    fn a_split_holds_its_fraction_of_the_whole_set() {
        let classes = |k: usize, each: usize| -> Vec<usize> { (0..k * each).map(|i| i / each).collect() };
        for (k, each, fraction, held) in [(10, 2, 0.25, 5), (10, 4, 0.1, 4), (3, 5, 0.1, 2), (10, 2, 0.05, 1)] {
            let labels = classes(k, each);
            let p = holdout(k * each, Some((&labels, k)), fraction, 0.0, 3);
            assert_eq!(p.validation.len(), held, "{k} classes of {each}, {fraction}");
            // At most one sample per class off its proportional share.
            for c in 0..k {
                let got = count(&p.validation, &labels, c) as f64;
                assert!((got - fraction * each as f64).abs() < 1.0, "class {c}: {got}");
            }
        }
        // Largest remainders: classes of 7, 2 and 1 with 0.3 (quotas 2.1, 0.6, 0.3): 3 in all,
        // the whole 2 of the first, then one to the second (0.6 > 0.3 > 0.1).
        let labels = [0, 0, 0, 0, 0, 0, 0, 1, 1, 2];
        let p = holdout(10, Some((&labels, 3)), 0.3, 0.0, 1);
        assert_eq!([0, 1, 2].map(|c| count(&p.validation, &labels, c)), [2, 1, 0]);
        // Test then validation, each its own total: 100 rows of 70/30 with 0.15 and 0.15.
        let labels: Vec<usize> = (0..100).map(|i| usize::from(i % 10 >= 7)).collect();
        let p = holdout(100, Some((&labels, 2)), 0.15, 0.15, 5);
        assert_eq!((p.test.len(), p.validation.len(), p.train.len()), (15, 15, 70));
        assert_eq!([0, 1].map(|c| count(&p.test, &labels, c)), [11, 4], "quotas 10.5 and 4.5: a tie, to class 0");
    }

    /// What a class that must keep its training sample cannot hold out goes to the others; only
    /// when every class is down to one sample does a split get fewer.
    #[test]
    fn full_classes_pass_their_share_on() {
        // Five one-sample classes and one of five, 0.4 of 10 = 4: all four from the big class.
        let labels = [0, 1, 2, 3, 4, 5, 5, 5, 5, 5];
        let p = holdout(10, Some((&labels, 6)), 0.4, 0.0, 2);
        assert_eq!(p.validation.len(), 4);
        assert_eq!(count(&p.validation, &labels, 5), 4);
        // Every class a single sample: nothing to hold out.
        let p = holdout(3, Some((&[0, 1, 2], 3)), 0.5, 0.0, 2);
        assert_eq!((p.train.len(), p.validation.len()), (3, 0));
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
