//! Tests of registry hosts and credential triplets: how server values and image hosts
//! compare, and how `P_CONTAINER_REGISTRY_*` secrets group into registries.

use crate::policy::ImageRef;
use crate::registries::{
    image_registry, registries, registry_of, same_registry, Incomplete, Level, Registry,
    SecretEntry, DOCKER_HUB,
};

#[test]
fn image_hosts_follow_the_oci_rule() {
    let cases = [
        ("node:18", DOCKER_HUB),
        ("node", DOCKER_HUB),
        ("library/node:18", DOCKER_HUB),
        ("docker.io/library/node:18", DOCKER_HUB),
        ("index.docker.io/library/node", DOCKER_HUB),
        ("registry-1.docker.io/library/node", DOCKER_HUB),
        ("docker.io", DOCKER_HUB),
        ("localhost/app", "localhost"),
        ("localhost:5000/a/b:tag", "localhost:5000"),
        ("ghcr.io/octo-org/app:1", "ghcr.io"),
        ("GHCR.io/octo-org/app", "ghcr.io"),
        (
            "mcr.microsoft.com/devcontainers/universal:2",
            "mcr.microsoft.com",
        ),
        ("[::1]:5000/x", "[::1]:5000"),
        ("app@sha256:0123456789abcdef0123456789abcdef", DOCKER_HUB),
        (
            "team/app@sha256:0123456789abcdef0123456789abcdef",
            DOCKER_HUB,
        ),
    ];
    for (image, host) in cases {
        assert_eq!(image_registry(image), host, "{image}");
    }
    let parsed = ImageRef::parse("registry.example.com:443/team/app:v1").unwrap();
    assert_eq!(registry_of(&parsed), "registry.example.com:443");
}

#[test]
fn server_values_match_by_host_and_port() {
    let host = image_registry("registry.example.com/team/app:1");
    for server in [
        "registry.example.com",
        "https://registry.example.com",
        "http://registry.example.com/",
        "registry.example.com/",
        "https://registry.example.com/v1/",
        "REGISTRY.Example.COM",
        " registry.example.com ",
    ] {
        assert!(same_registry(server, &host), "{server}");
    }
    for server in [
        "registry.example.com:5000",
        "example.com",
        "other.example.com",
        "",
        "https://",
    ] {
        assert!(!same_registry(server, &host), "{server}");
    }
}

#[test]
fn ports_must_agree() {
    let host = image_registry("localhost:5000/app");
    assert!(same_registry("localhost:5000", &host));
    assert!(same_registry("http://localhost:5000/", &host));
    assert!(!same_registry("localhost", &host));
    assert!(!same_registry("localhost:5001", &host));
    assert!(!same_registry(
        "localhost:5000",
        &image_registry("localhost/app")
    ));
}

#[test]
fn docker_hub_aliases_and_bare_images_are_one_registry() {
    for server in [
        "docker.io",
        "index.docker.io",
        "registry-1.docker.io",
        "https://index.docker.io/v1/",
    ] {
        for image in [
            "node:18",
            "docker.io/library/node:18",
            "index.docker.io/library/node",
        ] {
            assert!(
                same_registry(server, &image_registry(image)),
                "{server} {image}"
            );
        }
        assert!(same_registry(server, ""), "{server} with no host");
        assert!(
            !same_registry(server, &image_registry("ghcr.io/o/node:18")),
            "{server}"
        );
    }
}

fn secret(level: Level, name: &str) -> SecretEntry {
    SecretEntry {
        level,
        name: name.to_owned(),
        visibility: None,
        selected_repo_ids: Vec::new(),
    }
}

/// Groups `secrets`, each `_SERVER` value being `server.{name}`.
fn group(secrets: &[SecretEntry]) -> crate::registries::Registries {
    let refs: Vec<&SecretEntry> = secrets.iter().collect();
    registries(&refs, |s| Some(format!("server.{}", s.name)))
}

#[test]
fn a_triplet_may_come_from_three_levels() {
    let secrets = [
        secret(Level::User, "ACME_CONTAINER_REGISTRY_SERVER"),
        secret(Level::Repository, "ACME_CONTAINER_REGISTRY_USER"),
        secret(Level::Organization, "ACME_CONTAINER_REGISTRY_PASSWORD"),
        secret(Level::Repository, "UNRELATED"),
    ];
    let found = group(&secrets);
    let server = "server.ACME_CONTAINER_REGISTRY_SERVER".to_owned();
    assert_eq!(
        found.complete,
        [Registry {
            server,
            secret_prefix: "ACME".into()
        }]
    );
    assert!(found.incomplete.is_empty());
}

#[test]
fn an_incomplete_triplet_names_each_missing_secret() {
    let secrets = [
        secret(Level::User, "A_CONTAINER_REGISTRY_USER"),
        secret(Level::User, "B_CONTAINER_REGISTRY_SERVER"),
        secret(Level::User, "B_CONTAINER_REGISTRY_PASSWORD"),
        secret(Level::User, "_CONTAINER_REGISTRY_SERVER"),
    ];
    let found = group(&secrets);
    assert!(found.complete.is_empty());
    let missing = |prefix: &str, names: &[&str]| Incomplete {
        prefix: prefix.into(),
        missing: names.iter().map(|n| (*n).to_owned()).collect(),
    };
    assert_eq!(
        found.incomplete,
        [
            missing(
                "A",
                &[
                    "A_CONTAINER_REGISTRY_SERVER",
                    "A_CONTAINER_REGISTRY_PASSWORD"
                ]
            ),
            missing("B", &["B_CONTAINER_REGISTRY_USER"]),
        ]
    );
}

#[test]
fn a_server_value_that_cannot_be_opened_counts_as_missing() {
    let secrets = [
        secret(Level::User, "A_CONTAINER_REGISTRY_SERVER"),
        secret(Level::User, "A_CONTAINER_REGISTRY_USER"),
        secret(Level::User, "A_CONTAINER_REGISTRY_PASSWORD"),
    ];
    let refs: Vec<&SecretEntry> = secrets.iter().collect();
    let opened = std::cell::RefCell::new(Vec::new());
    let found = registries(&refs, |s| {
        opened.borrow_mut().push(s.name.clone());
        None
    });
    assert!(found.complete.is_empty());
    assert_eq!(found.incomplete[0].missing, ["A_CONTAINER_REGISTRY_SERVER"]);
    assert_eq!(
        opened.into_inner(),
        ["A_CONTAINER_REGISTRY_SERVER"],
        "only servers are opened"
    );
}

#[test]
fn two_triplets_for_one_server_are_listed_in_prefix_order_and_the_first_wins() {
    let names = ["B", "A"].map(|p| {
        ["SERVER", "USER", "PASSWORD"]
            .map(|s| secret(Level::User, &format!("{p}_CONTAINER_REGISTRY_{s}")))
    });
    let secrets: Vec<&SecretEntry> = names.iter().flatten().collect();
    let found = registries(&secrets, |_| Some("https://ghcr.io/".to_owned()));
    let prefixes: Vec<&str> = found
        .complete
        .iter()
        .map(|r| r.secret_prefix.as_str())
        .collect();
    assert_eq!(prefixes, ["A", "B"]);
    assert_eq!(
        found.complete[0].server, "https://ghcr.io/",
        "the value as stored"
    );
    assert_eq!(
        found.for_host("ghcr.io").map(|r| r.secret_prefix.as_str()),
        Some("A")
    );
    assert_eq!(found.for_host("quay.io"), None);
}
