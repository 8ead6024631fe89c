use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::backend_tests;

backend_tests! {
    async fn every_change_is_recorded_with_actor_and_before_and_after(app) {
        app.octo_org().await;
        let owner = app.user_token("octocat").await;
        let policies = "/orgs/octo-org/codespaces/policies";
        let created = app.post(policies, &owner, json!({ "name": "P", "target": "all_repositories",
            "constraints": { "base_images": { "allowed_values": ["node:*"] } } })).await;
        let path = format!("{policies}/{}", created.body["id"]);
        app.patch(&path, &owner, json!({ "name": "Q" })).await;
        app.delete(&path, &owner).await;
        app.put("/orgs/octo-org/codespaces/billing", &owner, Some(json!({ "mode": "disabled" }))).await;
        app.delete("/orgs/octo-org/memberships/mona", &owner).await;

        let log = app.get("/orgs/octo-org/audit-log?per_page=100", &owner).await;
        assert_eq!(log.status, StatusCode::OK);
        let entries = log.body["entries"].as_array().unwrap();
        let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(&actions[..5], ["membership.remove", "billing.update", "policy.delete",
            "policy.update", "policy.create"], "newest first");
        assert!(actions[5..].iter().all(|a| *a == "membership.set"), "the arrangement's roles");
        assert!(entries[..5].iter().all(|e| e["actor"] == "octocat"));
        assert_eq!(entries[0]["before"], json!({ "username": "mona", "role": "member" }));
        assert_eq!(entries[0]["after"], json!(null));
        assert_eq!(entries[1]["before"]["mode"], "members");
        assert_eq!(entries[1]["after"]["mode"], "disabled");
        assert_eq!(entries[3]["before"]["name"], "P");
        assert_eq!(entries[3]["after"]["name"], "Q");
        assert_eq!(entries[4]["after"]["base_images"], json!(["node:*"]));
        assert!(entries[0]["created_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(log.body["total_count"], entries.len());
    }

    async fn a_refused_change_records_nothing(app) {
        app.octo_org().await;
        let before = app.get("/orgs/octo-org/audit-log", &app.admin).await.body["total_count"].clone();
        let bad = app.post("/orgs/octo-org/codespaces/policies", &app.admin, json!({ "name": "P",
            "target": "all_repositories", "constraints": { "base_images": { "allowed_values": ["*x"] } } })).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let stale = app.request_with_headers(Method::DELETE, "/orgs/octo-org/codespaces/policies/1",
            Some(&app.admin), None, &[("if-match", "\"99\"")]).await;
        assert_eq!(stale.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get("/orgs/octo-org/audit-log", &app.admin).await.body["total_count"], before);
    }

    async fn only_owners_and_site_admins_read_the_audit_log(app) {
        app.octo_org().await;
        let member = app.user_token("mona").await;
        let stranger = app.user_token("stranger").await;
        let service = app.service_token().await;
        assert_eq!(app.get("/orgs/octo-org/audit-log", &member).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.get("/orgs/octo-org/audit-log", &stranger).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get("/orgs/octo-org/audit-log", &service).await.status, StatusCode::FORBIDDEN);
    }

    async fn token_changes_are_audited_without_the_token(app) {
        let token = app.user_token("mona").await;
        assert_eq!(app.post("/tokens/revoke", &app.admin, json!({ "token": token })).await.status,
            StatusCode::NO_CONTENT);
        let rows = token_audit_rows(&app).await;
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(rows[0].contains("token.create") && rows[1].contains("token.revoke"), "{rows:?}");
        assert!(rows.iter().all(|row| row.contains("\"user\":\"mona\"")), "{rows:?}");
        let hash = hex::encode(base_image_policy::tokens::hash_token(&token));
        assert!(rows.iter().all(|row| !row.contains(&token[4..]) && !row.contains(&hash)));
    }
}

/// The org-less (token) audit rows, as text, oldest first.
async fn token_audit_rows(app: &crate::helpers::TestApp) -> Vec<String> {
    use sqlx::Connection;
    let sql = "SELECT action || ' ' || actor || ' ' || COALESCE(before, '') || ' ' || COALESCE(after, '') \
               FROM audit_log WHERE org_id IS NULL ORDER BY id";
    match &app.database {
        crate::helpers::TestDatabase::Postgres(options) => {
            let mut conn = sqlx::PgConnection::connect_with(options).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
        }
        crate::helpers::TestDatabase::Sqlite(url) => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
        }
    }
}
