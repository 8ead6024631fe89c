use super::*;
use crate::policy::constraints::Applicable;
use crate::policy::ConstraintSet;

fn limits(sets: &[(i64, ConstraintSet)]) -> CombinedLimits {
    CombinedLimits::combine(sets.iter().map(|(id, constraints)| Applicable {
        policy_id: *id,
        policy_name: "Machines",
        constraints,
    }))
}

fn machines(names: &[&str]) -> ConstraintSet {
    ConstraintSet {
        machine_types: Some(names.iter().map(|n| (*n).to_owned()).collect()),
        ..ConstraintSet::default()
    }
}

#[test]
fn without_policies_the_smallest_machine_and_the_defaults_are_chosen() {
    let placed = place(
        &CombinedLimits::default(),
        &MachineCatalog::github_linux(),
        &Choices::default(),
    )
    .unwrap();
    assert_eq!(placed.machine, "basicLinux32gb");
    assert_eq!(placed.limits.idle_timeout_minutes, 30);
    assert_eq!(placed.limits.retention_period_minutes, 43_200);
    assert_eq!(placed.limits.idle_timeout_notice, None);
    assert_eq!(placed.per_user_limit, None);
}

#[test]
fn host_requirements_pick_the_smallest_allowed_machine_that_meets_them() {
    let choices = Choices {
        host_requirements: HostRequirements {
            cpus: Some(4),
            ..HostRequirements::default()
        },
        ..Choices::default()
    };
    let catalog = MachineCatalog::github_linux();
    let open = place(&CombinedLimits::default(), &catalog, &choices).unwrap();
    assert_eq!(open.machine, "standardLinux32gb");
    let only_big = limits(&[(3, machines(&["premiumLinux", "basicLinux32gb"]))]);
    assert_eq!(
        place(&only_big, &catalog, &choices).unwrap().machine,
        "premiumLinux"
    );
    let only_small = limits(&[(3, machines(&["basicLinux32gb"]))]);
    let refused = place(&only_small, &catalog, &choices).unwrap_err();
    assert_eq!(refused.policy_ids, [3]);
    assert!(
        refused.message.contains("'Machines'") && refused.message.contains("4 cpus"),
        "{}",
        refused.message
    );
}

#[test]
fn a_chosen_machine_must_be_allowed_by_every_policy_and_meet_the_requirements() {
    let catalog = MachineCatalog::github_linux();
    let two = limits(&[
        (1, machines(&["basicLinux32gb", "premiumLinux"])),
        (2, machines(&["premiumLinux"])),
    ]);
    let choose = |name: &str| Choices {
        machine: Some(name.to_owned()),
        ..Choices::default()
    };
    assert_eq!(
        place(&two, &catalog, &choose("premiumLinux"))
            .unwrap()
            .machine,
        "premiumLinux"
    );
    let refused = place(&two, &catalog, &choose("basicLinux32gb")).unwrap_err();
    assert_eq!(refused.policy_ids, [2]);
    assert!(refused
        .message
        .starts_with("Machine type 'basicLinux32gb' is not allowed"));
    let small = Choices {
        host_requirements: HostRequirements {
            memory_in_bytes: Some(64 << 30),
            ..HostRequirements::default()
        },
        ..choose("premiumLinux")
    };
    let unmet = place(&CombinedLimits::default(), &catalog, &small).unwrap_err();
    assert!(unmet.policy_ids.is_empty());
    assert!(unmet.message.contains("does not meet"), "{}", unmet.message);
}

#[test]
fn limits_cap_the_users_choices_and_say_so() {
    let capped = limits(&[(
        5,
        ConstraintSet {
            max_idle_timeout_minutes: Some(60),
            max_retention_period_days: Some(1),
            max_codespaces_per_user: Some(2),
            ..ConstraintSet::default()
        },
    )]);
    let choices = Choices {
        idle_timeout_minutes: Some(120),
        retention_period_minutes: Some(10),
        ..Choices::default()
    };
    let placed = place(&capped, &MachineCatalog::github_linux(), &choices).unwrap();
    assert_eq!(placed.limits.idle_timeout_minutes, 60);
    assert_eq!(placed.limits.idle_timeout_requested, Some(120));
    assert_eq!(
        placed.limits.idle_timeout_notice.as_deref(),
        Some("Idle timeout for this codespace is set to 60 minutes in compliance with your organization's policy.")
    );
    // The user's smaller retention stands; nothing to say.
    assert_eq!(placed.limits.retention_period_minutes, 10);
    assert_eq!(placed.per_user_limit.map(|l| l.value), Some(2));
    assert!(placed
        .log
        .iter()
        .any(|l| l.contains("Idle timeout set to 60")));
    assert!(!placed.log.iter().any(|l| l.contains("Retention")));
}
