//! Tests of the compiled policy set: which policies apply, exact and prefix values, verdicts,
//! and report-only policies.

use super::*;

fn values(list: &[&str]) -> Option<Vec<AllowedValue>> {
    Some(
        list.iter()
            .map(|v| AllowedValue::parse(v).unwrap())
            .collect(),
    )
}

fn rules(id: i64, target: Target, base_images: Option<Vec<AllowedValue>>) -> PolicyRules {
    PolicyRules {
        constraints: Default::default(),
        id,
        name: format!("policy {id}"),
        target,
        enforcement: Enforcement::Enforce,
        base_images,
    }
}

fn selected(repos: &[&str]) -> Target {
    Target::SelectedRepositories(repos.iter().map(|r| r.to_string()).collect())
}

/// Leaked, so that a decision may borrow it for the rest of the test.
fn image(s: &str) -> &'static ImageRef {
    Box::leak(Box::new(ImageRef::parse(s).unwrap()))
}

#[test]
fn no_policies_allows_everything() {
    for set in [
        CompiledPolicySet::default(),
        CompiledPolicySet::compile(vec![]),
    ] {
        let decision = set.decide("octo/app", image("anything:1"));
        assert!(decision.allowed);
        assert!(decision.verdicts.is_empty());
        assert!(decision.refusing_policy_ids().is_empty());
        assert_eq!(set.policy_count(), 0);
    }
}

#[test]
fn policies_intersect_and_never_widen() {
    let set = CompiledPolicySet::compile(vec![
        rules(1, Target::AllRepositories, values(&["node:18"])),
        rules(2, selected(&["octo/app"]), values(&["node:18", "python:3"])),
    ]);
    let node = set.decide("octo/app", image("node:18"));
    assert!(node.allowed);
    assert_eq!(node.verdicts.len(), 2);

    // The repository-scoped policy lists python, the org-wide one does not.
    let python = set.decide("octo/app", image("python:3"));
    assert!(!python.allowed);
    assert_eq!(python.refusing_policy_ids(), vec![1]);
    assert_eq!(
        python.verdicts[1].matched_value,
        Some(MatchedValue::Exact("python:3"))
    );
}

#[test]
fn selected_policies_apply_only_to_named_repositories() {
    let set = CompiledPolicySet::compile(vec![rules(
        3,
        selected(&["octo/app", "octo/web", "octo/app"]),
        values(&["node:18"]),
    )]);
    let refused = set.decide("octo/web", image("python:3"));
    assert!(!refused.allowed);
    assert_eq!(refused.refusing_policy_ids(), vec![3]);
    // A repository named twice still gets a single verdict.
    assert_eq!(set.decide("octo/app", image("python:3")).verdicts.len(), 1);

    let other = set.decide("octo/other", image("python:3"));
    assert!(other.allowed);
    assert!(other.verdicts.is_empty());
}

#[test]
fn unconstrained_policy_gets_no_verdict_but_is_counted() {
    let set = CompiledPolicySet::compile(vec![
        rules(1, Target::AllRepositories, None),
        rules(2, selected(&["octo/app"]), None),
    ]);
    let decision = set.decide("octo/app", image("python:3"));
    assert!(decision.allowed);
    assert!(decision.verdicts.is_empty());
    assert_eq!(set.policy_count(), 2);
}

#[test]
fn empty_list_refuses_all() {
    let set = CompiledPolicySet::compile(vec![rules(4, Target::AllRepositories, values(&[]))]);
    let decision = set.decide("octo/app", image("node:18"));
    assert!(!decision.allowed);
    assert_eq!(decision.refusing_policy_ids(), vec![4]);
    assert_eq!(decision.verdicts[0].matched_value, None);
}

#[test]
fn verdicts_are_sorted_by_policy_id() {
    let set = CompiledPolicySet::compile(vec![
        rules(9, selected(&["octo/app"]), values(&["node:*"])),
        rules(5, Target::AllRepositories, values(&["python:3"])),
        rules(2, selected(&["octo/app"]), values(&["*", "node:18"])),
        rules(7, Target::AllRepositories, values(&["*"])),
        rules(1, Target::AllRepositories, None),
    ]);
    let decision = set.decide("octo/app", image("node:18"));
    let ids: Vec<i64> = decision.verdicts.iter().map(|v| v.policy_id).collect();
    assert_eq!(ids, vec![2, 5, 7, 9]);
    assert!(!decision.allowed);
    assert_eq!(decision.refusing_policy_ids(), vec![5]);
    let matched: Vec<Option<String>> = decision
        .verdicts
        .iter()
        .map(|v| v.matched_value.map(|m| m.to_string()))
        .collect();
    assert_eq!(
        matched,
        vec![
            Some("node:18".to_owned()),
            None,
            Some("*".to_owned()),
            Some("node:*".to_owned())
        ]
    );
    assert_eq!(decision.verdicts[0].policy_name, "policy 2");
}

#[test]
fn matching_is_exact_without_normalization() {
    let set = CompiledPolicySet::compile(vec![rules(
        1,
        Target::AllRepositories,
        values(&["node:18"]),
    )]);
    assert!(!set.decide("r", image("docker.io/library/node:18")).allowed);
    assert!(set.decide("r", image("node:18")).allowed);
}

#[test]
fn compiled_set_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CompiledPolicySet>();
}

#[test]
fn a_report_only_policy_is_listed_but_never_refuses() {
    let report = PolicyRules {
        enforcement: Enforcement::Report,
        ..rules(2, Target::AllRepositories, Some(vec![]))
    };
    let enforce = rules(
        1,
        Target::AllRepositories,
        Some(vec![AllowedValue::parse("node:*").unwrap()]),
    );
    let set = CompiledPolicySet::compile(vec![report, enforce]);
    let node = ImageRef::parse("node:18").unwrap();
    let decision = set.decide("app", &node);
    assert!(decision.allowed, "only enforcing policies count");
    assert_eq!(decision.verdicts.len(), 2);
    assert_eq!(decision.verdicts[1].enforcement, Enforcement::Report);
    assert!(!decision.verdicts[1].allowed);
    assert_eq!(decision.refusing_policy_ids(), Vec::<i64>::new());
    assert_eq!(decision.reporting_policy_ids(), [2]);
    assert_eq!(
        set.refusals("app", &node),
        Refusals {
            enforced: vec![],
            reported: vec![2]
        }
    );
    let python = ImageRef::parse("python:3").unwrap();
    assert!(!set.decide("app", &python).allowed);
    assert_eq!(
        set.refusals("app", &python),
        Refusals {
            enforced: vec![1],
            reported: vec![2]
        }
    );
    assert_eq!(Enforcement::parse("report"), Some(Enforcement::Report));
    assert_eq!(Enforcement::parse("Report"), None);
    assert_eq!(Enforcement::default().as_str(), "enforce");
}

/// Exception 8 allows `python:3` for every user of `octo/app` until 2026-12-01.
fn with_exception(policies: Vec<PolicyRules>) -> CompiledPolicySet {
    CompiledPolicySet::compile_with(
        policies,
        vec![PolicyException {
            id: 8,
            repo_key: Some("octo/app".into()),
            user_key: None,
            allowed_values: values(&["python:3"]).unwrap(),
            expires_at: at(2026, 12, 1),
            reason: "migration".into(),
        }],
    )
}

fn at(year: i32, month: u32, day: u32) -> DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(year, month, day, 0, 0, 0).unwrap()
}

#[test]
fn decide_for_names_a_live_exception_and_keeps_each_policys_own_verdict() {
    let set = with_exception(vec![rules(1, Target::AllRepositories, values(&["node:*"]))]);
    let python = image("python:3");
    let excepted = set.decide_for("octo/app", Some("mona"), python, at(2026, 11, 30));
    assert!(excepted.allowed);
    assert_eq!(excepted.exception.map(|e| e.id), Some(8));
    assert_eq!(
        excepted.refusing_policy_ids(),
        vec![1],
        "the policy's verdict stands"
    );
    // `decide` never looks at exceptions, nor does `decide_for` once it expired or elsewhere.
    assert!(!set.decide("octo/app", python).allowed);
    let expired = set.decide_for("octo/app", None, python, at(2026, 12, 1));
    assert_eq!((expired.allowed, expired.exception), (false, None));
    assert!(
        !set.decide_for("octo/other", None, python, at(2026, 11, 30))
            .allowed
    );
    // An image the policies allow needs no exception.
    let node = set.decide_for("octo/app", None, image("node:18"), at(2026, 11, 30));
    assert_eq!((node.allowed, node.exception), (true, None));
}

#[test]
fn a_changed_set_can_carry_the_exceptions_of_the_current_one() {
    let current = with_exception(Vec::new());
    let changed = CompiledPolicySet::compile(vec![rules(2, Target::AllRepositories, values(&[]))]);
    assert!(changed.exceptions().is_empty());
    let changed = changed.with_exceptions_of(&current);
    assert_eq!(changed.exceptions().len(), 1);
    let decision = changed.decide_for("octo/app", None, image("python:3"), at(2026, 11, 1));
    assert_eq!(decision.exception.map(|e| e.id), Some(8));
}
