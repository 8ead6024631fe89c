//! The seed and visitor the YAML reader deserializes through: they build the
//! tree while counting it against the bounds, apply merge keys, and refuse
//! duplicate keys, tags and keys that are not scalars.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, EnumAccess, MapAccess, SeqAccess};

use crate::devcontainer::yaml::{Yaml, MAX_YAML_DEPTH, MAX_YAML_NODES, MAX_YAML_SCALAR_BYTES};

/// Deserializes the one YAML document in `text`: the tree, or yaml_serde's
/// error with our own message when the error is ours.
pub(crate) fn deserialize(text: &str) -> Result<Yaml, (yaml_serde::Error, Option<String>)> {
    let mut budget = Budget::default();
    let seed = NodeSeed {
        budget: &mut budget,
        depth: 0,
    };
    seed.deserialize(yaml_serde::Deserializer::from_str(text))
        .map_err(|e| (e, budget.failure.take()))
}

/// What one file has used of the bounds so far.
#[derive(Default)]
struct Budget {
    nodes: usize,
    bytes: usize,
    /// Our own error, kept here because yaml_serde's error type would add
    /// its path to the message.
    failure: Option<String>,
}

impl Budget {
    /// Fails with `message`.
    fn fail<E: de::Error>(&mut self, message: String) -> E {
        let error = E::custom(&message);
        self.failure.get_or_insert(message);
        error
    }

    /// Counts one node holding `bytes` scalar bytes.
    fn take<E: de::Error>(&mut self, bytes: usize) -> Result<(), E> {
        self.nodes += 1;
        self.bytes = self.bytes.saturating_add(bytes);
        if self.nodes > MAX_YAML_NODES {
            return Err(self.fail(format!(
                "the YAML expands past the bound of {MAX_YAML_NODES} nodes (aliases count each time they are used)"
            )));
        }
        if self.bytes > MAX_YAML_SCALAR_BYTES {
            return Err(self.fail(format!(
                "the YAML expands past the bound of {MAX_YAML_SCALAR_BYTES} bytes of scalars (aliases count each time they are used)"
            )));
        }
        Ok(())
    }

    /// The error for a tagged node; `tag` is what yaml_serde reports, without
    /// the leading `!` unless the tag is `!` alone.
    fn tagged<'de, E: de::Error, A: EnumAccess<'de, Error = E>>(&mut self, data: A) -> E {
        let shown = match data.variant::<String>() {
            Ok((tag, _)) if tag == "!" => tag,
            Ok((tag, _)) => format!("!{tag}"),
            Err(e) => return e,
        };
        self.fail(format!("YAML tags are not supported ('{shown}')"))
    }
}

/// Builds one node at `depth`.
struct NodeSeed<'b> {
    budget: &'b mut Budget,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Yaml;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Yaml, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl NodeSeed<'_> {
    /// Counts a scalar node and returns it.
    fn scalar<E: de::Error>(self, bytes: usize, node: Yaml) -> Result<Yaml, E> {
        self.budget.take(bytes)?;
        Ok(node)
    }

    /// Counts a sequence or mapping node, refusing it past the depth bound.
    fn open<E: de::Error>(&mut self) -> Result<(), E> {
        if self.depth >= MAX_YAML_DEPTH {
            return Err(self.budget.fail(format!(
                "the YAML nests deeper than the bound of {MAX_YAML_DEPTH} levels"
            )));
        }
        self.budget.take(0)
    }
}

impl<'de> de::Visitor<'de> for NodeSeed<'_> {
    type Value = Yaml;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML node")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Yaml, E> {
        self.scalar(0, Yaml::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Yaml, E> {
        self.scalar(0, Yaml::Int(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Yaml, E> {
        self.scalar(0, Yaml::Int(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Yaml, E> {
        self.scalar(0, Yaml::Int(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Yaml, E> {
        self.scalar(0, Yaml::Int(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Yaml, E> {
        self.scalar(0, Yaml::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Yaml, E> {
        // Counted before the copy, so an over-budget string is never made.
        self.budget.take(v.len())?;
        Ok(Yaml::String(v.to_owned()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Yaml, E> {
        self.scalar(0, Yaml::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Yaml, E> {
        self.scalar(0, Yaml::Null)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Yaml, A::Error> {
        Err(self.budget.tagged(data))
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Yaml, A::Error> {
        self.open()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(NodeSeed {
            budget: &mut *self.budget,
            depth: self.depth + 1,
        })? {
            items.push(item);
        }
        Ok(Yaml::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Yaml, A::Error> {
        self.open()?;
        let mut entries = BTreeMap::new();
        let mut merge = None;
        loop {
            let key = KeySeed {
                budget: &mut *self.budget,
                existing: &entries,
                merge_seen: merge.is_some(),
            };
            let Some(key) = map.next_key_seed(key)? else {
                break;
            };
            let value = map.next_value_seed(NodeSeed {
                budget: &mut *self.budget,
                depth: self.depth + 1,
            })?;
            if key == MERGE_KEY {
                merge = Some(value);
            } else {
                entries.insert(key, value);
            }
        }
        match merge {
            None => {}
            Some(Yaml::Map(from)) => merge_into(&mut entries, from),
            // Earlier mappings in the list win over later ones.
            Some(Yaml::Seq(list)) => {
                for item in list {
                    let Yaml::Map(from) = item else {
                        return Err(self.budget.fail(merge_error()));
                    };
                    merge_into(&mut entries, from);
                }
            }
            Some(_) => return Err(self.budget.fail(merge_error())),
        }
        Ok(Yaml::Map(entries))
    }
}

/// The YAML 1.1 merge key.
const MERGE_KEY: &str = "<<";

fn merge_error() -> String {
    format!("the merge key '{MERGE_KEY}' must name a mapping or a list of mappings")
}

/// Adds the entries of `from` whose keys `entries` does not have: a
/// mapping's own keys win over merged ones.
fn merge_into(entries: &mut BTreeMap<String, Yaml>, from: BTreeMap<String, Yaml>) {
    for (key, value) in from {
        entries.entry(key).or_insert(value);
    }
}

/// Reads one mapping key as a string, refusing one already in `existing`.
struct KeySeed<'b, 'm> {
    budget: &'b mut Budget,
    existing: &'m BTreeMap<String, Yaml>,
    merge_seen: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl KeySeed<'_, '_> {
    /// Counts the key, then copies it unless it is a duplicate.
    fn key<E: de::Error>(self, key: &str) -> Result<String, E> {
        self.budget.take(key.len())?;
        let duplicate = if key == MERGE_KEY {
            self.merge_seen
        } else {
            self.existing.contains_key(key)
        };
        if duplicate {
            return Err(self.budget.fail(format!("duplicate key '{key}'")));
        }
        Ok(key.to_owned())
    }
}

impl<'de> de::Visitor<'de> for KeySeed<'_, '_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        self.key(&v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        self.key(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        self.key(&v.to_string())
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<String, E> {
        self.key(&v.to_string())
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<String, E> {
        self.key(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        self.key(&v.to_string())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        self.key(v)
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        self.key("null")
    }

    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        self.key("null")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<String, A::Error> {
        Err(self.budget.tagged(data))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(self.budget.fail(non_scalar_key()))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(self.budget.fail(non_scalar_key()))
    }
}

fn non_scalar_key() -> String {
    "a mapping key is a sequence or a mapping; only scalar keys are supported".to_owned()
}
