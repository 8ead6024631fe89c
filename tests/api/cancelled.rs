//! Requests cancelled part way (a client that hangs up, a deadline) leave no transaction
//! behind: every later request is served as before. sqlx's SQLite connections lost a
//! transaction whose `BEGIN` completed just as its caller was dropped, leaving the connection
//! holding the write lock; every writer then waited on it.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, TestApp};

async fn cancelled_creations_leave_the_store_serving(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.octo_org().await;
    app.create_policy(
        "octo-org",
        json!({ "name": "Per user", "target": "all_repositories",
        "constraints": { "max_codespaces_per_user": { "value": 100 } } }),
    )
    .await;
    let service = app.service_token().await;
    let body = |n: usize| {
        json!({ "repository": "octo-org/repo-a", "user": format!("member-{}", n % 50),
        "devcontainer": { "image": "node:18" } })
    };
    for n in 0..50 {
        app.set_role("octo-org", &format!("member-{n}"), "member")
            .await;
    }
    // Creations dropped at every point of their run, a few at a time.
    for round in 0..60u64 {
        let mut racing = Vec::new();
        for k in 0..4u64 {
            let request = app.create_codespace(&service, body((round * 4 + k) as usize));
            let after = Duration::from_micros((round * 37 + k * 101) % 900);
            racing.push(tokio::time::timeout(after, request));
        }
        for dropped in racing {
            let _ = dropped.await;
        }
    }
    for n in 0..20 {
        let created = app.create_codespace(&service, body(n)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_creations_leave_sqlite_serving() {
    cancelled_creations_leave_the_store_serving(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_creations_leave_postgres_serving() {
    cancelled_creations_leave_the_store_serving(Backend::Postgres).await;
}
