//! A bounded reader of one Docker Compose file's YAML into a small tree: the
//! tree, its bounds, and the order of the checks.
//!
//! yaml_serde does the parsing; this reader only decides what the tree may
//! hold. The text is checked first (`yaml_scan`) for what yaml_serde cannot
//! be trusted with, then deserialized through a visitor of our own
//! (`yaml_visit`) that counts every node it builds (an alias each time it is
//! expanded) and every scalar byte, and fails past [`MAX_YAML_NODES`],
//! [`MAX_YAML_SCALAR_BYTES`] and [`MAX_YAML_DEPTH`]: yaml_serde's own alias
//! limit grows with the document, so a 1 MiB billion-laughs file would
//! otherwise expand to gigabytes. Merge keys (`<<: *base`, `<<: [*a, *b]`)
//! are applied as YAML 1.1 and Compose define them; duplicate keys, several
//! documents and tags are errors, and scalar keys that are not strings
//! become strings.

use std::collections::BTreeMap;

use crate::devcontainer::{yaml_scan, yaml_visit};

/// The largest compose file read, in bytes; the request body is bounded to
/// 1 MiB anyway.
pub const MAX_COMPOSE_FILE_BYTES: usize = 1024 * 1024;

/// The most nodes (scalars, sequences, mappings and keys) one compose file
/// may expand to, counting every expansion of an alias.
pub const MAX_YAML_NODES: usize = 100_000;

/// The most scalar bytes (keys and values) one compose file may expand to,
/// counting every expansion of an alias; this bounds the tree's memory.
pub const MAX_YAML_SCALAR_BYTES: usize = 4 * 1024 * 1024;

/// The deepest nesting of sequences and mappings in one compose file.
pub const MAX_YAML_DEPTH: usize = 64;

/// One YAML node, as the Compose reader needs it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Yaml {
    Null,
    Bool(bool),
    /// An integer, in decimal.
    Int(String),
    Float(f64),
    String(String),
    Seq(Vec<Yaml>),
    Map(BTreeMap<String, Yaml>),
}

/// Why a compose file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    /// The 1-based line the problem is at, when it is known and not already
    /// in `message`.
    pub line: Option<usize>,
    pub message: String,
}

/// Reads `text`, which must be at most [`MAX_COMPOSE_FILE_BYTES`] long and
/// hold at most one YAML document.
pub(crate) fn parse(text: &str) -> Result<Yaml, YamlError> {
    if text.len() > MAX_COMPOSE_FILE_BYTES {
        return Err(YamlError {
            line: None,
            message: format!(
                "the file is {} bytes long, over the bound of {MAX_COMPOSE_FILE_BYTES} bytes",
                text.len()
            ),
        });
    }
    if let Some((line, indicator)) = yaml_scan::tag_indicator(text) {
        return Err(YamlError {
            line: Some(line),
            message: format!("YAML tags are not supported ('{indicator}')"),
        });
    }
    // Checked before parsing: libyaml would spend seconds on such a file
    // before the visitor's own depth bound could refuse it.
    if let Some(line) = yaml_scan::flow_depth_over(text, MAX_YAML_DEPTH) {
        return Err(YamlError {
            line: Some(line),
            message: format!(
                "the YAML may nest flow collections ([...] and {{...}}) deeper than the bound of \
                 {MAX_YAML_DEPTH} levels (brackets in quoted strings and comments can count too)"
            ),
        });
    }
    match yaml_visit::deserialize(text) {
        Ok(tree) => Ok(tree),
        // An error of ours: its message is ours, its place yaml_serde's.
        Err((e, Some(ours))) => Err(YamlError {
            line: e.location().map(|at| at.line()),
            message: ours,
        }),
        // yaml_serde's message already says where, when it knows.
        Err((e, None)) => Err(YamlError {
            line: None,
            message: format!("the YAML cannot be read: {e}"),
        }),
    }
}
