//! How a codespace pulls an image of its own org's GitHub Container Registry packages:
//! anonymously when public, through its access (source repository with inherited access,
//! internal package, granted access), with a ghcr.io triplet, or not at all (recovery mode,
//! the last log line saying why).

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{TestApp, TestResponse};
use crate::secrets_support::put_secret;

const PACKAGES: &str = "/orgs/octo-org/packages/container";

async fn package(app: &TestApp, name: &str, body: Value) {
    let put = app
        .put(&format!("{PACKAGES}/{name}"), &app.admin, Some(body))
        .await;
    assert!(put.status.is_success(), "{:?}", put.body);
}

async fn create(app: &TestApp, repo: &str, image: &str) -> TestResponse {
    let service = app.service_token().await;
    let created = app
        .create_codespace(
            &service,
            json!({ "repository": format!("octo-org/{repo}"),
        "user": "mona", "devcontainer": { "image": image } }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    created
}

fn lines(answer: &TestResponse) -> Vec<String> {
    answer.body["creation_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

/// "credentials", "access", "anonymous" or "recovery", from the answer.
fn how(answer: &TestResponse) -> &'static str {
    if answer.body["recovery_mode"] == true {
        return "recovery";
    }
    let log = lines(answer).join("\n");
    if log.contains("with the credentials in") {
        "credentials"
    } else if log.contains("through GitHub Container Registry access") {
        "access"
    } else if log.contains("anonymously") {
        "anonymous"
    } else {
        "unknown"
    }
}

const IMAGE: &str = "ghcr.io/octo-org/tools:1";

backend_tests! {
    async fn a_public_package_is_pulled_anonymously_from_any_repository(app) {
        app.octo_org().await;
        package(&app, "tools", json!({ "visibility": "public" })).await;
        assert_eq!(how(&create(&app, "repo-a", IMAGE).await), "anonymous");
        let created = create(&app, "repo-b", "ghcr.io/octo-org/tools@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef").await;
        assert_eq!(how(&created), "anonymous");
    }

    async fn a_private_package_is_pulled_through_its_source_repository_when_it_inherits_access(app) {
        app.octo_org().await;
        package(&app, "tools", json!({ "visibility": "private", "repository": "repo-a" })).await;
        let from_source = create(&app, "repo-a", IMAGE).await;
        assert_eq!(how(&from_source), "access");
        assert!(lines(&from_source).contains(
            &"Pulling the image ghcr.io/octo-org/tools:1 through GitHub Container Registry access.".to_string()));
        assert_eq!(how(&create(&app, "repo-b", IMAGE).await), "recovery", "not its source");
        package(&app, "tools", json!({ "visibility": "private", "repository": "repo-a",
            "inherit_access": false })).await;
        let not_inherited = create(&app, "repo-a", IMAGE).await;
        assert_eq!(how(&not_inherited), "recovery");
        assert!(lines(&not_inherited).last().unwrap().contains("does not inherit access"),
            "{:?}", lines(&not_inherited));
    }

    async fn an_unpullable_image_runs_in_recovery_mode_and_says_why_last(app) {
        app.octo_org().await;
        package(&app, "tools", json!({ "visibility": "private" })).await;
        let created = create(&app, "repo-a", IMAGE).await;
        assert_eq!(created.body["recovery_mode"], true);
        assert_eq!(created.body["image"], "mcr.microsoft.com/devcontainers/base:ubuntu");
        assert_eq!(lines(&created).last().unwrap(),
            "The image ghcr.io/octo-org/tools:1 cannot be pulled: the package octo-org/tools is not \
             available to this codespace (it is private and this repository has not been granted \
             access to it) and no ghcr.io registry credentials reach it; the codespace was created \
             in recovery mode.");
        // Granted access, a full rebuild pulls it.
        let grant = app.put(&format!("{PACKAGES}/tools/codespaces-access/repo-a"), &app.admin, None).await;
        assert_eq!(grant.status, StatusCode::NO_CONTENT);
        let id = created.body["id"].as_str().unwrap();
        let rebuilt = app.post(&format!("/codespaces/{id}/rebuild"), &app.service_token().await,
            json!({ "full": true, "devcontainer": { "image": IMAGE } })).await;
        assert_eq!(rebuilt.body["recovery_mode"], false, "{:?}", rebuilt.body);
        assert_eq!(how(&rebuilt), "access");
        let revoke = app.delete(&format!("{PACKAGES}/tools/codespaces-access/repo-a"), &app.admin).await;
        assert_eq!(revoke.status, StatusCode::NO_CONTENT);
        assert_eq!(how(&create(&app, "repo-a", IMAGE).await), "recovery", "revoked");
    }

    async fn an_internal_package_serves_private_and_internal_repositories_not_public_ones(app) {
        app.octo_org().await;
        app.put("/orgs/octo-org/repos/inner", &app.admin, Some(json!({ "visibility": "internal" }))).await;
        app.put("/orgs/octo-org/repos/open", &app.admin, Some(json!({ "visibility": "public" }))).await;
        package(&app, "tools", json!({ "visibility": "internal" })).await;
        assert_eq!(how(&create(&app, "repo-a", IMAGE).await), "access");
        assert_eq!(how(&create(&app, "inner", IMAGE).await), "access");
        let public = create(&app, "open", IMAGE).await;
        assert_eq!(how(&public), "recovery");
        assert!(lines(&public).last().unwrap().contains("it is internal"));
        app.put(&format!("{PACKAGES}/tools/codespaces-access/open"), &app.admin, None).await;
        assert_eq!(how(&create(&app, "open", IMAGE).await), "access", "granted");
    }

    async fn without_access_a_ghcr_triplet_pulls_it_with_credentials(app) {
        app.octo_org().await;
        package(&app, "tools", json!({ "visibility": "private" })).await;
        for (suffix, value) in [("SERVER", "https://ghcr.io"), ("USER", "bot"), ("PASSWORD", "ghp-secret")] {
            put_secret(&app, "/orgs/octo-org/codespaces/secrets", &app.admin,
                &format!("GH_CONTAINER_REGISTRY_{suffix}"), value, json!({ "visibility": "all" })).await;
        }
        let created = create(&app, "repo-a", IMAGE).await;
        assert_eq!(how(&created), "credentials");
        assert!(lines(&created).iter().any(|l| l.contains("GH_CONTAINER_REGISTRY_*")));
    }

    async fn images_that_are_not_the_orgs_packages_follow_the_registry_rules(app) {
        app.octo_org().await;
        package(&app, "tools", json!({ "visibility": "private" })).await;
        // Another org's package, and a package this org does not have: no package rule.
        assert_eq!(how(&create(&app, "repo-a", "ghcr.io/other-org/tools:1").await), "anonymous");
        assert_eq!(how(&create(&app, "repo-a", "ghcr.io/octo-org/unknown:1").await), "anonymous");
        let deleted = app.delete(&format!("{PACKAGES}/tools"), &app.admin).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        assert_eq!(how(&create(&app, "repo-a", IMAGE).await), "anonymous", "no longer the org's");
    }

    async fn a_package_name_with_a_slash_is_found_by_its_image(app) {
        app.octo_org().await;
        package(&app, "team%2Fapp", json!({ "visibility": "private" })).await;
        let created = create(&app, "repo-a", "ghcr.io/octo-org/team/app:2").await;
        assert_eq!(how(&created), "recovery");
        assert!(lines(&created).last().unwrap().contains("the package octo-org/team/app"));
    }
}
