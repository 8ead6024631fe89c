use super::*;

backend_tests! {
    async fn a_dockerfile_with_an_allowed_base_image_creates_a_codespace_from_it(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;
        let body = dockerfile_request(
            json!({ "dockerfile": "Dockerfile" }),
            "FROM node:18\nRUN npm i -g pnpm\n",
        );

        let codespace = created(&app, &service, body).await;

        assert_eq!(codespace["image"], "node:18");
        assert_eq!(codespace["image_source"], "dockerfile");
        assert_eq!(codespace["recovery_mode"], false);
        assert_eq!(codespace["billable_owner"], "octo-org");
    }

    async fn the_older_top_level_dockerfile_key_is_honoured(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;
        let body = json!({
            "repository": "octo-org/repo-a",
            "user": "mona",
            "devcontainer": { "dockerFile": "Dockerfile" },
            "dockerfile": "FROM node:18\n",
        });

        let codespace = created(&app, &service, body).await;

        assert_eq!(codespace["image"], "node:18");
        assert_eq!(codespace["image_source"], "dockerfile");
    }

    async fn a_multi_stage_dockerfile_is_judged_by_the_image_its_final_stage_comes_from(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;
        let dockerfile = "FROM python:3 AS tools\nRUN pip install x\n\
                          FROM node:18 AS base\nRUN npm ci\n\
                          FROM base\nCOPY --from=tools /x /x\n";

        let codespace = created(
            &app,
            &service,
            dockerfile_request(json!({ "dockerfile": "Dockerfile" }), dockerfile),
        )
        .await;

        assert_eq!(codespace["image"], "node:18");
        assert_eq!(codespace["image_source"], "dockerfile");
        assert_eq!(codespace["recovery_mode"], false);
    }

    async fn an_arg_default_declared_before_the_first_from_is_substituted(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;
        let dockerfile = "ARG VARIANT=18\nFROM node:${VARIANT}\n";

        let codespace = created(
            &app,
            &service,
            dockerfile_request(json!({ "dockerfile": "Dockerfile" }), dockerfile),
        )
        .await;

        assert_eq!(codespace["image"], "node:18");
        assert_eq!(codespace["recovery_mode"], false);
    }

    async fn build_args_override_the_arg_default(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:20"]).await;
        let service = app.service_token().await;
        let build = json!({ "dockerfile": "Dockerfile", "args": { "VARIANT": "20" } });

        let codespace = created(
            &app,
            &service,
            dockerfile_request(build, "ARG VARIANT=18\nFROM node:$VARIANT\n"),
        )
        .await;

        assert_eq!(codespace["image"], "node:20");
        assert_eq!(codespace["image_source"], "dockerfile");
        assert_eq!(codespace["recovery_mode"], false);
    }

    async fn build_target_chooses_the_stage_whose_base_image_is_judged(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;
        let build = json!({ "dockerfile": "Dockerfile", "target": "dev" });
        let dockerfile = "FROM node:18 AS dev\nFROM python:3 AS prod\n";

        let codespace = created(&app, &service, dockerfile_request(build, dockerfile)).await;

        assert_eq!(codespace["image"], "node:18");
        assert_eq!(codespace["recovery_mode"], false);
    }

    async fn a_dockerfile_with_a_refused_base_image_creates_the_codespace_in_recovery_mode(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;
        let body = dockerfile_request(json!({ "dockerfile": "Dockerfile" }), "FROM python:3\n");

        let response = app.create_codespace(&service, body).await;

        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        let codespace = &response.body;
        assert_eq!(codespace["recovery_mode"], true);
        assert_eq!(codespace["image"], RECOVERY_IMAGE);
        assert_eq!(codespace["image_source"], "dockerfile");
        assert_eq!(codespace["billable_owner"], "octo-org");
        let last = last_log_line(codespace);
        assert!(last.contains("'python:3'"), "{last}");
        assert!(last.contains("recovery mode"), "{last}");
        assert_eq!(org_codespace_count(&app).await, 1);
    }

    async fn a_build_arg_that_switches_to_a_refused_base_image_leads_to_recovery_mode(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;
        let build = json!({ "dockerfile": "Dockerfile", "args": { "VARIANT": "20" } });

        let codespace = created(
            &app,
            &service,
            dockerfile_request(build, "ARG VARIANT=18\nFROM node:${VARIANT}\n"),
        )
        .await;

        assert_eq!(codespace["recovery_mode"], true);
        assert_eq!(codespace["image"], RECOVERY_IMAGE);
        let last = last_log_line(&codespace);
        assert!(last.contains("'node:20'"), "{last}");
        assert!(last.contains("recovery mode"), "{last}");
    }

    async fn a_refused_stage_followed_through_stage_names_leads_to_recovery_mode(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;
        let dockerfile = "FROM node:18 AS tools\nFROM python:3 AS base\nFROM base\n";

        let codespace = created(
            &app,
            &service,
            dockerfile_request(json!({ "dockerfile": "Dockerfile" }), dockerfile),
        )
        .await;

        assert_eq!(codespace["recovery_mode"], true);
        assert!(
            last_log_line(&codespace).contains("'python:3'"),
            "{codespace}"
        );
    }

    async fn platform_flags_on_from_are_skipped(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;
        let dockerfile = "FROM --platform=linux/amd64 node:18 AS base\nfrom base\n";

        let codespace = created(
            &app,
            &service,
            dockerfile_request(json!({ "dockerfile": "Dockerfile" }), dockerfile),
        )
        .await;

        assert_eq!(codespace["image"], "node:18");
        assert_eq!(codespace["recovery_mode"], false);
    }
}
