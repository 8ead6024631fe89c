//! Policy exceptions on every path: creation, Dockerfile builds, full rebuilds, evaluate,
//! preflight, the decision log, compliance and preview each judge by the live exceptions,
//! name the one that changed a decision, and stop applying once it expires by the service's
//! clock (a manual one here, advanced instead of waited for) or is deleted.

use axum::http::StatusCode;
use base_image_policy::clock::{Clock, ManualClock};
use chrono::{Duration, SecondsFormat};
use serde_json::{json, Value};

use crate::helpers::{refusal, TestApp, TestResponse};

pub const EXCEPTIONS: &str = "/orgs/octo-org/codespaces/policy-exceptions";

/// Runs each test on SQLite and on PostgreSQL, on a manual clock standing at the system's
/// time (to the second) until the test moves it.
#[macro_export]
macro_rules! clocked_tests {
    ($(async fn $name:ident($app:ident, $clock:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let $clock = std::sync::Arc::new(base_image_policy::clock::ManualClock::starting_now());
                    let $app = $crate::helpers::TestApp::spawn_with_clock(
                        $crate::helpers::Backend::Sqlite, $clock.clone()).await;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let $clock = std::sync::Arc::new(base_image_policy::clock::ManualClock::starting_now());
                    let $app = $crate::helpers::TestApp::spawn_with_clock(
                        $crate::helpers::Backend::Postgres, $clock.clone()).await;
                    $body
                }
            )*
        }
    };
}

/// `days` after the clock's time, as answers write times.
pub fn after(clock: &ManualClock, days: i64) -> String {
    (clock.now() + Duration::days(days)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// octo-org allowing only Microsoft's images, org-wide; the orchestrator's token and the
/// policy's id.
async fn arrange(app: &TestApp) -> (String, i64) {
    app.octo_org().await;
    let policy = app
        .allow_org_wide("octo-org", &["mcr.microsoft.com/*"])
        .await;
    (app.service_token().await, policy["id"].as_i64().unwrap())
}

/// Creates an exception as the site admin.
pub async fn except(app: &TestApp, body: Value) -> Value {
    let created = app.post(EXCEPTIONS, &app.admin, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    created.body
}

/// An exception for `mona` in `repo-a` allowing `node:18` for 30 days.
async fn for_mona(app: &TestApp, clock: &ManualClock) -> Value {
    except(
        app,
        json!({ "repository": "repo-a", "user": "mona", "allowed_values": ["node:18"],
        "expires_at": after(clock, 30), "reason": "Migration to node 20" }),
    )
    .await
}

fn codespace(repo: &str, user: &str, image: &str) -> Value {
    json!({ "repository": format!("octo-org/{repo}"), "user": user, "devcontainer": { "image": image } })
}

fn named_in_log(response: &TestResponse, exception: &Value, image: &str) -> bool {
    let line = format!(
        "Exception {} (reason: '{}') allows base image '{image}' until {}; \
        the organization policies alone would not allow it.",
        exception["id"],
        exception["reason"].as_str().unwrap(),
        exception["expires_at"].as_str().unwrap()
    );
    response.body["creation_log"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l == &json!(line))
}

async fn evaluate(app: &TestApp, body: Value) -> TestResponse {
    app.post(
        "/orgs/octo-org/codespaces/policies/evaluate",
        &app.admin,
        body,
    )
    .await
}

async fn preflight(app: &TestApp, service: &str, user: Option<&str>) -> TestResponse {
    let mut body = json!({ "devcontainer": { "image": "node:18" } });
    if let Some(user) = user {
        body["user"] = json!(user);
    }
    app.post("/repos/octo-org/repo-a/codespaces/preflight", service, body)
        .await
}

async fn noncompliant(app: &TestApp) -> Vec<Value> {
    let listed = app
        .get("/orgs/octo-org/codespaces/compliance", &app.admin)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    listed.body["codespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect()
}

clocked_tests! {
    async fn an_exception_turns_a_refusal_into_a_creation_for_its_repository_and_user_only(app, clock) {
        let (service, _) = arrange(&app).await;
        let exception = for_mona(&app, &clock).await;
        assert_eq!((&exception["repository"], &exception["user"]), (&json!("repo-a"), &json!("mona")));
        assert_eq!(exception["allowed_values"], json!(["node:18"]));
        assert_eq!(exception["expires_at"], json!(after(&clock, 30)));
        assert_eq!((&exception["expired"], &exception["created_by"]), (&json!(false), &json!("site-admin")));
        let created = app.create_codespace(&service, codespace("repo-a", "mona", "node:18")).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        assert_eq!((&created.body["image"], &created.body["recovery_mode"]), (&json!("node:18"), &json!(false)));
        assert!(named_in_log(&created, &exception, "node:18"), "{:?}", created.body["creation_log"]);
        for (repo, user, image) in [("repo-b", "mona", "node:18"), ("repo-a", "octocat", "node:18"),
            ("repo-a", "mona", "node:20")] {
            let refused = app.create_codespace(&service, codespace(repo, user, image)).await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{repo} {user} {image}");
            assert_eq!(refused.body["message"], json!(refusal(image)));
        }
    }

    async fn a_refused_dockerfile_image_builds_normally_and_a_full_rebuild_is_excepted_too(app, clock) {
        let (service, _) = arrange(&app).await;
        let exception = except(&app, json!({ "allowed_values": ["python:*"],
            "expires_at": after(&clock, 7), "reason": "Python until the port" })).await;
        assert_eq!((&exception["repository"], &exception["user"]), (&json!(null), &json!(null)));
        let dockerfile = json!({ "repository": "octo-org/repo-b", "user": "mona",
            "devcontainer": { "build": { "dockerfile": "Dockerfile" } }, "dockerfile": "FROM python:3.12\n" });
        let built = app.create_codespace(&service, dockerfile.clone()).await;
        assert_eq!(built.status, StatusCode::CREATED, "{:?}", built.body);
        assert_eq!((&built.body["image"], &built.body["recovery_mode"]), (&json!("python:3.12"), &json!(false)));
        assert!(named_in_log(&built, &exception, "python:3.12"), "{:?}", built.body["creation_log"]);
        let rebuild = format!("/codespaces/{}/rebuild", built.body["id"].as_str().unwrap());
        let full = json!({ "full": true, "devcontainer": { "image": "python:3.13" } });
        let rebuilt = app.post(&rebuild, &service, full.clone()).await;
        assert_eq!(rebuilt.status, StatusCode::OK, "{:?}", rebuilt.body);
        assert_eq!(rebuilt.body["image"], "python:3.13");
        assert!(named_in_log(&rebuilt, &exception, "python:3.13"));
        let path = format!("{EXCEPTIONS}/{}", exception["id"]);
        assert_eq!(app.delete(&path, &app.admin).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.post(&rebuild, &service, full).await.status, StatusCode::BAD_REQUEST);
        let recovery = app.create_codespace(&service, dockerfile).await;
        assert_eq!(recovery.body["recovery_mode"], true, "{:?}", recovery.body);
    }

    async fn evaluate_and_preflight_name_the_exception_for_its_user_only(app, clock) {
        let (service, policy) = arrange(&app).await;
        let exception = for_mona(&app, &clock).await;
        let named = json!({ "id": exception["id"], "reason": "Migration to node 20",
            "expires_at": exception["expires_at"] });
        let excepted = evaluate(&app, json!({ "repository": "repo-a", "image": "node:18", "user": "Mona" })).await;
        assert_eq!(excepted.body, json!({ "allowed": true, "exception": named, "policies": [
            { "id": policy, "name": "Org-wide images", "enforcement": "enforce", "allowed": false, "matched_value": null },
        ], "constraints": { "machine_types": null, "max_codespaces_per_user": null,
            "max_idle_timeout_minutes": null, "max_retention_period_days": null,
            "port_visibility": null } }), "each policy's own verdict, and the exception over them");
        for body in [json!({ "repository": "repo-a", "image": "node:18" }),
            json!({ "repository": "repo-a", "image": "node:18", "user": "octocat" }),
            json!({ "repository": "repo-b", "image": "node:18", "user": "mona" })] {
            let refused = evaluate(&app, body.clone()).await;
            assert_eq!(refused.body["allowed"], false, "{body}");
            assert!(refused.body.get("exception").is_none(), "{body}");
        }
        let bad = evaluate(&app, json!({ "repository": "repo-a", "image": "node:18", "user": "no body" })).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.body["errors"][0]["field"], "user");
        let created = preflight(&app, &service, Some("mona")).await;
        assert_eq!((&created.body["outcome"], &created.body["exception"]), (&json!("create"), &named));
        assert!(named_in_log(&created, &exception, "node:18"), "{:?}", created.body);
        let refused = preflight(&app, &service, None).await;
        assert_eq!(refused.body["outcome"], "refuse", "no user: user-scoped exceptions do not apply");
        assert!(refused.body.get("exception").is_none());
    }

    async fn the_decision_log_names_the_exception_and_nothing_refused_or_reported(app, clock) {
        let (service, policy) = arrange(&app).await;
        app.create_policy("octo-org", json!({ "name": "Trial", "target": "all_repositories",
            "enforcement": "report", "constraints": { "base_images": { "allowed_values": ["mcr.microsoft.com/*"] } } })).await;
        let exception = for_mona(&app, &clock).await;
        let created = app.create_codespace(&service, codespace("repo-a", "mona", "node:18")).await;
        assert_eq!(created.status, StatusCode::CREATED);
        assert!(!created.body["creation_log"].as_array().unwrap().iter()
            .any(|l| l.as_str().unwrap().starts_with("Report-only")), "nothing reported");
        let refused = app.create_codespace(&service, codespace("repo-b", "mona", "node:18")).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        let log = app.get("/orgs/octo-org/codespaces/decisions", &app.admin).await.body;
        let entries = log["decisions"].as_array().unwrap();
        assert_eq!((&entries[0]["outcome"], &entries[0]["exception"]), (&json!("refused"), &json!(null)));
        assert_eq!(entries[0]["refused_by"], json!([policy]));
        assert_eq!((&entries[1]["outcome"], &entries[1]["exception"]), (&json!("created"), &exception["id"]));
        assert_eq!((&entries[1]["refused_by"], &entries[1]["reported_by"]), (&json!([]), &json!([])));
        assert_eq!(entries[1]["codespace_id"], created.body["id"]);
    }

    async fn compliance_and_preview_judge_with_the_live_exceptions(app, clock) {
        app.octo_org().await;
        let service = app.service_token().await;
        let mut ids = Vec::new();
        for repo in ["repo-a", "repo-b"] {
            let created = app.create_codespace(&service, codespace(repo, "mona", "node:18")).await;
            assert_eq!(created.status, StatusCode::CREATED);
            ids.push(created.body["id"].clone());
        }
        except(&app, json!({ "repository": "repo-a", "allowed_values": ["node:*"],
            "expires_at": after(&clock, 30), "reason": "Legacy" })).await;
        let draft = json!({ "name": "Approved", "target": "all_repositories",
            "constraints": { "base_images": { "allowed_values": ["mcr.microsoft.com/*"] } } });
        let preview = app.post("/orgs/octo-org/codespaces/policies/preview", &app.admin,
            json!({ "policy": draft.clone() })).await;
        assert_eq!(preview.status, StatusCode::OK, "{:?}", preview.body);
        let refused = &preview.body["codespaces"]["newly_refused"];
        assert_eq!(refused.as_array().unwrap().iter().map(|c| &c["id"]).collect::<Vec<_>>(), [&ids[1]]);
        assert_eq!(preview.body["decisions"]["newly_refused_count"], 1);
        assert_eq!(preview.body["decisions"]["newly_refused"][0]["repository"], "octo-org/repo-b");
        let policy = app.create_policy("octo-org", draft).await;
        assert_eq!(noncompliant(&app).await, [ids[1].clone()], "the excepted codespace complies");
        // Deleting the policy would newly allow repo-b's decision only: repo-a's is allowed now.
        let deletion = app.post("/orgs/octo-org/codespaces/policies/preview", &app.admin,
            json!({ "delete": policy["id"] })).await;
        assert_eq!(deletion.body["decisions"]["newly_allowed_count"], 1, "{:?}", deletion.body);
        assert_eq!(deletion.body["decisions"]["newly_allowed"][0]["repository"], "octo-org/repo-b");
        clock.advance(Duration::days(30));
        assert_eq!(noncompliant(&app).await, ids, "expired, it covers nothing");
        let deletion = app.post("/orgs/octo-org/codespaces/policies/preview", &app.admin,
            json!({ "delete": policy["id"] })).await;
        assert_eq!(deletion.body["decisions"]["newly_allowed_count"], 2);
    }

    async fn once_expired_by_the_service_clock_it_applies_nowhere_and_is_listed_as_expired(app, clock) {
        let (service, _) = arrange(&app).await;
        let exception = for_mona(&app, &clock).await;
        let created = app.create_codespace(&service, codespace("repo-a", "mona", "node:18")).await;
        assert_eq!(created.status, StatusCode::CREATED);
        clock.advance(Duration::days(30) - Duration::seconds(1));
        assert_eq!(evaluate(&app, json!({ "repository": "repo-a", "image": "node:18", "user": "mona" }))
            .await.body["allowed"], true, "live until its last second");
        clock.advance(Duration::seconds(1));
        let refused = app.create_codespace(&service, codespace("repo-a", "mona", "node:18")).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{:?}", refused.body);
        let evaluated = evaluate(&app, json!({ "repository": "repo-a", "image": "node:18", "user": "mona" })).await;
        assert_eq!(evaluated.body["allowed"], false);
        assert!(evaluated.body.get("exception").is_none());
        assert_eq!(preflight(&app, &service, Some("mona")).await.body["outcome"], "refuse");
        let rebuild = format!("/codespaces/{}/rebuild", created.body["id"].as_str().unwrap());
        let rebuilt = app.post(&rebuild, &service, json!({ "full": true, "devcontainer": { "image": "node:18" } })).await;
        assert_eq!(rebuilt.status, StatusCode::BAD_REQUEST);
        assert_eq!(noncompliant(&app).await, [created.body["id"].clone()]);
        let listed = app.get(EXCEPTIONS, &app.admin).await;
        assert_eq!(listed.body["total_count"], 1);
        assert_eq!((&listed.body["exceptions"][0]["id"], &listed.body["exceptions"][0]["expired"]),
            (&exception["id"], &json!(true)));
        let one = app.get(&format!("{EXCEPTIONS}/{}", exception["id"]), &app.admin).await;
        assert_eq!((one.status, &one.body["expired"]), (StatusCode::OK, &json!(true)));
    }

    async fn a_deleted_exception_applies_no_more(app, clock) {
        let (service, _) = arrange(&app).await;
        let exception = for_mona(&app, &clock).await;
        let path = format!("{EXCEPTIONS}/{}", exception["id"]);
        assert_eq!(app.get(&path, &app.admin).await.body, exception);
        assert_eq!(app.delete(&path, &app.admin).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get(&path, &app.admin).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.delete(&path, &app.admin).await.status, StatusCode::NOT_FOUND);
        for bad in ["0", "-1", "abc"] {
            assert_eq!(app.get(&format!("{EXCEPTIONS}/{bad}"), &app.admin).await.status, StatusCode::NOT_FOUND);
        }
        let refused = app.create_codespace(&service, codespace("repo-a", "mona", "node:18")).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(app.get(EXCEPTIONS, &app.admin).await.body, json!({ "total_count": 0, "exceptions": [] }));
    }
}
