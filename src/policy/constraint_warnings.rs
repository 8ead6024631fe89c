//! Authoring warnings about the constraints beside base images: machine types that leave a
//! repository no machine at all, a retention of 0 days (a codespace deleted as soon as it
//! stops), and what a selected-repositories policy sets that the org-wide policies already
//! forbid or undercut (`no_effect`). Judged, like the base-image warnings, with report-only
//! policies taken as they will be once enforced.

use std::collections::{BTreeMap, BTreeSet};

use super::constraints::{ConstraintSet, PortVisibility};
use super::policy_set::{PolicyRules, Target};
use super::warnings::{Warning, WarningCode};

/// The constraint warnings of each policy, added to `found` by policy id. `machines` are
/// the catalog's names; `names` a repository's name as written for its lowercased key.
pub(super) fn constraint_warnings(
    policies: &[PolicyRules],
    machines: &[&str],
    names: &BTreeMap<String, String>,
    found: &mut BTreeMap<i64, Vec<Warning>>,
) {
    for policy in policies {
        if policy.constraints.max_retention_period_days == Some(0) {
            found.entry(policy.id).or_default().push(Warning {
                code: WarningCode::ZeroRetention,
                message: "A retention period of 0 days deletes a codespace as soon as it stops, \
                          with any work not pushed."
                    .to_owned(),
                value: None,
            });
        }
    }
    let all_repositories: Vec<&PolicyRules> = policies
        .iter()
        .filter(|p| p.target == Target::AllRepositories)
        .collect();
    for policy in policies
        .iter()
        .filter(|p| p.target != Target::AllRepositories)
    {
        let warned = no_effect(policy, &all_repositories);
        if !warned.is_empty() {
            found.entry(policy.id).or_default().extend(warned);
        }
    }
    let listing: Vec<&PolicyRules> = policies
        .iter()
        .filter(|p| p.constraints.machine_types.is_some())
        .collect();
    let org_wide: Vec<&PolicyRules> = listing
        .iter()
        .copied()
        .filter(|p| p.target == Target::AllRepositories)
        .collect();
    // Each repository a selected policy names, and the org as a whole (`None`).
    let mut places: BTreeMap<Option<&str>, Vec<&PolicyRules>> = BTreeMap::new();
    if !org_wide.is_empty() {
        places.insert(None, org_wide.clone());
    }
    for policy in &listing {
        if let Target::SelectedRepositories(repos) = &policy.target {
            for repo in repos {
                let concerned = places
                    .entry(Some(repo.as_str()))
                    .or_insert_with(|| org_wide.clone());
                if !concerned.iter().any(|p| p.id == policy.id) {
                    concerned.push(policy);
                }
            }
        }
    }
    for (repository, concerned) in places {
        if !allows_none(&concerned, machines) {
            continue;
        }
        let place = match repository {
            None => "any repository".to_owned(),
            Some(key) => format!("'{}'", names.get(key).map_or(key, String::as_str)),
        };
        let ids: Vec<String> = concerned.iter().map(|p| p.id.to_string()).collect();
        for policy in &concerned {
            // The org-wide emptiness is said once, on the org-wide policies.
            if repository.is_some() && policy.target == Target::AllRepositories {
                continue;
            }
            found.entry(policy.id).or_default().push(Warning {
                code: WarningCode::EmptyMachineTypes,
                message: format!(
                    "No machine type is allowed in {place}: the machine types of policies {} have none in common.",
                    ids.join(", ")
                ),
                value: None,
            });
        }
    }
}

/// Reads one limit of a policy's constraints.
type LimitOf = fn(&ConstraintSet) -> Option<u32>;

/// What a selected-repositories policy sets that can change nothing: machine types or port
/// visibilities an org-wide policy does not allow, and limits no smaller than an org-wide one.
fn no_effect(policy: &PolicyRules, org_wide: &[&PolicyRules]) -> Vec<Warning> {
    let mut out = Vec::new();
    let own = &policy.constraints;
    for name in own.machine_types.iter().flatten() {
        let refusing = org_wide.iter().find(|o| {
            o.constraints
                .machine_types
                .as_ref()
                .is_some_and(|list| !list.iter().any(|n| n.eq_ignore_ascii_case(name)))
        });
        if let Some(o) = refusing {
            out.push(Warning {
                code: WarningCode::NoEffect,
                message: format!(
                    "Specifying machine type '{name}' will have no effect because it is not allowed by the organization-wide policy '{}'.",
                    o.name
                ),
                value: Some(name.clone()),
            });
        }
    }
    for visibility in own.port_visibility.iter().flatten() {
        let refusing = org_wide.iter().find(|o| {
            o.constraints.port_visibility.as_ref().is_some_and(|list| {
                *visibility != PortVisibility::Private && !list.contains(visibility)
            })
        });
        if let Some(o) = refusing {
            out.push(Warning {
                code: WarningCode::NoEffect,
                message: format!(
                    "Specifying port visibility '{visibility}' will have no effect because it is not allowed by the organization-wide policy '{}'.",
                    o.name
                ),
                value: Some(visibility.as_str().to_owned()),
            });
        }
    }
    let limits: [(&str, LimitOf); 2] = [
        ("max_idle_timeout_minutes", |c| c.max_idle_timeout_minutes),
        ("max_retention_period_days", |c| c.max_retention_period_days),
    ];
    for (field, get) in limits {
        let Some(value) = get(own) else { continue };
        let lower = org_wide
            .iter()
            .filter_map(|o| get(&o.constraints).map(|v| (v, *o)))
            .min_by_key(|(v, o)| (*v, o.id));
        if let Some((smaller, o)) = lower.filter(|(v, _)| *v <= value) {
            out.push(Warning {
                code: WarningCode::NoEffect,
                message: format!(
                    "{field} {value} will have no effect because the organization-wide policy '{}' already sets {smaller}.",
                    o.name
                ),
                value: None,
            });
        }
    }
    out
}

/// Whether no catalog machine is listed by every one of `policies`.
fn allows_none(policies: &[&PolicyRules], machines: &[&str]) -> bool {
    let lists: Vec<BTreeSet<String>> = policies
        .iter()
        .filter_map(|p| p.constraints.machine_types.as_ref())
        .map(|names| names.iter().map(|n| n.to_ascii_lowercase()).collect())
        .collect();
    !machines.iter().any(|machine| {
        let key = machine.to_ascii_lowercase();
        lists.iter().all(|list| list.contains(&key))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::ConstraintSet;

    const MACHINES: [&str; 3] = ["basicLinux32gb", "standardLinux32gb", "premiumLinux"];

    fn policy(id: i64, repos: Option<&[&str]>, constraints: ConstraintSet) -> PolicyRules {
        PolicyRules {
            id,
            name: format!("P{id}"),
            target: match repos {
                None => Target::AllRepositories,
                Some(repos) => {
                    Target::SelectedRepositories(repos.iter().map(|r| (*r).to_owned()).collect())
                }
            },
            enforcement: Default::default(),
            base_images: None,
            constraints,
        }
    }

    fn machines(names: &[&str]) -> ConstraintSet {
        ConstraintSet {
            machine_types: Some(names.iter().map(|n| (*n).to_owned()).collect()),
            ..ConstraintSet::default()
        }
    }

    fn codes(found: &BTreeMap<i64, Vec<Warning>>, id: i64) -> Vec<WarningCode> {
        found
            .get(&id)
            .map(|list| list.iter().map(|w| w.code).collect())
            .unwrap_or_default()
    }

    fn judge(policies: &[PolicyRules]) -> BTreeMap<i64, Vec<Warning>> {
        let names = BTreeMap::from([("repo-a".to_owned(), "Repo-A".to_owned())]);
        let mut found = BTreeMap::new();
        constraint_warnings(policies, &MACHINES, &names, &mut found);
        found
    }

    #[test]
    fn machine_types_sharing_none_warn_the_policies_concerned_once() {
        let found = judge(&[
            policy(1, None, machines(&["basicLinux32gb"])),
            policy(2, Some(&["repo-a"]), machines(&["premiumLinux"])),
            policy(3, Some(&["repo-b"]), machines(&["basicLinux32gb"])),
        ]);
        assert_eq!(codes(&found, 1), []);
        // premiumLinux is one the org-wide policy never allows, and nothing is left.
        assert_eq!(
            codes(&found, 2),
            [WarningCode::NoEffect, WarningCode::EmptyMachineTypes]
        );
        assert_eq!(codes(&found, 3), []);
        assert!(found[&2][1].message.contains("'Repo-A'"), "{:?}", found[&2]);
        let org_wide = judge(&[
            policy(1, None, machines(&["basicLinux32gb"])),
            policy(4, None, machines(&["PREMIUMLINUX"])),
        ]);
        assert_eq!(codes(&org_wide, 1), [WarningCode::EmptyMachineTypes]);
        assert_eq!(codes(&org_wide, 4), [WarningCode::EmptyMachineTypes]);
        // Names the catalog lacks allow nothing either.
        let unknown = judge(&[policy(5, None, machines(&["gone"]))]);
        assert_eq!(codes(&unknown, 5), [WarningCode::EmptyMachineTypes]);
        let shared = judge(&[
            policy(1, None, machines(&["basicLinux32gb", "premiumLinux"])),
            policy(2, Some(&["repo-a"]), machines(&["premiumlinux"])),
        ]);
        assert!(shared.is_empty(), "{shared:?}");
    }

    #[test]
    fn a_selected_policy_setting_what_the_org_wide_ones_forbid_or_undercut_has_no_effect() {
        let org = ConstraintSet {
            machine_types: Some(vec!["basicLinux32gb".into(), "premiumLinux".into()]),
            max_idle_timeout_minutes: Some(60),
            port_visibility: Some(vec![PortVisibility::Org]),
            ..ConstraintSet::default()
        };
        let selected = ConstraintSet {
            machine_types: Some(vec!["premiumLinux".into(), "standardLinux32gb".into()]),
            max_idle_timeout_minutes: Some(60),
            max_retention_period_days: Some(5),
            port_visibility: Some(vec![PortVisibility::Private, PortVisibility::Public]),
            ..ConstraintSet::default()
        };
        let found = judge(&[policy(1, None, org), policy(2, Some(&["repo-a"]), selected)]);
        let values: Vec<(WarningCode, Option<&str>)> = found[&2]
            .iter()
            .map(|w| (w.code, w.value.as_deref()))
            .collect();
        assert_eq!(
            values,
            [
                (WarningCode::NoEffect, Some("standardLinux32gb")),
                (WarningCode::NoEffect, Some("public")),
                (WarningCode::NoEffect, None),
            ]
        );
        assert!(found[&2][2]
            .message
            .starts_with("max_idle_timeout_minutes 60 will have no effect"));
        assert!(!found.contains_key(&1), "{found:?}");
    }

    #[test]
    fn a_retention_of_zero_days_warns_and_one_day_does_not() {
        let zero = ConstraintSet {
            max_retention_period_days: Some(0),
            ..ConstraintSet::default()
        };
        let one = ConstraintSet {
            max_retention_period_days: Some(1),
            ..ConstraintSet::default()
        };
        let found = judge(&[policy(1, None, zero), policy(2, None, one)]);
        assert_eq!(codes(&found, 1), [WarningCode::ZeroRetention]);
        assert_eq!(codes(&found, 2), []);
    }
}
