//! No stale decisions and no lost updates, under real concurrency.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::http::{Method, StatusCode};
use rand::RngExt;
use serde_json::json;

use sqlx::{ConnectOptions, Connection, PgConnection};
use tokio::task::JoinHandle;

use crate::helpers::{refusal, Backend, TestApp, TestDatabase, TestResponse};

const IMAGES: usize = 40;
const CREATIONS: usize = 1_500;
const WORKERS: usize = 8;

fn image(i: usize) -> String {
    format!("registry.test/team/img-{i}:1")
}

/// Waits longer on the database than the default, so that a loaded machine yields few 503s.
fn patient(config: &mut base_image_policy::config::Config) {
    config.database_timeout = std::time::Duration::from_secs(10);
}

/// One creation: which image, when it started, how it ended.
struct Attempt {
    image: usize,
    started: Instant,
    status: StatusCode,
}

/// Creations race against edits that each remove one more image from the only policy.
/// A creation that started after the removal of its image was acknowledged must be
/// refused; every 201 must be recorded. `apps` share one database: creations alternate
/// between them, edits go through the first.
async fn creations_race_tightening_edits(apps: Vec<Arc<TestApp>>) {
    let first = apps[0].clone();
    first.octo_org().await;
    let all: Vec<String> = (0..IMAGES).map(image).collect();
    let policy = first
        .allow_org_wide(
            "octo-org",
            &all.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .await;
    let path = format!("/orgs/octo-org/codespaces/policies/{}", policy["id"]);
    let service = first.service_token().await;
    let removed_at: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; IMAGES]));

    let editor = {
        let (app, removed_at) = (first.clone(), removed_at.clone());
        tokio::spawn(async move {
            for removed in 0..IMAGES - 1 {
                let remaining: Vec<String> = ((removed + 1)..IMAGES).map(image).collect();
                let body =
                    json!({ "constraints": { "base_images": { "allowed_values": remaining } } });
                // Retried while the database is too busy: the edit counts once acknowledged.
                let mut response = app.patch(&path, &app.admin, body.clone()).await;
                while response.status == StatusCode::SERVICE_UNAVAILABLE {
                    response = app.patch(&path, &app.admin, body.clone()).await;
                }
                assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
                removed_at.lock().unwrap()[removed] = Some(Instant::now());
                tokio::time::sleep(std::time::Duration::from_millis(15)).await;
            }
        })
    };
    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        let app = apps[worker % apps.len()].clone();
        let service = service.clone();
        workers.push(tokio::spawn(async move {
            let mut attempts = Vec::new();
            for _ in 0..CREATIONS / WORKERS {
                let i = rand::rng().random_range(0..IMAGES);
                let started = Instant::now();
                let body = json!({ "repository": "octo-org/repo-a", "user": "mona",
                    "devcontainer": { "image": image(i) } });
                let response = app.create_codespace(&service, body).await;
                // A 503 (the database too busy for the timeout) is fail-closed, never stale.
                assert!(
                    matches!(
                        response.status,
                        StatusCode::CREATED
                            | StatusCode::BAD_REQUEST
                            | StatusCode::SERVICE_UNAVAILABLE
                    ),
                    "{:?}",
                    response.body
                );
                attempts.push(Attempt {
                    image: i,
                    started,
                    status: response.status,
                });
            }
            attempts
        }));
    }
    editor.await.unwrap();
    let removed_at = removed_at.lock().unwrap().clone();
    let mut created = 0;
    let mut refused_after_removal = 0;
    for worker in workers {
        for attempt in worker.await.unwrap() {
            let stale = removed_at[attempt.image].is_some_and(|acked| attempt.started > acked);
            if attempt.status == StatusCode::CREATED {
                created += 1;
                assert!(
                    !stale,
                    "{} was created after its removal was acknowledged",
                    image(attempt.image)
                );
            } else if stale {
                refused_after_removal += 1;
            }
        }
    }
    assert!(
        refused_after_removal > 0,
        "the race exercised tightened policies"
    );
    let listed = first
        .get("/orgs/octo-org/codespaces?per_page=1", &first.admin)
        .await;
    assert_eq!(
        listed.body["total_count"], created,
        "every 201 was recorded, nothing else"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_creation_on_sqlite_is_judged_by_a_policy_older_than_an_acknowledged_edit() {
    let app = TestApp::spawn_with(Backend::Sqlite, patient).await;
    creations_race_tightening_edits(vec![Arc::new(app)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_creation_on_postgresql_is_judged_by_a_policy_older_than_an_acknowledged_edit() {
    let app = TestApp::spawn_with(Backend::Postgres, patient).await;
    creations_race_tightening_edits(vec![Arc::new(app)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_sharing_postgresql_never_judge_by_a_stale_policy() {
    let first = TestApp::spawn_with(Backend::Postgres, patient).await;
    let TestDatabase::Postgres(options) = first.database.clone() else {
        unreachable!()
    };
    let admin = first.admin.clone();
    // A second instance: its own pool and its own policy cache, the same database.
    let mut second = TestApp::on_database(TestDatabase::Postgres(options), patient).await;
    second.admin = admin;
    creations_race_tightening_edits(vec![Arc::new(first), Arc::new(second)]).await;
}

/// Waits until some transaction waits for the `mode` lock on the codespaces table, and fails
/// if `request`, the one expected to wait, ends first.
async fn until_waiting_for(
    conn: &mut PgConnection,
    mode: &str,
    request: &JoinHandle<TestResponse>,
) {
    for _ in 0..1_000 {
        assert!(
            !request.is_finished(),
            "the request ended without waiting for the codespaces table's {mode}"
        );
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_locks \
             WHERE relation = 'codespaces'::regclass AND mode = $1 AND NOT granted",
        )
        .bind(mode)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no request waited for the codespaces table's {mode} within 10 s");
}

/// The order the race tests above sample, made deterministic on PostgreSQL: a policy edit
/// does not commit while a codespace write is in flight (it could have read the version
/// before the edit), and a creation that arrives while the edit waits is judged by the edited
/// policy, though the set the edit replaces is still cached and was current when it arrived.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_postgresql_an_edit_waits_for_codespace_writes_and_creations_behind_it_see_it() {
    let app = Arc::new(TestApp::spawn_with(Backend::Postgres, patient).await);
    let TestDatabase::Postgres(options) = app.database.clone() else {
        unreachable!()
    };
    app.octo_org().await;
    let policy = app
        .allow_org_wide("octo-org", &["registry.test/a:1", "registry.test/b:1"])
        .await;
    let path = format!("/orgs/octo-org/codespaces/policies/{}", policy["id"]);
    let service = app.service_token().await;
    let creation = |image: &str| {
        let (app, service) = (app.clone(), service.clone());
        let body = json!({ "repository": "octo-org/repo-a", "user": "mona",
            "devcontainer": { "image": image } });
        tokio::spawn(async move { app.create_codespace(&service, body).await })
    };
    // Compiles and caches the set that allows a:1.
    let first = creation("registry.test/a:1").await.unwrap();
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);

    // A codespace write in flight: inserted, not committed.
    let mut writer = options.connect().await.unwrap();
    let mut in_flight = writer.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO codespaces SELECT 'cs_00000000000000000000000000', org_id, repo_id, \
         user_login, billable_owner, image, image_source, recovery_mode, creation_log, \
         created_at, updated_at FROM codespaces",
    )
    .execute(&mut *in_flight)
    .await
    .unwrap();

    let edit = {
        let (app, path) = (app.clone(), path.clone());
        let body = json!({ "constraints": { "base_images": {
            "allowed_values": ["registry.test/b:1"] } } });
        tokio::spawn(async move { app.patch(&path, &app.admin, body).await })
    };
    until_waiting_for(&mut in_flight, "ShareLock", &edit).await;
    let held_off = creation("registry.test/a:1");
    until_waiting_for(&mut in_flight, "RowExclusiveLock", &held_off).await;
    in_flight.commit().await.unwrap();

    let edited = edit.await.unwrap();
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    let refused = held_off.await.unwrap();
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        refused.body
    );
    assert_eq!(refused.body["message"], refusal("registry.test/a:1"));
    let listed = app
        .get("/orgs/octo-org/codespaces?per_page=1", &app.admin)
        .await;
    assert_eq!(
        listed.body["total_count"], 2,
        "the first creation and the write in flight"
    );
}

crate::backend_tests! {
    async fn of_two_edits_from_the_same_etag_exactly_one_wins(app) {
        app.octo_org().await;
        let app = Arc::new(app);
        for round in 0..10 {
            let created = app.post("/orgs/octo-org/codespaces/policies", &app.admin, json!({
                "name": "Race", "target": "all_repositories",
                "constraints": { "base_images": { "allowed_values": ["node:18"] } }
            })).await;
            let etag = created.headers["etag"].to_str().unwrap().to_string();
            let path = format!("/orgs/octo-org/codespaces/policies/{}", created.body["id"]);
            let edit = |name: &'static str| {
                let (app, path, etag) = (app.clone(), path.clone(), etag.clone());
                tokio::spawn(async move {
                    app.request_with_headers(Method::PATCH, &path, Some(&app.admin),
                        Some(json!({ "name": name })), &[("if-match", &etag)]).await
                })
            };
            let (a, b) = (edit("A"), edit("B"));
            let (a, b) = (a.await.unwrap(), b.await.unwrap());
            let mut statuses = [a.status, b.status];
            statuses.sort();
            assert_eq!(statuses, [StatusCode::OK, StatusCode::PRECONDITION_FAILED], "round {round}");
            let winner = if a.status == StatusCode::OK { "A" } else { "B" };
            assert_eq!(app.get(&path, &app.admin).await.body["name"], winner);
        }
    }
}
