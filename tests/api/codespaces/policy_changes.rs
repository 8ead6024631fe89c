use super::*;

/// repo-a with the devcontainers images allowed, and a codespace created for mona.
async fn codespace_under_a_policy(app: &TestApp, service: &str) -> (Value, Value) {
    app.octo_org().await;
    let policy = app
        .allow_org_wide("octo-org", &[DEVCONTAINERS, "node:18"])
        .await;
    let codespace = created(app, service, image_request(NODE_IMAGE)).await;
    (policy, codespace)
}

fn codespace_path(codespace: &Value) -> String {
    format!("/codespaces/{}", codespace["id"].as_str().expect("id"))
}

async fn rebuild(app: &TestApp, token: &str, codespace: &Value, body: Value) -> TestResponse {
    app.post(
        &format!("{}/rebuild", codespace_path(codespace)),
        token,
        body,
    )
    .await
}

backend_tests! {
    async fn tightening_a_policy_never_alters_an_existing_codespace(app) {
        let service = app.service_token().await;
        let (policy, codespace) = codespace_under_a_policy(&app, &service).await;

        restrict_policy_to(&app, &policy, &["node:18"]).await;
        let response = app.get(&codespace_path(&codespace), &service).await;

        assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
        assert_eq!(response.body, codespace);
    }

    async fn deleting_a_policy_never_alters_an_existing_recovery_mode_codespace(app) {
        app.octo_org().await;
        let policy = app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;
        let body = dockerfile_request(json!({ "dockerfile": "Dockerfile" }), "FROM python:3\n");
        let codespace = created(&app, &service, body).await;

        let deleted = app
            .delete(
                &format!("/orgs/octo-org/codespaces/policies/{}", policy["id"]),
                &app.admin,
            )
            .await;
        let response = app.get(&codespace_path(&codespace), &service).await;

        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:?}", deleted.body);
        assert_eq!(response.body, codespace);
        assert_eq!(response.body["recovery_mode"], true);
    }

    async fn a_tightened_policy_applies_from_the_next_creation_on(app) {
        let service = app.service_token().await;
        let (policy, _) = codespace_under_a_policy(&app, &service).await;

        restrict_policy_to(&app, &policy, &["node:18"]).await;
        let response = app
            .create_codespace(&service, image_request(NODE_IMAGE))
            .await;

        assert_refused(&response, NODE_IMAGE);
        assert_eq!(org_codespace_count(&app).await, 1);
    }

    async fn a_loosened_policy_applies_from_the_next_creation_on(app) {
        app.octo_org().await;
        let policy = app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;
        let refused = app
            .create_codespace(&service, image_request("python:3"))
            .await;
        assert_refused(&refused, "python:3");

        restrict_policy_to(&app, &policy, &["node:18", "python:3"]).await;
        let codespace = created(&app, &service, image_request("python:3")).await;

        assert_eq!(codespace["image"], "python:3");
    }

    async fn a_full_rebuild_refuses_an_image_the_policy_in_force_now_refuses(app) {
        let service = app.service_token().await;
        let (policy, codespace) = codespace_under_a_policy(&app, &service).await;
        restrict_policy_to(&app, &policy, &["node:18"]).await;

        let response = rebuild(
            &app,
            &service,
            &codespace,
            json!({ "full": true, "devcontainer": { "image": NODE_IMAGE } }),
        )
        .await;

        assert_refused(&response, NODE_IMAGE);
        let after = app.get(&codespace_path(&codespace), &service).await;
        assert_eq!(after.body, codespace);
    }

    async fn a_full_rebuild_with_a_refused_dockerfile_puts_the_codespace_in_recovery_mode(app) {
        let service = app.service_token().await;
        let (policy, codespace) = codespace_under_a_policy(&app, &service).await;
        restrict_policy_to(&app, &policy, &["node:18"]).await;
        let body = json!({
            "full": true,
            "devcontainer": { "build": { "dockerfile": "Dockerfile" } },
            "dockerfile": "FROM python:3\n",
        });

        let response = rebuild(&app, &service, &codespace, body).await;

        assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
        let rebuilt = &response.body;
        assert_eq!(rebuilt["id"], codespace["id"]);
        assert_eq!(rebuilt["created_at"], codespace["created_at"]);
        assert_eq!(rebuilt["recovery_mode"], true);
        assert_eq!(rebuilt["image"], RECOVERY_IMAGE);
        assert_eq!(rebuilt["image_source"], "dockerfile");
        let last = last_log_line(rebuilt);
        assert!(last.contains("'python:3'"), "{last}");
        assert!(last.contains("recovery mode"), "{last}");
        assert_eq!(
            app.get(&codespace_path(&codespace), &service).await.body,
            *rebuilt
        );
    }

    async fn a_full_rebuild_keeps_the_earlier_creation_log(app) {
        let service = app.service_token().await;
        let (_, codespace) = codespace_under_a_policy(&app, &service).await;

        let response = rebuild(
            &app,
            &service,
            &codespace,
            json!({ "full": true, "devcontainer": { "image": "node:18" } }),
        )
        .await;

        assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
        assert_eq!(response.body["image"], "node:18");
        let before = codespace["creation_log"].as_array().unwrap();
        let after = response.body["creation_log"].as_array().unwrap();
        assert!(after.len() > before.len(), "{after:?}");
        assert_eq!(&after[..before.len()], &before[..]);
    }

    async fn a_plain_rebuild_keeps_the_image_and_applies_no_policy(app) {
        let service = app.service_token().await;
        let (policy, codespace) = codespace_under_a_policy(&app, &service).await;
        restrict_policy_to(&app, &policy, &["node:18"]).await;

        let response = rebuild(&app, &service, &codespace, json!({ "full": false })).await;

        assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
        assert_eq!(response.body["id"], codespace["id"]);
        assert_eq!(response.body["image"], NODE_IMAGE);
        assert_eq!(response.body["image_source"], "image");
        assert_eq!(response.body["recovery_mode"], false);
        assert_eq!(response.body["billable_owner"], "octo-org");
    }

    async fn a_plain_rebuild_ignores_a_configuration_it_is_given(app) {
        let service = app.service_token().await;
        let (policy, codespace) = codespace_under_a_policy(&app, &service).await;
        restrict_policy_to(&app, &policy, &["node:18"]).await;

        let response = rebuild(
            &app,
            &service,
            &codespace,
            json!({ "full": false, "devcontainer": { "image": "python:3" } }),
        )
        .await;

        assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
        assert_eq!(response.body["image"], NODE_IMAGE);
    }

    async fn a_full_rebuild_of_an_unknown_codespace_returns_404(app) {
        app.octo_org().await;
        let service = app.service_token().await;

        let response = app
            .post(
                "/codespaces/cs_UNKNOWN/rebuild",
                &service,
                json!({ "full": true }),
            )
            .await;

        assert_error(&response, StatusCode::NOT_FOUND);
    }

    async fn a_full_rebuild_with_an_unreadable_configuration_returns_422_and_changes_nothing(app) {
        let service = app.service_token().await;
        let (_, codespace) = codespace_under_a_policy(&app, &service).await;

        let response = rebuild(
            &app,
            &service,
            &codespace,
            json!({ "full": true, "devcontainer": "{ \"image\": " }),
        )
        .await;

        assert_invalid(&response, "devcontainer");
        assert_eq!(
            app.get(&codespace_path(&codespace), &service).await.body,
            codespace
        );
    }

    async fn a_full_rebuild_judges_billing_as_it_is_now(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        set_billing(&app, json!({ "mode": "disabled" })).await;
        let service = app.service_token().await;
        let codespace = created(&app, &service, image_request("python:3")).await;
        set_billing(&app, json!({ "mode": "members" })).await;

        let response = rebuild(
            &app,
            &service,
            &codespace,
            json!({ "full": true, "devcontainer": { "image": "python:3" } }),
        )
        .await;

        assert_refused(&response, "python:3");
        let after = app.get(&codespace_path(&codespace), &service).await;
        assert_eq!(after.body, codespace);
        assert_eq!(after.body["billable_owner"], "mona");
    }

    async fn a_full_rebuild_with_an_allowed_base_image_leaves_recovery_mode(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;
        let build = json!({ "dockerfile": "Dockerfile" });
        let codespace =
            created(&app, &service, dockerfile_request(build.clone(), "FROM python:3\n")).await;
        assert_eq!(codespace["recovery_mode"], true);

        let body = json!({
            "full": true,
            "devcontainer": { "build": build },
            "dockerfile": "FROM node:18\n",
        });

        let response = rebuild(&app, &service, &codespace, body).await;

        assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
        assert_eq!(response.body["recovery_mode"], false);
        assert_eq!(response.body["image"], "node:18");
        assert_eq!(response.body["image_source"], "dockerfile");
    }
}
