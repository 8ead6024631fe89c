//! Stops, starts and port changes racing on one codespace leave it in one consistent state:
//! each change is applied whole to the state the one before it left, as the audit log
//! shows, on both stores.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{Backend, TestApp};
use crate::life_support::*;

const ROUNDS: usize = 12;

async fn racing_changes_apply_one_after_another(backend: Backend) {
    let app = Arc::new(
        TestApp::spawn_with(backend, |config| {
            config.database_timeout = std::time::Duration::from_secs(10);
        })
        .await,
    );
    let service = arrange(&app).await;
    let codespace = create(&app, &service, json!({ "retention_period_minutes": 60 })).await;
    let mut racers = Vec::new();
    for round in 0..ROUNDS {
        for action in ["stop", "start", "port"] {
            let (app, service, codespace) = (app.clone(), service.clone(), codespace.clone());
            racers.push(tokio::spawn(async move {
                let answer = match action {
                    "stop" => stop(&app, &service, &codespace).await,
                    "start" => start(&app, &service, &codespace, None).await,
                    _ => {
                        let visibility = if round % 2 == 0 { "org" } else { "public" };
                        let body = json!({ "visibility": visibility });
                        set_port(&app, &service, &codespace, "3000", body).await
                    }
                };
                assert_eq!(answer.status, StatusCode::OK, "{action}: {:?}", answer.body);
                answer.body
            }));
        }
    }
    for racer in racers {
        let answered: Value = racer.await.expect("a racer");
        let stopped = answered["state"] == "Shutdown";
        assert_eq!(
            stopped,
            answered["retention_expires_at"].is_string(),
            "{answered:?}"
        );
    }

    let final_state = ok(app.get(&path(&codespace, ""), &service).await);
    let mut entries = codespace_entries(&app).await;
    entries.reverse();
    assert!(!entries.is_empty());
    for pair in entries.windows(2) {
        assert_eq!(
            pair[1]["before"], pair[0]["after"],
            "a change saw the one before it"
        );
    }
    let last = &entries.last().unwrap()["after"];
    assert_eq!(last["state"], final_state["state"]);
    assert_eq!(last["ports"], final_state["ports"]);
    assert_eq!(
        last["retention_expires_at"],
        final_state["retention_expires_at"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_racing_stops_starts_and_port_changes_apply_one_after_another() {
    racing_changes_apply_one_after_another(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_racing_stops_starts_and_port_changes_apply_one_after_another() {
    racing_changes_apply_one_after_another(Backend::Postgres).await;
}
