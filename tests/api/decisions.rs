//! The decision log: every creation and full rebuild the policies judged, written with its
//! codespace (a refusal alone), newest first, filtered and paginated, pruned after 90 days.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{TestApp, TestDatabase};

fn body(repo: &str, image: &str) -> Value {
    json!({ "repository": format!("octo-org/{repo}"), "user": "mona", "devcontainer": { "image": image } })
}

async fn decisions(app: &TestApp, query: &str) -> Value {
    let listed = app
        .get(
            &format!("/orgs/octo-org/codespaces/decisions{query}"),
            &app.admin,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    listed.body
}

/// Runs `sql` on the test's database directly.
async fn execute(app: &TestApp, sql: &str) {
    use sqlx::Connection as _;
    match &app.database {
        TestDatabase::Postgres(options) => {
            let mut conn = sqlx::PgConnection::connect_with(options).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
        TestDatabase::Sqlite(url) => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
    }
}

backend_tests! {
    async fn every_judged_creation_is_logged_with_its_outcome_and_policies(app) {
        app.octo_org().await;
        let policy = app.allow_org_wide("octo-org", &["node:*"]).await;
        let trial = app.create_policy("octo-org", json!({ "name": "Trial", "target": "all_repositories",
            "enforcement": "report", "constraints": { "base_images": { "allowed_values": ["node:20"] } } })).await;
        let service = app.service_token().await;
        let created = app.create_codespace(&service, body("repo-a", "node:18")).await;
        assert_eq!(created.status, StatusCode::CREATED);
        let refused = app.create_codespace(&service, body("repo-b", "python:3")).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        let recovery = app.create_codespace(&service, json!({ "repository": "octo-org/repo-a", "user": "mona",
            "devcontainer": { "build": { "dockerfile": "Dockerfile" } }, "dockerfile": "FROM ruby:3\n" })).await;
        assert_eq!(recovery.body["recovery_mode"], true);
        // Not judged: the default image.
        assert_eq!(app.create_codespace(&service, json!({ "repository": "octo-org/repo-a", "user": "mona" }))
            .await.status, StatusCode::CREATED);

        let log = decisions(&app, "").await;
        assert_eq!(log["total_count"], 3, "{log}");
        let (p, t) = (policy["id"].as_i64().unwrap(), trial["id"].as_i64().unwrap());
        let entries = log["decisions"].as_array().unwrap();
        let strip = |e: &Value| {
            let mut e = e.clone();
            let at = e.as_object_mut().unwrap().remove("at").unwrap();
            assert!(chrono::DateTime::parse_from_rfc3339(at.as_str().unwrap()).is_ok());
            e
        };
        assert_eq!(strip(&entries[0]), json!({ "repository": "octo-org/repo-a", "user": "mona",
            "image": "ruby:3", "image_source": "dockerfile", "outcome": "recovery",
            "refused_by": [p], "reported_by": [t], "codespace_id": recovery.body["id"], "exception": null }), "newest first");
        assert_eq!(strip(&entries[1]), json!({ "repository": "octo-org/repo-b", "user": "mona",
            "image": "python:3", "image_source": "image", "outcome": "refused",
            "refused_by": [p], "reported_by": [t], "codespace_id": null, "exception": null }));
        assert_eq!(strip(&entries[2]), json!({ "repository": "octo-org/repo-a", "user": "mona",
            "image": "node:18", "image_source": "image", "outcome": "created",
            "refused_by": [], "reported_by": [t], "codespace_id": created.body["id"], "exception": null }));
    }

    async fn full_rebuilds_are_logged_and_plain_ones_are_not(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:*"]).await;
        let service = app.service_token().await;
        let created = app.create_codespace(&service, body("repo-a", "node:18")).await;
        let id = created.body["id"].as_str().unwrap();
        let plain = app.post(&format!("/codespaces/{id}/rebuild"), &service, json!({ "full": false })).await;
        assert_eq!(plain.status, StatusCode::OK);
        assert_eq!(decisions(&app, "").await["total_count"], 1);
        let refused = app.post(&format!("/codespaces/{id}/rebuild"), &service,
            json!({ "full": true, "devcontainer": { "image": "python:3" } })).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        let full = app.post(&format!("/codespaces/{id}/rebuild"), &service,
            json!({ "full": true, "devcontainer": { "image": "node:20" } })).await;
        assert_eq!(full.status, StatusCode::OK);
        let log = decisions(&app, "").await;
        assert_eq!(log["total_count"], 3);
        assert_eq!(log["decisions"][0]["image"], "node:20");
        assert_eq!(log["decisions"][0]["codespace_id"], json!(id));
        assert_eq!(log["decisions"][1]["outcome"], "refused");
    }

    async fn the_log_filters_by_repository_outcome_and_time_and_pages(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:*"]).await;
        let service = app.service_token().await;
        for (repo, image) in [("repo-a", "node:18"), ("repo-b", "node:18"), ("repo-a", "python:3"), ("repo-b", "node:20")] {
            app.create_codespace(&service, body(repo, image)).await;
        }
        assert_eq!(decisions(&app, "?repository=REPO-A").await["total_count"], 2);
        assert_eq!(decisions(&app, "?outcome=refused").await["total_count"], 1);
        assert_eq!(decisions(&app, "?repository=repo-b&outcome=created").await["total_count"], 2);
        assert_eq!(decisions(&app, "?since=2000-01-01T00:00:00Z").await["total_count"], 4);
        assert_eq!(decisions(&app, "?since=2999-01-01T00:00:00%2B02:00").await["total_count"], 0);
        let page = decisions(&app, "?per_page=3&page=2").await;
        assert_eq!(page["total_count"], 4);
        assert_eq!(page["decisions"].as_array().unwrap().len(), 1);
        assert_eq!(page["decisions"][0]["image"], "node:18", "the oldest, last");
        for (query, field) in [("?outcome=allowed", "outcome"), ("?since=yesterday", "since"),
                               ("?repository=a%20b", "repository"), ("?per_page=101", "per_page")] {
            let bad = app.get(&format!("/orgs/octo-org/codespaces/decisions{query}"), &app.admin).await;
            assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
            assert_eq!(bad.body["errors"][0]["field"], field, "{query}");
        }
    }

    async fn an_idempotent_replay_logs_nothing_more(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:*"]).await;
        let service = app.service_token().await;
        for _ in 0..2 {
            let answer = app.request_with_headers(Method::POST, "/codespaces", Some(&service),
                Some(body("repo-a", "node:18")), &[("idempotency-key", "once")]).await;
            assert_eq!(answer.status, StatusCode::CREATED);
        }
        assert_eq!(decisions(&app, "").await["total_count"], 1);
    }

    async fn decisions_older_than_the_retention_are_pruned(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:*"]).await;
        let service = app.service_token().await;
        app.create_codespace(&service, body("repo-a", "node:18")).await;
        let old = chrono::Utc::now() - chrono::Duration::days(91);
        let at = match &app.database {
            TestDatabase::Postgres(_) => format!("'{}'", old.to_rfc3339()),
            TestDatabase::Sqlite(_) => format!("'{}'", old.format("%Y-%m-%d %H:%M:%S%.f+00:00")),
        };
        execute(&app, &format!("INSERT INTO decisions (org_id, at, repository, repo_key, user_login, image, \
            image_source, outcome, refused_by, reported_by) SELECT id, {at}, 'octo-org/repo-a', 'repo-a', \
            'mona', 'node:1', 'image', 'created', '[]', '[]' FROM orgs WHERE login = 'octo-org'")).await;
        assert_eq!(decisions(&app, "").await["total_count"], 2);
        let pruned = base_image_policy::retention::prune_once(app.store.as_ref(), chrono::Utc::now()).await.unwrap();
        assert_eq!(pruned, 1);
        let kept = decisions(&app, "").await;
        assert_eq!(kept["total_count"], 1);
        assert_eq!(kept["decisions"][0]["image"], "node:18");
    }
}

/// A request that fails closed (here: SQLite's write lock held past the timeout) answers
/// 503 and leaves no decision, for a creation and for a refusal alike.
#[tokio::test]
async fn a_request_that_failed_closed_leaves_no_decision() {
    use sqlx::{Connection as _, Executor as _};
    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, |config| {
        config.database_timeout = std::time::Duration::from_millis(300);
    })
    .await;
    app.octo_org().await;
    app.allow_org_wide("octo-org", &["node:*"]).await;
    let service = app.service_token().await;
    assert_eq!(
        app.create_codespace(&service, body("repo-a", "node:18"))
            .await
            .status,
        StatusCode::CREATED
    );
    let TestDatabase::Sqlite(url) = &app.database else {
        unreachable!()
    };
    let mut holder = sqlx::SqliteConnection::connect(url).await.unwrap();
    holder.execute("BEGIN IMMEDIATE").await.unwrap();
    for image in ["node:20", "python:3"] {
        let answer = app.create_codespace(&service, body("repo-a", image)).await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{image}: {:?}",
            answer.body
        );
    }
    holder.execute("ROLLBACK").await.unwrap();
    let log = decisions(&app, "").await;
    assert_eq!(log["total_count"], 1, "{log}");
}
