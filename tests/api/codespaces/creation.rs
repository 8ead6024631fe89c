use super::*;

backend_tests! {
    async fn creating_a_codespace_with_an_allowed_image_returns_201_with_the_codespace(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(&service, image_request(NODE_IMAGE))
            .await;

        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        let codespace = &response.body;
        assert!(
            codespace["id"].as_str().unwrap().starts_with("cs_"),
            "{codespace}"
        );
        assert_eq!(codespace["repository"], "octo-org/repo-a");
        assert_eq!(codespace["user"], "mona");
        assert_eq!(codespace["billable_owner"], "octo-org");
        assert_eq!(codespace["image"], NODE_IMAGE);
        assert_eq!(codespace["image_source"], "image");
        assert_eq!(codespace["recovery_mode"], false);
        assert!(
            !codespace["creation_log"].as_array().unwrap().is_empty(),
            "{codespace}"
        );
        assert_utc_timestamp(&codespace["created_at"]);
        assert_utc_timestamp(&codespace["updated_at"]);
    }

    async fn a_created_codespace_can_be_read_back_and_is_listed_for_its_org(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let codespace = created(&app, &service, image_request(NODE_IMAGE)).await;

        let read = app
            .get(
                &format!("/codespaces/{}", codespace["id"].as_str().unwrap()),
                &service,
            )
            .await;
        let listed = app.get("/orgs/octo-org/codespaces", &app.admin).await;

        assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
        assert_eq!(read.body, codespace);
        assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
        assert_eq!(
            listed.body,
            json!({ "total_count": 1, "codespaces": [codespace] })
        );
    }

    async fn creating_a_codespace_with_a_disallowed_image_returns_400_and_records_nothing(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(&service, image_request("node:18"))
            .await;

        assert_refused(&response, "node:18");
        assert_eq!(org_codespace_count(&app).await, 0);
    }

    async fn every_image_is_allowed_when_the_org_has_no_policy(app) {
        app.octo_org().await;
        let service = app.service_token().await;

        let codespace = created(
            &app,
            &service,
            image_request("ghcr.io/anyone/anything:latest"),
        )
        .await;

        assert_eq!(codespace["image"], "ghcr.io/anyone/anything:latest");
        assert_eq!(codespace["recovery_mode"], false);
    }

    async fn a_devcontainer_given_as_jsonc_text_with_comments_and_trailing_commas_is_read(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        let service = app.service_token().await;
        let text = r#"// devcontainer.json
{
  /* the image */
  "image": "mcr.microsoft.com/devcontainers/javascript-node:18", // pinned
  "name": "Node // not a comment",
  "features": { "a": {}, },
}
"#;

        let response = app
            .create_codespace(&service, request_for("repo-a", "mona", json!(text)))
            .await;

        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        assert_eq!(response.body["image"], NODE_IMAGE);
        assert_eq!(response.body["image_source"], "image");
    }

    async fn a_refused_image_given_in_jsonc_text_is_refused_too(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        let service = app.service_token().await;
        let text = "{ // comment\n \"image\": \"node:18\",\n}";

        let response = app
            .create_codespace(&service, request_for("repo-a", "mona", json!(text)))
            .await;

        assert_refused(&response, "node:18");
        assert_eq!(org_codespace_count(&app).await, 0);
    }

    async fn image_wins_over_build_when_the_configuration_names_both(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        let service = app.service_token().await;
        let body = json!({
            "repository": "octo-org/repo-a",
            "user": "mona",
            "devcontainer": { "image": "node:18", "build": { "dockerfile": "Dockerfile" } },
            "dockerfile": format!("FROM {NODE_IMAGE}\n"),
        });

        let response = app.create_codespace(&service, body).await;

        assert_refused(&response, "node:18");
    }
}
