//! A revision is written in its change's own transaction: a change that fails, or cannot
//! write its revision in time, leaves neither, and the routes fail closed with 503.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;

use crate::backend_tests;
use crate::held::{assert_unavailable, hold, release};
use crate::helpers::{Backend, TestApp};
use crate::revisions::{etag, node_only, restore, revisions, POLICIES};
use crate::revisions_upgrade::execute;

/// With the revisions held (PostgreSQL: that table alone, so every other statement of a
/// change succeeds first; SQLite: the write lock), no change commits without its revision.
/// A second of timeout rather than less: every test app's migrations queue on one lock.
async fn changes_fail_closed_when_their_revision_cannot_be_written(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.database_timeout = Duration::from_millis(1000);
    })
    .await;
    app.octo_org().await;
    let created = app.post(POLICIES, &app.admin, node_only()).await;
    let id = created.body["id"].clone();
    let one = format!("{POLICIES}/{id}");

    let held = hold(&app, "policy_revisions").await;
    let answers = [
        ("create", app.post(POLICIES, &app.admin, node_only()).await),
        (
            "edit",
            app.patch(&one, &app.admin, json!({ "name": "x" })).await,
        ),
        ("delete", app.delete(&one, &app.admin).await),
        ("restore", restore(&app, &app.admin, &id, "1", None).await),
    ];
    for (what, answer) in &answers {
        assert_unavailable(answer, what);
    }
    if backend == Backend::Postgres {
        // SQLite's readers never wait on a writer.
        let list = app.get(&format!("{one}/revisions"), &app.admin).await;
        assert_unavailable(&list, "the list");
    }
    release(held).await;

    let fetched = app.get(&one, &app.admin).await;
    assert_eq!(
        (fetched.body.clone(), etag(&fetched)),
        (created.body.clone(), etag(&created))
    );
    let policies = app.get(POLICIES, &app.admin).await;
    assert_eq!(policies.body["total_count"], 1, "no creation committed");
    assert_eq!(revisions(&app, &id).await["total_count"], 1);
}

#[tokio::test]
async fn sqlite_changes_fail_closed_when_their_revision_cannot_be_written() {
    changes_fail_closed_when_their_revision_cannot_be_written(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_changes_fail_closed_when_their_revision_cannot_be_written() {
    changes_fail_closed_when_their_revision_cannot_be_written(Backend::Postgres).await;
}

backend_tests! {
    async fn a_change_that_fails_leaves_no_revision(app) {
        app.octo_org().await;
        let mut body = node_only();
        body["repositories"] = json!(["repo-a", "repo-b"]);
        let id = app.create_policy("octo-org", body).await["id"].clone();
        let one = format!("{POLICIES}/{id}");
        let narrowed = app.patch(&one, &app.admin, json!({ "repositories": ["repo-a"] })).await;
        let audited = app.get("/orgs/octo-org/audit-log", &app.admin).await.body["total_count"].clone();

        let unknown = app.patch(&one, &app.admin, json!({ "repositories": ["repo-a", "nope"] })).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", unknown.body);
        // A repository gone since revision 1 (the service has no route that removes one).
        execute(&app.database, "DELETE FROM repos WHERE name_key = 'repo-b'").await;
        let gone = restore(&app, &app.admin, &id, "1", None).await;
        assert_eq!(gone.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", gone.body);
        assert_eq!(gone.body["errors"][0]["field"], "repositories[1]");
        assert_eq!(gone.body["message"],
            "Validation Failed: repositories[1] names repository 'repo-b', which does not exist in this organization");

        let fetched = app.get(&one, &app.admin).await;
        assert_eq!((fetched.body.clone(), etag(&fetched)), (narrowed.body.clone(), etag(&narrowed)));
        assert_eq!(revisions(&app, &id).await["total_count"], 2);
        assert_eq!(app.get("/orgs/octo-org/audit-log", &app.admin).await.body["total_count"], audited);
    }
}
