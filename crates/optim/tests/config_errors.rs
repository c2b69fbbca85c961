//! `[optim]` read the way the CLI's config loader reads it: a `toml::Value` through
//! `serde_path_to_error`. The loader reports the key `path.field`, where the field comes from an
//! "at `field`: …", "unknown field `field`…" or "missing field `field`" message, with a "did you mean" drawn from the
//! expected names; these tests pin the path and message this crate hands it.

use backprop_optim::OptimSpec;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Config {
    optim: OptimSpec,
}

/// The key the loader would report for `src`, and the message.
fn error(src: &str) -> (String, String) {
    let value: toml::Value = toml::from_str(src).expect("valid TOML");
    let err = serde_path_to_error::deserialize::<_, Config>(value).expect_err("must not deserialise");
    let path = err.path().to_string();
    let message = err.inner().message().trim().to_string();
    let field = message
        .strip_prefix("at `")
        .or_else(|| message.strip_prefix("unknown field `"))
        .or_else(|| message.strip_prefix("missing field `"))
        .and_then(|rest| rest.split('`').next())
        .filter(|field| path.rsplit('.').next() != Some(*field));
    match field {
        Some(field) => (format!("{path}.{field}"), message),
        None => (path, message),
    }
}

#[test]
fn unknown_optimiser_key_lists_its_fields_then_ours() {
    let (key, message) = error("[optim]\nkind = \"sgd\"\nmomentun = 0.9\n");
    assert_eq!(key, "optim.momentun");
    assert_eq!(
        message,
        "unknown field `momentun`, expected one of `lr`, `momentum`, `dampening`, `weight_decay`, `nesterov`, \
         `maximize`, `clip_norm`, `clip_norm_type`, `clip_value`, `schedule`"
    );
    let (key, message) = error("[optim]\nkind = \"adam\"\nclip_nrom = 1.0\n");
    assert_eq!(key, "optim.clip_nrom");
    assert!(message.contains("`clip_norm`"), "{message}");
}

#[test]
fn errors_inside_our_keys_carry_their_path() {
    let (key, message) = error("[optim]\nkind = \"sgd\"\nclip_norm = \"big\"\n");
    assert_eq!(key, "optim.clip_norm");
    assert!(message.starts_with("invalid type: string \"big\""), "{message}");
    let (key, message) =
        error("[optim]\nkind = \"sgd\"\n[optim.schedule]\nkind = \"step\"\nstep_size = 2\ngama = 0.5\n");
    assert_eq!(key, "optim.schedule.gama");
    assert_eq!(
        message,
        "unknown field `gama`, expected one of `step_size`, `gamma`, `warmup_epochs`, `warmup_start_factor`"
    );
    let (key, message) = error("[optim]\nkind = \"sgd\"\n[optim.schedule]\nkind = \"cosin\"\n");
    assert_eq!(key, "optim.schedule.kind");
    assert!(message.contains("unknown variant `cosin`"), "{message}");
    let (key, _) = error("[optim]\nkind = \"sgd\"\n[optim.schedule]\nkind = \"step\"\nstep_size = -2\n");
    assert_eq!(key, "optim.schedule.step_size");
    let (key, _) = error("[optim]\nkind = \"sgd\"\n[optim.schedule]\nkind = \"step\"\nwarmup_epochs = -1\n");
    assert_eq!(key, "optim.schedule.warmup_epochs");
}

#[test]
fn unknown_kind_and_bad_values_keep_their_keys() {
    let (key, message) = error("[optim]\nkind = \"sdg\"\n");
    assert_eq!(key, "optim.kind");
    assert!(message.contains("unknown variant `sdg`"), "{message}");
    let (key, message) = error("[optim]\nkind = \"sgd\"\nlr = \"fast\"\n");
    assert_eq!(key, "optim.lr");
    assert!(message.contains("invalid type"), "{message}");
    let (key, message) = error("[optim]\nlr = 0.1\n");
    assert_eq!(key, "optim.kind");
    assert_eq!(message, "missing field `kind`");
}
