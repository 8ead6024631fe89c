//! The retention sweep: stopped codespaces are deleted once their retention has passed by
//! the service's clock (a manual one, advanced instead of waited for), never before and
//! never while they run, each with one audit entry; and two instances sweeping the same
//! PostgreSQL at once delete each codespace exactly once.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::http::StatusCode;
use base_image_policy::clock::{Clock, ManualClock};
use base_image_policy::sweep::sweep_once;
use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{Backend, TestApp, TestDatabase};
use crate::life_support::*;

async fn sweep(app: &TestApp, clock: &ManualClock) -> u64 {
    sweep_once(app.store.as_ref(), clock)
        .await
        .expect("a sweep")
}

async fn exists(app: &TestApp, codespace: &Value) -> bool {
    let found = app.get(&path(codespace, ""), &app.admin).await;
    assert!(matches!(
        found.status,
        StatusCode::OK | StatusCode::NOT_FOUND
    ));
    found.status == StatusCode::OK
}

crate::clocked_tests! {
    async fn a_stopped_codespace_is_deleted_once_its_retention_has_passed_and_not_before(app, clock) {
        let service = arrange(&app).await;
        let hour = create(&app, &service, json!({ "retention_period_minutes": 60 })).await;
        let day = create(&app, &service, json!({ "retention_period_minutes": 1440 })).await;
        let running = create(&app, &service, json!({ "retention_period_minutes": 0 })).await;
        stopped(&app, &service, &hour).await;
        stopped(&app, &service, &day).await;

        assert_eq!(sweep(&app, &clock).await, 0);
        clock.advance(Duration::minutes(59));
        assert_eq!(sweep(&app, &clock).await, 0, "a minute early");
        assert!(exists(&app, &hour).await);
        clock.advance(Duration::minutes(1));
        assert_eq!(sweep(&app, &clock).await, 1, "at its deadline");
        assert!(!exists(&app, &hour).await);
        assert!(exists(&app, &day).await);

        clock.advance(Duration::days(365));
        assert_eq!(sweep(&app, &clock).await, 1);
        assert!(!exists(&app, &day).await);
        assert!(exists(&app, &running).await, "a running codespace is never swept");
        assert_eq!(sweep(&app, &clock).await, 0);

        let deletions: Vec<Value> = codespace_entries(&app).await.into_iter()
            .filter(|e| e["action"] == "codespace.delete").collect();
        assert_eq!(deletions.len(), 2);
        assert!(deletions.iter().all(|e| e["actor"] == "retention" && e["after"].is_null()));
        assert_eq!(deletions[1]["before"]["id"], hour["id"]);
        assert_eq!(deletions[1]["before"]["repository"], "octo-org/repo-a");
        assert_eq!(deletions[1]["before"]["state"], "Shutdown");
        assert_eq!(deletions[0]["before"]["id"], day["id"]);
    }

    async fn a_codespace_started_again_is_not_swept(app, clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({ "retention_period_minutes": 10 })).await;
        stopped(&app, &service, &codespace).await;
        ok(start(&app, &service, &codespace, None).await);
        clock.advance(Duration::days(2));
        assert_eq!(sweep(&app, &clock).await, 0);
        assert!(exists(&app, &codespace).await);
    }

    async fn a_retention_of_zero_deletes_it_at_the_next_sweep(app, clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({ "retention_period_minutes": 0 })).await;
        let stopped = stopped(&app, &service, &codespace).await;
        assert_eq!(stopped["retention_expires_at"], minutes_after(&clock, 0));
        assert_eq!(sweep(&app, &clock).await, 1);
        assert!(!exists(&app, &codespace).await);
        assert_eq!(start(&app, &service, &codespace, None).await.status, StatusCode::NOT_FOUND,
            "a start of a deleted codespace");
    }

    async fn the_sweep_works_in_batches_oldest_deadline_first(app, clock) {
        let service = arrange(&app).await;
        let mut made = Vec::new();
        for minutes in [50, 10, 40, 20, 30] {
            let codespace = create(&app, &service, json!({ "retention_period_minutes": minutes })).await;
            stopped(&app, &service, &codespace).await;
            made.push((minutes, codespace));
        }
        clock.advance(Duration::hours(1));
        assert_eq!(app.store.sweep_expired(clock.now(), 2).await.unwrap(), 2);
        for (minutes, codespace) in &made {
            assert_eq!(exists(&app, codespace).await, *minutes > 20, "{minutes} minutes");
        }
        assert_eq!(sweep(&app, &clock).await, 3, "the rest, in one more call");
    }
}

/// Codespaces stopped and expired on PostgreSQL, swept by many tasks on two instances at
/// once in small batches: each codespace is deleted, and audited, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_sweeping_at_once_delete_each_codespace_exactly_once() {
    const CODESPACES: usize = 240;
    let clock = Arc::new(ManualClock::starting_now());
    let first = TestApp::spawn_with_clock(Backend::Postgres, clock.clone()).await;
    let TestDatabase::Postgres(options) = first.database.clone() else {
        unreachable!()
    };
    let second = TestApp::on_database(TestDatabase::Postgres(options), |_| {}).await;
    let service = arrange(&first).await;
    let mut ids = Vec::new();
    for _ in 0..CODESPACES {
        let codespace = create(&first, &service, json!({ "retention_period_minutes": 5 })).await;
        stopped(&first, &service, &codespace).await;
        ids.push(codespace["id"].as_str().unwrap().to_string());
    }
    clock.advance(Duration::minutes(5));

    let mut sweepers = Vec::new();
    for worker in 0..8 {
        let store = if worker % 2 == 0 {
            first.store.clone()
        } else {
            second.store.clone()
        };
        let now = clock.now();
        sweepers.push(tokio::spawn(async move {
            let mut deleted = 0;
            loop {
                match store.sweep_expired(now, 7).await {
                    Ok(0) => return deleted,
                    Ok(batch) => deleted += batch,
                    // A busy database may time out; the rows stay for the next batch.
                    Err(_) => tokio::time::sleep(StdDuration::from_millis(20)).await,
                }
            }
        }));
    }
    let mut deleted = 0;
    for sweeper in sweepers {
        deleted += sweeper.await.expect("a sweeper");
    }
    assert_eq!(deleted, CODESPACES as u64);

    let listed = first.get("/orgs/octo-org/codespaces", &first.admin).await;
    assert_eq!(listed.body["total_count"], 0);
    let sql =
        "SELECT before FROM audit_log WHERE action = 'codespace.delete' AND actor = 'retention'";
    let TestDatabase::Postgres(options) = &first.database else {
        unreachable!()
    };
    let mut conn: sqlx::PgConnection = sqlx::ConnectOptions::connect(options).await.unwrap();
    let befores: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap();
    let mut audited: Vec<String> = befores
        .iter()
        .map(|b| {
            serde_json::from_str::<Value>(b).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    audited.sort();
    ids.sort();
    assert_eq!(
        audited, ids,
        "one audit entry for each codespace, none twice"
    );
}
