//! Registry credentials: the `P_CONTAINER_REGISTRY_SERVER`, `_USER` and `_PASSWORD`
//! secrets among those that reach a codespace, grouped by prefix `P` into the registries
//! available to it and the triplets that lack a secret.

use std::collections::BTreeMap;

use crate::registries::SecretEntry;

/// The suffix of a registry's server secret.
pub const SERVER_SUFFIX: &str = "_CONTAINER_REGISTRY_SERVER";
/// The suffix of a registry's user secret.
pub const USER_SUFFIX: &str = "_CONTAINER_REGISTRY_USER";
/// The suffix of a registry's password secret.
pub const PASSWORD_SUFFIX: &str = "_CONTAINER_REGISTRY_PASSWORD";

/// The three suffixes, in the order missing secrets are named.
const SUFFIXES: [&str; 3] = [SERVER_SUFFIX, USER_SUFFIX, PASSWORD_SUFFIX];

/// A private registry available to a codespace; never carries the user or password.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Registry {
    /// The `_SERVER` value as stored.
    pub server: String,
    /// `P` in `P_CONTAINER_REGISTRY_*`.
    pub secret_prefix: String,
}

/// A prefix with some but not all of its three secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incomplete {
    /// `P` in `P_CONTAINER_REGISTRY_*`.
    pub prefix: String,
    /// The full names of the secrets it lacks, server then user then password.
    pub missing: Vec<String>,
}

/// The registry triplets among the secrets that reach a codespace, each list in prefix
/// order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registries {
    /// Complete triplets: the registries available to the codespace.
    pub complete: Vec<Registry>,
    /// Triplets lacking at least one secret.
    pub incomplete: Vec<Incomplete>,
}

impl Registries {
    /// The first complete triplet, in prefix order, whose server is `image_host`.
    pub fn for_host(&self, image_host: &str) -> Option<&Registry> {
        self.complete
            .iter()
            .find(|r| crate::registries::same_registry(&r.server, image_host))
    }
}

/// The registry triplets among the reaching secrets; `server_value(secret)` gives a
/// `_SERVER` secret's value (the caller opens only those).
///
/// The three secrets of a prefix may come from different levels. A `_SERVER` secret whose
/// value cannot be had (`None`) counts as missing, since the registry it names is unknown.
/// A name that is only a suffix (an empty prefix) belongs to no triplet.
pub fn registries(
    reaching: &[&SecretEntry],
    server_value: impl Fn(&SecretEntry) -> Option<String>,
) -> Registries {
    // Per prefix: the server value (once read) and whether the user and password are there.
    let mut found: BTreeMap<&str, [Option<Option<String>>; 3]> = BTreeMap::new();
    for secret in reaching {
        for (slot, suffix) in SUFFIXES.iter().enumerate() {
            let Some(prefix) = secret.name.strip_suffix(suffix) else {
                continue;
            };
            if prefix.is_empty() {
                continue;
            }
            let entry = found.entry(prefix).or_default();
            if entry[slot].is_none() {
                // Only the server's value matters, so only it is opened.
                entry[slot] = Some(if slot == 0 {
                    server_value(secret)
                } else {
                    None
                });
            }
        }
    }

    let mut result = Registries::default();
    for (prefix, [server, user, password]) in found {
        let server = server.flatten();
        let missing: Vec<String> = [server.is_some(), user.is_some(), password.is_some()]
            .iter()
            .zip(SUFFIXES)
            .filter(|(present, _)| !**present)
            .map(|(_, suffix)| format!("{prefix}{suffix}"))
            .collect();
        match server {
            Some(server) if missing.is_empty() => result.complete.push(Registry {
                server,
                secret_prefix: prefix.to_owned(),
            }),
            _ => result.incomplete.push(Incomplete {
                prefix: prefix.to_owned(),
                missing,
            }),
        }
    }
    result
}
