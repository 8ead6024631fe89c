//! Tests of combining several policies' constraints, and of the answers built on them.

use super::*;
use crate::machines::MachineCatalog;
use crate::policy::constraints::{
    codespace_limit_message, machine_refusal_message, no_machine_message,
    port_visibility_refusal_message,
};

fn machines(names: &[&str]) -> ConstraintSet {
    ConstraintSet {
        machine_types: Some(names.iter().map(|n| n.to_string()).collect()),
        ..Default::default()
    }
}

fn ports(list: &[PortVisibility]) -> ConstraintSet {
    ConstraintSet {
        port_visibility: Some(list.to_vec()),
        ..Default::default()
    }
}

fn limits(per_user: Option<u32>, idle: Option<u32>, retention_days: Option<u32>) -> ConstraintSet {
    ConstraintSet {
        max_codespaces_per_user: per_user,
        max_idle_timeout_minutes: idle,
        max_retention_period_days: retention_days,
        ..Default::default()
    }
}

/// Combines `(id, set)` pairs, each named `policy {id}`.
fn combine(sets: &[(i64, &ConstraintSet)]) -> CombinedLimits {
    let names: Vec<String> = sets.iter().map(|(id, _)| format!("policy {id}")).collect();
    CombinedLimits::combine(sets.iter().zip(&names).map(|((id, set), name)| Applicable {
        policy_id: *id,
        policy_name: name,
        constraints: set,
    }))
}

fn ids(policies: Vec<&PolicyRef>) -> Vec<i64> {
    policies.into_iter().map(|p| p.id).collect()
}

use PortVisibility::{Org, Private, Public};

#[test]
fn no_policies_allow_everything_and_cap_nothing() {
    let none = CombinedLimits::combine([]);
    assert_eq!(none, CombinedLimits::default());
    let catalog = MachineCatalog::default();
    assert_eq!(none.allowed_machines(catalog.machines()).len(), 5);
    assert!(none.is_machine_allowed("anything"));
    assert!(none.machine_policies().is_empty());
    assert!(none.may_create_codespace(1_000_000));
    assert_eq!(none.max_codespaces_per_user(), None);
    assert_eq!(
        none.idle_timeout_minutes(None),
        Capped {
            value: 30,
            capped_by: None
        }
    );
    assert_eq!(none.idle_timeout_minutes(Some(240)).value, 240);
    assert_eq!(none.retention_period_minutes(None).value, 43_200);
    assert_eq!(none.allowed_port_visibilities(), vec![Private, Org, Public]);
    // A policy with only other constraints does not restrict these either.
    let other = limits(None, Some(60), None);
    assert!(combine(&[(1, &other)]).is_machine_allowed("premiumLinux"));
}

#[test]
fn machine_types_intersect_across_policies() {
    let small = machines(&["basicLinux32gb", "standardLinux32gb"]);
    let standard = machines(&["standardLinux32gb", "premiumLinux"]);
    let combined = combine(&[(2, &standard), (1, &small)]);
    let catalog = MachineCatalog::default();
    let allowed: Vec<&str> = combined
        .allowed_machines(catalog.machines())
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(allowed, vec!["standardLinux32gb"]);
    assert!(combined.is_machine_allowed("standardLinux32gb"));
    assert!(combined.is_machine_allowed("STANDARDLINUX32GB"));
    assert!(!combined.is_machine_allowed("basicLinux32gb"));
    assert_eq!(ids(combined.machine_refused_by("basicLinux32gb")), vec![2]);
    assert_eq!(
        ids(combined.machine_refused_by("xLargePremiumLinux")),
        vec![1, 2]
    );
    assert_eq!(ids(combined.machine_policies()), vec![1, 2]);
}

#[test]
fn disjoint_machine_lists_allow_no_machine() {
    let a = machines(&["basicLinux32gb"]);
    let b = machines(&["premiumLinux"]);
    let combined = combine(&[(1, &a), (2, &b)]);
    let catalog = MachineCatalog::default();
    assert!(combined.allowed_machines(catalog.machines()).is_empty());
}

#[test]
fn each_limit_is_the_smallest_set_by_the_lowest_id_on_a_tie() {
    let a = limits(Some(5), Some(60), Some(7));
    let b = limits(Some(2), Some(120), None);
    let c = limits(Some(2), None, Some(3));
    let combined = combine(&[(9, &c), (4, &a), (6, &b)]);
    let per_user = combined.max_codespaces_per_user().unwrap();
    assert_eq!((per_user.value, per_user.policy.id), (2, 6));
    assert_eq!(per_user.policy.name, "policy 6");
    let idle = combined.max_idle_timeout_minutes().unwrap();
    assert_eq!((idle.value, idle.policy.id), (60, 4));
    let retention = combined.max_retention_period_days().unwrap();
    assert_eq!((retention.value, retention.policy.id), (3, 9));
}

#[test]
fn the_per_user_limit_counts_existing_codespaces() {
    let combined = combine(&[(1, &limits(Some(2), None, None))]);
    assert!(combined.may_create_codespace(0));
    assert!(combined.may_create_codespace(1));
    assert!(!combined.may_create_codespace(2));
    assert!(!combined.may_create_codespace(3));
}

#[test]
fn the_idle_timeout_is_the_smaller_of_the_choice_and_the_policies() {
    let combined = combine(&[(3, &limits(None, Some(20), None))]);
    assert_eq!(
        combined.idle_timeout_minutes(Some(10)),
        Capped {
            value: 10,
            capped_by: None
        }
    );
    assert_eq!(combined.idle_timeout_minutes(Some(20)).capped_by, None);
    assert_eq!(
        combined
            .idle_timeout_minutes(Some(10))
            .idle_timeout_notice(),
        None
    );
    let capped = combined.idle_timeout_minutes(Some(45));
    assert_eq!(capped.value, 20);
    assert_eq!(capped.capped_by.as_ref().map(|p| p.id), Some(3));
    assert_eq!(
        capped.idle_timeout_notice().as_deref(),
        Some("Idle timeout for this codespace is set to 20 minutes in compliance with your organization's policy.")
    );
    // The default (30 minutes) is capped too, with the notice.
    let default = combined.idle_timeout_minutes(None);
    assert_eq!(default.value, 20);
    assert!(default.idle_timeout_notice().is_some());
    let loose = combine(&[(3, &limits(None, Some(240), None))]);
    assert_eq!(loose.idle_timeout_minutes(None).value, 30);
    assert_eq!(loose.idle_timeout_minutes(None).capped_by, None);
}

#[test]
fn retention_in_days_caps_a_choice_in_minutes() {
    let combined = combine(&[(1, &limits(None, None, Some(1)))]);
    assert_eq!(combined.retention_period_minutes(Some(60)).value, 60);
    assert_eq!(
        combined.retention_period_minutes(Some(1440)).capped_by,
        None
    );
    let capped = combined.retention_period_minutes(Some(1441));
    assert_eq!(capped.value, 1440);
    assert_eq!(capped.capped_by.map(|p| p.id), Some(1));
    assert_eq!(combined.retention_period_minutes(None).value, 1440);
    let zero = combine(&[(1, &limits(None, None, Some(0)))]);
    assert_eq!(zero.retention_period_minutes(Some(5)).value, 0);
    assert_eq!(zero.retention_period_minutes(Some(0)).capped_by, None);
}

#[test]
fn port_visibilities_intersect_and_private_is_always_allowed() {
    let org_only = ports(&[Org]);
    let no_public = ports(&[Private, Org]);
    let private_only = ports(&[]);
    let combined = combine(&[(1, &org_only), (2, &no_public)]);
    assert_eq!(combined.allowed_port_visibilities(), vec![Private, Org]);
    assert!(combined.may_use_port_visibility(Private));
    assert!(!combined.may_use_port_visibility(Public));
    assert_eq!(ids(combined.port_visibility_refused_by(Public)), vec![1, 2]);
    let tighter = combine(&[(1, &org_only), (5, &private_only)]);
    assert_eq!(tighter.allowed_port_visibilities(), vec![Private]);
    assert_eq!(ids(tighter.port_visibility_refused_by(Org)), vec![5]);
}

#[test]
fn a_port_no_longer_allowed_falls_back_to_private_at_start() {
    let combined = combine(&[(1, &ports(&[Org]))]);
    assert_eq!(combined.port_visibility_at_start(Public), Private);
    assert_eq!(combined.port_visibility_at_start(Org), Org);
    assert_eq!(combined.port_visibility_at_start(Private), Private);
    assert_eq!(
        CombinedLimits::default().port_visibility_at_start(Public),
        Public
    );
}

#[test]
fn refusal_messages_name_what_was_refused_and_the_policies() {
    let a = PolicyRef {
        id: 1,
        name: "Small machines".into(),
    };
    let b = PolicyRef {
        id: 2,
        name: "Budget".into(),
    };
    let c = PolicyRef {
        id: 3,
        name: "Ports".into(),
    };
    assert_eq!(
        machine_refusal_message("premiumLinux", &[&a]),
        "Machine type 'premiumLinux' is not allowed based on the organization policy 'Small machines' set by your organization administrator."
    );
    assert_eq!(
        machine_refusal_message("premiumLinux", &[&a, &b, &c]),
        "Machine type 'premiumLinux' is not allowed based on the organization policies 'Small machines', 'Budget' and 'Ports' set by your organization administrator."
    );
    assert_eq!(
        port_visibility_refusal_message(Public, &[&c]),
        "Port visibility 'public' is not allowed based on the organization policy 'Ports' set by your organization administrator."
    );
    let limit = Limit {
        value: 2,
        policy: b.clone(),
    };
    assert_eq!(
        codespace_limit_message(&limit),
        "You already have the maximum of 2 codespaces billed to this organization allowed by the organization policy 'Budget' set by your organization administrator."
    );
    assert_eq!(
        no_machine_message(&"64 cpus", &[]),
        "No machine type meets this configuration's hostRequirements (64 cpus)."
    );
    assert_eq!(
        no_machine_message(&"64 cpus", &[&a, &b]),
        "No machine type allowed based on the organization policies 'Small machines' and 'Budget' set by your organization administrator meets this configuration's hostRequirements (64 cpus)."
    );
}
