//! What is kept of a secret: its value only encrypted under the master key (never in an
//! answer, an audit entry or the database's bytes), one whole value when PUTs race, and an
//! audit entry for every change.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base_image_policy::app::build_router;
use base_image_policy::secrets::{private_key_aad, value_aad, LevelKeyPair};
use serde_json::json;
use tower::ServiceExt;

use crate::backend_tests;
use crate::helpers::TestApp;
use crate::secrets_support::{
    database_text, public_key, put_secret, repo_id, seal, stored_values, TraceLogs,
};

const ORG: &str = "/orgs/octo-org/codespaces/secrets";
const REPO: &str = "/repos/octo-org/repo-a/codespaces/secrets";
const USER: &str = "/user/codespaces/secrets";

/// Decrypts every stored value with the app's master key, under its row's associated data.
async fn opened_values(app: &TestApp) -> Vec<(String, String)> {
    stored_values(app)
        .await
        .into_iter()
        .map(|(level, owner, name, value)| {
            let aad = value_aad(&level, owner, &name);
            let opened = app
                .state
                .master_key
                .decrypt_string(&aad, &value)
                .expect("opens");
            (name, opened.to_string())
        })
        .collect()
}

backend_tests! {
    async fn a_canary_value_is_in_no_answer_audit_entry_or_stored_byte(app) {
        app.octo_org().await;
        let logs = TraceLogs::default();
        let capture = logs.capture();
        // Built under the capture, so that its per-request trace layer is on.
        let app = TestApp {
            router: build_router(app.state.clone()),
            store: app.store.clone(),
            state: app.state.clone(),
            admin: app.admin.clone(),
            database: app.database.clone(),
            _dir: None,
        };
        let canary = "canary-7f3a9c2e-secret-value";
        let owner = app.user_token("octocat").await;
        let mona = app.user_token("mona").await;
        let a = repo_id(&app, "octo-org", "repo-a").await;
        let mut answers = Vec::new();
        for round in 0..2 {
            answers.push(put_secret(&app, ORG, &owner, "CANARY", canary,
                json!({ "visibility": "selected", "selected_repository_ids": [a] })).await);
            answers.push(put_secret(&app, REPO, &owner, "CANARY", canary, json!({})).await);
            answers.push(put_secret(&app, USER, &mona, "CANARY", canary,
                json!({ "selected_repository_ids": [a] })).await);
            assert!(answers[round * 3..].iter().all(|r| r.status.is_success()));
        }
        for (base, token) in [(ORG, &owner), (REPO, &owner), (USER, &mona)] {
            answers.push(app.get(base, token).await);
            answers.push(app.get(&format!("{base}/CANARY"), token).await);
        }
        answers.push(app.get(&format!("{ORG}/CANARY/repositories"), &owner).await);
        answers.push(app.get(&format!("{USER}/CANARY/repositories"), &mona).await);
        // A codespace the canary reaches at every level: created idempotently (its answer
        // is stored), rebuilt, shown, listed, previewed and read by the orchestrator.
        let service = app.service_token().await;
        let body = json!({ "repository": "octo-org/repo-a", "user": "mona",
            "devcontainer": { "image": "node:18" } });
        let created = app.request_with_headers(Method::POST, "/codespaces", Some(&service),
            Some(body.clone()), &[("idempotency-key", "replay-key-1")]).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let replayed = app.request_with_headers(Method::POST, "/codespaces", Some(&service),
            Some(body), &[("idempotency-key", "replay-key-1")]).await;
        assert_eq!(replayed.raw, created.raw);
        let id = created.body["id"].as_str().unwrap().to_string();
        answers.push(created);
        answers.push(replayed);
        answers.push(app.post(&format!("/codespaces/{id}/rebuild"), &service,
            json!({ "full": true, "devcontainer": { "image": "node:18" } })).await);
        answers.push(app.get(&format!("/codespaces/{id}"), &service).await);
        answers.push(app.get("/orgs/octo-org/codespaces", &owner).await);
        answers.push(app.post("/repos/octo-org/repo-a/codespaces/preflight", &service,
            json!({ "user": "mona", "devcontainer": { "image": "node:18" } })).await);
        let read = app.get(&format!("/codespaces/{id}/secrets"), &service).await;
        assert_eq!(read.body["secrets"], json!([{ "name": "CANARY", "value": canary, "source": "user" }]),
            "the orchestrator's read is the one answer that holds it");
        let metrics = crate::metrics::scrape(&app).await;
        assert!(metrics.contains("/codespaces/{id}/secrets"), "{metrics}");
        assert!(!metrics.contains("canary"));
        let audit = app.get("/orgs/octo-org/audit-log?per_page=100", &owner).await;
        assert!(audit.body["entries"].as_array().unwrap().iter().any(|e| e["action"] == "secret.update"));
        answers.push(audit);
        drop(capture);
        let logged = logs.text();
        assert!(logged.contains("/codespaces/secrets"), "the capture saw the requests: {logged}");
        assert!(!logged.contains("canary"), "{logged}");
        for answer in &answers {
            assert!(!String::from_utf8_lossy(&answer.raw).contains("canary"), "{:?}", answer.body);
        }
        let stored = database_text(&app).await;
        assert!(stored.contains("CANARY"), "the names are there, so the search reads the right data");
        assert!(!stored.contains(canary) && !stored.contains("canary-"));
        let opened = opened_values(&app).await;
        assert_eq!(opened.len(), 3);
        assert!(opened.iter().all(|(_, value)| value == canary), "stored encrypted, whole");
        for (level, owner, key_id, public, private) in stored_keys(&app).await {
            assert_ne!(private.len(), 32, "never the bare private key");
            let aad = private_key_aad(&level, owner, &key_id);
            let secret = app.state.master_key.decrypt(&aad, &private).expect("opens under its row");
            let pair = LevelKeyPair::from_secret_bytes(&secret).unwrap();
            assert_eq!(pair.public_key_bytes().as_slice(), public.as_slice());
            assert_eq!(pair.key_id(), key_id);
        }
    }

    async fn a_levels_first_key_is_one_key_however_many_ask_at_once(app) {
        app.octo_org().await;
        let mut askers = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let request = Request::get(format!("{REPO}/public-key"))
                .header("authorization", format!("Bearer {}", app.admin))
                .body(Body::empty())
                .unwrap();
            let router = app.router.clone();
            askers.spawn(async move {
                let response = router.oneshot(request).await.unwrap();
                assert_eq!(response.status(), StatusCode::OK);
                let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
                serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["key_id"].clone()
            });
        }
        let ids = askers.join_all().await;
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        assert_eq!(stored_keys(&app).await.len(), 1);
    }

    async fn racing_puts_of_one_secret_leave_one_whole_value(app) {
        app.octo_org().await;
        let (key_id, key) = public_key(&app, ORG, &app.admin).await;
        let values: Vec<String> = (b'a'..=b'h').map(|c| (c as char).to_string().repeat(4096)).collect();
        let mut racers = tokio::task::JoinSet::new();
        for value in &values {
            let body = json!({ "encrypted_value": seal(&key, value), "key_id": key_id, "visibility": "all" });
            let request = Request::put(format!("{ORG}/RACED"))
                .header("authorization", format!("Bearer {}", app.admin))
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            let router = app.router.clone();
            racers.spawn(async move { router.oneshot(request).await.unwrap().status() });
        }
        let statuses = racers.join_all().await;
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::NO_CONTENT),
            "{statuses:?}");
        let opened = opened_values(&app).await;
        assert_eq!(opened.len(), 1);
        assert!(values.contains(&opened[0].1), "one of the values, whole");
        let audit = app.get("/orgs/octo-org/audit-log?per_page=100", &app.admin).await;
        let secret_entries = audit.body["entries"].as_array().unwrap().iter()
            .filter(|e| e["action"].as_str().unwrap().starts_with("secret.")).count();
        assert_eq!(secret_entries, values.len());
    }

    async fn every_secret_change_is_audited_with_its_level_owner_and_actor(app) {
        app.octo_org().await;
        let owner = app.user_token("octocat").await;
        let mona = app.user_token("mona").await;
        let (a, b) = (repo_id(&app, "octo-org", "repo-a").await, repo_id(&app, "octo-org", "repo-b").await);
        put_secret(&app, ORG, &owner, "S", "v", json!({ "visibility": "selected", "selected_repository_ids": [a] })).await;
        put_secret(&app, ORG, &owner, "S", "w", json!({ "visibility": "selected" })).await;
        app.put(&format!("{ORG}/S/repositories/{b}"), &owner, None).await;
        app.delete(&format!("{ORG}/S"), &owner).await;
        put_secret(&app, REPO, &app.admin, "R", "v", json!({})).await;
        put_secret(&app, USER, &mona, "U", "v", json!({ "selected_repository_ids": [b] })).await;

        let log = app.get("/orgs/octo-org/audit-log?per_page=100", &owner).await;
        let entries: Vec<_> = log.body["entries"].as_array().unwrap().iter()
            .filter(|e| e["action"].as_str().unwrap().starts_with("secret.")).cloned().collect();
        let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["secret.create", "secret.delete", "secret.repositories", "secret.update",
            "secret.create"], "newest first; the user's secret is not the org's");
        assert_eq!(entries[0]["actor"], "site-admin");
        assert_eq!(entries[0]["after"], json!({ "level": "repository", "owner": "octo-org/repo-a",
            "name": "R", "visibility": null, "repository_ids": [] }));
        assert_eq!(entries[1]["actor"], "octocat");
        assert_eq!(entries[1]["before"], json!({ "level": "organization", "owner": "octo-org",
            "name": "S", "visibility": "selected", "repository_ids": [a, b] }));
        assert_eq!(entries[1]["after"], json!(null));
        assert_eq!(entries[2]["before"]["repository_ids"], json!([a]));
        assert_eq!(entries[2]["after"]["repository_ids"], json!([a, b]));
        assert_eq!(entries[3]["before"]["repository_ids"], json!([a]));
        assert_eq!(entries[4]["before"], json!(null));

        let user_rows = org_less_audit_rows(&app).await;
        assert_eq!(user_rows.len(), 1, "{user_rows:?}");
        assert!(user_rows[0].starts_with("secret.create mona "), "{user_rows:?}");
        assert!(user_rows[0].contains("\"level\":\"user\"") && user_rows[0].contains(&format!("[{b}]")));
    }
}

/// The org-less audit rows that are not token events, as text, oldest first.
async fn org_less_audit_rows(app: &TestApp) -> Vec<String> {
    use sqlx::Connection;
    let sql = "SELECT action || ' ' || actor || ' ' || COALESCE(before, '') || ' ' || COALESCE(after, '') \
               FROM audit_log WHERE org_id IS NULL AND action LIKE 'secret.%' ORDER BY id";
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

/// Every stored level key: `(level, owner_id, key_id, public_key, private_key)`.
async fn stored_keys(app: &TestApp) -> Vec<(String, i64, String, Vec<u8>, Vec<u8>)> {
    use sqlx::Connection;
    let sql =
        "SELECT level, owner_id, key_id, public_key, private_key FROM secret_keys ORDER BY id";
    match &app.database {
        crate::helpers::TestDatabase::Postgres(options) => {
            let mut conn = sqlx::PgConnection::connect_with(options).await.unwrap();
            sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap()
        }
        crate::helpers::TestDatabase::Sqlite(url) => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap()
        }
    }
}
