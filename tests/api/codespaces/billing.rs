use super::*;

backend_tests! {
    async fn a_user_with_no_role_in_the_org_pays_and_the_policy_does_not_apply(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        let service = app.service_token().await;

        let codespace = created(
            &app,
            &service,
            request_for("repo-a", "stranger", json!({ "image": "node:18" })),
        )
        .await;

        assert_eq!(codespace["billable_owner"], "stranger");
        assert_eq!(codespace["image"], "node:18");
        assert_eq!(codespace["recovery_mode"], false);
    }

    async fn an_outside_collaborator_under_the_default_members_mode_pays_and_the_policy_does_not_apply(app) {
        app.octo_org().await;
        app.set_role("octo-org", "hubot", "outside_collaborator")
            .await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        let service = app.service_token().await;

        let codespace = created(
            &app,
            &service,
            request_for("repo-a", "hubot", json!({ "image": "node:18" })),
        )
        .await;

        assert_eq!(codespace["billable_owner"], "hubot");
        assert_eq!(codespace["image"], "node:18");
    }

    async fn an_org_owner_is_billed_to_the_org_and_the_policy_applies(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(
                &service,
                request_for("repo-a", "octocat", json!({ "image": "node:18" })),
            )
            .await;

        assert_refused(&response, "node:18");
    }

    async fn a_member_named_in_another_case_is_still_billed_to_the_org(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(
                &service,
                request_for("repo-a", "MONA", json!({ "image": "node:18" })),
            )
            .await;

        assert_refused(&response, "node:18");
    }

    async fn an_outside_collaborator_is_billed_to_the_org_when_the_mode_includes_them(app) {
        app.octo_org().await;
        app.set_role("octo-org", "hubot", "outside_collaborator")
            .await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        set_billing(&app, json!({ "mode": "members_and_outside_collaborators" })).await;
        let service = app.service_token().await;

        let refused = app
            .create_codespace(
                &service,
                request_for("repo-a", "hubot", json!({ "image": "node:18" })),
            )
            .await;
        let allowed = created(
            &app,
            &service,
            request_for("repo-a", "hubot", json!({ "image": NODE_IMAGE })),
        )
        .await;

        assert_refused(&refused, "node:18");
        assert_eq!(allowed["billable_owner"], "octo-org");
    }

    async fn with_billing_disabled_members_pay_and_the_policy_does_not_apply(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        set_billing(&app, json!({ "mode": "disabled" })).await;
        let service = app.service_token().await;

        let codespace = created(&app, &service, image_request("node:18")).await;

        assert_eq!(codespace["billable_owner"], "mona");
        assert_eq!(codespace["image"], "node:18");
        assert_eq!(codespace["recovery_mode"], false);
    }

    async fn with_billing_disabled_a_refused_dockerfile_base_image_is_built_as_written(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        set_billing(&app, json!({ "mode": "disabled" })).await;
        let service = app.service_token().await;
        let body = dockerfile_request(json!({ "dockerfile": "Dockerfile" }), "FROM python:3\n");

        let codespace = created(&app, &service, body).await;

        assert_eq!(codespace["image"], "python:3");
        assert_eq!(codespace["recovery_mode"], false);
        assert_eq!(codespace["billable_owner"], "mona");
    }

    async fn under_selected_members_a_selected_member_is_billed_to_the_org_and_the_policy_applies(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        set_billing(
            &app,
            json!({ "mode": "selected_members", "selected_usernames": ["mona"] }),
        )
        .await;
        let service = app.service_token().await;

        let refused = app
            .create_codespace(&service, image_request("node:18"))
            .await;
        let allowed = created(&app, &service, image_request(NODE_IMAGE)).await;

        assert_refused(&refused, "node:18");
        assert_eq!(allowed["billable_owner"], "octo-org");
    }

    async fn under_selected_members_a_member_not_selected_pays_and_the_policy_does_not_apply(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        set_billing(
            &app,
            json!({ "mode": "selected_members", "selected_usernames": ["octocat"] }),
        )
        .await;
        let service = app.service_token().await;

        let codespace = created(&app, &service, image_request("node:18")).await;

        assert_eq!(codespace["billable_owner"], "mona");
        assert_eq!(codespace["image"], "node:18");
    }

    async fn a_known_user_named_in_another_case_is_returned_as_first_written(app) {
        app.octo_org().await;
        let service = app.service_token().await;

        let codespace = created(
            &app,
            &service,
            request_for("repo-a", "MONA", json!({ "image": NODE_IMAGE })),
        )
        .await;

        assert_eq!(codespace["user"], "mona");
        assert_eq!(codespace["billable_owner"], "octo-org");
    }
}
