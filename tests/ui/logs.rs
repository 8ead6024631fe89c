//! The decision log and the audit log pages, a page at a time.

use axum::http::StatusCode;
use serde_json::json;

use crate::backend_tests;
use crate::client::Client;

backend_tests! {
    async fn the_decision_log_lists_decisions_and_filters_them(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;
        for image in ["node:18", "python:3"] {
            app.create_codespace(&service, json!({
                "repository": "octo-org/repo-a", "user": "mona", "devcontainer": { "image": image }
            })).await;
        }
        let client = Client::login(&app, &app.admin).await;
        let all = client.get("/ui/orgs/octo-org/codespaces/decisions").await;
        assert_eq!(all.status, StatusCode::OK);
        assert!(all.html.contains("<code>node:18</code>") && all.html.contains("<code>python:3</code>"), "{}", all.html);
        let refused = client.get("/ui/orgs/octo-org/codespaces/decisions?outcome=refused").await;
        assert!(refused.html.contains("<code>python:3</code>"));
        assert!(!refused.html.contains("<code>node:18</code>"));
        assert!(refused.html.contains("(1 in all)"));
    }

    async fn the_audit_log_pages_through_every_change(app) {
        app.octo_org().await;
        for i in 0..55 {
            app.create_policy("octo-org", json!({
                "name": format!("Policy {i}"), "target": "all_repositories",
                "constraints": { "base_images": { "allowed_values": ["node:18"] } }
            })).await;
        }
        let client = Client::login(&app, &app.admin).await;
        let first = client.get("/ui/orgs/octo-org/audit-log").await;
        assert_eq!(first.status, StatusCode::OK);
        assert!(first.html.contains("Page 1 of 2"), "{}", first.html);
        assert!(first.html.contains(r#"href="/ui/orgs/octo-org/audit-log?page=2""#));
        let second = client.get("/ui/orgs/octo-org/audit-log?page=2").await;
        assert!(second.html.contains("Page 2 of 2"));
        assert!(second.html.contains("membership.set"), "the oldest entries come last");
    }
}
