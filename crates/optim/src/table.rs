//! Reading a table that mixes a registry component's keys with a few keys of its own.
//!
//! `[optim]` holds the optimiser (`kind` and its parameters) beside `clip_norm`, `clip_norm_type`, `clip_value` and
//! `schedule`; `[optim.schedule]` holds the schedule beside `warmup_epochs` and
//! `warmup_start_factor`. [`read`] deserialises the registry enum from the table through a map
//! that hands each entry to a `take` callback first and hides the entries it consumed, so the
//! component still rejects unknown keys with serde's "unknown field" message. That message is
//! then extended with the table's own keys, so a "did you mean" can find them too. No value is
//! buffered here and no dependency is needed beyond serde.

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess};

/// A map whose entries go through `take` first; entries `take` consumed (it returned `true`
/// after reading the value) are not seen by whoever reads the map.
struct Intercept<A, T> {
    map: A,
    take: T,
    take_failed: bool,
}

impl<'de, A, T> MapAccess<'de> for Intercept<A, T>
where
    A: MapAccess<'de>,
    T: FnMut(&str, &mut A) -> Result<bool, A::Error>,
{
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.map.next_key::<String>()? {
            match (self.take)(&key, &mut self.map) {
                Ok(true) => continue,
                Ok(false) => {
                    let key: de::value::StringDeserializer<A::Error> = key.into_deserializer();
                    return seed.deserialize(key).map(Some);
                }
                Err(e) => {
                    self.take_failed = true;
                    return Err(e);
                }
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// Deserialises `R` from `map` less the entries `take` consumes. `own_keys` are the keys `take`
/// handles: an "unknown field" error from `R` lists them after `R`'s own fields.
pub(crate) fn read<'de, R, A, T>(map: A, own_keys: &[&str], take: T) -> Result<R, A::Error>
where
    R: Deserialize<'de>,
    A: MapAccess<'de>,
    T: FnMut(&str, &mut A) -> Result<bool, A::Error>,
{
    let mut intercept = Intercept { map, take, take_failed: false };
    let result = R::deserialize(de::value::MapAccessDeserializer::new(&mut intercept));
    match result {
        Err(e) if !intercept.take_failed => Err(with_own_keys(e, own_keys)),
        other => other,
    }
}

/// Rewrites serde's "unknown field `x`, expected …" (or "…, there are no fields") so that the
/// expected names end with `own_keys`. Any other error, or one whose `Display` adds more than a
/// trailing newline (a position), passes unchanged.
fn with_own_keys<E: de::Error>(err: E, own_keys: &[&str]) -> E {
    // Some errors' `Display` ends the message with a newline (toml's does).
    match backprop_tensor::spec::unknown_field_with(err.to_string().trim_end(), own_keys) {
        Some(message) => E::custom(message),
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::Error;

    fn rewrite(message: &str, own: &[&str]) -> String {
        with_own_keys(<Error as de::Error>::custom(message), own).to_string()
    }

    #[test]
    fn appends_own_keys_to_every_form_of_the_unknown_field_message() {
        let m = rewrite("unknown field `x`, expected one of `lr`, `betas`", &["clip_norm"]);
        assert_eq!(m, "unknown field `x`, expected one of `lr`, `betas`, `clip_norm`");
        let m = rewrite("unknown field `x`, expected `lr`", &["clip_norm"]);
        assert_eq!(m, "unknown field `x`, expected `lr` or `clip_norm`");
        let m = rewrite("unknown field `x`, there are no fields", &["a", "b", "c"]);
        assert_eq!(m, "unknown field `x`, expected one of `a`, `b`, `c`");
        let m = rewrite("unknown field `x`, expected `lr`\n", &["clip_norm"]);
        assert_eq!(m, "unknown field `x`, expected `lr` or `clip_norm`");
        assert_eq!(rewrite("missing field `kind`", &["a"]), "missing field `kind`");
        assert_eq!(
            rewrite("unknown field `x`, expected `a` at line 3", &["b"]),
            "unknown field `x`, expected `a` at line 3"
        );
    }
}
