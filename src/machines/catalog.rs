//! The machine types codespaces may run on: GitHub's five Linux machines by default, or a
//! catalog the operator configures as JSON (`MACHINE_CATALOG`).

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// One GiB; GitHub states machine sizes in binary units, as the dev container CLI reads
/// `hostRequirements`.
pub const GIB: u64 = 1 << 30;

/// Most machines a configured catalog may hold, so that listing them stays one small page.
pub const MAX_CATALOG_MACHINES: usize = 100;

/// Longest display name.
pub const MAX_DISPLAY_NAME_LEN: usize = 100;

/// Longest machine name, and the only characters it may hold (`^[A-Za-z0-9_-]{1,64}$`).
pub const MAX_MACHINE_NAME_LEN: usize = 64;

/// A machine type, in the shape GitHub's machines API answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Machine {
    /// The name a policy, a request or `GET /machines` uses, e.g. `basicLinux32gb`.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub name: String,
    /// For people, e.g. `2 cores, 8 GB RAM, 32 GB storage`.
    pub display_name: String,
    /// Processor cores.
    pub cpus: u32,
    /// Memory, in bytes.
    pub memory_in_bytes: u64,
    /// Disk, in bytes.
    pub storage_in_bytes: u64,
}

impl Machine {
    /// The order "smallest" means: cores, then memory, then storage, then name.
    pub fn size_key(&self) -> (u32, u64, u64, &str) {
        (
            self.cpus,
            self.memory_in_bytes,
            self.storage_in_bytes,
            &self.name,
        )
    }
}

/// A configured catalog that cannot be used; `field` is a path into the JSON such as
/// `MACHINE_CATALOG[1].cpus`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct CatalogError {
    pub field: String,
    pub message: String,
}

/// The machines on offer, smallest first, with names unique regardless of case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineCatalog {
    machines: Vec<Machine>,
}

impl Default for MachineCatalog {
    fn default() -> Self {
        Self::github_linux()
    }
}

impl MachineCatalog {
    /// GitHub's 2-, 4-, 8-, 16- and 32-core Linux machines, as its API names them.
    pub fn github_linux() -> Self {
        let machine = |name: &str, cpus: u32, memory_gib: u64, storage_gib: u64| Machine {
            name: name.to_owned(),
            display_name: format!("{cpus} cores, {memory_gib} GB RAM, {storage_gib} GB storage"),
            cpus,
            memory_in_bytes: memory_gib * GIB,
            storage_in_bytes: storage_gib * GIB,
        };
        Self {
            machines: vec![
                machine("basicLinux32gb", 2, 8, 32),
                machine("standardLinux32gb", 4, 16, 32),
                machine("premiumLinux", 8, 32, 64),
                machine("largePremiumLinux", 16, 64, 128),
                machine("xLargePremiumLinux", 32, 128, 256),
            ],
        }
    }

    /// Reads a catalog from JSON text: a non-empty array of objects with exactly the
    /// fields of [`Machine`]. `source` names the text in errors (`MACHINE_CATALOG`).
    ///
    /// # Errors
    ///
    /// Text that is not JSON, not a non-empty array of at most [`MAX_CATALOG_MACHINES`]
    /// objects, a missing or unknown field, a bad name, a name given twice (compared
    /// case-insensitively), an empty or over-long display name, or a size that is not a
    /// positive integer: each a [`CatalogError`] naming the field.
    pub fn from_json(source: &str, text: &str) -> Result<Self, CatalogError> {
        let invalid = |field: String, message: &str| CatalogError {
            field,
            message: message.to_owned(),
        };
        let value: Value = serde_json::from_str(text)
            .map_err(|e| invalid(source.to_owned(), &format!("is not valid JSON: {e}")))?;
        let Value::Array(items) = value else {
            return Err(invalid(
                source.to_owned(),
                "must be a JSON array of machines",
            ));
        };
        if items.is_empty() {
            return Err(invalid(source.to_owned(), "must list at least one machine"));
        }
        if items.len() > MAX_CATALOG_MACHINES {
            return Err(invalid(
                source.to_owned(),
                &format!("may list at most {MAX_CATALOG_MACHINES} machines"),
            ));
        }
        let mut seen = HashSet::new();
        let mut machines = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let at = format!("{source}[{index}]");
            let Value::Object(fields) = item else {
                return Err(invalid(at, "must be an object"));
            };
            let machine = read_machine(&at, fields)?;
            if !seen.insert(machine.name.to_ascii_lowercase()) {
                return Err(invalid(
                    format!("{at}.name"),
                    &format!("'{}' is listed twice", machine.name),
                ));
            }
            machines.push(machine);
        }
        machines.sort_by(|a, b| a.size_key().cmp(&b.size_key()));
        Ok(Self { machines })
    }

    /// Every machine, smallest first.
    pub fn machines(&self) -> &[Machine] {
        &self.machines
    }

    /// The machine called `name`, compared case-insensitively, so that a caller can
    /// store its name as the catalog writes it.
    pub fn get(&self, name: &str) -> Option<&Machine> {
        self.machines
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
    }

    /// [`MachineCatalog::get`], or what a 422 on a request's `machine` says of the name.
    ///
    /// # Errors
    ///
    /// `'NAME' is not a machine type; known: ...` when the catalog has no such machine.
    pub fn resolve(&self, name: &str) -> Result<&Machine, String> {
        self.get(name).ok_or_else(|| {
            format!(
                "'{name}' is not a machine type; known: {}",
                self.names().join(", ")
            )
        })
    }

    /// Every name, smallest machine first: what policy validation checks names against.
    pub fn names(&self) -> Vec<&str> {
        self.machines.iter().map(|m| m.name.as_str()).collect()
    }
}

const FIELDS: [&str; 5] = [
    "name",
    "display_name",
    "cpus",
    "memory_in_bytes",
    "storage_in_bytes",
];

fn read_machine(at: &str, fields: &Map<String, Value>) -> Result<Machine, CatalogError> {
    let invalid = |field: &str, message: &str| CatalogError {
        field: format!("{at}.{field}"),
        message: message.to_owned(),
    };
    if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(unknown, "is not a machine field"));
    }
    let text = |field: &str| match fields.get(field) {
        Some(Value::String(s)) => Ok(s.as_str()),
        Some(_) => Err(invalid(field, "must be a string")),
        None => Err(invalid(field, "is required")),
    };
    let positive = |field: &str| match fields.get(field) {
        Some(value) => value
            .as_u64()
            .filter(|n| *n > 0)
            .ok_or_else(|| invalid(field, "must be a positive integer")),
        None => Err(invalid(field, "is required")),
    };
    let name = text("name")?;
    if !is_machine_name(name) {
        return Err(invalid(
            "name",
            "must be 1 to 64 letters, digits, '_' or '-'",
        ));
    }
    let display_name = text("display_name")?;
    if display_name.trim().is_empty()
        || display_name.chars().count() > MAX_DISPLAY_NAME_LEN
        || display_name.chars().any(char::is_control)
    {
        return Err(invalid(
            "display_name",
            "must be 1 to 100 characters with no control characters",
        ));
    }
    let cpus = u32::try_from(positive("cpus")?)
        .map_err(|_| invalid("cpus", "must be a positive integer of at most 4294967295"))?;
    Ok(Machine {
        name: name.to_owned(),
        display_name: display_name.to_owned(),
        cpus,
        memory_in_bytes: positive("memory_in_bytes")?,
        storage_in_bytes: positive("storage_in_bytes")?,
    })
}

/// Whether `name` matches `^[A-Za-z0-9_-]{1,64}$`.
pub fn is_machine_name(name: &str) -> bool {
    (1..=MAX_MACHINE_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
#[path = "catalog_tests.rs"]
mod tests;
