//! Two instances sharing one PostgreSQL: reads one instance cached are cleared when the
//! other changes what they show (LISTEN/NOTIFY), and revocations and role changes made on
//! one instance take effect on the other.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, TestApp, TestDatabase};

/// Polls `check` until it holds; a notification crosses instances in milliseconds, and the
/// bound only says it must arrive at all.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} never reached the other instance"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) async fn two_instances() -> (TestApp, TestApp) {
    let first = TestApp::spawn(Backend::Postgres).await;
    let TestDatabase::Postgres(options) = first.database.clone() else {
        unreachable!()
    };
    let mut second = TestApp::on_database(TestDatabase::Postgres(options), |_| {}).await;
    second.admin = first.admin.clone();
    // Let both listeners start, so that the second instance caches what it reads.
    tokio::time::sleep(Duration::from_millis(600)).await;
    (first, second)
}

async fn evaluate(app: &TestApp, token: &str) -> (StatusCode, serde_json::Value) {
    let response = app
        .post(
            "/orgs/octo-org/codespaces/policies/evaluate",
            token,
            json!({ "repository": "repo-a", "image": "node:18" }),
        )
        .await;
    (response.status, response.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_change_on_one_instance_reaches_the_cached_evaluate_of_the_other() {
    let (first, second) = two_instances().await;
    first.octo_org().await;
    let policy = first.allow_org_wide("octo-org", &["node:*"]).await;
    let owner = first.user_token("octocat").await;
    for _ in 0..3 {
        let (status, verdict) = evaluate(&second, &owner).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            verdict["allowed"], true,
            "warms the second instance's cache"
        );
    }

    let path = format!("/orgs/octo-org/codespaces/policies/{}", policy["id"]);
    let body = json!({ "constraints": { "base_images": { "allowed_values": ["python:*"] } } });
    assert_eq!(
        first.patch(&path, &first.admin, body).await.status,
        StatusCode::OK
    );

    eventually("the tightened policy", async || {
        evaluate(&second, &owner).await.1["allowed"] == false
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_and_a_removed_role_on_one_instance_take_effect_on_the_other() {
    let (first, second) = two_instances().await;
    first.octo_org().await;
    let owner = first.user_token("octocat").await;
    let member = first.user_token("mona").await;
    assert_eq!(evaluate(&second, &owner).await.0, StatusCode::OK);
    assert_eq!(
        second.get("/orgs/octo-org", &member).await.status,
        StatusCode::OK
    );

    let revoked = first
        .post("/tokens/revoke", &first.admin, json!({ "token": owner }))
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let removed = first
        .delete("/orgs/octo-org/memberships/mona", &first.admin)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);

    eventually("the revocation", async || {
        evaluate(&second, &owner).await.0 == StatusCode::UNAUTHORIZED
    })
    .await;
    eventually("the removed role", async || {
        second.get("/orgs/octo-org", &member).await.status == StatusCode::NOT_FOUND
    })
    .await;
}

crate::backend_tests! {
    async fn a_revoked_token_is_refused_at_once_even_after_it_was_used(app) {
        app.octo_org().await;
        let owner = app.user_token("octocat").await;
        assert_eq!(app.get("/orgs/octo-org", &owner).await.status, StatusCode::OK);
        assert_eq!(app.get("/orgs/octo-org", &owner).await.status, StatusCode::OK);
        let revoked = app.post("/tokens/revoke", &app.admin, json!({ "token": owner })).await;
        assert_eq!(revoked.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get("/orgs/octo-org", &owner).await.status, StatusCode::UNAUTHORIZED);
    }

    async fn a_billing_change_applies_to_the_next_creation_at_once(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["python:*"]).await;
        let service = app.service_token().await;
        let body = json!({ "repository": "octo-org/repo-a", "user": "mona",
            "devcontainer": { "image": "node:18" } });
        assert_eq!(app.create_codespace(&service, body.clone()).await.status, StatusCode::BAD_REQUEST);
        let disabled = app.put("/orgs/octo-org/codespaces/billing", &app.admin,
            Some(json!({ "mode": "disabled" }))).await;
        assert_eq!(disabled.status, StatusCode::OK);
        assert_eq!(app.create_codespace(&service, body).await.status, StatusCode::CREATED);
    }
}

/// The registries a creation on `app` gives a codespace of repo-a for mona.
async fn registries_of_a_creation(app: &TestApp, service: &str) -> serde_json::Value {
    let created = app
        .create_codespace(
            service,
            json!({ "repository": "octo-org/repo-a", "user": "mona",
                "devcontainer": { "image": "octo.azurecr.io/app:1" } }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    created.body["registries"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_change_on_one_instance_reaches_the_cached_secrets_of_the_other() {
    use crate::secrets_support::put_secret;
    let (first, second) = two_instances().await;
    // Replicas share one master key.
    let state = base_image_policy::state::AppState::with_master_key(
        second.store.clone(),
        (*second.state.config).clone(),
        first.state.master_key.clone(),
    );
    let second = TestApp {
        router: base_image_policy::app::build_router(state.clone()),
        state,
        ..second
    };
    first.octo_org().await;
    let service = first.service_token().await;
    let org = "/orgs/octo-org/codespaces/secrets";
    for (suffix, value) in [
        ("SERVER", "octo.azurecr.io"),
        ("USER", "u"),
        ("PASSWORD", "p"),
    ] {
        let name = format!("ACR_CONTAINER_REGISTRY_{suffix}");
        put_secret(
            &first,
            org,
            &first.admin,
            &name,
            value,
            json!({ "visibility": "all" }),
        )
        .await;
    }
    let expected = json!([{ "server": "octo.azurecr.io", "secret_prefix": "ACR" }]);
    for _ in 0..3 {
        assert_eq!(
            registries_of_a_creation(&second, &service).await,
            expected,
            "warms the cache"
        );
    }
    let deleted = first
        .delete(
            &format!("{org}/ACR_CONTAINER_REGISTRY_PASSWORD"),
            &first.admin,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    eventually("the deleted secret", async || {
        registries_of_a_creation(&second, &service).await == json!([])
    })
    .await;
    // A package created on one instance decides the other's next pull.
    let put = first
        .put(
            "/orgs/octo-org/packages/container/tools",
            &first.admin,
            Some(json!({ "visibility": "private" })),
        )
        .await;
    assert!(put.status.is_success());
    eventually("the new package", async || {
        let created = second
            .create_codespace(
                &service,
                json!({ "repository": "octo-org/repo-a", "user": "mona",
                "devcontainer": { "image": "ghcr.io/octo-org/tools:1" } }),
            )
            .await;
        created.body["recovery_mode"] == true
    })
    .await;
}
