use super::*;

backend_tests! {
    async fn a_prefix_value_allows_an_image_that_starts_with_the_part_before_the_star(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["ghcr.io/octo-org/*"])
            .await;
        let service = app.service_token().await;

        let codespace =
            created(&app, &service, image_request("ghcr.io/octo-org/dev:1.2")).await;

        assert_eq!(codespace["image"], "ghcr.io/octo-org/dev:1.2");
    }

    async fn a_prefix_value_refuses_the_prefix_without_its_trailing_slash(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["ghcr.io/octo-org/*"])
            .await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(&service, image_request("ghcr.io/octo-org"))
            .await;

        assert_refused(&response, "ghcr.io/octo-org");
    }

    async fn a_prefix_value_refuses_an_image_of_another_namespace(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["ghcr.io/octo-org/*"])
            .await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(&service, image_request("ghcr.io/other/x"))
            .await;

        assert_refused(&response, "ghcr.io/other/x");
    }

    async fn a_prefix_value_is_case_sensitive_in_the_registry_name(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["ghcr.io/octo-org/*"])
            .await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(&service, image_request("GHCR.IO/octo-org/dev:1.2"))
            .await;

        assert_refused(&response, "GHCR.IO/octo-org/dev:1.2");
    }

    async fn an_exact_value_does_not_match_the_normalized_form_of_the_image(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;

        let refused = app
            .create_codespace(&service, image_request("docker.io/library/node:18"))
            .await;
        let allowed = created(&app, &service, image_request("node:18")).await;

        assert_refused(&refused, "docker.io/library/node:18");
        assert_eq!(allowed["image"], "node:18");
    }

    async fn an_exact_value_is_case_sensitive_in_the_tag(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18-alpine"]).await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(&service, image_request("node:18-ALPINE"))
            .await;

        assert_refused(&response, "node:18-ALPINE");
    }

    async fn an_exact_value_does_not_match_a_longer_reference(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;

        let response = app
            .create_codespace(&service, image_request("node:18-alpine"))
            .await;

        assert_refused(&response, "node:18-alpine");
    }
}
