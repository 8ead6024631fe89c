use chrono::TimeZone;

use super::*;
use crate::policy::constraints::{Applicable, PortVisibility};
use crate::policy::{ConstraintSet, ImageSource};
use crate::store::LifeLimits;

const SMALL: &str = "basicLinux32gb";
const MEDIUM: &str = "standardLinux32gb";

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0).unwrap()
}

fn port(port: u16, visibility: PortVisibility) -> ForwardedPort {
    ForwardedPort { port, visibility }
}

/// A stopped codespace of octo-org/repo-a on `SMALL`, whose user asked for 120 minutes
/// of idle timeout and got 60 from a policy, with ports 3000 (public) and 8080 (org).
fn stopped() -> Codespace {
    Codespace {
        id: "cs_01JD00000000000000000000AA".into(),
        org_id: 1,
        repo_id: 1,
        repository: "octo-org/Repo-A".into(),
        user: "mona".into(),
        billable_owner: "octo-org".into(),
        image: "node:18".into(),
        image_source: ImageSource::Image,
        recovery_mode: false,
        creation_log: Vec::new(),
        registries: Vec::new(),
        billed_to_org: true,
        machine: Some(SMALL.into()),
        state: CodespaceState::Shutdown,
        limits: LifeLimits {
            idle_timeout_minutes: 60,
            idle_timeout_requested: Some(120),
            idle_timeout_notice: Some(crate::policy::constraints::idle_timeout_notice(60)),
            retention_period_minutes: 1_440,
        },
        retention_expires_at: Some(at(10)),
        ports: vec![
            port(3000, PortVisibility::Public),
            port(8080, PortVisibility::Org),
        ],
        created_at: at(8),
        updated_at: at(9),
    }
}

fn running() -> Codespace {
    Codespace {
        state: CodespaceState::Available,
        retention_expires_at: None,
        ..stopped()
    }
}

fn limits(sets: &[(i64, ConstraintSet)]) -> CombinedLimits {
    CombinedLimits::combine(sets.iter().map(|(id, constraints)| Applicable {
        policy_id: *id,
        policy_name: "Life",
        constraints,
    }))
}

fn catalog() -> MachineCatalog {
    MachineCatalog::github_linux()
}

#[test]
fn a_stop_sets_the_deadline_from_the_retention_and_a_second_stop_changes_nothing() {
    let life = stop(&running(), at(12)).unwrap();
    assert_eq!(life.state, CodespaceState::Shutdown);
    assert_eq!(life.retention_expires_at, Some(at(12) + Duration::days(1)));
    assert_eq!(life.machine.as_deref(), Some(SMALL));
    assert_eq!(life.ports, running().ports);
    assert_eq!(stop(&stopped(), at(12)), None);
}

#[test]
fn a_start_without_policies_keeps_the_machine_and_ports_and_lifts_the_cap() {
    let life = start(&stopped(), &CombinedLimits::default(), &catalog(), None)
        .unwrap()
        .unwrap();
    assert_eq!(life.state, CodespaceState::Available);
    assert_eq!(life.retention_expires_at, None);
    assert_eq!(life.machine.as_deref(), Some(SMALL));
    assert_eq!(
        life.limits.idle_timeout_minutes, 120,
        "the user's own choice"
    );
    assert_eq!(life.limits.idle_timeout_notice, None);
    assert_eq!(
        life.limits.retention_period_minutes, 1_440,
        "never re-applied"
    );
    assert_eq!(life.ports, stopped().ports);
}

#[test]
fn a_start_refuses_a_machine_the_policies_no_longer_allow_naming_them() {
    let only_medium = limits(&[(
        4,
        ConstraintSet {
            machine_types: Some(vec![MEDIUM.into()]),
            ..ConstraintSet::default()
        },
    )]);
    let refused = start(&stopped(), &only_medium, &catalog(), None).unwrap_err();
    assert_eq!(
        refused,
        LifeRefusal::Refused {
            message: machine_refusal_message(
                SMALL,
                &[&crate::policy::constraints::PolicyRef {
                    id: 4,
                    name: "Life".into()
                }]
            ),
            policy_ids: vec![4],
        }
    );
    let moved = start(&stopped(), &only_medium, &catalog(), Some(MEDIUM))
        .unwrap()
        .unwrap();
    assert_eq!(moved.machine.as_deref(), Some(MEDIUM), "the body's machine");
}

#[test]
fn a_start_without_a_machine_gets_the_smallest_allowed_one() {
    let legacy = Codespace {
        machine: None,
        ..stopped()
    };
    let open = start(&legacy, &CombinedLimits::default(), &catalog(), None).unwrap();
    assert_eq!(open.unwrap().machine.as_deref(), Some(SMALL));
    let big = limits(&[(
        2,
        ConstraintSet {
            machine_types: Some(vec!["premiumLinux".into(), MEDIUM.into()]),
            ..ConstraintSet::default()
        },
    )]);
    let placed = start(&legacy, &big, &catalog(), None).unwrap().unwrap();
    assert_eq!(placed.machine.as_deref(), Some(MEDIUM));
    let none = limits(&[(
        2,
        ConstraintSet {
            machine_types: Some(vec!["gpuLinux".into()]),
            ..ConstraintSet::default()
        },
    )]);
    let refused = start(&legacy, &none, &catalog(), None).unwrap_err();
    assert!(
        matches!(&refused, LifeRefusal::Refused { policy_ids, .. } if policy_ids == &[2]),
        "{refused:?}"
    );
}

#[test]
fn a_start_caps_the_idle_timeout_again_and_makes_refused_ports_private() {
    let strict = limits(&[(
        7,
        ConstraintSet {
            max_idle_timeout_minutes: Some(15),
            port_visibility: Some(vec![PortVisibility::Org]),
            ..ConstraintSet::default()
        },
    )]);
    let life = start(&stopped(), &strict, &catalog(), None)
        .unwrap()
        .unwrap();
    assert_eq!(life.limits.idle_timeout_minutes, 15);
    assert_eq!(
        life.limits.idle_timeout_notice.as_deref(),
        Some(crate::policy::constraints::idle_timeout_notice(15).as_str())
    );
    assert_eq!(
        life.ports,
        [
            port(3000, PortVisibility::Private),
            port(8080, PortVisibility::Org)
        ]
    );
}

#[test]
fn starting_a_running_codespace_changes_nothing_unless_it_asks_for_another_machine() {
    let none = CombinedLimits::default();
    assert_eq!(start(&running(), &none, &catalog(), None), Ok(None));
    assert_eq!(start(&running(), &none, &catalog(), Some(SMALL)), Ok(None));
    let conflict = start(&running(), &none, &catalog(), Some(MEDIUM)).unwrap_err();
    assert!(matches!(conflict, LifeRefusal::Conflict(_)), "{conflict:?}");
}

#[test]
fn a_port_is_added_in_order_changed_or_left_as_it_is() {
    let none = CombinedLimits::default();
    let added = forward_port(&running(), &none, port(5000, PortVisibility::Public))
        .unwrap()
        .unwrap();
    let numbers: Vec<u16> = added.ports.iter().map(|p| p.port).collect();
    assert_eq!(numbers, [3000, 5000, 8080]);
    let changed = forward_port(&running(), &none, port(8080, PortVisibility::Private))
        .unwrap()
        .unwrap();
    assert_eq!(changed.ports[1], port(8080, PortVisibility::Private));
    assert_eq!(
        forward_port(&running(), &none, port(8080, PortVisibility::Org)),
        Ok(None)
    );
}

#[test]
fn a_port_visibility_the_policies_refuse_is_refused_but_private_never_is() {
    let private_only = limits(&[(
        9,
        ConstraintSet {
            port_visibility: Some(Vec::new()),
            ..ConstraintSet::default()
        },
    )]);
    let refused = forward_port(&running(), &private_only, port(5000, PortVisibility::Org));
    assert!(
        matches!(&refused, Err(LifeRefusal::Refused { message, policy_ids })
            if policy_ids == &[9] && message.contains("'org'") && message.contains("'Life'")),
        "{refused:?}"
    );
    let private = forward_port(
        &running(),
        &private_only,
        port(5000, PortVisibility::Private),
    );
    assert!(private.unwrap().is_some());
}

#[test]
fn a_codespace_forwards_at_most_the_documented_number_of_ports() {
    let full = Codespace {
        ports: (1..=MAX_FORWARDED_PORTS as u16)
            .map(|n| port(n, PortVisibility::Private))
            .collect(),
        ..running()
    };
    let none = CombinedLimits::default();
    let refused = forward_port(&full, &none, port(9000, PortVisibility::Private)).unwrap_err();
    assert!(
        matches!(refused, LifeRefusal::Invalid { field: "port", .. }),
        "{refused:?}"
    );
    assert!(forward_port(&full, &none, port(1, PortVisibility::Org))
        .unwrap()
        .is_some());
}

#[test]
fn only_a_codespace_the_org_pays_for_is_bound_by_its_policies() {
    let policy = crate::policy::PolicyRules {
        id: 1,
        name: "Ports".into(),
        target: crate::policy::Target::AllRepositories,
        enforcement: crate::policy::Enforcement::Enforce,
        base_images: None,
        constraints: ConstraintSet {
            port_visibility: Some(Vec::new()),
            ..ConstraintSet::default()
        },
    };
    let set = CompiledPolicySet::compile(vec![policy]);
    let billed = limits_for(&running(), &set);
    assert!(!billed.may_use_port_visibility(PortVisibility::Public));
    let own = Codespace {
        billed_to_org: false,
        ..running()
    };
    assert!(limits_for(&own, &set).may_use_port_visibility(PortVisibility::Public));
}
