use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::backend_tests;

backend_tests! {
    async fn requests_without_a_valid_token_answer_401(app) {
        app.create_org("octo-org").await;
        let anonymous = app.request(Method::GET, "/orgs/octo-org", None, None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        assert_eq!(anonymous.body["message"], "Requires authentication");
        assert!(anonymous.body["documentation_url"].is_string());
        let unknown = app.get("/orgs/octo-org", "bip_0000").await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        let basic = app
            .request_with_headers(Method::GET, "/orgs/octo-org", None, None,
                &[("authorization", "Basic dXNlcjpwYXNz")])
            .await;
        assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
    }

    async fn user_tokens_are_shown_once_and_stored_only_hashed(app) {
        let response = app.post("/users/mona/tokens", &app.admin, json!({})).await;
        assert_eq!(response.status, StatusCode::CREATED);
        let token = response.body["token"].as_str().unwrap().to_string();
        assert_eq!(token.len(), 68, "bip_ and 32 bytes in hex");
        let found = app.store.find_token(&base_image_policy::tokens::hash_token(&token)).await.unwrap();
        let record = found.expect("the hash finds the token");
        assert_ne!(record.token_hash, token.as_bytes(), "never the token itself");
        assert_eq!(record.user.unwrap().login, "mona");
        assert!(app.store.find_token(token.as_bytes()).await.unwrap().is_none());
    }

    async fn a_body_that_is_an_array_of_the_fields_is_refused(app) {
        let response = app.post("/service-tokens", &app.admin, json!(["orchestrator"])).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.body["errors"][0]["field"], "body");
        let response = app.post("/orgs", &app.admin, json!(["octo-org"])).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.get("/orgs/octo-org", &app.admin).await.status, StatusCode::NOT_FOUND);
    }

    async fn only_site_admins_mint_tokens(app) {
        let user = app.user_token("mona").await;
        assert_eq!(app.post("/users/hubot/tokens", &user, json!({})).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.post("/service-tokens", &user, json!({ "name": "x" })).await.status, StatusCode::FORBIDDEN);
        let service = app.service_token().await;
        assert_eq!(app.post("/service-tokens", &service, json!({ "name": "x" })).await.status, StatusCode::FORBIDDEN);
        let bad = app.post("/service-tokens", &app.admin, json!({ "name": "" })).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let bad = app.post("/users/bad%20name/tokens", &app.admin, json!({})).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn a_service_token_may_use_codespaces_but_not_org_routes(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        assert_eq!(app.get("/orgs/octo-org", &service).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.get("/orgs/octo-org/codespaces/policies", &service).await.status, StatusCode::FORBIDDEN);
        let created = app.create_codespace(&service, json!({
            "repository": "octo-org/repo-a", "user": "mona", "devcontainer": null
        })).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    }
}
