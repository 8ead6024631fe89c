//! Tests of how a codespace's image is pulled: each GitHub Container Registry package
//! rule, images of other registries, and the pull lines of the creation log.

use crate::billing::Role;
use crate::registries::log::{ANONYMOUSLY, THROUGH_GHCR_ACCESS, WITH_CREDENTIALS};
use crate::registries::{
    log_lines, pull, Package, PackageVisibility, Pull, Registries, Registry, RepoVisibility, Target,
};

const REPO: i64 = 7;
const OTHER_REPO: i64 = 8;
const ORG: &str = "Octo-Org";
const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn package(visibility: PackageVisibility) -> Package {
    Package {
        name: "team/app".to_owned(),
        visibility,
        repo_id: Some(OTHER_REPO),
        inherit_access: true,
        granted_repo_ids: Vec::new(),
    }
}

fn target(visibility: RepoVisibility) -> Target {
    Target {
        repo_id: REPO,
        repo_visibility: visibility,
        user_role: Some(Role::Member),
    }
}

fn with_servers(servers: &[(&str, &str)]) -> Registries {
    let complete = servers
        .iter()
        .map(|(prefix, server)| Registry {
            server: (*server).into(),
            secret_prefix: (*prefix).into(),
        })
        .collect();
    Registries {
        complete,
        incomplete: Vec::new(),
    }
}

/// How `image` is pulled in a `visibility` repository when the org has only `found`
/// (named `team/app`).
fn pull_of(
    image: &str,
    visibility: RepoVisibility,
    registries: &Registries,
    found: &Package,
) -> Pull {
    pull(image, ORG, &target(visibility), registries, |name| {
        name.eq_ignore_ascii_case(&found.name)
            .then(|| found.clone())
    })
}

fn creds(prefix: &str) -> Pull {
    Pull::Credentials {
        secret_prefix: prefix.into(),
    }
}

const IMAGE: &str = "ghcr.io/octo-org/team/app:1";

#[test]
fn a_public_package_is_pulled_anonymously() {
    let ghcr = with_servers(&[("GH", "ghcr.io")]);
    let public = package(PackageVisibility::Public);
    assert_eq!(
        pull_of(IMAGE, RepoVisibility::Public, &ghcr, &public),
        Pull::Anonymous
    );
}

#[test]
fn the_source_repository_has_access_only_when_the_package_inherits_it() {
    let none = Registries::default();
    let mut private = package(PackageVisibility::Private);
    private.repo_id = Some(REPO);
    assert_eq!(
        pull_of(IMAGE, RepoVisibility::Private, &none, &private),
        Pull::GhcrAccess
    );
    private.inherit_access = false;
    assert!(matches!(
        pull_of(IMAGE, RepoVisibility::Private, &none, &private),
        Pull::Unpullable { .. }
    ));
    // Inheriting is about the source repository: another repository gains nothing from it.
    let mut elsewhere = package(PackageVisibility::Private);
    elsewhere.inherit_access = true;
    assert!(matches!(
        pull_of(IMAGE, RepoVisibility::Private, &none, &elsewhere),
        Pull::Unpullable { .. }
    ));
}

#[test]
fn an_internal_package_is_for_repositories_that_are_not_public() {
    let none = Registries::default();
    let internal = package(PackageVisibility::Internal);
    assert_eq!(
        pull_of(IMAGE, RepoVisibility::Private, &none, &internal),
        Pull::GhcrAccess
    );
    assert_eq!(
        pull_of(IMAGE, RepoVisibility::Internal, &none, &internal),
        Pull::GhcrAccess
    );
    assert!(matches!(
        pull_of(IMAGE, RepoVisibility::Public, &none, &internal),
        Pull::Unpullable { .. }
    ));
}

#[test]
fn a_granted_repository_has_access() {
    let none = Registries::default();
    for visibility in [PackageVisibility::Private, PackageVisibility::Internal] {
        let mut granted = package(visibility);
        granted.granted_repo_ids = vec![OTHER_REPO, REPO];
        assert_eq!(
            pull_of(IMAGE, RepoVisibility::Public, &none, &granted),
            Pull::GhcrAccess
        );
    }
}

#[test]
fn without_access_a_ghcr_credential_is_used() {
    let private = package(PackageVisibility::Private);
    let registries = with_servers(&[
        ("ACME", "registry.acme.com"),
        ("GH", "https://GHCR.io/"),
        ("GH2", "ghcr.io"),
    ]);
    assert_eq!(
        pull_of(IMAGE, RepoVisibility::Private, &registries, &private),
        creds("GH")
    );
    // Access comes before credentials: they are not needed.
    let mut granted = private.clone();
    granted.granted_repo_ids = vec![REPO];
    assert_eq!(
        pull_of(IMAGE, RepoVisibility::Private, &registries, &granted),
        Pull::GhcrAccess
    );
}

#[test]
fn without_access_or_credential_the_image_cannot_be_pulled_and_the_log_says_why() {
    let only_acme = with_servers(&[("ACME", "registry.acme.com")]);
    let private = package(PackageVisibility::Private);
    let Pull::Unpullable { reason } = pull_of(IMAGE, RepoVisibility::Private, &only_acme, &private)
    else {
        panic!("expected unpullable");
    };
    assert_eq!(
        reason,
        "The image ghcr.io/octo-org/team/app:1 cannot be pulled: the package octo-org/team/app \
         is not available to this codespace (it is private and this repository has not been \
         granted access to it) and no ghcr.io registry credentials reach it; the codespace was \
         created in recovery mode."
    );
    let internal = package(PackageVisibility::Internal);
    let Pull::Unpullable { reason } = pull_of(IMAGE, RepoVisibility::Public, &only_acme, &internal)
    else {
        panic!("expected unpullable");
    };
    assert!(reason
        .contains("(it is internal, which a public repository can use only if granted access)"));
    let mut source = private.clone();
    source.repo_id = Some(REPO);
    source.inherit_access = false;
    let Pull::Unpullable { reason } = pull_of(IMAGE, RepoVisibility::Private, &only_acme, &source)
    else {
        panic!("expected unpullable");
    };
    assert!(reason.contains("does not inherit access"), "{reason}");

    let lines = log_lines(
        IMAGE,
        &only_acme,
        &Pull::Unpullable {
            reason: reason.clone(),
        },
    );
    assert_eq!(lines.last(), Some(&reason), "the reason is the last line");
    for phrase in [WITH_CREDENTIALS, THROUGH_GHCR_ACCESS, ANONYMOUSLY] {
        assert!(!reason.contains(phrase), "{phrase}");
    }
}

#[test]
fn package_names_may_hold_slashes_and_end_at_the_tag_or_digest() {
    let digest = format!("ghcr.io/octo-org/team/app@{DIGEST}");
    let both = format!("ghcr.io/octo-org/team/app:1@{DIGEST}");
    let private = package(PackageVisibility::Private);
    let mut granted = private.clone();
    granted.granted_repo_ids = vec![REPO];
    let none = Registries::default();
    assert_eq!(
        pull_of(&digest, RepoVisibility::Public, &none, &granted),
        Pull::GhcrAccess
    );
    assert_eq!(
        pull_of(&both, RepoVisibility::Public, &none, &granted),
        Pull::GhcrAccess
    );
    // `team` alone is not the package, so this image is not one of the org's packages.
    assert_eq!(
        pull_of(
            "ghcr.io/octo-org/team:1",
            RepoVisibility::Public,
            &none,
            &private
        ),
        Pull::Anonymous
    );
}

#[test]
fn ghcr_images_that_are_not_packages_of_this_org_use_a_matching_triplet_or_none() {
    let private = package(PackageVisibility::Private);
    let ghcr = with_servers(&[("GH", "ghcr.io")]);
    let none = Registries::default();
    for image in ["ghcr.io/other-org/team/app:1", "ghcr.io/octo-org/unknown:1"] {
        assert_eq!(
            pull_of(image, RepoVisibility::Private, &ghcr, &private),
            creds("GH"),
            "{image}"
        );
        assert_eq!(
            pull_of(image, RepoVisibility::Private, &none, &private),
            Pull::Anonymous,
            "{image}"
        );
    }
}

#[test]
fn other_registries_use_the_first_matching_triplet_else_anonymous() {
    let private = package(PackageVisibility::Private);
    let registries = with_servers(&[
        ("A", "quay.io"),
        ("B", "https://index.docker.io/v1/"),
        ("C", "docker.io"),
    ]);
    let pull_in = |image: &str| pull_of(image, RepoVisibility::Private, &registries, &private);
    assert_eq!(pull_in("node:18"), creds("B"));
    assert_eq!(pull_in("registry-1.docker.io/library/node:18"), creds("B"));
    assert_eq!(pull_in("quay.io/team/app:1"), creds("A"));
    assert_eq!(
        pull_in("mcr.microsoft.com/devcontainers/base:1"),
        Pull::Anonymous
    );
    assert_eq!(pull_in("localhost:5000/app"), Pull::Anonymous);
}

#[test]
fn pull_lines_hold_exactly_one_phrase() {
    let registries = with_servers(&[("GH", "ghcr.io")]);
    let cases = [
        (creds("GH"), WITH_CREDENTIALS, "GH_CONTAINER_REGISTRY_*"),
        (Pull::GhcrAccess, THROUGH_GHCR_ACCESS, IMAGE),
        (Pull::Anonymous, ANONYMOUSLY, IMAGE),
    ];
    for (how, phrase, also) in cases {
        let lines = log_lines(IMAGE, &registries, &how);
        assert_eq!(lines.len(), 1);
        let holding: Vec<&str> = [WITH_CREDENTIALS, THROUGH_GHCR_ACCESS, ANONYMOUSLY]
            .into_iter()
            .filter(|p| lines[0].contains(p))
            .collect();
        assert_eq!(holding, [phrase], "{}", lines[0]);
        assert!(lines[0].contains(also), "{}", lines[0]);
    }
}
