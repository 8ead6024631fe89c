//! `Idempotency-Key` on `POST /codespaces`.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::faults::LockHolder;
use crate::helpers::{refusal, Backend, TestApp, TestResponse};

fn body(image: &str) -> Value {
    json!({ "repository": "octo-org/repo-a", "user": "mona", "devcontainer": { "image": image } })
}

async fn create(app: &TestApp, token: &str, key: &str, body: Value) -> TestResponse {
    app.request_with_headers(
        Method::POST,
        "/codespaces",
        Some(token),
        Some(body),
        &[("idempotency-key", key)],
    )
    .await
}

async fn count(app: &TestApp) -> i64 {
    app.get("/orgs/octo-org/codespaces", &app.admin).await.body["total_count"]
        .as_i64()
        .unwrap()
}

async fn arrange(app: &TestApp) -> String {
    app.octo_org().await;
    app.allow_org_wide("octo-org", &["node:*"]).await;
    app.service_token().await
}

crate::backend_tests! {
    async fn a_retry_with_the_same_key_and_body_replays_the_first_answer_and_creates_nothing(app) {
        let service = arrange(&app).await;
        let first = create(&app, &service, "key-1", body("node:18")).await;
        assert_eq!(first.status, StatusCode::CREATED);
        // The same JSON with its keys in another order is the same body.
        let reordered = json!({ "devcontainer": { "image": "node:18" }, "user": "mona",
            "repository": "octo-org/repo-a" });
        let retry = create(&app, &service, "key-1", reordered).await;
        assert_eq!(retry.status, StatusCode::CREATED);
        assert_eq!(retry.raw, first.raw, "byte for byte");
        assert_eq!(count(&app).await, 1);
    }

    async fn a_refusal_is_replayed_too_even_after_the_policy_changes(app) {
        let service = arrange(&app).await;
        let first = create(&app, &service, "key-2", body("python:3")).await;
        assert_eq!(first.status, StatusCode::BAD_REQUEST);
        assert_eq!(first.body["message"], refusal("python:3"));
        app.allow_org_wide("octo-org", &["*"]).await;
        let retry = create(&app, &service, "key-2", body("python:3")).await;
        assert_eq!(retry.status, StatusCode::BAD_REQUEST);
        assert_eq!(retry.raw, first.raw);
        assert_eq!(count(&app).await, 0);
    }

    async fn the_same_key_with_another_body_is_a_422_and_creates_nothing(app) {
        let service = arrange(&app).await;
        assert_eq!(create(&app, &service, "key-3", body("node:18")).await.status, StatusCode::CREATED);
        let other = create(&app, &service, "key-3", body("node:20")).await;
        assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(other.body["errors"][0]["field"], "Idempotency-Key");
        assert_eq!(count(&app).await, 1);
    }

    async fn keys_are_scoped_to_the_caller(app) {
        let service = arrange(&app).await;
        let other_service = app.service_token().await;
        let first = create(&app, &service, "shared", body("node:18")).await;
        let second = create(&app, &other_service, "shared", body("node:18")).await;
        assert_eq!(second.status, StatusCode::CREATED);
        assert_ne!(first.body["id"], second.body["id"]);
        assert_eq!(count(&app).await, 2);
    }

    async fn a_malformed_key_is_a_422(app) {
        let service = arrange(&app).await;
        let long = "k".repeat(256);
        for key in ["", long.as_str(), "a key"] {
            let response = create(&app, &service, key, body("node:18")).await;
            assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{key:?}");
        }
        let max = "k".repeat(255);
        assert_eq!(create(&app, &service, &max, body("node:18")).await.status, StatusCode::CREATED);
        assert_eq!(count(&app).await, 1);
    }
}

#[tokio::test]
async fn a_retry_while_the_first_is_in_flight_is_a_409_and_an_outage_is_not_stored() {
    let app = TestApp::spawn_with(Backend::Postgres, |config| {
        config.database_timeout = Duration::from_millis(1500);
    })
    .await;
    let service = arrange(&app).await;
    // The first request waits behind a lock on the org's policy row, then times out.
    let lock = LockHolder::hold(&app).await;
    let first = create(&app, &service, "slow", body("node:18"));
    let retry = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        create(&app, &service, "slow", body("node:18")).await
    };
    let (first, retry) = tokio::join!(first, retry);
    assert_eq!(retry.status, StatusCode::CONFLICT, "{:?}", retry.body);
    assert_eq!(
        first.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the lock timed out"
    );
    lock.release().await;
    let after = create(&app, &service, "slow", body("node:18")).await;
    assert_eq!(after.status, StatusCode::CREATED, "the 503 was not stored");
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn on_sqlite_a_claimed_key_answers_409_and_an_outage_is_not_stored() {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.database_timeout = Duration::from_millis(500);
    })
    .await;
    let service = arrange(&app).await;
    // SQLite serializes writers, so a first request in flight is simulated by its claim.
    let scope = hex::encode(base_image_policy::tokens::hash_token(&service));
    let canonical = base_image_policy::routes::canonical_json(&body("node:18"));
    let hash: [u8; 32] = sha2::Digest::finalize(sha2::Digest::chain_update(
        <sha2::Sha256 as sha2::Digest>::new(),
        canonical.as_bytes(),
    ))
    .into();
    let hour = Duration::from_secs(3600);
    let claim = app
        .store
        .begin_idempotent(&scope, "claimed", &hash, hour, hour)
        .await
        .unwrap();
    assert_eq!(claim, base_image_policy::store::IdempotencyStart::Started);
    let retry = create(&app, &service, "claimed", body("node:18")).await;
    assert_eq!(retry.status, StatusCode::CONFLICT, "{:?}", retry.body);

    let lock = LockHolder::hold(&app).await;
    let outage = create(&app, &service, "busy", body("node:18")).await;
    assert_eq!(outage.status, StatusCode::SERVICE_UNAVAILABLE);
    lock.release().await;
    let after = create(&app, &service, "busy", body("node:18")).await;
    assert_eq!(after.status, StatusCode::CREATED, "the 503 was not stored");
    assert_eq!(count(&app).await, 1);
}

/// Without the HTTP layer's own store of the answer, so only the creation can have stored it.
mod in_the_transaction {
    use super::*;

    crate::backend_tests! {
        async fn the_answer_to_replay_is_stored_in_the_creation_itself(app) {
            use base_image_policy::names::Name;
            use base_image_policy::policy::ImageSource;
            use base_image_policy::store::{CodespaceBuild, IdempotencyStart, IdempotentAnswer, NewCodespace};
            arrange(&app).await;
            let org = app.store.find_org(&Name::parse("octo-org").unwrap()).await.unwrap().unwrap();
            let repo = app.store.find_repo(org.id, &Name::parse("repo-a").unwrap()).await.unwrap().unwrap();
            let hash = [7u8; 32];
            let day = Duration::from_secs(86_400);
            let start = app.store.begin_idempotent("scope", "key-1", &hash, day, day).await.unwrap();
            assert!(matches!(start, IdempotencyStart::Started));
            let new = NewCodespace { id: "cs_01JD00000000000000000000ZZ".into(), org_id: org.id,
                repo_id: repo.id, repository: "octo-org/repo-a".into(), user: "mona".into() };
            let plan = Box::new(|_: &base_image_policy::policy::CompiledPolicySet| Ok(CodespaceBuild {
                billable_owner: "octo-org".into(), image: "node:18".into(),
                image_source: ImageSource::Image, recovery_mode: false,
                creation_log: vec!["made".into()], registries: Vec::new(), decision: None,
                billed_to_org: true, machine: "basicLinux32gb".into(),
                limits: base_image_policy::store::LifeLimits { idle_timeout_minutes: 30,
                    idle_timeout_requested: None, idle_timeout_notice: None,
                    retention_period_minutes: 43_200 },
                per_user_limit: None }));
            let answer = IdempotentAnswer { scope: "scope", key: "key-1",
                render: Box::new(|c: &base_image_policy::store::Codespace| format!("{{\"id\":\"{}\"}}", c.id)) };
            let created = app.store.create_codespace(new, plan, Some(answer)).await.unwrap().unwrap();
            // No finish_idempotent: had the process died here, a retry would still replay.
            match app.store.begin_idempotent("scope", "key-1", &hash, day, day).await.unwrap() {
                IdempotencyStart::Replay { status, body } => {
                    assert_eq!(status, 201);
                    assert_eq!(body, format!("{{\"id\":\"{}\"}}", created.id));
                }
                other => panic!("expected the stored answer, got {other:?}"),
            }
        }
    }
}
