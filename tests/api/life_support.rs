//! What the tests of a codespace's life share: the arrangement, a codespace made and
//! stopped, policies holding the other constraints, and the org's audit entries.

use axum::http::{Method, StatusCode};
use base_image_policy::clock::{Clock, ManualClock};
use chrono::{Duration, SecondsFormat};
use serde_json::{json, Value};

pub use crate::helpers::assert_invalid;
use crate::helpers::{TestApp, TestResponse};

pub const SMALL: &str = "basicLinux32gb";
pub const MEDIUM: &str = "standardLinux32gb";
pub const IMAGE: &str = "mcr.microsoft.com/devcontainers/javascript-node:18";

/// octo-org (owner octocat, member mona) and the orchestrator's token.
pub async fn arrange(app: &TestApp) -> String {
    app.octo_org().await;
    app.service_token().await
}

/// Creates a codespace of repo-a for `user` with the creation body's `extra` fields
/// (`machine`, `idle_timeout_minutes`, `retention_period_minutes`).
pub async fn create_for(app: &TestApp, service: &str, user: &str, extra: Value) -> Value {
    let mut body = json!({ "repository": "octo-org/repo-a", "user": user,
        "devcontainer": { "image": IMAGE } });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let created = app.create_codespace(service, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    created.body
}

/// A codespace of repo-a for mona, the org paying.
pub async fn create(app: &TestApp, service: &str, extra: Value) -> Value {
    create_for(app, service, "mona", extra).await
}

/// An enforcing org-wide policy named `name` holding `constraints`.
pub async fn policy(app: &TestApp, name: &str, constraints: Value) -> Value {
    app.create_policy(
        "octo-org",
        json!({ "name": name, "target": "all_repositories", "constraints": constraints }),
    )
    .await
}

pub async fn delete_policy(app: &TestApp, policy: &Value) {
    let path = format!("/orgs/octo-org/codespaces/policies/{}", policy["id"]);
    let deleted = app.delete(&path, &app.admin).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:?}", deleted.body);
}

pub fn path(codespace: &Value, action: &str) -> String {
    let id = codespace["id"].as_str().expect("an id");
    if action.is_empty() {
        format!("/codespaces/{id}")
    } else {
        format!("/codespaces/{id}/{action}")
    }
}

pub async fn stop(app: &TestApp, token: &str, codespace: &Value) -> TestResponse {
    app.request(Method::POST, &path(codespace, "stop"), Some(token), None)
        .await
}

/// Starts it, with `body` when given (otherwise with no body at all).
pub async fn start(
    app: &TestApp,
    token: &str,
    codespace: &Value,
    body: Option<Value>,
) -> TestResponse {
    app.request(Method::POST, &path(codespace, "start"), Some(token), body)
        .await
}

pub async fn set_port(
    app: &TestApp,
    token: &str,
    codespace: &Value,
    port: &str,
    body: Value,
) -> TestResponse {
    app.patch(&path(codespace, &format!("ports/{port}")), token, body)
        .await
}

/// Asserts a 200 and returns the codespace it answers.
pub fn ok(response: TestResponse) -> Value {
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body
}

/// Stops it and returns the stopped codespace.
pub async fn stopped(app: &TestApp, service: &str, codespace: &Value) -> Value {
    let stopped = ok(stop(app, service, codespace).await);
    assert_eq!(stopped["state"], "Shutdown");
    stopped
}

/// Asserts an error answer with `status` whose message is exactly `message`.
pub fn assert_error(response: &TestResponse, status: StatusCode, message: &str) {
    assert_eq!(response.status, status, "{:?}", response.body);
    assert_eq!(response.body["message"], message, "{:?}", response.body);
    assert!(response.body["documentation_url"].is_string());
}

/// `minutes` after the clock's time, as answers write times.
pub fn minutes_after(clock: &ManualClock, minutes: i64) -> String {
    (clock.now() + Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The org's audit entries about codespaces, newest first.
pub async fn codespace_entries(app: &TestApp) -> Vec<Value> {
    let log = app
        .get("/orgs/octo-org/audit-log?per_page=100", &app.admin)
        .await;
    assert_eq!(log.status, StatusCode::OK, "{:?}", log.body);
    log.body["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| {
            e["action"]
                .as_str()
                .is_some_and(|a| a.starts_with("codespace."))
        })
        .cloned()
        .collect()
}
