//! Report-only policies: stored with their `enforcement`, listed with it by evaluate and
//! preflight, never refusing, named in the creation log and counted as `would_refuse`.

use axum::http::StatusCode;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::TestApp;

async fn trial(app: &TestApp) -> serde_json::Value {
    app.create_policy(
        "octo-org",
        json!({ "name": "Trial", "target": "all_repositories",
        "enforcement": "report",
        "constraints": { "base_images": { "allowed_values": ["mcr.microsoft.com/*"] } } }),
    )
    .await
}

backend_tests! {
    async fn a_policy_enforces_unless_it_says_report(app) {
        app.octo_org().await;
        let plain = app.allow_org_wide("octo-org", &["node:*"]).await;
        assert_eq!(plain["enforcement"], "enforce");
        let report = trial(&app).await;
        assert_eq!(report["enforcement"], "report");
        let path = format!("/orgs/octo-org/codespaces/policies/{}", report["id"]);
        assert_eq!(app.get(&path, &app.admin).await.body["enforcement"], "report");
        let bad = app.patch(&path, &app.admin, json!({ "enforcement": "warn" })).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", bad.body);
        assert_eq!(app.get(&path, &app.admin).await.body["enforcement"], "report", "nothing changed");
    }

    async fn a_report_only_policy_never_refuses_and_says_what_it_would_have_done(app) {
        app.octo_org().await;
        let report = trial(&app).await;
        let owner = app.user_token("octocat").await;
        let evaluated = app.post("/orgs/octo-org/codespaces/policies/evaluate", &owner,
            json!({ "repository": "repo-a", "image": "node:18" })).await;
        assert_eq!(evaluated.body, json!({ "allowed": true, "policies": [
            { "id": report["id"], "name": "Trial", "enforcement": "report", "allowed": false, "matched_value": null },
        ], "constraints": crate::helpers::unconstrained() }));
        let service = app.service_token().await;
        let body = json!({ "repository": "octo-org/repo-a", "user": "mona", "devcontainer": { "image": "node:18" } });
        let created = app.create_codespace(&service, body.clone()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        assert_eq!(created.body["recovery_mode"], false);
        let line = format!("Report-only policy {} ('Trial') would refuse base image 'node:18'; it is not enforced.", report["id"]);
        assert!(created.body["creation_log"].as_array().unwrap().iter().any(|l| l == &json!(line)),
            "{:?}", created.body["creation_log"]);
        let preflight = app.post("/repos/octo-org/repo-a/codespaces/preflight", &service,
            json!({ "devcontainer": { "image": "node:18" } })).await;
        assert_eq!(preflight.body["outcome"], "create");
        assert_eq!(preflight.body["policies"][0]["enforcement"], "report");
        let metrics = crate::metrics::scrape(&app).await;
        assert!(metrics.contains("policy_decisions_total{outcome=\"would_refuse\"} 1"), "{metrics}");
        // Switched to enforce, the same creation is refused.
        let path = format!("/orgs/octo-org/codespaces/policies/{}", report["id"]);
        let enforced = app.patch(&path, &app.admin, json!({ "enforcement": "enforce" })).await;
        assert_eq!(enforced.status, StatusCode::OK);
        assert_eq!(enforced.body["enforcement"], "enforce");
        assert_eq!(app.create_codespace(&service, body).await.status, StatusCode::BAD_REQUEST);
    }

    async fn report_only_policies_do_not_change_what_enforcing_ones_refuse(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["mcr.microsoft.com/*"]).await;
        trial(&app).await;
        let service = app.service_token().await;
        let refused = app.create_codespace(&service, json!({ "repository": "octo-org/repo-a",
            "user": "mona", "devcontainer": { "image": "node:18" } })).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        let allowed = app.create_codespace(&service, json!({ "repository": "octo-org/repo-a",
            "user": "mona", "devcontainer": { "image": "mcr.microsoft.com/devcontainers/go:1" } })).await;
        assert_eq!(allowed.status, StatusCode::CREATED);
        assert!(!allowed.body["creation_log"].as_array().unwrap().iter()
            .any(|l| l.as_str().unwrap().starts_with("Report-only")));
    }
}
