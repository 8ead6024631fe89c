//! Keeping policy exceptions: every bad input is a 422 naming its field and changes
//! nothing, the 90-day bound is the service clock's, creation and deletion are audited,
//! another org's exception never applies, only owners and site admins keep them, the routes
//! fail closed, and an exception made on one instance applies to the other's next creation.

use axum::http::StatusCode;
use base_image_policy::clock::ManualClock;
use chrono::Duration;
use serde_json::{json, Value};

use crate::clocked_tests;
use crate::exceptions::{after, except, EXCEPTIONS};
use crate::held::{assert_unavailable, hold, release};
use crate::helpers::{Backend, TestApp, TestDatabase};

fn valid(clock: &ManualClock) -> Value {
    json!({ "repository": "repo-a", "allowed_values": ["node:18"], "expires_at": after(clock, 30),
        "reason": "Migration" })
}

/// `valid` with `field` set to `value` (or removed, for null).
fn with(clock: &ManualClock, field: &str, value: Value) -> Value {
    let mut body = valid(clock);
    match value {
        Value::Null => body.as_object_mut().unwrap().remove(field),
        value => body
            .as_object_mut()
            .unwrap()
            .insert(field.to_string(), value),
    };
    body
}

async fn audited_actions(app: &TestApp) -> Vec<Value> {
    let log = app
        .get("/orgs/octo-org/audit-log?per_page=100", &app.admin)
        .await;
    log.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["action"]
                .as_str()
                .unwrap()
                .starts_with("policy_exception.")
        })
        .cloned()
        .collect()
}

fn codespace(image: &str) -> Value {
    json!({ "repository": "octo-org/repo-a", "user": "mona", "devcontainer": { "image": image } })
}

clocked_tests! {
    async fn every_bad_input_is_a_422_naming_its_field_and_changes_nothing(app, clock) {
        app.octo_org().await;
        let many: Vec<String> = (0..1001).map(|i| format!("node:{i}")).collect();
        let cases = [
            (with(&clock, "reason", Value::Null), "reason"),
            (with(&clock, "reason", json!("")), "reason"),
            (with(&clock, "reason", json!("x".repeat(501))), "reason"),
            (with(&clock, "expires_at", Value::Null), "expires_at"),
            (with(&clock, "expires_at", json!(after(&clock, 90) + "x")), "expires_at"),
            (with(&clock, "expires_at", json!(after(&clock, 91))), "expires_at"),
            (with(&clock, "expires_at", json!(after(&clock, -1))), "expires_at"),
            (with(&clock, "expires_at", json!(after(&clock, 0))), "expires_at"),
            (with(&clock, "allowed_values", Value::Null), "allowed_values"),
            (with(&clock, "allowed_values", json!([])), "allowed_values"),
            (with(&clock, "allowed_values", json!(many)), "allowed_values"),
            (with(&clock, "allowed_values", json!(["node:18", "no*de"])), "allowed_values[1]"),
            (with(&clock, "allowed_values", json!(["Node:18"])), "allowed_values[0]"),
            (with(&clock, "repository", json!("repo-z")), "repository"),
            (with(&clock, "repository", json!("a/b")), "repository"),
            (with(&clock, "user", json!("no body")), "user"),
        ];
        for (body, field) in cases {
            let refused = app.post(EXCEPTIONS, &app.admin, body.clone()).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {:?}", refused.body);
            let error = &refused.body["errors"][0];
            assert_eq!((&error["resource"], &error["field"]), (&json!("PolicyException"), &json!(field)),
                "{:?}", refused.body);
            assert!(refused.body["message"].as_str().unwrap().starts_with("Validation Failed"));
        }
        let unknown = app.post(EXCEPTIONS, &app.admin, with(&clock, "colour", json!("red"))).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.get(EXCEPTIONS, &app.admin).await.body["total_count"], 0, "nothing stored");
        assert!(audited_actions(&app).await.is_empty(), "nothing audited");
        // Exactly 90 days ahead is allowed.
        except(&app, with(&clock, "expires_at", json!(after(&clock, 90)))).await;
    }

    async fn the_ninety_days_are_counted_by_the_service_clock(app, clock) {
        app.octo_org().await;
        clock.advance(Duration::days(365));
        // A year ahead of the system's time, 60 days ahead of the service's: allowed.
        let created = except(&app, with(&clock, "expires_at", json!(after(&clock, 60)))).await;
        assert_eq!(created["expired"], false);
        let past = app.post(EXCEPTIONS, &app.admin, with(&clock, "expires_at",
            json!((chrono::Utc::now() + Duration::days(30)).to_rfc3339())) ).await;
        assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY, "in the service clock's past");
    }

    async fn creation_and_deletion_are_audited_with_the_actor(app, clock) {
        app.octo_org().await;
        let owner = app.user_token("octocat").await;
        let created = app.post(EXCEPTIONS, &owner, valid(&clock)).await;
        assert_eq!(created.status, StatusCode::CREATED);
        assert_eq!(created.body["created_by"], "octocat");
        let path = format!("{EXCEPTIONS}/{}", created.body["id"]);
        assert_eq!(app.delete(&path, &owner).await.status, StatusCode::NO_CONTENT);
        let entries = audited_actions(&app).await;
        let snapshot = json!({ "id": created.body["id"], "repository": "repo-a", "user": null,
            "allowed_values": ["node:18"], "expires_at": after(&clock, 30), "reason": "Migration" });
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert_eq!((&entries[0]["action"], &entries[0]["actor"]), (&json!("policy_exception.delete"), &json!("octocat")));
        assert_eq!((&entries[0]["before"], &entries[0]["after"]), (&snapshot, &json!(null)));
        assert_eq!((&entries[1]["action"], &entries[1]["actor"]), (&json!("policy_exception.create"), &json!("octocat")));
        assert_eq!((&entries[1]["before"], &entries[1]["after"]), (&json!(null), &snapshot));
    }

    async fn another_orgs_exception_never_applies_nor_shows(app, clock) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["mcr.microsoft.com/*"]).await;
        app.create_org("other-org").await;
        app.add_repo("other-org", "repo-a").await;
        let theirs = app.post("/orgs/other-org/codespaces/policy-exceptions", &app.admin,
            json!({ "allowed_values": ["node:18"], "expires_at": after(&clock, 30), "reason": "Theirs" })).await;
        assert_eq!(theirs.status, StatusCode::CREATED);
        let service = app.service_token().await;
        assert_eq!(app.create_codespace(&service, codespace("node:18")).await.status, StatusCode::BAD_REQUEST);
        let evaluated = app.post("/orgs/octo-org/codespaces/policies/evaluate", &app.admin,
            json!({ "repository": "repo-a", "image": "node:18", "user": "mona" })).await;
        assert_eq!(evaluated.body["allowed"], false);
        let path = format!("{EXCEPTIONS}/{}", theirs.body["id"]);
        assert_eq!(app.get(&path, &app.admin).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.delete(&path, &app.admin).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get(EXCEPTIONS, &app.admin).await.body["total_count"], 0);
    }

    async fn only_owners_and_site_admins_keep_exceptions(app, clock) {
        app.octo_org().await;
        let member = app.user_token("mona").await;
        let stranger = app.user_token("stranger").await;
        let service = app.service_token().await;
        for (token, status) in [(&member, StatusCode::FORBIDDEN), (&stranger, StatusCode::NOT_FOUND),
            (&service, StatusCode::FORBIDDEN)] {
            assert_eq!(app.get(EXCEPTIONS, token).await.status, status);
            assert_eq!(app.post(EXCEPTIONS, token, valid(&clock)).await.status, status);
        }
        assert_eq!(app.get(EXCEPTIONS, &app.admin).await.body["total_count"], 0);
    }

    async fn lists_are_paginated_by_id(app, clock) {
        app.octo_org().await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(except(&app, valid(&clock)).await["id"].clone());
        }
        let page = app.get(&format!("{EXCEPTIONS}?per_page=2&page=2"), &app.admin).await;
        assert_eq!(page.body["total_count"], 3);
        let listed: Vec<&Value> = page.body["exceptions"].as_array().unwrap().iter().map(|e| &e["id"]).collect();
        assert_eq!(listed, [&ids[2]]);
    }
}

async fn exceptions_fail_closed(backend: Backend) {
    // The usual database timeout (2 s): a shorter one would bound the start-up migrations
    // too, which wait on the other tests' migrations when the machine is loaded.
    let app = TestApp::spawn(backend).await;
    let clock = ManualClock::starting_now();
    app.octo_org().await;
    let kept = except(&app, valid(&clock)).await;
    let path = format!("{EXCEPTIONS}/{}", kept["id"]);
    let held = hold(&app, "policy_exceptions, audit_log").await;
    assert_unavailable(
        &app.post(EXCEPTIONS, &app.admin, valid(&clock)).await,
        "POST",
    );
    assert_unavailable(&app.delete(&path, &app.admin).await, "DELETE");
    if backend == Backend::Postgres {
        assert_unavailable(&app.get(EXCEPTIONS, &app.admin).await, "GET");
    }
    release(held).await;
    let listed = app.get(EXCEPTIONS, &app.admin).await;
    assert_eq!(listed.status, StatusCode::OK, "serves again");
    assert_eq!(
        listed.body["exceptions"],
        json!([kept]),
        "nothing changed while down"
    );
}

#[tokio::test]
async fn exception_routes_fail_closed_on_sqlite() {
    exceptions_fail_closed(Backend::Sqlite).await;
}

#[tokio::test]
async fn exception_routes_fail_closed_on_postgresql() {
    exceptions_fail_closed(Backend::Postgres).await;
}

/// The other instance's compiled set is stale once an exception changes: its next creation
/// judges by the change, as after a policy change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exception_made_on_one_instance_applies_to_the_next_creation_on_the_other() {
    let first = TestApp::spawn(Backend::Postgres).await;
    let TestDatabase::Postgres(options) = first.database.clone() else {
        unreachable!()
    };
    let second = TestApp::on_database(TestDatabase::Postgres(options), |_| {}).await;
    first.octo_org().await;
    first
        .allow_org_wide("octo-org", &["mcr.microsoft.com/*"])
        .await;
    let service = first.service_token().await;
    let refused = second
        .create_codespace(&service, codespace("node:18"))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "warms the second instance's set"
    );
    let expires = (chrono::Utc::now() + Duration::days(30)).to_rfc3339();
    let created = first
        .post(
            EXCEPTIONS,
            &first.admin,
            json!({ "allowed_values": ["node:18"],
        "expires_at": expires, "reason": "Migration" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let allowed = second
        .create_codespace(&service, codespace("node:18"))
        .await;
    assert_eq!(allowed.status, StatusCode::CREATED, "{:?}", allowed.body);
    let path = format!("{EXCEPTIONS}/{}", created.body["id"]);
    assert_eq!(
        first.delete(&path, &first.admin).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        second
            .create_codespace(&service, codespace("node:18"))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}
