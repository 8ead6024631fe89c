use super::*;
use crate::policy::{CompiledPolicySet, Enforcement, PolicyRules, Target};

fn list(values: &[&str]) -> AllowedList {
    let values: Vec<AllowedValue> = values
        .iter()
        .map(|v| AllowedValue::parse(v).unwrap())
        .collect();
    AllowedList::new(&values)
}

fn policy(id: i64, repos: Option<&[&str]>, values: &[&str]) -> PolicyRules {
    PolicyRules {
        constraints: Default::default(),
        id,
        name: format!("policy {id}"),
        target: match repos {
            None => Target::AllRepositories,
            Some(repos) => {
                Target::SelectedRepositories(repos.iter().map(|r| r.to_string()).collect())
            }
        },
        enforcement: Enforcement::Enforce,
        base_images: Some(
            values
                .iter()
                .map(|v| AllowedValue::parse(v).unwrap())
                .collect(),
        ),
    }
}

#[test]
fn the_normal_form_keeps_no_value_another_covers() {
    let normal = list(&[
        "ghcr.io/*",
        "ghcr.io/octo/*",
        "ghcr.io/octo/dev:1",
        "node:18",
        "node:18",
    ]);
    assert_eq!(normal.values(), vec!["ghcr.io/*", "node:18"]);
    let siblings = list(&[
        "ghcr.io/a/*",
        "ghcr.io/ab/*",
        "ghcr.io/a/b:1",
        "ghcr.io/ab:1",
    ]);
    assert_eq!(
        siblings.values(),
        vec!["ghcr.io/a/*", "ghcr.io/ab/*", "ghcr.io/ab:1"]
    );
}

#[test]
fn a_prefix_within_a_prefix_is_the_longer_one() {
    let wide = list(&["ghcr.io/*"]);
    let narrow = list(&["ghcr.io/octo-org/*", "docker.io/library/*"]);
    assert_eq!(wide.intersect(&narrow).values(), vec!["ghcr.io/octo-org/*"]);
    assert_eq!(narrow.intersect(&wide).values(), vec!["ghcr.io/octo-org/*"]);
}

#[test]
fn an_exact_value_survives_where_the_other_list_allows_it() {
    let a = list(&["node:18", "python:3", "ghcr.io/octo/*"]);
    let b = list(&["node:*", "ghcr.io/octo/dev:1", "ruby:3"]);
    assert_eq!(
        a.intersect(&b).values(),
        vec!["ghcr.io/octo/dev:1", "node:18"]
    );
}

#[test]
fn disjoint_lists_allow_nothing() {
    let both = list(&["node:*"]).intersect(&list(&["python:*", "ruby:3"]));
    assert!(both.is_empty());
    assert!(list(&[]).is_empty());
}

#[test]
fn allows_matches_as_the_decision_does() {
    let l = list(&["ghcr.io/octo/*", "node:18"]);
    assert!(l.allows("ghcr.io/octo/dev:1"));
    assert!(l.allows("node:18"));
    assert!(!l.allows("node:18-alpine"));
    assert!(!l.allows("ghcr.io/octopus/x"));
}

/// The seed's example: ten images org-wide, two of them for Repository A, and an image the
/// org-wide policy does not list, which adds nothing.
#[test]
fn the_seeds_repository_a_is_allowed_exactly_its_two_images() {
    let ten: Vec<String> = (0..10)
        .map(|i| format!("ghcr.io/octo-org/image-{i}:1"))
        .collect();
    let ten: Vec<&str> = ten.iter().map(String::as_str).collect();
    let policies = vec![
        policy(1, None, &ten),
        policy(
            2,
            Some(&["repo-a"]),
            &[
                "ghcr.io/octo-org/image-3:1",
                "ghcr.io/octo-org/image-7:1",
                "node:18",
            ],
        ),
    ];
    let set = CompiledPolicySet::compile(policies);
    let a = set.effective("repo-a");
    assert!(a.constrained);
    assert_eq!(
        a.allowed.values(),
        vec!["ghcr.io/octo-org/image-3:1", "ghcr.io/octo-org/image-7:1"]
    );
    assert_eq!(a.policies, vec![1, 2]);
    let b = set.effective("repo-b");
    assert_eq!(b.allowed.values().len(), 10);
    assert_eq!(b.policies, vec![1]);
}

#[test]
fn a_compiled_policy_gives_back_its_normal_form() {
    let set = CompiledPolicySet::compile(vec![policy(
        1,
        None,
        &[
            "ghcr.io/*",
            "ghcr.io/octo/*",
            "ghcr.io/x:1",
            "node:18",
            "node:18",
            "node:1*",
        ],
    )]);
    assert_eq!(
        set.effective("any").allowed.values(),
        vec!["ghcr.io/*", "node:1*"]
    );
}

#[test]
fn report_only_and_unconstraining_policies_take_no_part() {
    let mut report = policy(1, None, &["node:18"]);
    report.enforcement = Enforcement::Report;
    let mut none = policy(2, None, &[]);
    none.base_images = None;
    let e = CompiledPolicySet::compile(vec![report, none]).effective("repo");
    assert!(!e.constrained);
    assert!(e.policies.is_empty());
}
