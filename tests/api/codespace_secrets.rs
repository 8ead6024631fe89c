//! `GET /codespaces/{id}/secrets`: the orchestrator's read of the opened values that reach
//! a codespace now, never cached, audited by name, and refused to everyone else.

use axum::http::StatusCode;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::TestApp;
use crate::secrets_support::{put_secret, repo_id};

const ORG: &str = "/orgs/octo-org/codespaces/secrets";
const REPO_A: &str = "/repos/octo-org/repo-a/codespaces/secrets";
const USER: &str = "/user/codespaces/secrets";

/// A codespace of repo-a for mona, and its secrets path.
async fn codespace(app: &TestApp) -> String {
    let service = app.service_token().await;
    let created = app
        .create_codespace(
            &service,
            json!({ "repository": "octo-org/repo-a",
        "user": "mona", "devcontainer": { "image": "node:18" } }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    format!(
        "/codespaces/{}/secrets",
        created.body["id"].as_str().unwrap()
    )
}

backend_tests! {
    async fn the_orchestrator_reads_the_opened_values_that_reach_the_codespace(app) {
        app.octo_org().await;
        let mona = app.user_token("mona").await;
        let a = repo_id(&app, "octo-org", "repo-a").await;
        let b = repo_id(&app, "octo-org", "repo-b").await;
        put_secret(&app, ORG, &app.admin, "SHARED", "from-org", json!({ "visibility": "all" })).await;
        put_secret(&app, ORG, &app.admin, "ORG_ONLY", "org-value", json!({ "visibility": "private" })).await;
        put_secret(&app, ORG, &app.admin, "FOR_B", "b-value",
            json!({ "visibility": "selected", "selected_repository_ids": [b] })).await;
        put_secret(&app, REPO_A, &app.admin, "SHARED", "from-repo", json!({})).await;
        put_secret(&app, USER, &mona, "MINE", "mine-value", json!({ "selected_repository_ids": [a] })).await;
        put_secret(&app, USER, &mona, "NOT_HERE", "elsewhere", json!({ "selected_repository_ids": [b] })).await;
        let path = codespace(&app).await;
        let service = app.service_token().await;
        let read = app.get(&path, &service).await;
        assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
        assert_eq!(read.headers["cache-control"], "no-store");
        assert_eq!(read.body, json!({ "secrets": [
            { "name": "MINE", "value": "mine-value", "source": "user" },
            { "name": "ORG_ONLY", "value": "org-value", "source": "organization" },
            { "name": "SHARED", "value": "from-repo", "source": "repository" },
        ] }));
        // "Now": a value changed after creation is read as it is now.
        put_secret(&app, USER, &mona, "SHARED", "from-user", json!({ "selected_repository_ids": [a] })).await;
        let again = app.get(&path, &service).await;
        let shared = again.body["secrets"].as_array().unwrap().iter()
            .find(|s| s["name"] == "SHARED").cloned().unwrap();
        assert_eq!(shared, json!({ "name": "SHARED", "value": "from-user", "source": "user" }));
    }

    async fn every_read_is_audited_by_codespace_and_names_never_values(app) {
        app.octo_org().await;
        put_secret(&app, ORG, &app.admin, "TOKEN", "tok-3141-value", json!({ "visibility": "all" })).await;
        let path = codespace(&app).await;
        let service = app.service_token().await;
        assert_eq!(app.get(&path, &service).await.status, StatusCode::OK);
        assert_eq!(app.get(&path, &service).await.status, StatusCode::OK);
        let audit = app.get("/orgs/octo-org/audit-log?per_page=100", &app.admin).await;
        let reads: Vec<_> = audit.body["entries"].as_array().unwrap().iter()
            .filter(|e| e["action"] == "codespace.secrets.read").cloned().collect();
        assert_eq!(reads.len(), 2, "{:?}", audit.body);
        let id = path.trim_start_matches("/codespaces/").trim_end_matches("/secrets");
        assert_eq!(reads[0]["after"], json!({ "codespace": id, "names": ["TOKEN"] }));
        assert_eq!(reads[0]["actor"], "service");
        assert!(!String::from_utf8_lossy(&audit.raw).contains("tok-3141"));
    }

    async fn nobody_but_a_service_token_reads_values(app) {
        app.octo_org().await;
        put_secret(&app, ORG, &app.admin, "TOKEN", "v", json!({ "visibility": "all" })).await;
        let path = codespace(&app).await;
        let owner = app.user_token("octocat").await;
        let mona = app.user_token("mona").await;
        for token in [&app.admin, &owner, &mona] {
            let refused = app.get(&path, token).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);
            assert!(refused.body.get("secrets").is_none());
        }
        assert_eq!(app.get(&path, "not-a-token").await.status, StatusCode::UNAUTHORIZED);
        let service = app.service_token().await;
        let unknown = app.get("/codespaces/cs_01JD00000000000000000000AB/secrets", &service).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get("/codespaces/nope/secrets", &service).await.status, StatusCode::NOT_FOUND);
        let audit = app.get("/orgs/octo-org/audit-log?per_page=100", &app.admin).await;
        assert!(!audit.body["entries"].as_array().unwrap().iter()
            .any(|e| e["action"] == "codespace.secrets.read"), "refused reads read nothing");
    }

    async fn a_user_without_a_role_gets_no_org_or_repository_secrets(app) {
        app.octo_org().await;
        app.user_token("stranger").await;
        put_secret(&app, ORG, &app.admin, "ORG_SECRET", "o", json!({ "visibility": "all" })).await;
        put_secret(&app, REPO_A, &app.admin, "REPO_SECRET", "r", json!({})).await;
        let service = app.service_token().await;
        let created = app.create_codespace(&service, json!({ "repository": "octo-org/repo-a",
            "user": "stranger", "devcontainer": { "image": "node:18" } })).await;
        let id = created.body["id"].as_str().unwrap();
        let read = app.get(&format!("/codespaces/{id}/secrets"), &service).await;
        assert_eq!(read.status, StatusCode::OK);
        assert_eq!(read.body, json!({ "secrets": [] }));
    }
}
