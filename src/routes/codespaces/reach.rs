//! What reaches a codespace, read from the store and decided by the pure rules of
//! `registries`: its secrets, its registries, and how its images would be pulled. Creation,
//! full rebuild, preflight and the orchestrator's read all come through here.

use std::collections::HashMap;
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::billing::Role;
use crate::error::ApiError;
use crate::registries::triplets::SERVER_SUFFIX;
use crate::registries::{
    access, ghcr_name, reaching_by, registries, Access, Images, Package, SecretEntry, Target,
};
use crate::secrets::value_aad;
use crate::state::AppState;
use crate::store::{CandidateSecret, Org, Repo, ValuesWanted};

/// Whose codespace: the user (when known) and their role in the repository's org.
#[derive(Debug, Clone, Copy)]
pub(super) struct Holder {
    pub user_id: Option<i64>,
    pub role: Option<Role>,
}

/// The candidate secrets for a codespace of `repo` for `holder`, level by level, with the
/// encrypted values `values` asks for; [`reaching`] picks those that reach it.
pub(super) async fn candidates(
    state: &AppState,
    org: &Org,
    repo: &Repo,
    holder: Holder,
    values: ValuesWanted,
) -> Result<Vec<Arc<Vec<CandidateSecret>>>, ApiError> {
    Ok(state
        .store
        .candidate_secrets(holder.user_id, org.id, repo.id, values)
        .await?)
}

/// Of the `levels`' candidates, those that reach a codespace of `repo` for `holder`, one per
/// name (the most specific level wins), sorted by name.
pub(super) fn reaching<'a>(
    levels: &'a [Arc<Vec<CandidateSecret>>],
    repo: &Repo,
    holder: Holder,
) -> Vec<&'a CandidateSecret> {
    let all: Vec<&CandidateSecret> = levels.iter().flat_map(|level| level.iter()).collect();
    reaching_by(&all, |c| &c.entry, &target(repo, holder))
        .into_iter()
        .copied()
        .collect()
}

/// Opens a secret's stored value; `None` when the read did not carry it.
pub(super) fn open(
    state: &AppState,
    secret: &CandidateSecret,
) -> Result<Option<Zeroizing<String>>, ApiError> {
    let Some(value) = &secret.value else {
        return Ok(None);
    };
    let entry = &secret.entry;
    let aad = value_aad(entry.level.as_str(), secret.owner_id, &entry.name);
    let opened = state.master_key.decrypt_string(&aad, value).map_err(|e| {
        // Names only: the error never carries a value or ciphertext.
        ApiError::Internal(format!("opening the stored secret {}: {e}", entry.name))
    })?;
    Ok(Some(opened))
}

/// How a codespace of `repo` for `holder` would pull `images`: the registries its secrets
/// make available, and each image's pull (the org's packages decide for its ghcr.io images).
pub(super) async fn access_for(
    state: &AppState,
    org: &Org,
    repo: &Repo,
    holder: Holder,
    images: Images<'_>,
) -> Result<Access, ApiError> {
    let levels = candidates(state, org, repo, holder, ValuesWanted::RegistryServers).await?;
    let reaching = reaching(&levels, repo, holder);
    // Only the servers are opened: they name the registries; users and passwords stay sealed.
    let mut servers: HashMap<&str, String> = HashMap::new();
    for secret in reaching
        .iter()
        .filter(|s| s.entry.name.ends_with(SERVER_SUFFIX))
    {
        if let Some(value) = open(state, secret)? {
            servers.insert(secret.entry.name.as_str(), value.as_str().to_owned());
        }
    }
    let entries: Vec<&SecretEntry> = reaching.iter().map(|s| &s.entry).collect();
    let found = registries(&entries, |e| servers.get(e.name.as_str()).cloned());
    let mut packages: Vec<Package> = Vec::new();
    for image in [images.configured, images.recovery] {
        let Some(name) = ghcr_name(image).filter(|n| n.org.eq_ignore_ascii_case(&org.login)) else {
            continue;
        };
        if let Some(package) = state.store.find_package(org.id, name.package).await? {
            packages.push(package);
        }
    }
    Ok(access(
        images,
        &org.login,
        &target(repo, holder),
        found,
        &packages,
    ))
}

fn target(repo: &Repo, holder: Holder) -> Target {
    Target {
        repo_id: repo.id,
        repo_visibility: repo.visibility,
        user_role: holder.role,
    }
}
