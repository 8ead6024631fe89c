use super::*;

/// An org-wide policy allowing the devcontainers images and `node:18`, and a policy for
/// repo-a allowing `node:*` and `python:3`.
async fn org_wide_and_repo_a_policies(app: &TestApp) {
    app.allow_org_wide("octo-org", &[DEVCONTAINERS, "node:18"])
        .await;
    app.create_policy(
        "octo-org",
        json!({
            "name": "repo-a images",
            "target": "selected_repositories",
            "repositories": ["repo-a"],
            "constraints": { "base_images": { "allowed_values": ["node:*", "python:3"] } }
        }),
    )
    .await;
}

backend_tests! {
    async fn an_image_only_the_repository_policy_allows_is_refused_in_that_repository(app) {
        app.octo_org().await;
        org_wide_and_repo_a_policies(&app).await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(
                &service,
                request_for("repo-a", "mona", json!({ "image": "python:3" })),
            )
            .await;

        assert_refused(&response, "python:3");
    }

    async fn an_image_only_the_org_wide_policy_allows_is_refused_in_the_named_repository(app) {
        app.octo_org().await;
        org_wide_and_repo_a_policies(&app).await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(
                &service,
                request_for("repo-a", "mona", json!({ "image": NODE_IMAGE })),
            )
            .await;

        assert_refused(&response, NODE_IMAGE);
    }

    async fn an_image_both_policies_allow_is_allowed_in_the_named_repository(app) {
        app.octo_org().await;
        org_wide_and_repo_a_policies(&app).await;
        let service = app.service_token().await;

        let codespace = created(
            &app,
            &service,
            request_for("repo-a", "mona", json!({ "image": "node:18" })),
        )
        .await;

        assert_eq!(codespace["image"], "node:18");
        assert_eq!(codespace["repository"], "octo-org/repo-a");
    }

    async fn a_repository_the_scoped_policy_does_not_name_is_judged_only_by_the_org_wide_policy(app) {
        app.octo_org().await;
        org_wide_and_repo_a_policies(&app).await;
        let service = app.service_token().await;

        let allowed = created(
            &app,
            &service,
            request_for("repo-b", "mona", json!({ "image": NODE_IMAGE })),
        )
        .await;
        let refused = app
            .create_codespace(
                &service,
                request_for("repo-b", "mona", json!({ "image": "python:3" })),
            )
            .await;

        assert_eq!(allowed["image"], NODE_IMAGE);
        assert_eq!(allowed["repository"], "octo-org/repo-b");
        assert_refused(&refused, "python:3");
    }

    async fn the_repository_is_matched_case_insensitively_and_returned_as_first_written(app) {
        app.octo_org().await;
        org_wide_and_repo_a_policies(&app).await;
        let service = app.service_token().await;
        let request = |image: &str| image_request_in("Octo-Org/REPO-A", image);

        let refused = app.create_codespace(&service, request(NODE_IMAGE)).await;
        let allowed = created(&app, &service, request("node:18")).await;

        assert_refused(&refused, NODE_IMAGE);
        assert_eq!(allowed["repository"], "octo-org/repo-a");
    }

    async fn a_policy_without_a_base_images_constraint_restricts_nothing(app) {
        app.octo_org().await;
        app.create_policy(
            "octo-org",
            json!({ "name": "no constraint", "target": "all_repositories", "constraints": {} }),
        )
        .await;
        let service = app.service_token().await;

        let codespace = created(&app, &service, image_request("python:3")).await;

        assert_eq!(codespace["image"], "python:3");
    }

    async fn a_repository_named_in_a_policy_in_another_case_is_still_covered(app) {
        app.octo_org().await;
        app.create_policy(
            "octo-org",
            json!({
                "name": "repo-a images",
                "target": "selected_repositories",
                "repositories": ["REPO-A"],
                "constraints": { "base_images": { "allowed_values": ["node:18"] } }
            }),
        )
        .await;
        let service = app.service_token().await;

        let response = app.create_codespace(&service, image_request("python:3")).await;

        assert_refused(&response, "python:3");
    }
}
