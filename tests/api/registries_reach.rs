//! What reaches a codespace at creation: the registries its complete triplets make
//! available (in its answer), how its image is pulled (in its log), and the rules that
//! decide which secrets reach it: visibility, selected repositories, the user's role,
//! precedence, and how a server is matched to the image's registry.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{TestApp, TestResponse};
use crate::secrets_support::{put_secret, repo_id};

const ORG: &str = "/orgs/octo-org/codespaces/secrets";
const REPO_A: &str = "/repos/octo-org/repo-a/codespaces/secrets";
const USER: &str = "/user/codespaces/secrets";

/// Puts `P_CONTAINER_REGISTRY_{SERVER,USER,PASSWORD}` at the org level, visible to all.
async fn org_triplet(app: &TestApp, prefix: &str, server: &str) {
    for (suffix, value) in [
        ("SERVER", server),
        ("USER", "robot"),
        ("PASSWORD", "hunter2-pw"),
    ] {
        let name = format!("{prefix}_CONTAINER_REGISTRY_{suffix}");
        let put = put_secret(
            app,
            ORG,
            &app.admin,
            &name,
            value,
            json!({ "visibility": "all" }),
        )
        .await;
        assert!(put.status.is_success(), "{:?}", put.body);
    }
}

async fn create(app: &TestApp, user: &str, repo: &str, image: &str) -> TestResponse {
    let service = app.service_token().await;
    let body = json!({ "repository": format!("octo-org/{repo}"), "user": user,
        "devcontainer": { "image": image } });
    let created = app.create_codespace(&service, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    created
}

fn log(answer: &TestResponse) -> Vec<String> {
    answer.body["creation_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

/// The one log line that says how the image is pulled.
fn pull_line(answer: &TestResponse) -> String {
    let lines: Vec<String> = log(answer)
        .into_iter()
        .filter(|l| l.starts_with("Pulling the image"))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines[0].clone()
}

fn registries(answer: &TestResponse) -> Value {
    answer.body["registries"].clone()
}

backend_tests! {
    async fn a_complete_triplet_is_a_registry_and_pulls_its_image_with_credentials(app) {
        app.octo_org().await;
        org_triplet(&app, "ACR", "octo.azurecr.io").await;
        let created = create(&app, "mona", "repo-a", "octo.azurecr.io/team/app:1").await;
        assert_eq!(registries(&created), json!([{ "server": "octo.azurecr.io", "secret_prefix": "ACR" }]));
        assert_eq!(pull_line(&created), "Pulling the image octo.azurecr.io/team/app:1 from \
            octo.azurecr.io with the credentials in ACR_CONTAINER_REGISTRY_*.");
        let raw = String::from_utf8_lossy(&created.raw).into_owned();
        assert!(!raw.contains("robot") && !raw.contains("hunter2"), "{raw}");
        let id = created.body["id"].as_str().unwrap();
        let shown = app.get(&format!("/codespaces/{id}"), &app.service_token().await).await;
        assert_eq!(shown.body["registries"], registries(&created), "stored with the codespace");
        // Another registry's image: the registry is still available, the image is anonymous.
        let other = create(&app, "mona", "repo-a", "node:18").await;
        assert_eq!(registries(&other), registries(&created));
        assert_eq!(pull_line(&other), "Pulling the image node:18 from Docker Hub anonymously.");
    }

    async fn no_secrets_means_no_registries_and_an_anonymous_pull(app) {
        app.octo_org().await;
        let created = create(&app, "mona", "repo-a", "mcr.microsoft.com/devcontainers/go:1").await;
        assert_eq!(registries(&created), json!([]));
        assert_eq!(pull_line(&created),
            "Pulling the image mcr.microsoft.com/devcontainers/go:1 from mcr.microsoft.com anonymously.");
    }

    async fn the_three_secrets_of_a_triplet_may_come_from_three_levels(app) {
        app.octo_org().await;
        let mona = app.user_token("mona").await;
        let a = repo_id(&app, "octo-org", "repo-a").await;
        let put = put_secret(&app, ORG, &app.admin, "X_CONTAINER_REGISTRY_SERVER", "reg.example.com",
            json!({ "visibility": "all" })).await;
        assert!(put.status.is_success());
        let put = put_secret(&app, REPO_A, &app.admin, "X_CONTAINER_REGISTRY_USER", "u", json!({})).await;
        assert!(put.status.is_success());
        let only_two = create(&app, "mona", "repo-a", "reg.example.com/app:1").await;
        assert_eq!(registries(&only_two), json!([]));
        assert!(log(&only_two).contains(&"The registry secrets X_CONTAINER_REGISTRY_* are \
            incomplete and were not used: missing X_CONTAINER_REGISTRY_PASSWORD.".to_string()),
            "{:?}", log(&only_two));
        assert!(pull_line(&only_two).ends_with("anonymously."));
        let put = put_secret(&app, USER, &mona, "X_CONTAINER_REGISTRY_PASSWORD", "p",
            json!({ "selected_repository_ids": [a] })).await;
        assert!(put.status.is_success());
        let all_three = create(&app, "mona", "repo-a", "reg.example.com/app:1").await;
        assert_eq!(registries(&all_three), json!([{ "server": "reg.example.com", "secret_prefix": "X" }]));
        assert!(pull_line(&all_three).contains("with the credentials in X_CONTAINER_REGISTRY_*"));
        assert!(!log(&all_three).iter().any(|l| l.contains("incomplete")));
    }

    async fn the_most_specific_level_wins_a_name(app) {
        app.octo_org().await;
        let mona = app.user_token("mona").await;
        let a = repo_id(&app, "octo-org", "repo-a").await;
        org_triplet(&app, "P", "org.example.com").await;
        let repo = put_secret(&app, REPO_A, &app.admin, "P_CONTAINER_REGISTRY_SERVER",
            "repo.example.com", json!({})).await;
        assert!(repo.status.is_success());
        let by_repo = create(&app, "mona", "repo-a", "node:18").await;
        assert_eq!(registries(&by_repo)[0]["server"], "repo.example.com", "repository over organization");
        let user = put_secret(&app, USER, &mona, "P_CONTAINER_REGISTRY_SERVER", "user.example.com",
            json!({ "selected_repository_ids": [a] })).await;
        assert!(user.status.is_success());
        let by_user = create(&app, "mona", "repo-a", "node:18").await;
        assert_eq!(registries(&by_user)[0]["server"], "user.example.com", "user over repository");
        // Not selected for repo-b, the user's secret does not reach it, nor shadow the org's.
        let elsewhere = create(&app, "mona", "repo-b", "node:18").await;
        assert_eq!(registries(&elsewhere)[0]["server"], "org.example.com");
    }

    async fn org_secret_visibility_decides_the_repositories_it_reaches(app) {
        app.octo_org().await;
        app.put("/orgs/octo-org/repos/open", &app.admin, Some(json!({ "visibility": "public" }))).await;
        app.put("/orgs/octo-org/repos/inner", &app.admin, Some(json!({ "visibility": "internal" }))).await;
        for suffix in ["USER", "PASSWORD"] {
            put_secret(&app, ORG, &app.admin, &format!("V_CONTAINER_REGISTRY_{suffix}"), "x",
                json!({ "visibility": "all" })).await;
        }
        put_secret(&app, ORG, &app.admin, "V_CONTAINER_REGISTRY_SERVER", "v.example.com",
            json!({ "visibility": "private" })).await;
        let has = |answer: &TestResponse| registries(answer).as_array().unwrap().len() == 1;
        assert!(has(&create(&app, "mona", "repo-a", "node:18").await), "private repository");
        assert!(has(&create(&app, "mona", "inner", "node:18").await), "internal repository");
        assert!(!has(&create(&app, "mona", "open", "node:18").await), "public repository");
        let b = repo_id(&app, "octo-org", "repo-b").await;
        put_secret(&app, ORG, &app.admin, "V_CONTAINER_REGISTRY_SERVER", "v.example.com",
            json!({ "visibility": "selected", "selected_repository_ids": [b] })).await;
        assert!(!has(&create(&app, "mona", "repo-a", "node:18").await), "not selected");
        assert!(has(&create(&app, "mona", "repo-b", "node:18").await), "selected");
    }

    async fn org_and_repository_secrets_reach_only_people_with_a_role_in_the_org(app) {
        app.octo_org().await;
        app.set_role("octo-org", "collab", "outside_collaborator").await;
        org_triplet(&app, "ACR", "octo.azurecr.io").await;
        let image = "octo.azurecr.io/app:1";
        for user in ["octocat", "mona", "collab"] {
            let created = create(&app, user, "repo-a", image).await;
            assert_eq!(registries(&created).as_array().unwrap().len(), 1, "{user}");
        }
        // A stranger (known or not) gets no org or repository secrets.
        app.user_token("stranger").await;
        for user in ["stranger", "nobody-known"] {
            let created = create(&app, user, "repo-a", image).await;
            assert_eq!(registries(&created), json!([]), "{user}");
            assert!(pull_line(&created).ends_with("anonymously."), "{user}");
        }
    }

    async fn a_server_matches_the_image_registry_by_host_whatever_its_scheme_path_or_case(app) {
        app.octo_org().await;
        let cases = [
            ("https://Octo.AzureCR.io/v1/", "octo.azurecr.io/app:1"),
            ("octo.azurecr.io/", "OCTO.azurecr.io/app:1"),
            ("registry.example.com:5000", "registry.example.com:5000/app:1"),
            ("docker.io", "node:18"),
            ("https://index.docker.io/v1/", "library/node:18"),
            ("registry-1.docker.io", "docker.io/library/node:18"),
        ];
        for (server, image) in cases {
            org_triplet(&app, "M", server).await;
            let created = create(&app, "mona", "repo-a", &image.to_ascii_lowercase()).await;
            assert!(pull_line(&created).contains("with the credentials in M_CONTAINER_REGISTRY_*"),
                "{server} should serve {image}: {:?}", log(&created));
        }
        for (server, image) in [("registry.example.com:5000", "registry.example.com/app:1"),
                                ("evil.azurecr.io", "octo.azurecr.io/app:1"),
                                ("docker.io", "ghcr.io/someone/app:1")] {
            org_triplet(&app, "M", server).await;
            let created = create(&app, "mona", "repo-a", image).await;
            assert!(pull_line(&created).ends_with("anonymously."), "{server} must not serve {image}");
        }
    }

    async fn a_full_rebuild_resolves_again_and_a_plain_one_keeps_what_it_had(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let created = create(&app, "mona", "repo-a", "octo.azurecr.io/app:1").await;
        assert_eq!(registries(&created), json!([]));
        let id = created.body["id"].as_str().unwrap().to_string();
        org_triplet(&app, "ACR", "octo.azurecr.io").await;
        let plain = app.post(&format!("/codespaces/{id}/rebuild"), &service, json!({ "full": false })).await;
        assert_eq!(plain.body["registries"], json!([]), "a plain rebuild changes nothing");
        let full = app.post(&format!("/codespaces/{id}/rebuild"), &service,
            json!({ "full": true, "devcontainer": { "image": "octo.azurecr.io/app:1" } })).await;
        assert_eq!(full.status, StatusCode::OK, "{:?}", full.body);
        assert_eq!(full.body["registries"], json!([{ "server": "octo.azurecr.io", "secret_prefix": "ACR" }]));
        assert!(full.body["creation_log"].as_array().unwrap().iter()
            .any(|l| l.as_str().unwrap().contains("with the credentials in ACR_CONTAINER_REGISTRY_*")));
    }

    async fn preflight_lists_the_registries_and_the_pull_line_creation_would_have(app) {
        app.octo_org().await;
        org_triplet(&app, "ACR", "octo.azurecr.io").await;
        let service = app.service_token().await;
        let body = json!({ "devcontainer": { "image": "octo.azurecr.io/app:1" } });
        let preflight = app.post("/repos/octo-org/repo-a/codespaces/preflight", &service, body.clone()).await;
        assert_eq!(preflight.status, StatusCode::OK, "{:?}", preflight.body);
        assert_eq!(preflight.body["registries"], json!([{ "server": "octo.azurecr.io", "secret_prefix": "ACR" }]));
        let created = create(&app, "mona", "repo-a", "octo.azurecr.io/app:1").await;
        assert_eq!(preflight.body["creation_log"], created.body["creation_log"],
            "the very log creation writes");
    }

    async fn a_recovery_codespace_pulls_the_recovery_image(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:*"]).await;
        let service = app.service_token().await;
        let body = json!({ "repository": "octo-org/repo-a", "user": "mona",
            "devcontainer": { "build": { "dockerfile": "Dockerfile" } },
            "dockerfile": "FROM python:3\n" });
        let created = app.create_codespace(&service, body).await;
        assert_eq!(created.body["recovery_mode"], true);
        let recovery = created.body["image"].as_str().unwrap();
        let line = pull_line(&created);
        assert!(line.starts_with(&format!("Pulling the image {recovery} ")), "{line}");
        assert!(log(&created).last().unwrap().contains("recovery mode"));
    }
}
