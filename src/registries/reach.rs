//! Which stored secrets reach a codespace: the visibility rules of each level, the role
//! the user needs for repository and organization secrets, and the precedence between
//! levels when one name is stored at several.

use std::collections::BTreeMap;

use crate::billing::Role;
use crate::registries::{Level, OrgSecretVisibility, RepoVisibility};

/// A stored secret as resolution sees it: no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretEntry {
    /// Where the secret is stored.
    pub level: Level,
    /// The upper-cased name, compared byte for byte.
    pub name: String,
    /// For organization secrets only; `None` elsewhere.
    pub visibility: Option<OrgSecretVisibility>,
    /// For user secrets, the repositories the user selected; for organization secrets with
    /// `selected` visibility, the repositories listed; ignored otherwise.
    pub selected_repo_ids: Vec<i64>,
}

/// The codespace being resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The codespace's repository.
    pub repo_id: i64,
    /// That repository's visibility.
    pub repo_visibility: RepoVisibility,
    /// The user's role in the repository's org; `None` when they have none.
    pub user_role: Option<Role>,
}

/// Of the candidate secrets (the user's, the repository's and the org's, in any order),
/// those that reach the target, one per name, the most specific level winning; sorted by
/// name.
///
/// A secret that does not reach the target never shadows one that does, so a user secret
/// not selected for this repository leaves the repository's secret of that name in place.
/// Of two reaching candidates with the same name and level, the first one given is kept.
pub fn reaching<'a>(candidates: &'a [SecretEntry], target: &Target) -> Vec<&'a SecretEntry> {
    reaching_by(candidates, |c| c, target)
}

/// [`reaching`] over records that each hold a [`SecretEntry`] (`entry` finds it), so a
/// caller keeps what it read alongside (an owner id, an encrypted value).
pub fn reaching_by<'a, T>(
    candidates: &'a [T],
    entry: impl Fn(&T) -> &SecretEntry,
    target: &Target,
) -> Vec<&'a T> {
    let mut by_name: BTreeMap<&str, &T> = BTreeMap::new();
    for candidate in candidates.iter().filter(|c| reaches(entry(c), target)) {
        let secret = entry(candidate);
        by_name
            .entry(secret.name.as_str())
            .and_modify(|kept| {
                if secret.level.specificity_rank() < entry(*kept).level.specificity_rank() {
                    *kept = candidate;
                }
            })
            .or_insert(candidate);
    }
    by_name.into_values().collect()
}

/// Whether one secret, on its own, reaches the target.
pub fn reaches(secret: &SecretEntry, target: &Target) -> bool {
    match secret.level {
        // The user's own secrets follow the user, whatever their role in the org.
        Level::User => secret.selected_repo_ids.contains(&target.repo_id),
        // Owners, members and outside collaborators all count: each can work in the repository.
        Level::Repository => target.user_role.is_some(),
        Level::Organization => target.user_role.is_some() && org_visibility_allows(secret, target),
    }
}

/// Whether an organization secret's visibility includes the target's repository.
fn org_visibility_allows(secret: &SecretEntry, target: &Target) -> bool {
    match secret.visibility {
        Some(OrgSecretVisibility::All) => true,
        Some(OrgSecretVisibility::Private) => matches!(
            target.repo_visibility,
            RepoVisibility::Private | RepoVisibility::Internal
        ),
        Some(OrgSecretVisibility::Selected) => secret.selected_repo_ids.contains(&target.repo_id),
        // An organization secret stored without a visibility is malformed: fail closed.
        None => false,
    }
}
