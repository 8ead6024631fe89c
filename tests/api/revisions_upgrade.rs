//! Policies written before revisions were kept: the migration records each one's state as
//! its first revision, and a state that no revision holds (written by an instance that kept
//! none) is recorded before the next change, so that the change can be undone.

use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, SqliteConnection};

use crate::backend_tests;
use crate::helpers::{fresh_postgres_schema, Backend, TestApp, TestDatabase};
use crate::revisions::{etag, node_only, restore, revisions, shape, POLICIES};

/// Runs `sql` (several statements allowed) on the database, beside the app.
pub async fn execute(database: &TestDatabase, sql: &str) {
    match database {
        TestDatabase::Postgres(options) => {
            let mut conn = PgConnection::connect_with(options).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        }
        TestDatabase::Sqlite(url) => {
            let options: SqliteConnectOptions = url.parse().unwrap();
            let mut conn = options.create_if_missing(true).connect().await.unwrap();
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
    }
}

/// Applies the migrations numbered before `first_left_out` ("0009": those before revisions)
/// from a copy of their files, and answers how many there were.
pub async fn migrate_before(database: &TestDatabase, first_left_out: &str) -> usize {
    let backend = match database {
        TestDatabase::Postgres(_) => "postgres",
        TestDatabase::Sqlite(_) => "sqlite",
    };
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name.as_str() < first_left_out {
            std::fs::copy(&path, copy.path().join(name)).unwrap();
        }
    }
    let migrator = sqlx::migrate::Migrator::new(copy.path()).await.unwrap();
    let applied = migrator.iter().count();
    match database {
        TestDatabase::Postgres(options) => {
            let mut conn = PgConnection::connect_with(options).await.unwrap();
            migrator.run(&mut conn).await.unwrap();
        }
        TestDatabase::Sqlite(url) => {
            let options: SqliteConnectOptions = url.parse().unwrap();
            let mut conn: SqliteConnection =
                options.create_if_missing(true).connect().await.unwrap();
            migrator.run(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
    }
    applied
}

/// An org with an edited policy (values out of order, repositories out of name order, a
/// time zone that is not UTC, fractions of seconds) and a never-edited one with no
/// constraint, as the service before revisions wrote them.
const BEFORE_REVISIONS: &str = "
    INSERT INTO orgs (id, login, login_key, created_at) VALUES (1, 'octo-org', 'octo-org', '2026-01-01T09:00:00Z');
    INSERT INTO repos (id, org_id, name, name_key, created_at) VALUES
        (1, 1, 'Repo-B', 'repo-b', '2026-01-01T09:00:00Z'), (2, 1, 'repo-a', 'repo-a', '2026-01-01T09:00:00Z');
    INSERT INTO policies (id, org_id, name, target, has_base_images, version, created_at, updated_at, enforcement) VALUES
        (1, 1, 'Edited \"quoted\"', 'selected_repositories', TRUE, 3, '2026-01-01T10:00:00.250Z', '2026-01-02T13:30:00.654321+02:00', 'report'),
        (2, 1, 'Untouched', 'all_repositories', FALSE, 1, '2026-01-03T10:00:00Z', '2026-01-03T10:00:00Z', 'enforce');
    INSERT INTO policy_repos (policy_id, repo_id) VALUES (1, 1), (1, 2);
    INSERT INTO policy_allowed_values (policy_id, position, value) VALUES (1, 1, 'ghcr.io/octo/*'), (1, 0, 'node:*');
";

async fn the_migration_records_each_policy_there_as_its_first_revision(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let database = match backend {
        Backend::Sqlite => {
            TestDatabase::Sqlite(format!("sqlite://{}", dir.path().join("old.db").display()))
        }
        Backend::Postgres => TestDatabase::Postgres(fresh_postgres_schema().await),
    };
    assert_eq!(migrate_before(&database, "0009").await, 8);
    execute(&database, BEFORE_REVISIONS).await;
    let app = TestApp::on_database(database, |_| {}).await;

    let edited = app.get(&format!("{POLICIES}/1"), &app.admin).await;
    assert_eq!(edited.body["repositories"], json!(["repo-a", "Repo-B"]));
    assert_eq!(
        edited.body["constraints"]["base_images"]["allowed_values"],
        json!(["node:*", "ghcr.io/octo/*"])
    );
    assert_eq!(edited.body["updated_at"], "2026-01-02T11:30:00Z");
    let list = revisions(&app, 1).await;
    assert_eq!(list["total_count"], 1);
    assert_eq!(
        list["revisions"][0],
        json!({ "revision": 1, "at": "2026-01-02T11:30:00Z",
        "actor": "unknown", "action": "update", "policy": shape(&edited.body) })
    );
    let untouched = app.get(&format!("{POLICIES}/2"), &app.admin).await;
    assert_eq!(untouched.body["constraints"], json!({}));
    assert_eq!(
        revisions(&app, 2).await["revisions"][0],
        json!({ "revision": 1, "at": "2026-01-03T10:00:00Z",
        "actor": "unknown", "action": "create", "policy": shape(&untouched.body) })
    );

    // The first edit after the upgrade can be undone.
    let changed = app
        .request_with_headers(
            Method::PATCH,
            &format!("{POLICIES}/1"),
            Some(&app.admin),
            Some(json!({ "name": "Changed", "repositories": ["repo-a"] })),
            &[("if-match", &etag(&edited))],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    let undone = restore(&app, &app.admin, 1, "1", Some(&etag(&changed))).await;
    assert_eq!(undone.status, StatusCode::OK, "{:?}", undone.body);
    let mut expected = shape(&edited.body);
    expected["updated_at"] = undone.body["updated_at"].clone();
    assert_eq!(shape(&undone.body), expected);
    assert_eq!(revisions(&app, 1).await["total_count"], 3);
}

#[tokio::test]
async fn sqlite_the_migration_records_each_policy_there_as_its_first_revision() {
    the_migration_records_each_policy_there_as_its_first_revision(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_the_migration_records_each_policy_there_as_its_first_revision() {
    the_migration_records_each_policy_there_as_its_first_revision(Backend::Postgres).await;
}

backend_tests! {
    async fn a_state_no_revision_holds_is_recorded_before_the_next_change(app) {
        app.octo_org().await;
        let created = app.create_policy("octo-org", node_only()).await;
        let id = created["id"].clone();
        // As if the policy had been written before revisions were kept.
        execute(&app.database, "DELETE FROM policy_revisions").await;
        assert_eq!(app.get(&format!("{POLICIES}/{id}/revisions"), &app.admin).await.status, StatusCode::NOT_FOUND);
        let one = format!("{POLICIES}/{id}");
        let edited = app.patch(&one, &app.admin, json!({ "name": "Edited" })).await;
        let list = revisions(&app, &id).await;
        let first = &list["revisions"][1];
        assert_eq!((first["revision"].clone(), first["actor"].clone(), first["action"].clone()),
            (json!(1), json!("unknown"), json!("create")));
        assert_eq!(first["policy"], shape(&created));
        assert_eq!(list["revisions"][0]["policy"], shape(&edited.body));

        // Changed by an instance that kept no revision: that state is recorded as an edit.
        execute(&app.database, "UPDATE policies SET name = 'Elsewhere', version = version + 1").await;
        let elsewhere = app.get(&one, &app.admin).await.body;
        assert_eq!(app.delete(&one, &app.admin).await.status, StatusCode::NO_CONTENT);
        let list = revisions(&app, &id).await;
        let actions: Vec<(i64, &str, &str)> = list["revisions"].as_array().unwrap().iter()
            .map(|r| (r["revision"].as_i64().unwrap(), r["action"].as_str().unwrap(), r["actor"].as_str().unwrap())).collect();
        assert_eq!(actions, [(4, "delete", "site-admin"), (3, "update", "unknown"), (2, "update", "site-admin"), (1, "create", "unknown")]);
        assert_eq!(list["revisions"][1]["policy"], shape(&elsewhere));
        let restored = restore(&app, &app.admin, &id, "3", None).await;
        assert_eq!(restored.body["name"], "Elsewhere");
    }
}
