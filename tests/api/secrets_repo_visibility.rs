//! Repositories have a visibility (it decides which org secrets reach their codespaces).

use axum::http::StatusCode;
use serde_json::json;

use crate::backend_tests;

backend_tests! {
    async fn a_repository_is_private_unless_its_body_says_otherwise(app) {
        app.create_org("octo-org").await;
        let plain = app.put("/orgs/octo-org/repos/repo-a", &app.admin, None).await;
        assert_eq!(plain.status, StatusCode::CREATED);
        assert_eq!(plain.body["visibility"], "private");
        assert!(plain.body["id"].as_i64().is_some());
        let public = app.put("/orgs/octo-org/repos/repo-b", &app.admin,
            Some(json!({ "visibility": "public" }))).await;
        assert_eq!(public.status, StatusCode::CREATED);
        assert_eq!(public.body["visibility"], "public");
    }

    async fn a_body_changes_an_existing_repository_and_no_body_keeps_it(app) {
        app.create_org("octo-org").await;
        app.add_repo("octo-org", "repo-a").await;
        let changed = app.put("/orgs/octo-org/repos/repo-a", &app.admin,
            Some(json!({ "visibility": "internal" }))).await;
        assert_eq!(changed.status, StatusCode::OK);
        assert_eq!(changed.body["visibility"], "internal");
        let kept = app.put("/orgs/octo-org/repos/repo-a", &app.admin, None).await;
        assert_eq!(kept.status, StatusCode::OK);
        assert_eq!(kept.body["visibility"], "internal");
        let null = app.put("/orgs/octo-org/repos/repo-a", &app.admin, Some(json!(null))).await;
        assert_eq!(null.status, StatusCode::OK, "a null body is no body, as documented");
        assert_eq!(null.body["visibility"], "internal");
        let listed = app.get("/orgs/octo-org/repos", &app.admin).await;
        assert_eq!(listed.body["repositories"][0]["visibility"], "internal");
        assert_eq!(listed.body["repositories"][0]["id"], changed.body["id"]);
    }

    async fn an_unknown_visibility_is_a_422_and_changes_nothing(app) {
        app.create_org("octo-org").await;
        app.add_repo("octo-org", "repo-a").await;
        let bad = app.put("/orgs/octo-org/repos/repo-a", &app.admin,
            Some(json!({ "visibility": "secret" }))).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.body["errors"][0]["field"], "body");
        let listed = app.get("/orgs/octo-org/repos", &app.admin).await;
        assert_eq!(listed.body["repositories"][0]["visibility"], "private");
    }
}
