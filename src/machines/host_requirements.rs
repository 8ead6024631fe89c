//! devcontainer.json's `hostRequirements`, read as the dev container specification writes
//! it, and the choice of the smallest machine that meets it.
//!
//! What is accepted: `cpus` an integer of at least 1 (`4.0` too, as JSON Schema's
//! "integer" allows); `memory` and `storage` a whole number of bytes with an optional
//! lowercase unit `kb`, `mb`, `gb` or `tb` (binary: `1gb` is 2^30 bytes, as the dev
//! container CLI reads it; the specification's pattern `^\d+([tgmk]b)?$`, so `"8GB"` and
//! `"8 gigs"` are refused rather than guessed); `gpu` one of `true`, `false`, `"optional"`
//! or an object of `cores` and `memory`. Other keys of `hostRequirements` are ignored, as
//! the specification leaves the object open; other keys of `gpu` are refused, as it
//! closes that one. The catalog has no GPU machines, so a required GPU is never met.

use std::fmt;

use serde_json::{Map, Value};

use super::catalog::Machine;

/// The key in devcontainer.json, and the start of every error's field.
pub const FIELD: &str = "hostRequirements";

/// Minimums a machine must meet; `None` asks nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostRequirements {
    pub cpus: Option<u32>,
    pub memory_in_bytes: Option<u64>,
    pub storage_in_bytes: Option<u64>,
    pub gpu: GpuRequirement,
}

/// What the configuration says about a GPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GpuRequirement {
    /// Absent, or `false`.
    #[default]
    NotRequired,
    /// `"optional"`: used when there, never a reason to refuse a machine.
    Optional,
    /// `true`, or an object with the GPU's own minimums.
    Required {
        cores: Option<u32>,
        memory_in_bytes: Option<u64>,
    },
}

/// `hostRequirements` that cannot be read; `field` is e.g. `hostRequirements.memory`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct HostRequirementsError {
    pub field: String,
    pub message: String,
}

fn invalid(field: &str, message: &str) -> HostRequirementsError {
    HostRequirementsError {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

impl HostRequirements {
    /// The requirements of a parsed devcontainer.json object: none when it has no
    /// `hostRequirements`.
    ///
    /// # Errors
    ///
    /// As [`HostRequirements::parse`].
    pub fn from_config(config: &Map<String, Value>) -> Result<Self, HostRequirementsError> {
        config.get(FIELD).map_or(Ok(Self::default()), Self::parse)
    }

    /// Reads the value of `hostRequirements`.
    ///
    /// # Errors
    ///
    /// A value that is not an object (`null` included), `cpus` that is not an integer of
    /// at least 1, a `memory` or `storage` that is not a size string, or a `gpu` other than
    /// the forms above: a [`HostRequirementsError`] naming the field.
    pub fn parse(value: &Value) -> Result<Self, HostRequirementsError> {
        let Value::Object(fields) = value else {
            return Err(invalid(FIELD, "must be an object"));
        };
        let field = |key: &str| format!("{FIELD}.{key}");
        Ok(Self {
            cpus: fields
                .get("cpus")
                .map(|v| count(&field("cpus"), v))
                .transpose()?,
            memory_in_bytes: fields
                .get("memory")
                .map(|v| size(&field("memory"), v))
                .transpose()?,
            storage_in_bytes: fields
                .get("storage")
                .map(|v| size(&field("storage"), v))
                .transpose()?,
            gpu: fields
                .get("gpu")
                .map_or(Ok(GpuRequirement::NotRequired), gpu)?,
        })
    }

    /// Whether `machine` has at least what is asked.
    pub fn is_met_by(&self, machine: &Machine) -> bool {
        self.cpus.is_none_or(|n| machine.cpus >= n)
            && self
                .memory_in_bytes
                .is_none_or(|n| machine.memory_in_bytes >= n)
            && self
                .storage_in_bytes
                .is_none_or(|n| machine.storage_in_bytes >= n)
            && !matches!(self.gpu, GpuRequirement::Required { .. })
    }

    /// Whether it asks nothing of a machine.
    pub fn is_empty(&self) -> bool {
        self.cpus.is_none()
            && self.memory_in_bytes.is_none()
            && self.storage_in_bytes.is_none()
            && !matches!(self.gpu, GpuRequirement::Required { .. })
    }
}

/// The smallest of `candidates` (by cores, then memory, then storage, then name) that
/// meets `requirements`; `None` when none does.
pub fn choose_machine<'m>(
    candidates: impl IntoIterator<Item = &'m Machine>,
    requirements: &HostRequirements,
) -> Option<&'m Machine> {
    candidates
        .into_iter()
        .filter(|m| requirements.is_met_by(m))
        .min_by(|a, b| a.size_key().cmp(&b.size_key()))
}

/// For messages: `4 cpus, 8gb memory, 32gb storage, a GPU`.
impl fmt::Display for HostRequirements {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(cpus) = self.cpus {
            parts.push(format!("{cpus} cpus"));
        }
        if let Some(bytes) = self.memory_in_bytes {
            parts.push(format!("{} memory", SizeText(bytes)));
        }
        if let Some(bytes) = self.storage_in_bytes {
            parts.push(format!("{} storage", SizeText(bytes)));
        }
        if matches!(self.gpu, GpuRequirement::Required { .. }) {
            parts.push("a GPU".to_owned());
        }
        if parts.is_empty() {
            return f.write_str("no requirements");
        }
        f.write_str(&parts.join(", "))
    }
}

/// A byte count in the largest unit that divides it, written as devcontainer.json would.
struct SizeText(u64);

impl fmt::Display for SizeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, shift) in UNITS.iter().rev() {
            let scale = 1u64 << shift;
            if self.0 >= scale && self.0 % scale == 0 {
                return write!(f, "{}{unit}", self.0 / scale);
            }
        }
        write!(f, "{} bytes", self.0)
    }
}

/// Units and their powers of two, smallest first.
const UNITS: [(&str, u32); 4] = [("kb", 10), ("mb", 20), ("gb", 30), ("tb", 40)];

const SIZE_FORMAT: &str =
    "must be a whole number of bytes with an optional unit kb, mb, gb or tb, such as \"8gb\"";

/// A size string: digits, then nothing or a lowercase unit.
fn size(field: &str, value: &Value) -> Result<u64, HostRequirementsError> {
    let Value::String(text) = value else {
        return Err(invalid(field, SIZE_FORMAT));
    };
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let shift = match unit {
        "" => 0,
        _ => match UNITS.iter().find(|(name, _)| *name == unit) {
            Some((_, shift)) => *shift,
            None => return Err(invalid(field, SIZE_FORMAT)),
        },
    };
    if digits.is_empty() {
        return Err(invalid(field, SIZE_FORMAT));
    }
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1u64 << shift))
        .ok_or_else(|| invalid(field, "is too large"))
}

/// A count of at least 1 that fits in 32 bits.
fn count(field: &str, value: &Value) -> Result<u32, HostRequirementsError> {
    let whole = match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        }),
        _ => None,
    };
    match whole {
        Some(0) => Err(invalid(field, "must be at least 1")),
        Some(n) => u32::try_from(n).map_err(|_| invalid(field, "is too large")),
        None => Err(invalid(field, "must be a positive integer")),
    }
}

fn gpu(value: &Value) -> Result<GpuRequirement, HostRequirementsError> {
    let field = format!("{FIELD}.gpu");
    match value {
        Value::Bool(false) => Ok(GpuRequirement::NotRequired),
        Value::Bool(true) => Ok(GpuRequirement::Required {
            cores: None,
            memory_in_bytes: None,
        }),
        Value::String(s) if s == "optional" => Ok(GpuRequirement::Optional),
        Value::Object(fields) => {
            if let Some(unknown) = fields.keys().find(|k| *k != "cores" && *k != "memory") {
                return Err(invalid(
                    &format!("{field}.{unknown}"),
                    "is not a GPU requirement (only cores and memory are)",
                ));
            }
            Ok(GpuRequirement::Required {
                cores: fields
                    .get("cores")
                    .map(|v| count(&format!("{field}.cores"), v))
                    .transpose()?,
                memory_in_bytes: fields
                    .get("memory")
                    .map(|v| size(&format!("{field}.memory"), v))
                    .transpose()?,
            })
        }
        _ => Err(invalid(
            &field,
            "must be true, false, \"optional\" or an object of cores and memory",
        )),
    }
}

#[cfg(test)]
#[path = "host_requirements_tests.rs"]
mod tests;
