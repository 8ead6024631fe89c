use super::*;
use crate::policy::Enforcement;

fn policy(id: i64, name: &str, repos: Option<&[&str]>, values: &[&str]) -> PolicyRules {
    PolicyRules {
        constraints: Default::default(),
        id,
        name: name.to_owned(),
        target: match repos {
            None => Target::AllRepositories,
            Some(repos) => {
                Target::SelectedRepositories(repos.iter().map(|r| r.to_ascii_lowercase()).collect())
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

fn names() -> BTreeMap<String, String> {
    [("repo-a", "Repo-A"), ("repo-b", "repo-b")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The (code, value) pairs of policy `id`'s warnings.
fn codes(policies: &[PolicyRules], id: i64) -> Vec<(WarningCode, Option<String>)> {
    warnings(policies, &names(), &[])
        .remove(&id)
        .unwrap_or_default()
        .into_iter()
        .map(|w| (w.code, w.value))
        .collect()
}

fn some(value: &str) -> Option<String> {
    Some(value.to_owned())
}

#[test]
fn a_prefix_that_does_not_end_at_a_separator_allows_its_neighbours() {
    let policies = [policy(
        1,
        "Org",
        None,
        &["ghcr.io/octo*", "mcr.microsoft.com/*", "node:*", "x@*"],
    )];
    let found = warnings(&policies, &names(), &[]);
    let list = &found[&1];
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].code, WarningCode::UnanchoredPrefix);
    assert_eq!(list[0].value, some("ghcr.io/octo*"));
    assert!(
        list[0].message.contains("'ghcr.io/octo-evil/x'"),
        "{}",
        list[0].message
    );
}

#[test]
fn a_value_another_value_of_the_policy_covers_is_redundant() {
    let policies = [policy(
        1,
        "Org",
        None,
        &[
            "node:*",
            "node:18",
            "ghcr.io/*",
            "ghcr.io/octo/*",
            "python:3",
            "python:3",
        ],
    )];
    assert_eq!(
        codes(&policies, 1),
        vec![
            (WarningCode::Redundant, some("node:18")),
            (WarningCode::Redundant, some("ghcr.io/octo/*")),
            (WarningCode::Redundant, some("python:3")),
        ]
    );
    let message = &warnings(&policies, &names(), &[])[&1][0].message;
    assert_eq!(
        message,
        "'node:18' is redundant: 'node:*' in the same policy already allows it."
    );
}

/// The seed: ten images org-wide; Repository A narrowed to two of them, and a third image
/// the org-wide policy does not list, which has no effect.
#[test]
fn the_seeds_additional_image_for_repository_a_has_no_effect() {
    let ten: Vec<String> = (0..10)
        .map(|i| format!("ghcr.io/octo-org/image-{i}:1"))
        .collect();
    let ten: Vec<&str> = ten.iter().map(String::as_str).collect();
    let narrowed = ["ghcr.io/octo-org/image-3:1", "ghcr.io/octo-org/image-7:1"];
    let policies = [
        policy(1, "Org images", None, &ten),
        policy(2, "Repository A", Some(&["repo-a"]), &narrowed),
    ];
    assert!(warnings(&policies, &names(), &[]).is_empty());

    let widened = [narrowed[0], narrowed[1], "node:18", "ghcr.io/octo-org/*"];
    let policies = [
        policy(1, "Org images", None, &ten),
        policy(2, "Repository A", Some(&["repo-a"]), &widened),
    ];
    let found = warnings(&policies, &names(), &[]);
    assert!(!found.contains_key(&1));
    let list = &found[&2];
    assert_eq!(list.len(), 3, "{list:?}");
    assert_eq!(
        (list[0].code, list[0].value.clone()),
        (WarningCode::Redundant, some(narrowed[0]))
    );
    assert_eq!(
        (list[2].code, list[2].value.clone()),
        (WarningCode::NoEffect, some("node:18"))
    );
    assert_eq!(
        list[2].message,
        "Specifying 'node:18' for 'Repo-A' will have no effect because it is not allowed by the \
         organization-wide policy 'Org images' (1)."
    );
}

#[test]
fn a_repository_whose_policies_share_no_image_is_an_empty_intersection() {
    let policies = [
        policy(1, "Org", None, &["node:*"]),
        policy(2, "A", Some(&["repo-a"]), &["node:18"]),
        policy(3, "A python", Some(&["repo-a", "repo-b"]), &["python:3"]),
    ];
    let found = warnings(&policies, &names(), &[]);
    let org: Vec<&Warning> = found[&1].iter().collect();
    assert_eq!(org.len(), 2, "one for each repository: {org:?}");
    assert_eq!(org[0].code, WarningCode::EmptyIntersection);
    assert_eq!(
        org[0].message,
        "No image at all is allowed in repository 'Repo-A': policies 'Org' (1), 'A' (2), 'A python' (3) have no allowed image in common."
    );
    assert!(
        org[1].message.contains("repository 'repo-b'"),
        "{}",
        org[1].message
    );
    assert_eq!(
        codes(&policies, 2),
        vec![(WarningCode::EmptyIntersection, None)]
    );
    // Policy 3 adds nothing anywhere and empties both of its repositories.
    assert_eq!(
        codes(&policies, 3),
        vec![
            (WarningCode::NoEffect, some("python:3")),
            (WarningCode::EmptyIntersection, None),
            (WarningCode::EmptyIntersection, None),
        ]
    );
}

#[test]
fn org_wide_policies_that_share_nothing_allow_nothing_anywhere() {
    let policies = [
        policy(1, "Node", None, &["node:*"]),
        policy(2, "Python", None, &["python:*"]),
        policy(3, "A", Some(&["repo-a"]), &["node:18"]),
    ];
    let found = warnings(&policies, &names(), &[]);
    assert_eq!(found[&1].len(), 1);
    assert!(found[&1][0]
        .message
        .starts_with("No image at all is allowed in any repository"));
    assert_eq!(
        codes(&policies, 3),
        vec![
            (WarningCode::NoEffect, some("node:18")),
            (WarningCode::EmptyIntersection, None),
        ]
    );
}

#[test]
fn report_only_policies_are_judged_as_they_will_be_enforced() {
    let mut org = policy(1, "Org", None, &["node:*"]);
    org.enforcement = Enforcement::Report;
    let policies = [org, policy(2, "A", Some(&["repo-a"]), &["python:3"])];
    assert_eq!(
        codes(&policies, 2),
        vec![
            (WarningCode::NoEffect, some("python:3")),
            (WarningCode::EmptyIntersection, None),
        ]
    );
}

#[test]
fn a_repository_policy_without_an_org_wide_one_has_no_effect_warnings() {
    let policies = [policy(2, "A", Some(&["repo-a"]), &["python:3"])];
    assert!(warnings(&policies, &names(), &[]).is_empty());
}
