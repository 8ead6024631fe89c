//! Secrets fail closed: while the database cannot answer, every secret route answers 503
//! with `Retry-After` and stores nothing, and serves again once it can.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;

use crate::held::{assert_unavailable, hold, release};
use crate::helpers::{Backend, TestApp};
use crate::secrets_support::{names, put_secret, sealed_body};

const ORG: &str = "/orgs/octo-org/codespaces/secrets";

async fn secrets_fail_closed(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.database_timeout = Duration::from_millis(300);
    })
    .await;
    app.octo_org().await;
    let body = json!({ "visibility": "selected", "selected_repository_ids": [] });
    assert_eq!(
        put_secret(&app, ORG, &app.admin, "KEPT", "v", body.clone())
            .await
            .status,
        StatusCode::CREATED
    );
    let put = sealed_body(&app, ORG, &app.admin, "w", body.clone()).await;
    let mona = app.user_token("mona").await;
    let service = app.service_token().await;
    let creation = json!({ "repository": "octo-org/repo-a", "user": "mona",
        "devcontainer": { "image": "node:18" } });
    let created = app.create_codespace(&service, creation.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let read = format!(
        "/codespaces/{}/secrets",
        created.body["id"].as_str().unwrap()
    );
    let held = hold(&app, "secrets, secret_keys, secret_repos, audit_log").await;
    // On SQLite creation cannot write; on PostgreSQL it may judge from the read cache
    // (current while the database answers: `faults.rs` stops the database itself). The
    // orchestrator's read always reads the values and writes its audit entry.
    if backend == Backend::Sqlite {
        assert_unavailable(&app.create_codespace(&service, creation).await, "creation");
    }
    assert_unavailable(&app.get(&read, &service).await, "the orchestrator's read");
    let writes = [
        app.put(&format!("{ORG}/NEW"), &app.admin, Some(put.clone()))
            .await,
        app.put(&format!("{ORG}/KEPT"), &app.admin, Some(put.clone()))
            .await,
        app.delete(&format!("{ORG}/KEPT"), &app.admin).await,
        app.put(
            &format!("{ORG}/KEPT/repositories"),
            &app.admin,
            Some(json!({ "selected_repository_ids": [] })),
        )
        .await,
    ];
    for (index, response) in writes.iter().enumerate() {
        assert_unavailable(response, &format!("write {index}"));
    }
    if backend == Backend::Postgres {
        for path in [
            ORG.to_string(),
            format!("{ORG}/public-key"),
            format!("{ORG}/KEPT"),
            format!("{ORG}/KEPT/repositories"),
            "/user/codespaces/secrets/public-key".to_string(),
        ] {
            let token = if path.starts_with("/user") {
                &mona
            } else {
                &app.admin
            };
            assert_unavailable(&app.get(&path, token).await, &path);
        }
    }
    release(held).await;
    assert_eq!(
        names(&app, ORG, &app.admin).await,
        ["KEPT"],
        "nothing stored while down"
    );
    let listed = app.get("/orgs/octo-org/codespaces", &app.admin).await;
    assert_eq!(
        listed.body["total_count"], 1,
        "no codespace created while down"
    );
    assert_eq!(
        app.put(&format!("{ORG}/NEW"), &app.admin, Some(put))
            .await
            .status,
        StatusCode::CREATED,
        "serves again"
    );
}

#[tokio::test]
async fn secret_routes_fail_closed_on_sqlite() {
    secrets_fail_closed(Backend::Sqlite).await;
}

#[tokio::test]
async fn secret_routes_fail_closed_on_postgresql() {
    secrets_fail_closed(Backend::Postgres).await;
}
