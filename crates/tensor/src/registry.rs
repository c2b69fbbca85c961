//! The registry macro: one line per component turns into the enum a config names.

/// Declares the registry of one kind of component: an enum with one variant per component,
/// written in configs either as a bare name (`"sigmoid"`, all parameters at their defaults) or
/// as a table tagged by `kind` (`{ kind = "leaky_relu", negative_slope = 0.1 }`).
///
/// Each component type must implement `Default`, `Clone`, `Debug`, `PartialEq`, serde's
/// `Serialize`/`Deserialize` (as a braced struct, usually with `#[serde(default,
/// deny_unknown_fields)]`), [`Validate`](crate::Validate), and the trait named after the colon.
/// The macro generates:
/// - `NAMES`: every registered name, in order (used for "did you mean" suggestions);
/// - `name()`, `from_name()`, and `get()`, which hands out the component as `&dyn Trait`;
/// - serde impls: a component whose parameters are all at their defaults is written back as its
///   bare name, anything else as a `kind`-tagged table;
/// - a [`Validate`](crate::Validate) impl that forwards to the component.
///
/// ```
/// use backprop_tensor::{registry, Validate};
/// use serde::{Deserialize, Serialize};
///
/// pub trait Shout { fn shout(&self) -> String; }
///
/// #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
/// #[serde(default, deny_unknown_fields)]
/// pub struct Hello { pub times: usize }
/// impl Validate for Hello {}
/// impl Shout for Hello { fn shout(&self) -> String { "hello! ".repeat(self.times) } }
///
/// registry! {
///     /// Everything that can shout.
///     pub enum ShoutSpec: dyn Shout {
///         "hello" => Hello(Hello),
///     }
/// }
///
/// let s: ShoutSpec = toml::from_str::<std::collections::BTreeMap<String, ShoutSpec>>(
///     "x = { kind = \"hello\", times = 2 }").unwrap().remove("x").unwrap();
/// assert_eq!(s.get().shout(), "hello! hello! ");
/// assert_eq!(ShoutSpec::from_name("hello"), Some(ShoutSpec::Hello(Hello { times: 0 })));
/// ```
#[macro_export]
macro_rules! registry {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : dyn $tr:ident $(<$g:ident>)? {
            $( $(#[$vmeta:meta])* $key:literal => $variant:ident($ty:ty), )*
        }
    ) => {
        $(#[$meta])*
        ///
        /// `#[non_exhaustive]`: a component added here is not a breaking change for code that
        /// matches on the enum elsewhere (it needs a `_` arm).
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* $variant($ty), )*
        }

        impl $name {
            /// Every name a config may use, in registry order.
            pub const NAMES: &'static [&'static str] = &[$($key),*];

            /// The name a config uses for this component.
            pub fn name(&self) -> &'static str {
                match self { $( Self::$variant(_) => $key, )* }
            }

            /// The component called `name`, with every parameter at its default.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $( $key => Some(Self::$variant(<$ty as Default>::default())), )*
                    _ => None,
                }
            }

            /// True when every parameter is at its default (it serialises as a bare name).
            pub fn is_default(&self) -> bool {
                match self { $( Self::$variant(x) => *x == <$ty as Default>::default(), )* }
            }

            /// The component behind its trait.
            pub fn get $(<$g: $crate::Element>)? (&self) -> &dyn $tr $(<$g>)? {
                match self { $( Self::$variant(x) => x, )* }
            }
        }

        impl $crate::Validate for $name {
            fn validate(&self) -> Result<(), $crate::SpecError> {
                match self { $( Self::$variant(x) => $crate::Validate::validate(x), )* }
            }
        }

        impl $name {
            /// The component `kind` built from its parameter table. Errors name the field
            /// (`at `lr`: invalid type …`) or the kind (`at `kind`: unknown variant …`).
            fn from_table(kind: &str, params: $crate::__toml::Table) -> Result<Self, String> {
                let located = |e: $crate::__path_to_error::Error<$crate::__toml::de::Error>| {
                    let path = e.path().to_string();
                    let message = e.inner().message().trim().to_string();
                    if path == "." || message.starts_with("unknown field") || message.starts_with("missing field") {
                        message
                    } else {
                        format!("at `{path}`: {message}")
                    }
                };
                match kind {
                    $( $key => $crate::__path_to_error::deserialize::<_, $ty>($crate::__toml::Value::Table(params))
                        .map(Self::$variant)
                        .map_err(located), )*
                    other => Err(format!(
                        "at `kind`: unknown variant `{other}`, expected one of {}",
                        Self::NAMES.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                    )),
                }
            }
        }

        const _: () = {
            use $crate::__serde as serde;

            #[derive(serde::Serialize)]
            #[serde(crate = "backprop_tensor::__serde", tag = "kind")]
            enum TaggedRef<'a> { $( #[serde(rename = $key)] $variant(&'a $ty), )* }

            impl $name {
                /// Serialises as a `kind`-tagged table even when every parameter is at its
                /// default (for tables that must stay tables, like `[optim]`).
                pub fn serialize_table<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    match self { $( Self::$variant(x) => serde::Serialize::serialize(&TaggedRef::$variant(x), s), )* }
                }

                /// Its parameters as a config writes them, defaults included, without `kind`
                /// (empty for a component without parameters).
                pub fn parameters(&self) -> $crate::__toml::Table {
                    let tagged = match self { $( Self::$variant(x) => TaggedRef::$variant(x), )* };
                    match $crate::__toml::Value::try_from(tagged) {
                        Ok($crate::__toml::Value::Table(mut t)) => {
                            t.remove("kind");
                            t
                        }
                        _ => $crate::__toml::Table::new(),
                    }
                }
            }

            impl serde::Serialize for $name {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    if self.is_default() {
                        return s.serialize_str(self.name());
                    }
                    self.serialize_table(s)
                }
            }

            impl<'de> serde::Deserialize<'de> for $name {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    struct V;
                    impl<'de> serde::de::Visitor<'de> for V {
                        type Value = $name;
                        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                            write!(f, "a name (one of {}) or a table with `kind`", $name::NAMES.join(", "))
                        }
                        fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<$name, E> {
                            // A bare name is the value itself, so the error is not about a `kind` key.
                            $name::from_table(name, $crate::__toml::Table::new())
                                .map_err(|m| E::custom(m.strip_prefix("at `kind`: ").unwrap_or(&m)))
                        }
                        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                            let mut params = $crate::__toml::Table::new();
                            while let Some((k, v)) = map.next_entry::<String, $crate::__toml::Value>()? {
                                params.insert(k, v);
                            }
                            let kind = match params.remove("kind") {
                                Some($crate::__toml::Value::String(kind)) => kind,
                                Some(_) => return Err(serde::de::Error::custom("at `kind`: must be a name (a string)")),
                                None => return Err(serde::de::Error::missing_field("kind")),
                            };
                            $name::from_table(&kind, params).map_err(serde::de::Error::custom)
                        }
                    }
                    d.deserialize_any(V)
                }
            }
        };
    };
}
