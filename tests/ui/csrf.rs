//! Every console form that changes something is refused (403, nothing changed) without
//! its session's CSRF token, or with another session's.

use axum::http::StatusCode;

use crate::backend_tests;
use crate::client::{api_policies, Client};

const NEW: &str = "/ui/orgs/octo-org/codespaces/policies/new";

fn policy_fields(csrf: &str) -> Vec<(&str, &str)> {
    let mut fields = vec![
        ("name", "Approved images"),
        ("target", "all_repositories"),
        ("enforcement", "enforce"),
        ("constraint", "base_images"),
        ("base_images.allowed_values", "node:18"),
        ("intent", "save"),
    ];
    if !csrf.is_empty() {
        fields.push(("csrf", csrf));
    }
    fields
}

backend_tests! {
    async fn a_policy_form_without_its_csrf_token_is_refused_and_stores_nothing(app) {
        app.octo_org().await;
        let token = app.user_token("octocat").await;
        let client = Client::login(&app, &token).await;
        let refused = client.post_raw(NEW, &policy_fields("")).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.html.contains("This form was refused"), "{}", refused.html);
        assert_eq!(api_policies(&app, "octo-org").await["total_count"], 0);
    }

    async fn another_sessions_csrf_token_is_refused(app) {
        app.octo_org().await;
        let token = app.user_token("octocat").await;
        let mine = Client::login(&app, &token).await;
        let other = Client::login(&app, &token).await;
        let theirs = other.get(NEW).await.field("csrf").unwrap();
        assert_ne!(theirs, mine.get(NEW).await.field("csrf").unwrap());
        let refused = mine.post_raw(NEW, &policy_fields(&theirs)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(api_policies(&app, "octo-org").await["total_count"], 0);
        // The right one is taken.
        let csrf = mine.get(NEW).await.field("csrf").unwrap();
        let saved = mine.post_raw(NEW, &policy_fields(&csrf)).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
        assert_eq!(api_policies(&app, "octo-org").await["total_count"], 1);
    }

    async fn delete_restore_evaluate_and_logout_need_the_token_too(app) {
        app.octo_org().await;
        let policy = app.allow_org_wide("octo-org", &["node:18"]).await;
        let id = policy["id"].as_i64().unwrap();
        let client = Client::login(&app, &app.admin).await;
        let base = format!("/ui/orgs/octo-org/codespaces/policies/{id}");
        let paths = [
            format!("{base}/delete"),
            format!("{base}/revisions/1/restore"),
            "/ui/orgs/octo-org/codespaces/policies/evaluate".to_string(),
            base.clone(),
            "/ui/logout".to_string(),
        ];
        for path in &paths {
            let refused = client.post_raw(path, &[("csrf", "wrong"), ("intent", "save")]).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(api_policies(&app, "octo-org").await["total_count"], 1);
        assert_eq!(client.get("/ui/orgs").await.status, StatusCode::OK, "still logged in");
    }
}
