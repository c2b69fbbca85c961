//! The `[data]` table as serde sees it: one flat table, `source` naming the source, that
//! source's keys, and (for every source but the truth tables) the [`Preprocess`] keys.
//!
//! Reading buffers the table, takes `source` and the [`Preprocess`] keys out, and deserialises
//! the source's own struct from the rest with path tracking, so an unknown key is rejected with
//! serde's "unknown field `x`, expected one of …" (listing the source's keys, then `validation`,
//! `test` and `normalize`) and a wrong type says which key (`at `samples`: invalid type …`), the
//! same shapes of message as the registries (`backprop_tensor::registry!`).

use backprop_tensor::{SpecError, Validate};
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use crate::DataSpec;
use crate::normalize::NormalizeKind;

/// How the loaded samples are split and scaled: the `[data]` keys every source but the truth
/// tables accepts.
///
/// - `validation`, `test` (default 0): fractions of the loaded samples held out, by a seeded
///   shuffle, stratified per class for classification; each in [0, 1), together < 1.
///   `validation_split`, Keras's name, reads as `validation`.
/// - `normalize`: `"none"` (default), `"standardize"` or `"minmax"`, fitted on the training
///   split and applied to every split.
/// - `normalize_targets`: the same for regression targets (default `"none"`; refused for
///   classification): the network learns the scaled targets, its costs are in their units, and
///   a model file carries the scaling so that `predict` answers in the targets' own units
///   (scikit-learn's `TransformedTargetRegressor`). Left out of a resolved config when `none`.
/// - `seed`: the data's own seed (a synthetic source's draw, the split's shuffle), as
///   scikit-learn's `random_state` of `make_moons` and `train_test_split`; default: derived from
///   `experiment.seed`, so that a sweep's seeds vary the split too unless this fixes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Preprocess {
    /// Fraction of the samples held out for validation.
    pub validation: f64,
    /// Fraction of the samples held out for testing.
    pub test: f64,
    /// Feature scaling, fitted on the training split.
    pub normalize: NormalizeKind,
    /// Regression target scaling, fitted on the training split.
    #[serde(skip_serializing_if = "NormalizeKind::is_none")]
    pub normalize_targets: NormalizeKind,
    /// The data's own seed (a synthetic source's draw and the split's shuffle), fixed apart
    /// from `experiment.seed` (scikit-learn's `random_state` of `train_test_split`); `None`
    /// derives it from the experiment's seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// The keys [`Preprocess`] reads.
pub(crate) const PREPROCESS_KEYS: &[&str] = &["validation", "test", "normalize", "normalize_targets", "seed"];

impl Validate for Preprocess {
    fn validate(&self) -> Result<(), SpecError> {
        for (key, v) in [("validation", self.validation), ("test", self.test)] {
            if !(v.is_finite() && (0.0..1.0).contains(&v)) {
                return Err(SpecError::new(key, format!("must be a fraction in [0, 1), got {v}")));
            }
        }
        if self.validation + self.test >= 1.0 {
            let key = if self.test > 0.0 { "test" } else { "validation" };
            return Err(SpecError::new(
                key,
                format!(
                    "validation + test must be < 1 to leave training samples, got {} + {}",
                    self.validation, self.test
                ),
            ));
        }
        Ok(())
    }
}

/// The keys of `source = "parity"`.
#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ParityKeys {
    bits: usize,
}

impl Default for ParityKeys {
    fn default() -> Self {
        ParityKeys { bits: 3 }
    }
}

/// No keys at all.
#[derive(Serialize)]
struct NoKeys {}

/// `T` from `table`, errors in the registries' shapes; an "unknown field" message also lists
/// `own_keys`.
fn params<T: for<'de> Deserialize<'de>>(table: Table, own_keys: &[&str]) -> Result<T, String> {
    serde_path_to_error::deserialize::<_, T>(Value::Table(table)).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().message().trim().to_string();
        if message.starts_with("unknown field") {
            with_own_keys(&message, own_keys)
        } else if path == "." || message.starts_with("missing field") {
            message
        } else {
            format!("at `{path}`: {message}")
        }
    })
}

/// Serde's "unknown field `x`, expected …" with `own_keys` added to the expected names.
fn with_own_keys(message: &str, own_keys: &[&str]) -> String {
    backprop_tensor::spec::unknown_field_with(message, own_keys).unwrap_or_else(|| message.to_string())
}

/// The source's struct and the [`Preprocess`] from one table.
fn with_preprocess<S: for<'de> Deserialize<'de>>(mut table: Table) -> Result<(S, Preprocess), String> {
    let mut prep = Table::new();
    for key in PREPROCESS_KEYS {
        if let Some(v) = table.remove(*key) {
            prep.insert(key.to_string(), v);
        }
    }
    // Keras's name for the validation fraction (`fit(validation_split=0.2)`).
    if let Some(v) = table.remove("validation_split") {
        if prep.contains_key("validation") {
            return Err(
                "at `validation_split`: give `validation` or its Keras name `validation_split`, not both".into()
            );
        }
        prep.insert("validation".into(), v);
    }
    let source = params(table, PREPROCESS_KEYS)?;
    Ok((source, params(prep, &[])?))
}

/// A truth table: no keys allowed.
fn builtin(table: &Table, spec: DataSpec) -> Result<DataSpec, String> {
    match table.keys().next() {
        Some(key) => {
            Err(format!("unknown field `{key}`, there are no fields (source `{}` takes no other keys)", spec.source()))
        }
        None => Ok(spec),
    }
}

impl DataSpec {
    /// The spec for source `name` from the rest of its table.
    fn from_table(name: &str, table: Table) -> Result<Self, String> {
        Ok(match name {
            "half_adder" => builtin(&table, DataSpec::HalfAdder {})?,
            "full_adder" => builtin(&table, DataSpec::FullAdder {})?,
            "xor" => builtin(&table, DataSpec::Xor {})?,
            "and" => builtin(&table, DataSpec::And {})?,
            "or" => builtin(&table, DataSpec::Or {})?,
            "parity" => DataSpec::Parity { bits: params::<ParityKeys>(table, &[])?.bits },
            "moons" => with_preprocess(table).map(|(s, p)| DataSpec::Moons(s, p))?,
            "circles" => with_preprocess(table).map(|(s, p)| DataSpec::Circles(s, p))?,
            "spirals" => with_preprocess(table).map(|(s, p)| DataSpec::Spirals(s, p))?,
            "blobs" => with_preprocess(table).map(|(s, p)| DataSpec::Blobs(s, p))?,
            "sine" => with_preprocess(table).map(|(s, p)| DataSpec::Sine(s, p))?,
            "csv" => with_preprocess(table).map(|(s, p)| DataSpec::Csv(s, p))?,
            "idx" => with_preprocess(table).map(|(s, p)| DataSpec::Idx(s, p))?,
            other => {
                let names: Vec<String> = DataSpec::SOURCES.iter().map(|n| format!("`{n}`")).collect();
                return Err(format!("at `source`: unknown variant `{other}`, expected one of {}", names.join(", ")));
            }
        })
    }
}

impl Serialize for DataSpec {
    /// One flat table: `source`, the source's keys, then `validation`, `test` and `normalize`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flat<'a, P: Serialize> {
            source: &'static str,
            #[serde(flatten)]
            params: &'a P,
            #[serde(flatten, skip_serializing_if = "Option::is_none")]
            preprocess: Option<&'a Preprocess>,
        }
        fn flat<'a, P: Serialize>(source: &'static str, params: &'a P, prep: &'a Preprocess) -> Flat<'a, P> {
            Flat { source, params, preprocess: Some(prep) }
        }
        let source = self.source();
        match self {
            DataSpec::HalfAdder {} | DataSpec::FullAdder {} | DataSpec::Xor {} | DataSpec::And {} | DataSpec::Or {} => {
                Flat { source, params: &NoKeys {}, preprocess: None }.serialize(s)
            }
            DataSpec::Parity { bits } => {
                Flat { source, params: &ParityKeys { bits: *bits }, preprocess: None }.serialize(s)
            }
            DataSpec::Moons(x, p) => flat(source, x, p).serialize(s),
            DataSpec::Circles(x, p) => flat(source, x, p).serialize(s),
            DataSpec::Spirals(x, p) => flat(source, x, p).serialize(s),
            DataSpec::Blobs(x, p) => flat(source, x, p).serialize(s),
            DataSpec::Sine(x, p) => flat(source, x, p).serialize(s),
            DataSpec::Csv(x, p) => flat(source, x, p).serialize(s),
            DataSpec::Idx(x, p) => flat(source, x, p).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for DataSpec {
    /// A flat table with `source` (or a bare source name, every key at its default).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = DataSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "a table with `source` (one of {})", DataSpec::SOURCES.join(", "))
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<DataSpec, E> {
                DataSpec::from_table(name, Table::new())
                    .map_err(|m| E::custom(m.strip_prefix("at `source`: ").unwrap_or(&m)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<DataSpec, A::Error> {
                let mut table = Table::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    table.insert(k, v);
                }
                let source = match table.remove("source") {
                    Some(Value::String(source)) => source,
                    Some(_) => return Err(serde::de::Error::custom("at `source`: must be a name (a string)")),
                    None => return Err(serde::de::Error::missing_field("source")),
                };
                DataSpec::from_table(&source, table).map_err(serde::de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl Validate for DataSpec {
    fn validate(&self) -> Result<(), SpecError> {
        match self {
            DataSpec::HalfAdder {} | DataSpec::FullAdder {} | DataSpec::Xor {} | DataSpec::And {} | DataSpec::Or {} => {
                Ok(())
            }
            DataSpec::Parity { bits } => {
                if (1..=20).contains(bits) {
                    Ok(())
                } else {
                    Err(SpecError::new("bits", format!("must be in [1, 20], got {bits}")))
                }
            }
            DataSpec::Moons(x, p) => x.validate().and_then(|_| p.validate()).and_then(|_| no_target_scaling(self, p)),
            DataSpec::Circles(x, p) => x.validate().and_then(|_| p.validate()).and_then(|_| no_target_scaling(self, p)),
            DataSpec::Spirals(x, p) => x.validate().and_then(|_| p.validate()).and_then(|_| no_target_scaling(self, p)),
            DataSpec::Blobs(x, p) => x.validate().and_then(|_| p.validate()).and_then(|_| no_target_scaling(self, p)),
            DataSpec::Sine(x, p) => x.validate().and_then(|_| p.validate()),
            DataSpec::Csv(x, p) => {
                x.validate()?;
                p.validate()?;
                if x.task == crate::Task::Classification {
                    no_target_scaling(self, p)?;
                }
                either_or(p.validation, "validation_path", x.validation_path.is_some())?;
                either_or(p.test, "test_path", x.test_path.is_some())
            }
            DataSpec::Idx(x, p) => {
                x.validate()?;
                p.validate()?;
                no_target_scaling(self, p)?;
                either_or(p.validation, "validation_images", x.validation_images.is_some())?;
                either_or(p.test, "test_images", x.test_images.is_some())
            }
        }
    }
}

/// `normalize_targets` is for regression: class labels (one-hot targets) are not scaled.
fn no_target_scaling(spec: &DataSpec, p: &Preprocess) -> Result<(), SpecError> {
    if p.normalize_targets.is_none() {
        return Ok(());
    }
    let what = match spec {
        DataSpec::Csv(..) => "`task = \"classification\"`".to_string(),
        _ => format!("source `{}`", spec.source()),
    };
    Err(SpecError::new(
        "normalize_targets",
        format!("scales regression targets; {what} gives class labels, which are not scaled (leave it out)"),
    ))
}

/// A split comes from a fraction or from a file, not both.
fn either_or(fraction: f64, key: &str, file: bool) -> Result<(), SpecError> {
    if fraction > 0.0 && file {
        let what = key.split('_').next().unwrap_or(key);
        return Err(SpecError::new(key, format!("give either `{what}` (a fraction) or `{key}` (a file), not both")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Blobs, Column, CsvSource, Moons, Task};

    #[derive(Debug, Deserialize, Serialize)]
    struct Doc {
        data: DataSpec,
    }

    fn parse(text: &str) -> Result<DataSpec, String> {
        toml::from_str::<Doc>(text).map(|d| d.data).map_err(|e| e.message().trim().to_string())
    }

    fn round_trip(spec: &DataSpec) {
        let text = toml::to_string(&Doc { data: spec.clone() }).unwrap();
        assert_eq!(&parse(&text).unwrap(), spec, "{text}");
    }

    #[test]
    fn reads_the_documented_shapes() {
        let csv = parse(
            "[data]\nsource = \"csv\"\npath = \"iris.csv\"\ntargets = [\"species\"]\ntask = \"classification\"\nvalidation = 0.2\nnormalize = \"standardize\"\n",
        )
        .unwrap();
        let want = DataSpec::Csv(
            CsvSource {
                path: "iris.csv".into(),
                features: None,
                targets: vec![Column::Name("species".into())],
                task: Task::Classification,
                validation_path: None,
                test_path: None,
            },
            Preprocess { validation: 0.2, test: 0.0, normalize: NormalizeKind::Standardize, ..Preprocess::default() },
        );
        assert_eq!(csv, want);
        let moons = parse("[data]\nsource = \"moons\"\nsamples = 500\nnoise = 0.2\nvalidation = 0.2\n").unwrap();
        assert_eq!(
            moons,
            DataSpec::Moons(
                Moons { samples: 500, noise: 0.2 },
                Preprocess { validation: 0.2, ..Preprocess::default() }
            )
        );
        assert_eq!(parse("[data]\nsource = \"parity\"\n").unwrap(), DataSpec::Parity { bits: 3 });
        assert_eq!(parse("data = \"xor\"\n").unwrap(), DataSpec::Xor {});
        let cols = parse("[data]\nsource = \"csv\"\npath = \"a.csv\"\nfeatures = [0, \"b\"]\ntargets = [2]\n").unwrap();
        let DataSpec::Csv(c, _) = cols else { panic!("{cols:?}") };
        assert_eq!(c.features, Some(vec![Column::Index(0), Column::Name("b".into())]));
    }

    #[test]
    fn round_trips() {
        round_trip(&DataSpec::HalfAdder {});
        round_trip(&DataSpec::Parity { bits: 5 });
        round_trip(&DataSpec::Blobs(
            Blobs { features: 4, ..Blobs::default() },
            Preprocess { validation: 0.1, test: 0.2, normalize: NormalizeKind::Minmax, ..Preprocess::default() },
        ));
        let csv = "[data]\nsource = \"csv\"\npath = \"a.csv\"\nfeatures = [0, \"b\"]\ntargets = [\"c\", 3]\ntest_path = \"t.csv\"\n";
        round_trip(&parse(csv).unwrap());
        let idx = "[data]\nsource = \"idx\"\nimages = \"i.gz\"\nlabels = \"l.gz\"\ntest_images = \"ti\"\ntest_labels = \"tl\"\n";
        round_trip(&parse(idx).unwrap());
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let e = parse("[data]\nsource = \"moons\"\nsampels = 5\n").unwrap_err();
        assert!(
            e.starts_with(
                "unknown field `sampels`, expected one of `samples`, `noise`, `validation`, `test`, `normalize`"
            ),
            "{e}"
        );
        let e = parse("[data]\nsource = \"half_adder\"\nvalidation = 0.5\n").unwrap_err();
        assert!(e.starts_with("unknown field `validation`, there are no fields"), "{e}");
        let e = parse("[data]\nsource = \"moons\"\nsamples = \"many\"\n").unwrap_err();
        assert!(e.starts_with("at `samples`: invalid type: string \"many\""), "{e}");
        let e = parse("[data]\nsource = \"moons\"\nnormalize = \"zscore\"\n").unwrap_err();
        assert!(e.starts_with("at `normalize`: unknown variant `zscore`"), "{e}");
        let e = parse("[data]\nsource = \"mons\"\n").unwrap_err();
        assert!(e.starts_with("at `source`: unknown variant `mons`, expected one of `half_adder`"), "{e}");
        let e = parse("[data]\nsamples = 3\n").unwrap_err();
        assert!(e.starts_with("missing field `source`"), "{e}");
        let e = parse("[data]\nsource = \"csv\"\npath = \"a.csv\"\n").unwrap_err();
        assert!(e.starts_with("missing field `targets`"), "{e}");
        // A column is a name or an index from 0: a negative one, or a float, says so.
        for bad in ["-1", "1.5"] {
            let e = parse(&format!("[data]\nsource = \"csv\"\npath = \"a.csv\"\ntargets = [{bad}]\n")).unwrap_err();
            assert!(e.contains("expected a column name or a 0-based column index"), "{bad}: {e}");
        }
    }

    #[test]
    fn validation_names_the_key() {
        let key = |text: &str| parse(text).unwrap().validate().unwrap_err().key;
        assert_eq!(key("[data]\nsource = \"moons\"\nvalidation = 0.5\ntest = 0.5\n"), "test");
        assert_eq!(key("[data]\nsource = \"moons\"\nvalidation = 1.0\n"), "validation");
        assert_eq!(key("[data]\nsource = \"moons\"\nsamples = 0\n"), "samples");
        assert_eq!(key("[data]\nsource = \"sine\"\nnoise = -1.0\n"), "noise");
        assert_eq!(key("[data]\nsource = \"parity\"\nbits = 0\n"), "bits");
        assert_eq!(key("[data]\nsource = \"parity\"\nbits = 21\n"), "bits");
        assert_eq!(key("[data]\nsource = \"spirals\"\nclasses = 1\n"), "classes");
        assert_eq!(key("[data]\nsource = \"blobs\"\nclasses = 1\n"), "classes");
        let csv = "[data]\nsource = \"csv\"\npath = \"a.csv\"\n";
        assert_eq!(key(&format!("{csv}targets = []\n")), "targets");
        assert_eq!(key(&format!("{csv}targets = [\"a\", \"b\"]\ntask = \"classification\"\n")), "targets");
        assert_eq!(
            key(&format!("{csv}targets = [\"a\"]\nvalidation = 0.1\nvalidation_path = \"v.csv\"\n")),
            "validation_path"
        );
        let idx = "[data]\nsource = \"idx\"\nimages = \"i\"\nlabels = \"l\"\n";
        assert_eq!(key(&format!("{idx}test_images = \"t\"\n")), "test_labels");
        assert_eq!(key(&format!("{idx}test_labels = \"t\"\n")), "test_images");
        assert_eq!(key(&format!("{idx}validation_labels = \"v\"\n")), "validation_images");
        assert_eq!(key(&format!("{idx}validation_images = \"v\"\n")), "validation_labels");
        assert!(parse("[data]\nsource = \"moons\"\nvalidation = 0.5\ntest = 0.4\n").unwrap().validate().is_ok());
        // Fractions below 0 or not numbers, each named.
        assert_eq!(key("[data]\nsource = \"moons\"\nvalidation = -0.1\n"), "validation");
        assert_eq!(key("[data]\nsource = \"moons\"\ntest = -0.1\n"), "test");
        assert_eq!(key("[data]\nsource = \"moons\"\ntest = nan\n"), "test");
    }

    /// One column may be given without a list (`targets = "price"`, as pandas takes `y`); it
    /// reads as the list of it, and writes back as one.
    #[test]
    fn one_column_needs_no_list() {
        let csv = |keys: &str| parse(&format!("[data]\nsource = \"csv\"\npath = \"a.csv\"\n{keys}"));
        assert_eq!(csv("targets = \"price\"\n").unwrap(), csv("targets = [\"price\"]\n").unwrap());
        assert_eq!(
            csv("targets = 3\nfeatures = \"a\"\n").unwrap(),
            csv("targets = [3]\nfeatures = [\"a\"]\n").unwrap()
        );
        let written = toml::to_string(&csv("targets = \"price\"\n").unwrap()).unwrap();
        assert!(written.contains("targets = [\"price\"]"), "{written}");
        for (bad, says) in
            [("1.5", "a column name, a 0-based column index, or a list of them"), ("-1", "expected a column name")]
        {
            let e = csv(&format!("targets = {bad}\n")).unwrap_err();
            assert!(e.contains("`targets`") && e.contains(says), "{bad}: {e}");
        }
        let e = csv("targets = [\"a\", -1]\n").unwrap_err();
        assert!(e.contains("targets[1]"), "the item is named: {e}");
    }

    /// Keras's `validation_split` is `validation`; both at once are refused.
    #[test]
    fn validation_split_is_kerass_name_for_validation() {
        let moons = |keys: &str| parse(&format!("[data]\nsource = \"moons\"\n{keys}"));
        assert_eq!(moons("validation_split = 0.2\n").unwrap(), moons("validation = 0.2\n").unwrap());
        let csv = parse("[data]\nsource = \"csv\"\npath = \"a.csv\"\ntargets = [0]\nvalidation_split = 0.25\n");
        let DataSpec::Csv(_, prep) = csv.unwrap() else { panic!("csv") };
        assert_eq!(prep.validation, 0.25);
        let e = moons("validation = 0.2\nvalidation_split = 0.2\n").unwrap_err();
        assert!(e.contains("give `validation` or its Keras name `validation_split`, not both"), "{e}");
    }

    #[test]
    fn data_that_is_no_table_or_name_says_what_it_takes() {
        let e = parse("data = 3\n").unwrap_err();
        assert!(e.contains("expected a table with `source` (one of half_adder,"), "{e}");
    }
}
