//! `POST /codespaces`, `GET /codespaces/{id}`, `POST /codespaces/{id}/rebuild` and
//! `GET /orgs/{org}/codespaces`: where the image comes from, when the org's policies apply,
//! what a refusal looks like, and who may call.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{refusal, TestApp, TestResponse, DEFAULT_IMAGE, RECOVERY_IMAGE};

const NODE_IMAGE: &str = "mcr.microsoft.com/devcontainers/javascript-node:18";
const DEVCONTAINERS: &str = "mcr.microsoft.com/devcontainers/*";

/// A creation request for `repository` (in `octo-org`) by `user` with `devcontainer`.
fn request_for(repository: &str, user: &str, devcontainer: Value) -> Value {
    json!({
        "repository": format!("octo-org/{repository}"),
        "user": user,
        "devcontainer": devcontainer,
    })
}

/// A creation request for mona in repo-a whose devcontainer.json names `image`.
fn image_request(image: &str) -> Value {
    request_for("repo-a", "mona", json!({ "image": image }))
}

/// A creation request for mona whose `repository` field is exactly `repository`.
fn image_request_in(repository: &str, image: &str) -> Value {
    json!({ "repository": repository, "user": "mona", "devcontainer": { "image": image } })
}

/// A creation request for mona in repo-a that builds `dockerfile` with `build`.
fn dockerfile_request(build: Value, dockerfile: &str) -> Value {
    json!({
        "repository": "octo-org/repo-a",
        "user": "mona",
        "devcontainer": { "build": build },
        "dockerfile": dockerfile,
    })
}

/// Creates a codespace that must succeed and returns its body.
async fn created(app: &TestApp, token: &str, body: Value) -> Value {
    let response = app.create_codespace(token, body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    response.body
}

/// How many codespaces `GET /orgs/octo-org/codespaces` reports.
async fn org_codespace_count(app: &TestApp) -> i64 {
    let response = app.get("/orgs/octo-org/codespaces", &app.admin).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body["total_count"].as_i64().expect("total_count")
}

/// Replaces the allowed values of policy `policy`.
async fn restrict_policy_to(app: &TestApp, policy: &Value, values: &[&str]) {
    let path = format!("/orgs/octo-org/codespaces/policies/{}", policy["id"]);
    let body = json!({ "constraints": { "base_images": { "allowed_values": values } } });
    let response = app.patch(&path, &app.admin, body).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
}

async fn set_billing(app: &TestApp, body: Value) {
    let response = app
        .put("/orgs/octo-org/codespaces/billing", &app.admin, Some(body))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
}

/// Asserts the contract's refusal: 400 and exactly `{"message", "documentation_url"}`.
fn assert_refused(response: &TestResponse, image: &str) {
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        response.body
    );
    assert_eq!(response.body["message"], refusal(image));
    let url = response.body["documentation_url"]
        .as_str()
        .expect("documentation_url");
    assert!(url.starts_with("https://"), "{url}");
    let keys: Vec<&String> = response
        .body
        .as_object()
        .expect("an object")
        .keys()
        .collect();
    assert_eq!(
        keys.len(),
        2,
        "only message and documentation_url: {:?}",
        response.body
    );
}

/// Asserts a 422 whose first error names `field`, and returns the body.
fn assert_invalid(response: &TestResponse, field: &str) -> Value {
    crate::helpers::assert_invalid(response, field);
    assert!(response.body["message"].is_string(), "{:?}", response.body);
    assert!(
        response.body["documentation_url"].is_string(),
        "{:?}",
        response.body
    );
    response.body.clone()
}

/// Asserts an error answer with `status` in the contract's error shape.
fn assert_error(response: &TestResponse, status: StatusCode) {
    assert_eq!(response.status, status, "{:?}", response.body);
    assert!(response.body["message"].is_string(), "{:?}", response.body);
    assert!(
        response.body["documentation_url"].is_string(),
        "{:?}",
        response.body
    );
}

fn assert_utc_timestamp(value: &Value) {
    let text = value.as_str().expect("a timestamp string");
    assert!(
        chrono::DateTime::parse_from_rfc3339(text).is_ok(),
        "not RFC 3339: {text}"
    );
    assert!(text.ends_with('Z'), "not UTC: {text}");
}

fn last_log_line(codespace: &Value) -> String {
    let log = codespace["creation_log"].as_array().expect("creation_log");
    log.last()
        .and_then(Value::as_str)
        .expect("a log line")
        .to_string()
}

mod billing;
mod compose;
mod creation;
mod dockerfiles;
mod exempt_images;
mod not_found_and_invalid_input;
mod permissions;
mod policy_changes;
mod policy_intersection;
mod preflight;
mod value_matching;
