use super::*;

backend_tests! {
    async fn creating_a_codespace_in_an_unknown_repository_returns_404(app) {
        app.octo_org().await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(
                &service,
                request_for("nope", "mona", json!({ "image": NODE_IMAGE })),
            )
            .await;

        assert_error(&response, StatusCode::NOT_FOUND);
        assert_eq!(org_codespace_count(&app).await, 0);
    }

    async fn creating_a_codespace_in_an_unknown_org_returns_404(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let body = image_request_in("nobody/repo-a", NODE_IMAGE);

        let response = app.create_codespace(&service, body).await;

        assert_error(&response, StatusCode::NOT_FOUND);
    }

    async fn reading_an_unknown_codespace_returns_404(app) {
        let service = app.service_token().await;

        let response = app
            .get("/codespaces/cs_01JD0000000000000000000000", &service)
            .await;

        assert_error(&response, StatusCode::NOT_FOUND);
    }

    async fn listing_the_codespaces_of_an_unknown_org_returns_404(app) {
        let response = app.get("/orgs/nobody/codespaces", &app.admin).await;

        assert_error(&response, StatusCode::NOT_FOUND);
    }

    async fn unreadable_devcontainer_text_returns_422_naming_devcontainer(app) {
        app.octo_org().await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(
                &service,
                request_for("repo-a", "mona", json!("{ \"image\": ")),
            )
            .await;

        assert_invalid(&response, "devcontainer");
        assert_eq!(org_codespace_count(&app).await, 0);
    }

    async fn a_devcontainer_that_is_neither_an_object_nor_text_returns_422(app) {
        app.octo_org().await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(&service, request_for("repo-a", "mona", json!(["image"])))
            .await;

        assert_invalid(&response, "devcontainer");
    }

    async fn an_image_that_is_not_a_string_returns_422(app) {
        app.octo_org().await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(
                &service,
                request_for("repo-a", "mona", json!({ "image": 18 })),
            )
            .await;

        assert_invalid(&response, "devcontainer");
    }

    async fn a_dockerfile_that_is_needed_but_missing_returns_422_naming_dockerfile(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let body = request_for(
            "repo-a",
            "mona",
            json!({ "build": { "dockerfile": "Dockerfile" } }),
        );

        let response = app.create_codespace(&service, body).await;

        let body = assert_invalid(&response, "dockerfile");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("Dockerfile"),
            "{body}"
        );
        assert_eq!(org_codespace_count(&app).await, 0);
    }

    async fn a_dockerfile_without_from_returns_422_naming_dockerfile(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let body = dockerfile_request(
            json!({ "dockerfile": "Dockerfile" }),
            "# nothing\nRUN echo hi\n",
        );

        let response = app.create_codespace(&service, body).await;

        let body = assert_invalid(&response, "dockerfile");
        assert!(body["message"].as_str().unwrap().contains("FROM"), "{body}");
    }

    async fn an_arg_left_unresolved_in_from_returns_422_saying_where(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let body = dockerfile_request(
            json!({ "dockerfile": "Dockerfile" }),
            "ARG VARIANT\nFROM node:${VARIANT}\n",
        );

        let response = app.create_codespace(&service, body).await;

        let body = assert_invalid(&response, "dockerfile");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("line 2"), "{message}");
        assert!(message.contains("VARIANT"), "{message}");
    }

    async fn a_build_target_the_dockerfile_does_not_define_returns_422(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let build = json!({ "dockerfile": "Dockerfile", "target": "missing" });

        let response = app
            .create_codespace(&service, dockerfile_request(build, "FROM node:18 AS dev\n"))
            .await;

        assert_invalid(&response, "devcontainer");
    }

    async fn an_image_with_an_uppercase_repository_path_returns_422_naming_the_image(app) {
        app.octo_org().await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(&service, image_request("Node:18"))
            .await;

        let body = assert_invalid(&response, "devcontainer.image");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("Node:18"),
            "{body}"
        );
        assert_eq!(org_codespace_count(&app).await, 0);
    }

    async fn an_image_with_two_dots_in_a_row_returns_422_even_when_everything_is_allowed(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["a*"]).await;
        let service = app.service_token().await;

        let response = app.create_codespace(&service, image_request("a..b")).await;

        assert_invalid(&response, "devcontainer.image");
    }

    async fn an_invalid_dockerfile_base_image_returns_422_naming_the_dockerfile(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let body = dockerfile_request(json!({ "dockerfile": "Dockerfile" }), "FROM Node:18\n");

        let response = app.create_codespace(&service, body).await;

        assert_invalid(&response, "dockerfile");
    }

    async fn a_repository_without_a_slash_returns_422_naming_repository(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let body = image_request_in("repo-a", NODE_IMAGE);

        let response = app.create_codespace(&service, body).await;

        assert_invalid(&response, "repository");
    }

    async fn a_repository_with_a_bad_name_returns_422_naming_repository(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let body = image_request_in("octo-org/repo a", NODE_IMAGE);

        let response = app.create_codespace(&service, body).await;

        assert_invalid(&response, "repository");
    }

    async fn a_bad_user_name_returns_422_naming_user(app) {
        app.octo_org().await;
        let service = app.service_token().await;

        for user in ["mona lisa", "", "mona/lisa"] {
            let response = app
                .create_codespace(
                    &service,
                    request_for("repo-a", user, json!({ "image": NODE_IMAGE })),
                )
                .await;

            assert_invalid(&response, "user");
        }
        assert_eq!(org_codespace_count(&app).await, 0);
    }

    async fn a_missing_user_returns_422(app) {
        app.octo_org().await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(&service, json!({ "repository": "octo-org/repo-a" }))
            .await;

        assert_error(&response, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            response.body["errors"][0]["field"].is_string(),
            "{:?}",
            response.body
        );
    }

    async fn an_image_with_surrounding_whitespace_returns_422_naming_the_image(app) {
        app.octo_org().await;
        let service = app.service_token().await;

        let response = app.create_codespace(&service, image_request(" node:18")).await;

        assert_invalid(&response, "devcontainer.image");
    }

    async fn an_image_with_a_tag_over_128_characters_returns_422_naming_the_image(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:*"]).await;
        let service = app.service_token().await;
        let image = format!("node:{}", "a".repeat(129));

        let response = app.create_codespace(&service, image_request(&image)).await;

        assert_invalid(&response, "devcontainer.image");
    }

    async fn an_arg_declared_inside_a_stage_does_not_reach_a_later_from(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let dockerfile = "FROM node:18 AS a\nARG VARIANT=20\nFROM node:${VARIANT}\n";

        let response = app
            .create_codespace(
                &service,
                dockerfile_request(json!({ "dockerfile": "Dockerfile" }), dockerfile),
            )
            .await;

        let body = assert_invalid(&response, "dockerfile");
        assert!(body["message"].as_str().unwrap().contains("line 3"), "{body}");
    }
}
