//! Preview of a policy change over the org's codespaces and its recent decisions: what it
//! would newly refuse or allow, validated as a POST is, and changing nothing.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::TestApp;

const PREVIEW: &str = "/orgs/octo-org/codespaces/policies/preview";

fn body(repo: &str, image: &str) -> Value {
    json!({ "repository": format!("octo-org/{repo}"), "user": "mona", "devcontainer": { "image": image } })
}

fn node_only() -> Value {
    json!({ "name": "Node only", "target": "all_repositories",
        "constraints": { "base_images": { "allowed_values": ["node:*"] } } })
}

/// Everything preview must leave alone: the policies with their ETags, and the codespaces.
async fn snapshot(app: &TestApp) -> (Value, Value, Vec<String>) {
    let policies = app
        .get(
            "/orgs/octo-org/codespaces/policies?per_page=100",
            &app.admin,
        )
        .await
        .body;
    let codespaces = app
        .get("/orgs/octo-org/codespaces?per_page=100", &app.admin)
        .await
        .body;
    let mut etags = Vec::new();
    for policy in policies["policies"].as_array().unwrap() {
        let one = app
            .get(
                &format!("/orgs/octo-org/codespaces/policies/{}", policy["id"]),
                &app.admin,
            )
            .await;
        etags.push(one.headers["etag"].to_str().unwrap().to_string());
    }
    (policies, codespaces, etags)
}

/// An org with codespaces on node:18 (repo-a) and python:3 (repo-b), under a permissive policy.
async fn arrange(app: &TestApp) -> (String, Value) {
    app.octo_org().await;
    let open = app
        .allow_org_wide("octo-org", &["node:*", "python:*"])
        .await;
    let service = app.service_token().await;
    for (repo, image) in [("repo-a", "node:18"), ("repo-b", "python:3")] {
        assert_eq!(
            app.create_codespace(&service, body(repo, image))
                .await
                .status,
            StatusCode::CREATED
        );
    }
    (service, open)
}

backend_tests! {
    async fn a_new_policy_is_previewed_over_codespaces_and_decisions_and_nothing_changes(app) {
        let (service, _) = arrange(&app).await;
        let before = snapshot(&app).await;
        let preview = app.post(PREVIEW, &app.admin, json!({ "policy": node_only() })).await;
        assert_eq!(preview.status, StatusCode::OK, "{:?}", preview.body);
        let codespaces = &preview.body["codespaces"];
        assert_eq!(codespaces["checked"], 2);
        assert_eq!(codespaces["newly_refused_count"], 1);
        assert_eq!(codespaces["newly_refused"][0]["repository"], "octo-org/repo-b");
        assert_eq!(codespaces["newly_refused"][0]["image"], "python:3");
        assert_eq!(codespaces["newly_refused"][0]["refused_by"].as_array().unwrap().len(), 1);
        let decisions = &preview.body["decisions"];
        assert_eq!(decisions["checked"], 2);
        assert_eq!(decisions["newly_refused_count"], 1);
        assert_eq!(decisions["newly_refused"][0]["image"], "python:3");
        assert_eq!(decisions["newly_allowed_count"], 0);
        assert_eq!(snapshot(&app).await, before, "preview changes nothing");
        // Report-only, the same draft refuses nothing.
        let mut report = node_only();
        report["enforcement"] = json!("report");
        let quiet = app.post(PREVIEW, &app.admin, json!({ "policy": report })).await;
        assert_eq!(quiet.body["codespaces"]["newly_refused_count"], 0);
        assert_eq!(quiet.body["decisions"]["newly_refused_count"], 0);
        let _ = service;
    }

    async fn a_change_or_a_deletion_can_newly_allow_refused_decisions(app) {
        let (service, _) = arrange(&app).await;
        let strict = app.create_policy("octo-org", node_only()).await;
        assert_eq!(app.create_codespace(&service, body("repo-a", "python:3.12")).await.status,
            StatusCode::BAD_REQUEST);
        let mut loosened = node_only();
        loosened["id"] = strict["id"].clone();
        loosened["constraints"]["base_images"]["allowed_values"] = json!(["node:*", "python:*"]);
        let changed = app.post(PREVIEW, &app.admin, json!({ "policy": loosened })).await;
        assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
        assert_eq!(changed.body["decisions"]["checked"], 3);
        // Judged by the policies as they are now (the strict one refuses both python images)
        // and as they would be: the refused python:3.12 and the earlier python:3 alike.
        assert_eq!(changed.body["decisions"]["newly_allowed_count"], 2);
        let images: Vec<&str> = changed.body["decisions"]["newly_allowed"].as_array().unwrap()
            .iter().map(|d| d["image"].as_str().unwrap()).collect();
        assert_eq!(images, ["python:3", "python:3.12"], "in the order they were made");
        let deleted = app.post(PREVIEW, &app.admin, json!({ "delete": strict["id"] })).await;
        assert_eq!(deleted.body["decisions"]["newly_allowed_count"], 2);
        assert_eq!(deleted.body["decisions"]["newly_refused_count"], 0);
        assert_eq!(deleted.body["codespaces"]["newly_refused_count"], 0);
        let listed = app.get("/orgs/octo-org/codespaces/policies", &app.admin).await;
        assert_eq!(listed.body["total_count"], 2, "the policy is still there");
    }

    async fn a_draft_post_would_refuse_is_refused_alike(app) {
        arrange(&app).await;
        let bad = json!({ "name": "", "target": "selected_repositories", "repositories": ["nope"],
            "constraints": { "base_images": { "allowed_values": ["UPPER/case:1"] } } });
        let posted = app.post("/orgs/octo-org/codespaces/policies", &app.admin, bad.clone()).await;
        let previewed = app.post(PREVIEW, &app.admin, json!({ "policy": bad })).await;
        assert_eq!(posted.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(previewed.status, posted.status);
        assert_eq!(previewed.body["errors"], posted.body["errors"]);
        let unknown_repo = json!({ "name": "x", "target": "selected_repositories", "repositories": ["nope"],
            "constraints": {} });
        let posted = app.post("/orgs/octo-org/codespaces/policies", &app.admin, unknown_repo.clone()).await;
        let previewed = app.post(PREVIEW, &app.admin, json!({ "policy": unknown_repo })).await;
        assert_eq!(posted.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(previewed.body["errors"], posted.body["errors"]);
        assert_eq!(app.post(PREVIEW, &app.admin, json!({ "delete": 999_999 })).await.status, StatusCode::NOT_FOUND);
        let mut ghost = node_only();
        ghost["id"] = json!(999_999);
        assert_eq!(app.post(PREVIEW, &app.admin, json!({ "policy": ghost })).await.status, StatusCode::NOT_FOUND);
        for both_or_neither in [json!({}), json!({ "policy": node_only(), "delete": 1 })] {
            let answer = app.post(PREVIEW, &app.admin, both_or_neither).await;
            assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
        }
        let listed = app.get("/orgs/octo-org/codespaces/policies", &app.admin).await;
        assert_eq!(listed.body["total_count"], 1, "nothing was stored");
    }
}
