//! Logging in and out, and what ends a session: logout, its token's revocation, its expiry.

use axum::http::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{ConnectOptions, Connection, Row};

use crate::backend_tests;
use crate::client::{log_in, send, Client};
use crate::helpers::{TestApp, TestDatabase};

/// Every stored session row: `(id_hash, token_hash)`.
async fn stored_sessions(app: &TestApp) -> Vec<(Vec<u8>, Vec<u8>)> {
    let sql = "SELECT id_hash, token_hash FROM console_sessions";
    let rows = match &app.database {
        TestDatabase::Sqlite(url) => {
            let mut conn = sqlx::SqliteConnection::connect(url)
                .await
                .expect("open SQLite");
            sqlx::query(sql)
                .fetch_all(&mut conn)
                .await
                .expect("sessions")
                .into_iter()
                .map(|r| (r.get::<Vec<u8>, _>(0), r.get::<Vec<u8>, _>(1)))
                .collect()
        }
        TestDatabase::Postgres(options) => {
            let mut conn = options.connect().await.expect("open PostgreSQL");
            sqlx::query(sql)
                .fetch_all(&mut conn)
                .await
                .expect("sessions")
                .into_iter()
                .map(|r| (r.get::<Vec<u8>, _>(0), r.get::<Vec<u8>, _>(1)))
                .collect()
        }
    };
    rows
}

backend_tests! {
    async fn logging_in_sets_an_httponly_strict_session_cookie_and_opens_the_org_picker(app) {
        app.octo_org().await;
        let token = app.user_token("octocat").await;
        let (answer, session) = log_in(&app, &token).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        assert_eq!(answer.location(), "/ui/orgs");
        let cookie = answer.set_cookie("bip_session").expect("a session cookie");
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/ui", "Max-Age=28800"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        assert!(!cookie.contains("Secure"), "not over TLS: {cookie}");
        let client = Client { app: &app, session: session.unwrap() };
        let picker = client.get("/ui/orgs").await;
        assert_eq!(picker.status, StatusCode::OK);
        assert!(picker.html.contains(r#"href="/ui/orgs/octo-org/codespaces/policies""#), "{}", picker.html);
        assert!(picker.html.contains("octocat"));
    }

    async fn behind_tls_the_session_cookie_is_secure(app) {
        let form = send(&app, "GET", "/ui/login", "", None, &[("x-forwarded-proto", "https")]).await;
        let nonce = form.field("csrf").unwrap();
        assert!(form.set_cookie("bip_login").unwrap().contains("; Secure"));
        let body = crate::client::encode(&[("csrf", &nonce), ("token", &app.admin)]);
        let cookie = format!("bip_login={nonce}");
        let answer = send(&app, "POST", "/ui/login", &cookie, Some(body), &[("x-forwarded-proto", "https")]).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.html);
        assert!(answer.set_cookie("bip_session").unwrap().contains("; Secure"));
    }

    async fn the_session_id_and_its_token_are_stored_only_as_hashes(app) {
        app.octo_org().await;
        let token = app.user_token("octocat").await;
        let client = Client::login(&app, &token).await;
        let rows = stored_sessions(&app).await;
        assert_eq!(rows.len(), 1);
        let (id_hash, token_hash) = &rows[0];
        assert_eq!(id_hash.as_slice(), Sha256::digest(client.session.as_bytes()).as_slice());
        assert_eq!(token_hash.as_slice(), Sha256::digest(token.as_bytes()).as_slice());
    }

    async fn a_page_without_a_session_sends_the_browser_to_the_login_page(app) {
        app.octo_org().await;
        for path in ["/ui/orgs", "/ui/orgs/octo-org/codespaces/policies"] {
            let page = send(&app, "GET", path, "bip_session=not-a-session", None, &[]).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
            assert_eq!(page.location(), "/ui/login");
        }
    }

    async fn a_wrong_token_or_a_service_token_starts_no_session(app) {
        let service = app.service_token().await;
        for (token, says) in [("bip_nope", "not valid"), (service.as_str(), "Service tokens")] {
            let (answer, session) = log_in(&app, token).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
            assert!(answer.html.contains(says), "{}", answer.html);
            assert!(session.is_none());
        }
        assert!(stored_sessions(&app).await.is_empty());
    }

    async fn a_login_form_without_its_own_csrf_cookie_is_refused(app) {
        let body = crate::client::encode(&[("csrf", "forged"), ("token", &app.admin)]);
        let answer = send(&app, "POST", "/ui/login", "bip_login=other", Some(body), &[]).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert!(answer.set_cookie("bip_session").is_none());
    }

    async fn logging_out_ends_the_session_for_good(app) {
        app.octo_org().await;
        let token = app.user_token("octocat").await;
        let client = Client::login(&app, &token).await;
        let out = client.post("/ui/orgs", "/ui/logout", &[]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert_eq!(out.location(), "/ui/login");
        assert!(out.set_cookie("bip_session").unwrap().contains("Max-Age=0"));
        let after = client.get("/ui/orgs").await;
        assert_eq!(after.status, StatusCode::SEE_OTHER, "the old cookie no longer works");
        assert!(stored_sessions(&app).await.is_empty());
    }

    async fn revoking_the_token_ends_the_sessions_opened_with_it(app) {
        app.octo_org().await;
        let token = app.user_token("octocat").await;
        let client = Client::login(&app, &token).await;
        assert_eq!(client.get("/ui/orgs/octo-org/codespaces/policies").await.status, StatusCode::OK);
        let revoked = app.post("/tokens/revoke", &app.admin, json!({ "token": token })).await;
        assert!(revoked.status.is_success(), "{:?}", revoked.body);
        let after = client.get("/ui/orgs/octo-org/codespaces/policies").await;
        assert_eq!(after.status, StatusCode::SEE_OTHER);
        assert_eq!(after.location(), "/ui/login");
    }

    async fn an_expired_session_is_refused(app) {
        let id = "expired-session-id";
        let now = chrono::Utc::now().timestamp();
        let token_hash = Sha256::digest(app.admin.as_bytes());
        app.store
            .create_session(Sha256::digest(id.as_bytes()).as_slice(), token_hash.as_slice(), now - 9 * 3600, now - 3600)
            .await
            .unwrap();
        let page = send(&app, "GET", "/ui/orgs", &format!("bip_session={id}"), None, &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), "/ui/login");
    }
}
