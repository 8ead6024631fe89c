//! Packages fail closed: while the database cannot answer, every package route answers 503
//! with `Retry-After` and stores nothing, creation's `find_package` fails rather than
//! answering "no package", and the routes serve again once the database answers.

use std::time::Duration;

use axum::http::StatusCode;
use base_image_policy::store::StoreError;
use serde_json::json;

use crate::held::{assert_unavailable, hold, release};
use crate::helpers::{Backend, TestApp};
use crate::packages::{org_id, put_package};

const APP: &str = "/orgs/octo-org/packages/container/app";

async fn packages_fail_closed(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.database_timeout = Duration::from_millis(300);
    })
    .await;
    app.octo_org().await;
    let org = org_id(&app, "octo-org").await;
    let created = put_package(&app, "app", json!({ "visibility": "private" })).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let access = format!("{APP}/codespaces-access/repo-a");
    let held = hold(&app, "packages, package_access, audit_log").await;
    let public = Some(json!({ "visibility": "public" }));
    let writes = [
        app.put(
            "/orgs/octo-org/packages/container/new",
            &app.admin,
            public.clone(),
        )
        .await,
        app.put(APP, &app.admin, public.clone()).await,
        app.delete(APP, &app.admin).await,
        app.put(&access, &app.admin, None).await,
        app.delete(&access, &app.admin).await,
    ];
    for (index, response) in writes.iter().enumerate() {
        assert_unavailable(response, &format!("write {index}"));
    }
    if backend == Backend::Postgres {
        assert_unavailable(&app.get(APP, &app.admin).await, "GET");
        let found = app.store.find_package(org, "app").await;
        assert!(
            matches!(found, Err(StoreError::Unavailable(_))),
            "{found:?}"
        );
    }
    release(held).await;
    let kept = app.get(APP, &app.admin).await;
    assert_eq!(kept.status, StatusCode::OK, "serves again");
    assert_eq!(
        (&kept.body["visibility"], &kept.body["codespaces_access"]),
        (&json!("private"), &json!([])),
        "nothing stored while down"
    );
    let missing = app
        .get("/orgs/octo-org/packages/container/new", &app.admin)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.put(APP, &app.admin, public).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn package_routes_fail_closed_on_sqlite() {
    packages_fail_closed(Backend::Sqlite).await;
}

#[tokio::test]
async fn package_routes_fail_closed_on_postgresql() {
    packages_fail_closed(Backend::Postgres).await;
}
