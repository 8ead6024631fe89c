//! Properties of combining: the order of the policies does not matter, and another policy
//! can only narrow what is allowed.

use proptest::prelude::*;
use proptest::sample::subsequence;
use proptest::test_runner::Config;

use super::*;
use crate::machines::MachineCatalog;

const NAMES: [&str; 5] = [
    "basicLinux32gb",
    "standardLinux32gb",
    "premiumLinux",
    "largePremiumLinux",
    "xLargePremiumLinux",
];

fn constraint_set() -> impl Strategy<Value = ConstraintSet> {
    (
        proptest::option::of(subsequence(NAMES.to_vec(), 1..=5)),
        proptest::option::of(1u32..=100),
        proptest::option::of(5u32..=240),
        proptest::option::of(0u32..=30),
        proptest::option::of(subsequence(PortVisibility::ALL.to_vec(), 0..=3)),
    )
        .prop_map(|(machines, per_user, idle, days, ports)| ConstraintSet {
            machine_types: machines.map(|m| m.into_iter().map(str::to_owned).collect()),
            max_codespaces_per_user: per_user,
            max_idle_timeout_minutes: idle,
            max_retention_period_days: days,
            port_visibility: ports,
        })
}

fn combine(sets: &[ConstraintSet], order: &[usize]) -> CombinedLimits {
    CombinedLimits::combine(order.iter().map(|&i| Applicable {
        policy_id: i as i64,
        policy_name: "p",
        constraints: &sets[i],
    }))
}

proptest! {
    #![proptest_config(Config { cases: 200, failure_persistence: None, ..Config::default() })]

    #[test]
    fn order_does_not_matter_and_more_policies_only_narrow(
        sets in proptest::collection::vec(constraint_set(), 0..5),
        idle in proptest::option::of(5u32..=240),
        retention in proptest::option::of(0u32..=43_200),
    ) {
        let forward: Vec<usize> = (0..sets.len()).collect();
        let backward: Vec<usize> = forward.iter().rev().copied().collect();
        let all = combine(&sets, &forward);
        prop_assert_eq!(&all, &combine(&sets, &backward));

        let catalog = MachineCatalog::default();
        let fewer = combine(&sets, &forward[..sets.len().saturating_sub(1)]);
        for machine in all.allowed_machines(catalog.machines()) {
            prop_assert!(fewer.is_machine_allowed(&machine.name));
        }
        for visibility in all.allowed_port_visibilities() {
            prop_assert!(fewer.may_use_port_visibility(visibility));
        }
        prop_assert!(all.may_use_port_visibility(PortVisibility::Private));
        let (a, f) = (all.idle_timeout_minutes(idle), fewer.idle_timeout_minutes(idle));
        prop_assert!(a.value <= f.value);
        prop_assert!(a.value <= idle.unwrap_or(DEFAULT_IDLE_TIMEOUT_MINUTES));
        prop_assert_eq!(a.capped_by.is_some(), a.value < idle.unwrap_or(DEFAULT_IDLE_TIMEOUT_MINUTES));
        let (a, f) = (all.retention_period_minutes(retention), fewer.retention_period_minutes(retention));
        prop_assert!(a.value <= f.value);
        for existing in 0..=100u64 {
            prop_assert!(!all.may_create_codespace(existing) || fewer.may_create_codespace(existing));
        }
    }
}
