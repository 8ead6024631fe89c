//! Every bad PUT of a secret is a 422 (or 409) naming the field, and stores nothing.

use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{TestApp, TestResponse};
use crate::secrets_support::{
    names, public_key, put_secret, repo_id, seal, seal_bytes, stored_values,
};

const ORG: &str = "/orgs/octo-org/codespaces/secrets";
const USER: &str = "/user/codespaces/secrets";

fn assert_field(response: &TestResponse, field: &str) {
    crate::helpers::assert_invalid(response, field);
    assert_eq!(
        response.body["errors"][0]["resource"], "Secret",
        "{:?}",
        response.body
    );
}

async fn put_raw(app: &TestApp, name: &str, body: Value) -> TestResponse {
    app.put(&format!("{ORG}/{name}"), &app.admin, Some(body))
        .await
}

backend_tests! {
    async fn a_value_that_does_not_open_with_the_current_key_is_a_422(app) {
        app.octo_org().await;
        let (key_id, key) = public_key(&app, ORG, &app.admin).await;
        let (_, other_key) = public_key(&app, "/repos/octo-org/repo-a/codespaces/secrets", &app.admin).await;
        let all = |encrypted_value: String, key_id: &str| json!({
            "encrypted_value": encrypted_value, "key_id": key_id, "visibility": "all" });
        assert_field(&put_raw(&app, "X", all(seal(&key, "v"), "12345")).await, "key_id");
        assert_field(&put_raw(&app, "X", all(seal(&other_key, "v"), &key_id)).await, "encrypted_value");
        let mut tampered = STANDARD.decode(seal(&key, "value")).unwrap();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_field(&put_raw(&app, "X", all(STANDARD.encode(tampered), &key_id)).await, "encrypted_value");
        assert_field(&put_raw(&app, "X", all("not base64!".into(), &key_id)).await, "encrypted_value");
        let url_safe = seal(&key, "v").replace('+', "-").replace('/', "_") + "-_";
        assert_field(&put_raw(&app, "X", all(url_safe, &key_id)).await, "encrypted_value");
        assert_field(&put_raw(&app, "X", all(seal_bytes(&key, &[0xff, 0xfe]), &key_id)).await,
            "encrypted_value");
        let too_large = "x".repeat(49_153);
        assert_field(&put_raw(&app, "X", all(seal(&key, &too_large), &key_id)).await, "encrypted_value");
        assert!(names(&app, ORG, &app.admin).await.is_empty(), "nothing stored");
        assert!(stored_values(&app).await.is_empty());
        let largest = "x".repeat(49_152);
        assert_eq!(put_raw(&app, "X", all(seal(&key, &largest), &key_id)).await.status, StatusCode::CREATED);
    }

    async fn names_follow_githubs_rules_and_compare_case_insensitively(app) {
        app.octo_org().await;
        let all = json!({ "visibility": "all" });
        for bad in ["1ABC", "GITHUB_TOKEN", "github_x", "A-B", "A%20B", &"A".repeat(256)] {
            assert_field(&put_secret(&app, ORG, &app.admin, bad, "v", all.clone()).await, "secret_name");
        }
        assert!(names(&app, ORG, &app.admin).await.is_empty());
        let longest = "A".repeat(255);
        assert_eq!(put_secret(&app, ORG, &app.admin, &longest, "v", all.clone()).await.status, StatusCode::CREATED);
        assert_eq!(put_secret(&app, ORG, &app.admin, "api_key", "v", all.clone()).await.status, StatusCode::CREATED);
        assert_eq!(put_secret(&app, ORG, &app.admin, "API_KEY", "w", all.clone()).await.status, StatusCode::NO_CONTENT);
        assert_eq!(put_secret(&app, ORG, &app.admin, "Api_Key", "w", all).await.status, StatusCode::NO_CONTENT);
        assert_eq!(names(&app, ORG, &app.admin).await, [longest, "API_KEY".to_string()]);
    }

    async fn a_level_holds_at_most_100_secrets(app) {
        app.octo_org().await;
        let (key_id, key) = public_key(&app, ORG, &app.admin).await;
        for n in 0..100 {
            let body = json!({ "encrypted_value": seal(&key, "v"), "key_id": key_id, "visibility": "all" });
            assert_eq!(put_raw(&app, &format!("S{n:03}"), body).await.status, StatusCode::CREATED);
        }
        let body = json!({ "encrypted_value": seal(&key, "v"), "key_id": key_id, "visibility": "all" });
        assert_field(&put_raw(&app, "ONE_TOO_MANY", body.clone()).await, "secret_name");
        assert_eq!(put_raw(&app, "S000", body).await.status, StatusCode::NO_CONTENT, "updates still go");
        let list = app.get(&format!("{ORG}?per_page=100&page=2"), &app.admin).await;
        assert_eq!(list.body["total_count"], 100);
        assert_eq!(list.body["secrets"], json!([]));
        assert_eq!(app.get(&format!("{ORG}?per_page=101"), &app.admin).await.status,
            StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn org_secrets_need_a_visibility_and_name_only_the_orgs_repositories(app) {
        app.octo_org().await;
        app.create_org("other-org").await;
        let (a, foreign) = (repo_id(&app, "octo-org", "repo-a").await, repo_id(&app, "other-org", "x").await);
        let missing = put_secret(&app, ORG, &app.admin, "X", "v", json!({})).await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        let with_ids = put_secret(&app, ORG, &app.admin, "X", "v",
            json!({ "visibility": "all", "selected_repository_ids": [a] })).await;
        assert_field(&with_ids, "selected_repository_ids");
        for (ids, field) in [(json!([foreign]), "selected_repository_ids[0]"),
            (json!([a, 999_999]), "selected_repository_ids[1]")] {
            let put = put_secret(&app, ORG, &app.admin, "X", "v",
                json!({ "visibility": "selected", "selected_repository_ids": ids })).await;
            assert_field(&put, field);
        }
        assert!(names(&app, ORG, &app.admin).await.is_empty(), "nothing stored");

        let put = put_secret(&app, ORG, &app.admin, "X", "old", json!({ "visibility": "selected",
            "selected_repository_ids": [a] })).await;
        assert_eq!(put.status, StatusCode::CREATED);
        let stored = stored_values(&app).await;
        let update = put_secret(&app, ORG, &app.admin, "X", "new", json!({ "visibility": "selected",
            "selected_repository_ids": [foreign] })).await;
        assert_field(&update, "selected_repository_ids[0]");
        assert_eq!(stored_values(&app).await, stored, "the old value stays, whole");
        let repos = format!("{ORG}/X/repositories");
        assert_field(&app.put(&repos, &app.admin, Some(json!({ "selected_repository_ids": [a, foreign] }))).await,
            "selected_repository_ids[1]");
        assert_field(&app.put(&format!("{repos}/{foreign}"), &app.admin, None).await, "repository_id");
        let listed = app.get(&repos, &app.admin).await;
        assert_eq!(listed.body["total_count"], 1);
        assert_eq!(listed.body["repositories"][0]["id"], a);
        assert_eq!(app.put(&format!("{repos}/abc"), &app.admin, None).await.status, StatusCode::NOT_FOUND);
    }

    async fn user_secrets_name_only_repositories_of_orgs_the_user_is_in(app) {
        app.octo_org().await;
        app.create_org("other-org").await;
        let foreign = repo_id(&app, "other-org", "x").await;
        let mona = app.user_token("mona").await;
        let put = put_secret(&app, USER, &mona, "X", "v", json!({ "selected_repository_ids": [foreign] })).await;
        assert_field(&put, "selected_repository_ids[0]");
        assert!(names(&app, USER, &mona).await.is_empty());
        let bad_shape = put_secret(&app, USER, &mona, "X", "v", json!({ "visibility": "all" })).await;
        assert_eq!(bad_shape.status, StatusCode::UNPROCESSABLE_ENTITY, "user secrets take no visibility");
        assert!(stored_values(&app).await.is_empty());
    }
}
