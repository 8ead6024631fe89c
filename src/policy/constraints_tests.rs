//! Tests of the constraints beyond base images: reading them from a request, every bad
//! input, and the rule on a policy's target.

use serde_json::json;

use super::*;

const KNOWN: [&str; 3] = ["basicLinux32gb", "standardLinux32gb", "premiumLinux"];

fn input(value: serde_json::Value) -> ConstraintsInput {
    serde_json::from_value(value).unwrap()
}

fn validate(value: serde_json::Value) -> Result<ConstraintSet, Vec<ConstraintError>> {
    input(value).validate(&KNOWN)
}

fn fields(value: serde_json::Value) -> Vec<String> {
    validate(value)
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn every_constraint_is_read_into_its_value() {
    let set = validate(json!({
        "machine_types": {"allowed_values": ["premiumlinux", "basicLinux32gb"]},
        "max_codespaces_per_user": {"value": 3},
        "max_idle_timeout_minutes": {"value": 60},
        "max_retention_period_days": {"value": 0},
        "port_visibility": {"allowed_values": ["org", "private"]},
    }))
    .unwrap();
    assert_eq!(
        set,
        ConstraintSet {
            // Spelled as the catalog spells them, in the order written.
            machine_types: Some(vec!["premiumLinux".into(), "basicLinux32gb".into()]),
            max_codespaces_per_user: Some(3),
            max_idle_timeout_minutes: Some(60),
            max_retention_period_days: Some(0),
            port_visibility: Some(vec![PortVisibility::Org, PortVisibility::Private]),
        }
    );
    assert!(!set.is_empty());
}

#[test]
fn no_constraints_constrain_nothing() {
    let set = validate(json!({})).unwrap();
    assert!(set.is_empty());
    assert_eq!(set.to_input(), ConstraintsInput::default());
    assert_eq!(serde_json::to_value(set.to_input()).unwrap(), json!({}));
}

#[test]
fn a_validated_set_answers_in_the_request_shape() {
    let written = json!({
        "machine_types": {"allowed_values": ["basicLinux32gb"]},
        "max_codespaces_per_user": {"value": 100},
        "max_idle_timeout_minutes": {"value": 5},
        "max_retention_period_days": {"value": 30},
        "port_visibility": {"allowed_values": []},
    });
    let set = validate(written.clone()).unwrap();
    assert_eq!(set.port_visibility, Some(vec![]));
    assert_eq!(serde_json::to_value(set.to_input()).unwrap(), written);
}

#[test]
fn the_range_ends_are_allowed_and_one_past_them_refused() {
    let cases = [
        ("max_codespaces_per_user", 1, 100),
        ("max_idle_timeout_minutes", 5, 240),
        ("max_retention_period_days", 0, 30),
    ];
    for (name, low, high) in cases {
        for ok in [low, high] {
            assert!(
                validate(json!({ name: {"value": ok} })).is_ok(),
                "{name} {ok}"
            );
        }
        for bad in [low - 1, high + 1, -1, i64::from(u32::MAX) + 1, i64::MIN] {
            let errors = validate(json!({ name: {"value": bad} })).unwrap_err();
            assert_eq!(errors.len(), 1, "{name} {bad}");
            assert_eq!(errors[0].field, format!("constraints.{name}.value"));
            assert_eq!(
                errors[0].message,
                format!("must be between {low} and {high}")
            );
        }
    }
}

#[test]
fn machine_types_must_name_known_machines_once_each() {
    assert_eq!(
        fields(json!({"machine_types": {"allowed_values": []}})),
        vec!["constraints.machine_types.allowed_values"]
    );
    let errors = validate(json!({"machine_types": {"allowed_values":
        ["basicLinux32gb", "gpuLinux", "BASICLINUX32GB", ""]}}))
    .unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "constraints.machine_types.allowed_values[1]",
            "constraints.machine_types.allowed_values[2]",
            "constraints.machine_types.allowed_values[3]",
        ]
    );
    assert_eq!(
        errors[0].message,
        "'gpuLinux' is not a machine type; known: basicLinux32gb, standardLinux32gb, premiumLinux"
    );
    assert_eq!(errors[1].message, "'BASICLINUX32GB' is listed twice");
}

#[test]
fn port_visibility_takes_only_the_three_words_once_each() {
    let errors = validate(json!({"port_visibility": {"allowed_values":
        ["public", "Public", "everyone", "public"]}}))
    .unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "constraints.port_visibility.allowed_values[1]",
            "constraints.port_visibility.allowed_values[2]",
            "constraints.port_visibility.allowed_values[3]",
        ]
    );
    assert_eq!(
        errors[0].message,
        "'Public' must be one of private, org, public"
    );
    assert_eq!(errors[2].message, "'public' is listed twice");
}

#[test]
fn over_long_lists_are_refused_and_report_a_bounded_number_of_errors() {
    let many: Vec<String> = (0..=MAX_LISTED_VALUES).map(|i| format!("m{i}")).collect();
    let errors = validate(json!({"machine_types": {"allowed_values": many}})).unwrap_err();
    assert_eq!(errors[0].field, "constraints.machine_types.allowed_values");
    assert_eq!(errors[0].message, "may hold at most 100 values");
    assert_eq!(errors.len(), 1 + MAX_LISTED_VALUES);
    let many = vec!["private"; MAX_LISTED_VALUES + 1];
    let errors = validate(json!({"port_visibility": {"allowed_values": many}})).unwrap_err();
    assert_eq!(
        errors[0].field,
        "constraints.port_visibility.allowed_values"
    );
}

#[test]
fn every_bad_field_is_reported_at_once() {
    let mut found = fields(json!({
        "machine_types": {"allowed_values": ["nope"]},
        "max_codespaces_per_user": {"value": 0},
        "max_idle_timeout_minutes": {"value": 4},
        "max_retention_period_days": {"value": 31},
        "port_visibility": {"allowed_values": ["nope"]},
    }));
    found.sort();
    assert_eq!(
        found,
        vec![
            "constraints.machine_types.allowed_values[0]",
            "constraints.max_codespaces_per_user.value",
            "constraints.max_idle_timeout_minutes.value",
            "constraints.max_retention_period_days.value",
            "constraints.port_visibility.allowed_values[0]",
        ]
    );
}

#[test]
fn a_constraint_given_twice_or_misshapen_is_refused_by_serde_naming_it() {
    let twice =
        r#"{"max_codespaces_per_user": {"value": 2}, "max_codespaces_per_user": {"value": 3}}"#;
    let err = serde_json::from_str::<ConstraintsInput>(twice).unwrap_err();
    assert!(
        err.to_string()
            .contains("duplicate field `max_codespaces_per_user`"),
        "{err}"
    );
    let inner_twice = r#"{"port_visibility": {"allowed_values": [], "allowed_values": []}}"#;
    let err = serde_json::from_str::<ConstraintsInput>(inner_twice).unwrap_err();
    assert!(
        err.to_string().contains("duplicate field `allowed_values`"),
        "{err}"
    );
    for bad in [
        json!({"machine_type": {"allowed_values": []}}),
        json!({"max_codespaces_per_user": {"value": 2.5}}),
        json!({"max_codespaces_per_user": {"value": "2"}}),
        json!({"max_codespaces_per_user": 2}),
        json!({"max_idle_timeout_minutes": {"value": 30, "unit": "minutes"}}),
        json!({"port_visibility": {"allowed_values": [1]}}),
        json!({"port_visibility": {}}),
    ] {
        assert!(
            serde_json::from_value::<ConstraintsInput>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn a_per_user_limit_needs_a_policy_for_all_repositories() {
    let limited = ConstraintSet {
        max_codespaces_per_user: Some(2),
        ..Default::default()
    };
    assert!(check_target(true, &limited).is_ok());
    let err = check_target(false, &limited).unwrap_err();
    assert_eq!(err.field, "target");
    assert!(err.message.contains("all_repositories"), "{}", err.message);
    assert!(
        err.message.contains("max_codespaces_per_user"),
        "{}",
        err.message
    );
    let other = ConstraintSet {
        max_idle_timeout_minutes: Some(30),
        machine_types: Some(vec!["basicLinux32gb".into()]),
        ..Default::default()
    };
    assert!(check_target(false, &other).is_ok());
    assert!(check_target(false, &ConstraintSet::default()).is_ok());
}

#[test]
fn a_users_own_choices_are_checked_against_their_ranges() {
    assert_eq!(idle_timeout_choice(5), Ok(5));
    assert_eq!(idle_timeout_choice(240), Ok(240));
    for bad in [4, 241, -30] {
        let err = idle_timeout_choice(bad).unwrap_err();
        assert_eq!(err.field, "idle_timeout_minutes");
        assert_eq!(err.message, "must be between 5 and 240");
    }
    assert_eq!(retention_period_choice(0), Ok(0));
    assert_eq!(retention_period_choice(43_200), Ok(43_200));
    for bad in [-1, 43_201] {
        let err = retention_period_choice(bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "retention_period_minutes must be between 0 and 43200"
        );
    }
}

#[test]
fn port_visibilities_read_and_write_their_wire_words() {
    for v in PortVisibility::ALL {
        assert_eq!(PortVisibility::parse(v.as_str()), Some(v));
        assert_eq!(serde_json::to_value(v).unwrap(), json!(v.to_string()));
    }
    assert_eq!(PortVisibility::parse("PRIVATE"), None);
    assert_eq!(
        serde_json::from_value::<PortVisibility>(json!("org")).unwrap(),
        PortVisibility::Org
    );
}

#[test]
fn the_idle_timeout_notice_is_the_contract_text() {
    assert_eq!(
        idle_timeout_notice(15),
        "Idle timeout for this codespace is set to 15 minutes in compliance with your organization's policy."
    );
}
