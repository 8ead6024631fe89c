//! The per-user count that `max_codespaces_per_user` limits follows every way a codespace
//! starts or stops counting: creation, deletion, the retention sweep, a full rebuild that
//! moves its bill to or from the org, and the limit coming into force after codespaces exist.
//! On PostgreSQL the count is a row a user, kept (while the org's policies set the limit) by
//! the creation's statement, by triggers and by policy edits; each test checks it against the
//! codespaces.

use axum::http::{Method, StatusCode};
use base_image_policy::sweep::sweep_once;
use chrono::Duration;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};

use crate::helpers::{fresh_postgres_schema, TestApp, TestDatabase};
use crate::life_support::*;
use crate::revisions_upgrade::{execute, migrate_before};

fn body(user: &str) -> Value {
    json!({ "repository": "octo-org/repo-a", "user": user, "devcontainer": { "image": IMAGE } })
}

async fn refused(app: &TestApp, service: &str, user: &str) {
    let refused = app.create_codespace(service, body(user)).await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{user} is at the limit: {:?}",
        refused.body
    );
    assert!(refused.body["message"]
        .as_str()
        .unwrap_or("")
        .starts_with("You already have the maximum"));
}

async fn full_rebuild(app: &TestApp, service: &str, codespace: &Value) -> Value {
    let rebuilt = app
        .post(
            &path(codespace, "rebuild"),
            service,
            json!({ "full": true, "devcontainer": { "image": IMAGE } }),
        )
        .await;
    assert_eq!(rebuilt.status, StatusCode::OK, "{:?}", rebuilt.body);
    rebuilt.body
}

/// On PostgreSQL, in every org that keeps the counts, each user's row in `codespaces_held`
/// equals their org-billed codespaces; other orgs keep no rows.
async fn assert_counts_agree(app: &TestApp) {
    let TestDatabase::Postgres(options) = &app.database else {
        return;
    };
    let mut conn = PgConnection::connect_with(options)
        .await
        .expect("a connection");
    let disagreeing: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT COALESCE(h.user_key, c.user_key), COALESCE(h.held, -1), COALESCE(c.n, 0) \
         FROM codespaces_held h FULL JOIN (SELECT c.org_id, c.user_key, COUNT(*) AS n \
           FROM codespaces c JOIN orgs o ON o.id = c.org_id AND o.counts_held \
           WHERE c.billed_to_org GROUP BY c.org_id, c.user_key) c \
         ON c.org_id = h.org_id AND c.user_key = h.user_key \
         LEFT JOIN orgs o ON o.id = h.org_id \
         WHERE COALESCE(h.held, 0) <> COALESCE(c.n, 0) OR NOT o.counts_held",
    )
    .fetch_all(&mut conn)
    .await
    .expect("the counts");
    assert!(
        disagreeing.is_empty(),
        "(user, kept, counted): {disagreeing:?}"
    );
}

crate::clocked_tests! {
    async fn a_swept_codespace_no_longer_counts(app, clock) {
        let service = arrange(&app).await;
        policy(&app, "One each", json!({ "max_codespaces_per_user": { "value": 1 } })).await;
        let first = create(&app, &service, json!({ "retention_period_minutes": 60 })).await;
        create_for(&app, &service, "octocat", json!({ "retention_period_minutes": 60 })).await;
        stopped(&app, &service, &first).await;
        refused(&app, &service, "mona").await;
        clock.advance(Duration::minutes(61));
        assert_eq!(sweep_once(app.store.as_ref(), clock.as_ref()).await.expect("a sweep"), 1);
        assert_counts_agree(&app).await;
        create(&app, &service, json!({})).await;
        refused(&app, &service, "mona").await;
        refused(&app, &service, "octocat").await;
        assert_counts_agree(&app).await;
    }

    async fn a_full_rebuild_that_moves_the_bill_moves_the_count(app, _clock) {
        let service = arrange(&app).await;
        policy(&app, "One each", json!({ "max_codespaces_per_user": { "value": 1 } })).await;
        app.set_role("octo-org", "hubot", "outside_collaborator").await;
        let own = create_for(&app, &service, "hubot", json!({})).await;
        assert_eq!(own["billable_owner"], "hubot");
        app.set_role("octo-org", "hubot", "member").await;
        let paid = create_for(&app, &service, "hubot", json!({})).await;
        assert_eq!(paid["billable_owner"], "octo-org");
        // Rebuilt while a member, the first is billed to the org and counts too.
        assert_eq!(full_rebuild(&app, &service, &own).await["billable_owner"], "octo-org");
        assert_counts_agree(&app).await;
        assert_eq!(app.delete(&path(&paid, ""), &service).await.status, StatusCode::NO_CONTENT);
        refused(&app, &service, "hubot").await;
        // Rebuilt as an outside collaborator again, it counts for nothing.
        app.set_role("octo-org", "hubot", "outside_collaborator").await;
        assert_eq!(full_rebuild(&app, &service, &own).await["billable_owner"], "hubot");
        app.set_role("octo-org", "hubot", "member").await;
        create_for(&app, &service, "hubot", json!({})).await;
        refused(&app, &service, "hubot").await;
        assert_counts_agree(&app).await;
    }

    async fn a_limit_coming_into_force_counts_the_codespaces_already_there(app, _clock) {
        let service = arrange(&app).await;
        for _ in 0..2 {
            create(&app, &service, json!({})).await;
        }
        create_for(&app, &service, "octocat", json!({})).await;
        assert_counts_agree(&app).await;
        // Report-only, the limit binds nothing; enforced, it counts what is there.
        let trial = app.create_policy("octo-org", json!({ "name": "Trial",
            "target": "all_repositories", "enforcement": "report",
            "constraints": { "max_codespaces_per_user": { "value": 2 } } })).await;
        create(&app, &service, json!({})).await;
        assert_counts_agree(&app).await;
        let enforced = app.patch(&format!("/orgs/octo-org/codespaces/policies/{}", trial["id"]),
            &app.admin, json!({ "enforcement": "enforce" })).await;
        assert_eq!(enforced.status, StatusCode::OK, "{:?}", enforced.body);
        assert_counts_agree(&app).await;
        refused(&app, &service, "mona").await;
        create_for(&app, &service, "octocat", json!({})).await;
        refused(&app, &service, "octocat").await;
        // Gone, it counts nothing and limits nothing; back, it counts again.
        delete_policy(&app, &trial).await;
        assert_counts_agree(&app).await;
        // The first creation after it, by a set cached before it, with an idempotency key
        // (written in a transaction of its own) and without.
        let keyed = app.request_with_headers(Method::POST, "/codespaces", Some(&service),
            Some(body("mona")), &[("idempotency-key", "after-the-limit")]).await;
        assert_eq!(keyed.status, StatusCode::CREATED, "{:?}", keyed.body);
        create(&app, &service, json!({})).await;
        policy(&app, "Five each", json!({ "max_codespaces_per_user": { "value": 5 } })).await;
        assert_counts_agree(&app).await;
        refused(&app, &service, "mona").await;
        create_for(&app, &service, "octocat", json!({})).await;
        assert_counts_agree(&app).await;
    }
}

/// Codespaces written before the count was kept, in an org with a per-user limit: two of
/// mona's billed to the org, one of hubot's billed to him, one of hubot's billed to the org;
/// and one of mona's in an org whose limit only reports, which keeps no count.
const BEFORE_THE_COUNT: &str = "
    INSERT INTO orgs (id, login, login_key, created_at) VALUES
        (1, 'octo-org', 'octo-org', '2026-01-01T09:00:00Z'), (2, 'free-org', 'free-org', '2026-01-01T09:00:00Z');
    INSERT INTO repos (id, org_id, name, name_key, created_at) VALUES
        (1, 1, 'repo-a', 'repo-a', '2026-01-01T09:00:00Z'), (2, 2, 'repo-a', 'repo-a', '2026-01-01T09:00:00Z');
    INSERT INTO policies (id, org_id, name, target, has_base_images, version, created_at, updated_at,
        enforcement, constraints) VALUES
        (1, 1, 'Two each', 'all_repositories', FALSE, 1, now(), now(), 'enforce', '{\"max_codespaces_per_user\":{\"value\":2}}'),
        (2, 2, 'Trial', 'all_repositories', FALSE, 1, now(), now(), 'report', '{\"max_codespaces_per_user\":{\"value\":2}}');
    INSERT INTO codespaces (id, org_id, repo_id, user_login, billable_owner, image, image_source,
        recovery_mode, creation_log, created_at, updated_at, user_key, billed_to_org) VALUES
        ('cs_1', 1, 1, 'mona', 'octo-org', 'node:18', 'image', FALSE, '[]', now(), now(), 'mona', TRUE),
        ('cs_2', 1, 1, 'Mona', 'octo-org', 'node:18', 'image', FALSE, '[]', now(), now(), 'mona', TRUE),
        ('cs_3', 1, 1, 'hubot', 'hubot', 'node:18', 'image', FALSE, '[]', now(), now(), 'hubot', FALSE),
        ('cs_4', 1, 1, 'hubot', 'octo-org', 'node:18', 'image', FALSE, '[]', now(), now(), 'hubot', TRUE),
        ('cs_5', 2, 2, 'mona', 'free-org', 'node:18', 'image', FALSE, '[]', now(), now(), 'mona', TRUE);
";

#[tokio::test]
async fn postgres_the_migration_counts_the_codespaces_already_there() {
    let database = TestDatabase::Postgres(fresh_postgres_schema().await);
    assert!(migrate_before(&database, "0017").await >= 15);
    execute(&database, BEFORE_THE_COUNT).await;
    let app = TestApp::on_database(database, |_| {}).await;
    assert_counts_agree(&app).await;
    let TestDatabase::Postgres(options) = &app.database else {
        unreachable!()
    };
    let mut conn = PgConnection::connect_with(options)
        .await
        .expect("a connection");
    let held: Vec<(String, i64)> =
        sqlx::query_as("SELECT user_key, held FROM codespaces_held ORDER BY org_id, user_key")
            .fetch_all(&mut conn)
            .await
            .expect("the counts");
    assert_eq!(held, [("hubot".to_owned(), 1), ("mona".to_owned(), 2)]);
}
