//! `GET /orgs/{org}/codespaces/compliance`: the existing codespaces the policies in force
//! now would refuse on a full rebuild, with the policies refusing each; never the ones the
//! policies do not judge; report-only policies refuse nothing; paginated; read-only; who
//! may ask; and 503 while the database cannot answer.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection, Executor, PgConnection};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, TestDatabase, DEFAULT_IMAGE, RECOVERY_IMAGE};
use crate::throwaway::ThrowawayPostgres;

const COMPLIANCE: &str = "/orgs/octo-org/codespaces/compliance";

/// The images the codespaces below are created with: everything but `ruby`.
const PERMISSIVE: &[&str] = &["node:*", "python:*", "mcr.microsoft.com/*"];

/// A codespace in `octo-org/{repository}` for `user` whose devcontainer.json is `devcontainer`.
fn request(repository: &str, user: &str, devcontainer: Value) -> Value {
    json!({ "repository": format!("octo-org/{repository}"), "user": user,
        "devcontainer": devcontainer })
}

/// A codespace for mona in repo-a built from `image`.
fn image(image: &str) -> Value {
    request("repo-a", "mona", json!({ "image": image }))
}

/// A codespace for mona in `repository` built from a Dockerfile `FROM base`.
fn dockerfile(repository: &str, base: &str) -> Value {
    let mut body = request(
        repository,
        "mona",
        json!({ "build": { "dockerfile": "Dockerfile" } }),
    );
    body["dockerfile"] = json!(format!("FROM {base}\n"));
    body
}

/// Creates a codespace that must be created and answers it.
async fn created(app: &TestApp, service: &str, body: Value) -> Value {
    let response = app.create_codespace(service, body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    response.body
}

/// The compliance answer to the site admin for `query`, which must be a 200.
async fn compliance(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("{COMPLIANCE}{query}"), &app.admin).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body
}

/// What compliance lists of `codespace`, refused by `policies`.
fn listed(codespace: &Value, policies: &[&Value]) -> Value {
    json!({
        "id": codespace["id"], "repository": codespace["repository"], "user": codespace["user"],
        "billable_owner": codespace["billable_owner"], "image": codespace["image"],
        "image_source": codespace["image_source"], "constraint": "base_images",
        "refused_by": policies.iter().map(|p| p["id"].clone()).collect::<Vec<_>>(),
    })
}

async fn set_billing(app: &TestApp, body: Value) {
    let path = "/orgs/octo-org/codespaces/billing";
    let response = app.put(path, &app.admin, Some(body)).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
}

/// Replaces the allowed values of `policy`.
async fn allow_only(app: &TestApp, policy: &Value, values: &[&str]) {
    let path = format!("/orgs/octo-org/codespaces/policies/{}", policy["id"]);
    let body = json!({ "constraints": { "base_images": { "allowed_values": values } } });
    let response = app.patch(&path, &app.admin, body).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
}

/// Everything compliance must leave as it is: each policy with its ETag, every codespace,
/// the audit log.
async fn everything(app: &TestApp) -> Vec<Value> {
    let mut seen = Vec::new();
    let policies = app
        .get(
            "/orgs/octo-org/codespaces/policies?per_page=100",
            &app.admin,
        )
        .await;
    for policy in policies.body["policies"].as_array().unwrap() {
        let path = format!("/orgs/octo-org/codespaces/policies/{}", policy["id"]);
        let one = app.get(&path, &app.admin).await;
        seen.push(json!([one.body, one.headers["etag"].to_str().unwrap()]));
    }
    seen.push(
        app.get("/orgs/octo-org/codespaces?per_page=100", &app.admin)
            .await
            .body,
    );
    seen.push(
        app.get("/orgs/octo-org/audit-log?per_page=100", &app.admin)
            .await
            .body,
    );
    seen
}

backend_tests! {
    async fn codespaces_a_tightened_policy_would_refuse_are_listed_with_the_policies_refusing_them(app) {
        app.octo_org().await;
        let org_wide = app.allow_org_wide("octo-org", PERMISSIVE).await;
        let service = app.service_token().await;
        let python = created(&app, &service, image("python:3")).await;
        created(&app, &service, image("node:18")).await;
        let built = created(&app, &service, dockerfile("repo-b", "python:3.12")).await;
        assert_eq!(built["image_source"], "dockerfile");
        let go = created(&app, &service, image("mcr.microsoft.com/devcontainers/go:1")).await;
        // Refused at creation, so in recovery mode on the recovery image.
        let recovery = created(&app, &service, dockerfile("repo-a", "ruby:3")).await;
        assert_eq!((&recovery["recovery_mode"], &recovery["image"]), (&json!(true), &json!(RECOVERY_IMAGE)));
        let default = created(&app, &service, json!({ "repository": "octo-org/repo-a", "user": "mona" })).await;
        assert_eq!(default["image"], DEFAULT_IMAGE);
        created(&app, &service, image(DEFAULT_IMAGE)).await;
        // Billed to the user, not the org: the org's policies never apply to it.
        set_billing(&app, json!({ "mode": "disabled" })).await;
        let own = created(&app, &service, image("python:3")).await;
        assert_eq!(own["billable_owner"], "mona");
        set_billing(&app, json!({ "mode": "members" })).await;
        assert_eq!(compliance(&app, "").await, json!({ "total_count": 0, "codespaces": [] }));

        allow_only(&app, &org_wide, &["node:*"]).await;
        let repo_b = app.create_policy("octo-org", json!({ "name": "repo-b",
            "target": "selected_repositories", "repositories": ["repo-b"],
            "constraints": { "base_images": { "allowed_values": ["node:*", "python:3"] } } })).await;

        let answer = compliance(&app, "").await;
        assert_eq!(answer, json!({ "total_count": 3, "codespaces": [
            listed(&python, &[&org_wide]),
            listed(&built, &[&org_wide, &repo_b]),
            listed(&go, &[&org_wide]),
        ] }));
        assert_eq!(answer["codespaces"][1]["repository"], "octo-org/repo-b");
        // A full rebuild of a listed codespace is indeed refused; nothing unlisted is.
        let rebuild = format!("/codespaces/{}/rebuild", python["id"].as_str().unwrap());
        let refused = app.post(&rebuild, &service, json!({ "full": true, "devcontainer": { "image": "python:3" } })).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{:?}", refused.body);
    }

    async fn a_report_only_policy_lists_nothing_until_it_enforces(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let python = created(&app, &service, image("python:3")).await;
        created(&app, &service, image("node:18")).await;
        let trial = app.create_policy("octo-org", json!({ "name": "Trial",
            "target": "all_repositories", "enforcement": "report",
            "constraints": { "base_images": { "allowed_values": ["node:*"] } } })).await;

        assert_eq!(compliance(&app, "").await, json!({ "total_count": 0, "codespaces": [] }));

        let path = format!("/orgs/octo-org/codespaces/policies/{}", trial["id"]);
        let enforced = app.patch(&path, &app.admin, json!({ "enforcement": "enforce" })).await;
        assert_eq!(enforced.status, StatusCode::OK, "{:?}", enforced.body);
        assert_eq!(compliance(&app, "").await,
            json!({ "total_count": 1, "codespaces": [listed(&python, &[&trial])] }));
    }

    async fn pages_hold_the_oldest_first_and_every_page_counts_them_all(app) {
        app.octo_org().await;
        let policy = app.allow_org_wide("octo-org", PERMISSIVE).await;
        let service = app.service_token().await;
        let mut refused = Vec::new();
        for n in 0..5 {
            refused.push(created(&app, &service, image(&format!("python:3.{n}"))).await["id"].clone());
            created(&app, &service, image(&format!("node:{n}"))).await;
        }
        allow_only(&app, &policy, &["node:*"]).await;

        let mut seen = Vec::new();
        for page in 1..=3 {
            let answer = compliance(&app, &format!("?per_page=2&page={page}")).await;
            assert_eq!(answer["total_count"], 5, "page {page}");
            let codespaces = answer["codespaces"].as_array().unwrap();
            assert_eq!(codespaces.len(), if page < 3 { 2 } else { 1 }, "page {page}");
            seen.extend(codespaces.iter().map(|c| c["id"].clone()));
        }
        assert_eq!(seen, refused);
        let past = compliance(&app, "?per_page=2&page=4").await;
        assert_eq!(past, json!({ "total_count": 5, "codespaces": [] }));
        assert_eq!(compliance(&app, "").await["codespaces"].as_array().unwrap().len(), 5);
        for query in ["?per_page=101", "?per_page=0", "?page=0", "?page=x"] {
            let response = app.get(&format!("{COMPLIANCE}{query}"), &app.admin).await;
            assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {:?}", response.body);
        }
    }

    async fn compliance_changes_no_policy_etag_codespace_or_audit_entry(app) {
        app.octo_org().await;
        let policy = app.allow_org_wide("octo-org", PERMISSIVE).await;
        let service = app.service_token().await;
        created(&app, &service, image("python:3")).await;
        created(&app, &service, dockerfile("repo-b", "python:3.12")).await;
        created(&app, &service, image("node:18")).await;
        allow_only(&app, &policy, &["node:*"]).await;
        let before = everything(&app).await;

        for query in ["", "?per_page=1&page=2"] {
            assert_eq!(compliance(&app, query).await["total_count"], 2);
        }

        assert_eq!(everything(&app).await, before);
    }

    async fn owners_and_site_admins_may_ask_and_no_one_else(app) {
        app.octo_org().await;
        app.create_org("other-org").await;
        app.set_role("other-org", "rival", "owner").await;
        let owner = app.user_token("octocat").await;
        let member = app.user_token("mona").await;
        let rival = app.user_token("rival").await;
        let service = app.service_token().await;
        for (who, token, status) in [
            ("owner", owner.as_str(), StatusCode::OK),
            ("site admin", app.admin.as_str(), StatusCode::OK),
            ("member", member.as_str(), StatusCode::FORBIDDEN),
            ("owner of another org", rival.as_str(), StatusCode::NOT_FOUND),
            ("service", service.as_str(), StatusCode::FORBIDDEN),
        ] {
            let response = app.get(COMPLIANCE, token).await;
            assert_eq!(response.status, status, "{who}: {:?}", response.body);
        }
        let anonymous = app.request(axum::http::Method::GET, COMPLIANCE, None, None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        let unknown = app.get("/orgs/no-such-org/codespaces/compliance", &app.admin).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    }
}

fn assert_unavailable(response: &crate::helpers::TestResponse, what: &str) {
    assert_eq!(
        response.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {:?}",
        response.body
    );
    assert!(response.headers.contains_key("retry-after"), "{what}");
    assert!(
        !String::from_utf8_lossy(&response.raw).contains("sqlx"),
        "{what}"
    );
}

/// An org with one codespace, which its policy now refuses.
async fn noncompliant_org(app: &TestApp) {
    app.octo_org().await;
    let policy = app.allow_org_wide("octo-org", PERMISSIVE).await;
    let service = app.service_token().await;
    created(app, &service, image("python:3")).await;
    allow_only(app, &policy, &["node:*"]).await;
    assert_eq!(compliance(app, "").await["total_count"], 1);
}

#[tokio::test]
async fn compliance_answers_503_while_postgresql_is_down_and_serves_again_once_it_is_back() {
    let cluster = ThrowawayPostgres::start();
    let options = cluster.url().parse().unwrap();
    let app = TestApp::on_database(TestDatabase::Postgres(options), |config| {
        config.database_timeout = Duration::from_millis(1000);
    })
    .await;
    noncompliant_org(&app).await;

    cluster.stop_server();
    let down = tokio::time::timeout(Duration::from_secs(30), app.get(COMPLIANCE, &app.admin))
        .await
        .expect("compliance hung while the database was down");
    assert_unavailable(&down, "down");

    cluster.start_server();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let response = app.get(COMPLIANCE, &app.admin).await;
        if response.status == StatusCode::OK {
            assert_eq!(response.body["total_count"], 1);
            break;
        }
        assert_unavailable(&response, "recovering");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the service did not recover"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The codespaces table held against reads past the database timeout: the read fails
/// closed (PostgreSQL; SQLite's readers never wait on a writer).
#[tokio::test]
async fn compliance_answers_503_when_postgresql_cannot_read_the_codespaces_in_time() {
    let app = TestApp::spawn_with(Backend::Postgres, |config| {
        config.database_timeout = Duration::from_millis(300);
    })
    .await;
    noncompliant_org(&app).await;
    let TestDatabase::Postgres(options) = &app.database else {
        unreachable!("a PostgreSQL app")
    };
    let mut holder = PgConnection::connect_with(options).await.unwrap();
    holder.execute("BEGIN").await.unwrap();
    holder
        .execute("LOCK TABLE codespaces IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();

    assert_unavailable(&app.get(COMPLIANCE, &app.admin).await, "held");

    holder.execute("ROLLBACK").await.unwrap();
    assert_eq!(compliance(&app, "").await["total_count"], 1);
}
