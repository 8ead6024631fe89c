//! Tests of which secrets reach a codespace: each level's visibility, the role needed for
//! repository and organization secrets, and precedence between levels.

use crate::billing::Role;
use crate::registries::{
    reaching, Level, OrgSecretVisibility, RepoVisibility, SecretEntry, Target,
};

const REPO: i64 = 7;
const OTHER_REPO: i64 = 8;

fn user(name: &str, repos: &[i64]) -> SecretEntry {
    SecretEntry {
        level: Level::User,
        name: name.to_owned(),
        visibility: None,
        selected_repo_ids: repos.to_vec(),
    }
}

fn repo(name: &str) -> SecretEntry {
    SecretEntry {
        level: Level::Repository,
        name: name.to_owned(),
        visibility: None,
        selected_repo_ids: Vec::new(),
    }
}

fn org(name: &str, visibility: OrgSecretVisibility, repos: &[i64]) -> SecretEntry {
    SecretEntry {
        level: Level::Organization,
        name: name.to_owned(),
        visibility: Some(visibility),
        selected_repo_ids: repos.to_vec(),
    }
}

fn target(visibility: RepoVisibility, role: Option<Role>) -> Target {
    Target {
        repo_id: REPO,
        repo_visibility: visibility,
        user_role: role,
    }
}

fn member() -> Target {
    target(RepoVisibility::Private, Some(Role::Member))
}

/// The (level, name) pairs that reach `target`.
fn reached(candidates: &[SecretEntry], target: &Target) -> Vec<(Level, String)> {
    reaching(candidates, target)
        .into_iter()
        .map(|s| (s.level, s.name.clone()))
        .collect()
}

#[test]
fn user_beats_repository_beats_organization() {
    let all = [
        org("X", OrgSecretVisibility::All, &[]),
        user("X", &[REPO]),
        repo("X"),
    ];
    assert_eq!(reached(&all, &member()), [(Level::User, "X".to_owned())]);
    let no_user = [org("X", OrgSecretVisibility::All, &[]), repo("X")];
    assert_eq!(
        reached(&no_user, &member()),
        [(Level::Repository, "X".to_owned())]
    );
    let reversed = [repo("X"), org("X", OrgSecretVisibility::All, &[])];
    assert_eq!(
        reached(&reversed, &member()),
        [(Level::Repository, "X".to_owned())]
    );
}

#[test]
fn a_secret_that_does_not_reach_does_not_shadow_one_that_does() {
    let candidates = [user("X", &[OTHER_REPO]), repo("X")];
    assert_eq!(
        reached(&candidates, &member()),
        [(Level::Repository, "X".to_owned())]
    );
}

#[test]
fn names_are_compared_as_given_and_sorted() {
    let candidates = [repo("b"), repo("B"), user("A", &[REPO]), repo("C")];
    let names: Vec<String> = reached(&candidates, &member())
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(names, ["A", "B", "C", "b"]);
}

#[test]
fn org_visibility_all_reaches_every_repository() {
    let secret = [org("X", OrgSecretVisibility::All, &[])];
    for visibility in RepoVisibility::ALL {
        let t = target(*visibility, Some(Role::Member));
        assert_eq!(reached(&secret, &t).len(), 1, "{visibility:?}");
    }
}

#[test]
fn org_visibility_private_reaches_private_and_internal_repositories_only() {
    let secret = [org("X", OrgSecretVisibility::Private, &[])];
    let role = Some(Role::Member);
    assert_eq!(
        reached(&secret, &target(RepoVisibility::Private, role)).len(),
        1
    );
    assert_eq!(
        reached(&secret, &target(RepoVisibility::Internal, role)).len(),
        1
    );
    assert!(reached(&secret, &target(RepoVisibility::Public, role)).is_empty());
}

#[test]
fn org_visibility_selected_reaches_only_the_named_repositories() {
    let naming = [org("X", OrgSecretVisibility::Selected, &[OTHER_REPO, REPO])];
    assert_eq!(reached(&naming, &member()).len(), 1);
    let not_naming = [org("X", OrgSecretVisibility::Selected, &[OTHER_REPO])];
    assert!(reached(&not_naming, &member()).is_empty());
    // Selected visibility is not widened by the repository being private.
    let empty = [org("X", OrgSecretVisibility::Selected, &[])];
    assert!(reached(&empty, &member()).is_empty());
}

#[test]
fn an_org_secret_without_visibility_does_not_reach() {
    let mut secret = org("X", OrgSecretVisibility::All, &[REPO]);
    secret.visibility = None;
    assert!(reached(&[secret], &member()).is_empty());
}

#[test]
fn user_secrets_reach_only_with_the_repository_selected() {
    assert_eq!(
        reached(&[user("X", &[OTHER_REPO, REPO])], &member()).len(),
        1
    );
    assert!(reached(&[user("X", &[OTHER_REPO])], &member()).is_empty());
    assert!(reached(&[user("X", &[])], &member()).is_empty());
}

#[test]
fn org_and_repository_secrets_need_a_role_in_the_org() {
    let candidates = [repo("R"), org("O", OrgSecretVisibility::All, &[])];
    for role in [Role::Owner, Role::Member, Role::OutsideCollaborator] {
        let t = target(RepoVisibility::Private, Some(role));
        let names: Vec<String> = reached(&candidates, &t)
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        assert_eq!(names, ["O", "R"], "{role:?}");
    }
    assert!(reached(&candidates, &target(RepoVisibility::Private, None)).is_empty());
}

#[test]
fn user_secrets_reach_even_without_a_role() {
    let candidates = [
        user("U", &[REPO]),
        repo("R"),
        org("O", OrgSecretVisibility::All, &[]),
    ];
    let t = target(RepoVisibility::Public, None);
    assert_eq!(reached(&candidates, &t), [(Level::User, "U".to_owned())]);
}
