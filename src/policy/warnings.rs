//! Authoring warnings: what a policy says that does not do what its author likely meant.
//! They are computed from the org's policies as they stand, never block a save, and judge
//! report-only policies as they will be once enforced, since that is what an owner rolls
//! out towards.

use std::collections::{BTreeMap, BTreeSet};

use super::allowed_value::AllowedValue;
use super::constraint_warnings::constraint_warnings;
use super::effective::AllowedList;
use super::policy_set::{PolicyRules, Target};

/// Most `empty_intersection` warnings one policy carries, one per repository; the last
/// one then says how many more repositories are concerned.
const MAX_EMPTY_REPOSITORIES: usize = 10;

/// Which kind of surprise a warning points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    /// A prefix whose `*` does not follow `/`, `:` or `@`, so that it allows neighbours.
    UnanchoredPrefix,
    /// A value of a selected-repositories policy the org-wide policies never allow.
    NoEffect,
    /// A value another value of the same policy already covers.
    Redundant,
    /// A repository the policy applies to where no image at all is allowed.
    EmptyIntersection,
    /// A repository (or the whole org) where the policies' machine types share none.
    EmptyMachineTypes,
    /// `max_retention_period_days` of 0: a codespace is deleted as soon as it stops.
    ZeroRetention,
}

/// One warning on one policy.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Warning {
    pub code: WarningCode,
    pub message: String,
    /// The allowed value concerned, as written, when the warning is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// The warnings of every policy of an org, by policy id (policies without any are absent).
/// `names` gives a repository's name as written for its lowercased key; `machines` are the
/// catalog's machine names.
pub fn warnings(
    policies: &[PolicyRules],
    names: &BTreeMap<String, String>,
    machines: &[&str],
) -> BTreeMap<i64, Vec<Warning>> {
    let constraining: Vec<(&PolicyRules, AllowedList)> = policies
        .iter()
        .filter_map(|p| Some((p, AllowedList::new(p.base_images.as_deref()?))))
        .collect();
    let org_wide: Vec<&(&PolicyRules, AllowedList)> = constraining
        .iter()
        .filter(|(p, _)| p.target == Target::AllRepositories)
        .collect();
    let org_wide_rules: Vec<&PolicyRules> = org_wide.iter().map(|(p, _)| *p).collect();
    let everywhere = intersection(org_wide.iter().map(|(_, list)| list));
    let mut found: BTreeMap<i64, Vec<Warning>> = BTreeMap::new();
    for (policy, list) in &constraining {
        let values = policy.base_images.as_deref().unwrap_or_default();
        let out = found.entry(policy.id).or_default();
        out.extend(values.iter().filter_map(unanchored));
        out.extend(redundant(values, list));
        if let (Target::SelectedRepositories(_), Some(everywhere)) = (&policy.target, &everywhere) {
            out.extend(no_effect(
                values,
                everywhere,
                &org_wide_rules,
                policy,
                names,
            ));
        }
    }
    let nothing_anywhere = everywhere.as_ref().is_some_and(AllowedList::is_empty);
    for (repository, concerned) in
        empty_repositories(&constraining, &org_wide_rules, everywhere.as_ref())
    {
        // When nothing is allowed anywhere, the org-wide policies say so once, not once
        // for every repository a selected policy names.
        let warned = concerned.iter().filter(|p| {
            repository.is_none() || !nothing_anywhere || p.target != Target::AllRepositories
        });
        for policy in warned {
            let out = found.entry(policy.id).or_default();
            let count = out
                .iter()
                .filter(|w| w.code == WarningCode::EmptyIntersection)
                .count();
            if count < MAX_EMPTY_REPOSITORIES {
                out.push(empty(repository.as_deref(), &concerned, names));
            }
        }
    }
    constraint_warnings(policies, machines, names, &mut found);
    found.retain(|_, list| !list.is_empty());
    found
}

/// The intersection of `lists`, or `None` when there are none.
fn intersection<'a>(mut lists: impl Iterator<Item = &'a AllowedList>) -> Option<AllowedList> {
    let first = lists.next()?.clone();
    Some(lists.fold(first, |so_far, list| so_far.intersect(list)))
}

fn unanchored(value: &AllowedValue) -> Option<Warning> {
    if !value.is_prefix() || value.prefix().ends_with(['/', ':', '@']) {
        return None;
    }
    let message = if value.prefix().is_empty() {
        "'*' allows every image, so the policy restricts nothing.".to_owned()
    } else {
        format!(
            "'{v}' also allows neighbours such as '{p}-evil/x': a prefix should end with '/', ':' or '@' before its '*'.",
            v = value.as_str(),
            p = value.prefix()
        )
    };
    Some(warning(WarningCode::UnanchoredPrefix, message, value))
}

/// Values that another value of the same policy already allows, and repeats.
fn redundant<'a>(
    values: &'a [AllowedValue],
    list: &'a AllowedList,
) -> impl Iterator<Item = Warning> + 'a {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    values.iter().filter_map(move |value| {
        if !seen.insert(value.as_str()) {
            let message = format!("'{}' is listed more than once.", value.as_str());
            return Some(warning(WarningCode::Redundant, message, value));
        }
        let by = list.covering_prefix(value.prefix()).filter(|p| {
            // A prefix covers itself; only another, shorter one makes it redundant.
            !value.is_prefix() || p.len() < value.prefix().len()
        })?;
        let message = format!(
            "'{}' is redundant: '{by}*' in the same policy already allows it.",
            value.as_str()
        );
        Some(warning(WarningCode::Redundant, message, value))
    })
}

/// Values of a selected-repositories policy that no image the org-wide policies allow
/// matches: the seed's "Specifying additional images for Repository A will have no effect".
fn no_effect<'a>(
    values: &'a [AllowedValue],
    everywhere: &'a AllowedList,
    org_wide: &[&PolicyRules],
    policy: &PolicyRules,
    names: &BTreeMap<String, String>,
) -> Vec<Warning> {
    let repositories = match &policy.target {
        Target::SelectedRepositories(keys) => keys
            .iter()
            .map(|k| quoted(name(names, k)))
            .collect::<Vec<_>>(),
        Target::AllRepositories => return Vec::new(),
    };
    values
        .iter()
        .filter(|value| !everywhere.overlaps(value))
        .map(|value| {
            let message = format!(
                "Specifying '{}' for {} will have no effect because it is not allowed by the organization-wide {}.",
                value.as_str(),
                repositories.join(", "),
                policy_names(org_wide)
            );
            warning(WarningCode::NoEffect, message, value)
        })
        .collect()
}

/// The repositories where the applicable policies allow nothing in common, each with
/// those policies: `None` stands for every repository no selected policy names.
fn empty_repositories<'a>(
    constraining: &'a [(&'a PolicyRules, AllowedList)],
    org_wide: &[&'a PolicyRules],
    everywhere: Option<&AllowedList>,
) -> Vec<(Option<String>, Vec<&'a PolicyRules>)> {
    let mut by_repository: BTreeMap<&str, Vec<&(&PolicyRules, AllowedList)>> = BTreeMap::new();
    for entry in constraining {
        if let Target::SelectedRepositories(keys) = &entry.0.target {
            for key in keys {
                by_repository.entry(key.as_str()).or_default().push(entry);
            }
        }
    }
    let mut empty = Vec::new();
    if everywhere.is_some_and(AllowedList::is_empty) {
        empty.push((None, org_wide.to_vec()));
    }
    for (key, selected) in by_repository {
        let lists = everywhere
            .into_iter()
            .chain(selected.iter().map(|(_, l)| l));
        if intersection(lists).is_some_and(|l| l.is_empty()) {
            let mut concerned = org_wide.to_vec();
            concerned.extend(selected.iter().map(|(p, _)| *p));
            concerned.sort_by_key(|p| p.id);
            concerned.dedup_by_key(|p| p.id);
            empty.push((Some(key.to_owned()), concerned));
        }
    }
    empty
}

fn empty(
    repository: Option<&str>,
    concerned: &[&PolicyRules],
    names: &BTreeMap<String, String>,
) -> Warning {
    let place = match repository {
        Some(key) => format!("repository {}", quoted(name(names, key))),
        None => "any repository of the organization".to_owned(),
    };
    let message = if concerned.len() == 1 {
        format!(
            "No image at all is allowed in {place}: {} allows no image.",
            policy_names(concerned)
        )
    } else {
        format!(
            "No image at all is allowed in {place}: {} have no allowed image in common.",
            policy_names(concerned)
        )
    };
    Warning {
        code: WarningCode::EmptyIntersection,
        message,
        value: None,
    }
}

fn warning(code: WarningCode, message: String, value: &AllowedValue) -> Warning {
    Warning {
        code,
        message,
        value: Some(value.as_str().to_owned()),
    }
}

/// "policy 'Org images' (1)" or "policies 'A' (1), 'B' (2)".
fn policy_names(policies: &[&PolicyRules]) -> String {
    let named: Vec<String> = policies
        .iter()
        .map(|p| format!("'{}' ({})", p.name, p.id))
        .collect();
    match named.len() {
        1 => format!("policy {}", named[0]),
        _ => format!("policies {}", named.join(", ")),
    }
}

fn name<'a>(names: &'a BTreeMap<String, String>, key: &'a str) -> &'a str {
    names.get(key).map_or(key, String::as_str)
}

fn quoted(text: &str) -> String {
    format!("'{text}'")
}

#[cfg(test)]
#[path = "warnings_tests.rs"]
mod tests;
