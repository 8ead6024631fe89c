use super::*;
use base_image_policy::app::build_router;
use base_image_policy::config::Config;
use base_image_policy::state::AppState;

const OWN_DEFAULT: &str = "ghcr.io/octo-org/default:1";
const OWN_RECOVERY: &str = "ghcr.io/octo-org/recovery:1";

/// The same app, its router rebuilt with `DEFAULT_IMAGE` and `RECOVERY_IMAGE` set to
/// our own.
fn with_own_images(app: TestApp) -> TestApp {
    let config = Config::from_lookup(|key| match key {
        "ADMIN_TOKEN" => Some(app.admin.clone()),
        "DEFAULT_IMAGE" => Some(OWN_DEFAULT.to_string()),
        "RECOVERY_IMAGE" => Some(OWN_RECOVERY.to_string()),
        _ => None,
    })
    .expect("test configuration");
    let router = build_router(AppState::new(app.store.clone(), config));
    TestApp { router, ..app }
}

backend_tests! {
    async fn a_repository_without_a_devcontainer_gets_the_default_image_even_when_nothing_is_allowed(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[]).await;
        let service = app.service_token().await;
        let body = json!({ "repository": "octo-org/repo-a", "user": "mona" });

        let codespace = created(&app, &service, body).await;

        assert_eq!(codespace["image"], DEFAULT_IMAGE);
        assert_eq!(codespace["image_source"], "default");
        assert_eq!(codespace["recovery_mode"], false);
        assert_eq!(codespace["billable_owner"], "octo-org");
    }

    async fn a_null_devcontainer_gets_the_default_image(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[]).await;
        let service = app.service_token().await;

        let codespace =
            created(&app, &service, request_for("repo-a", "mona", Value::Null)).await;

        assert_eq!(codespace["image"], DEFAULT_IMAGE);
        assert_eq!(codespace["image_source"], "default");
    }

    async fn a_configuration_naming_neither_image_nor_dockerfile_gets_the_default_image(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[]).await;
        let service = app.service_token().await;
        let devcontainer = json!({ "name": "plain", "features": {} });

        let codespace =
            created(&app, &service, request_for("repo-a", "mona", devcontainer)).await;

        assert_eq!(codespace["image"], DEFAULT_IMAGE);
        assert_eq!(codespace["image_source"], "default");
    }

    async fn the_default_image_named_explicitly_is_not_subject_to_the_policy(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[]).await;
        let service = app.service_token().await;

        let codespace = created(&app, &service, image_request(DEFAULT_IMAGE)).await;

        assert_eq!(codespace["image"], DEFAULT_IMAGE);
        assert_eq!(codespace["image_source"], "image");
        assert_eq!(codespace["recovery_mode"], false);
    }

    async fn the_recovery_image_named_explicitly_is_not_subject_to_the_policy(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[]).await;
        let service = app.service_token().await;

        let codespace = created(&app, &service, image_request(RECOVERY_IMAGE)).await;

        assert_eq!(codespace["image"], RECOVERY_IMAGE);
        assert_eq!(codespace["image_source"], "image");
        assert_eq!(codespace["recovery_mode"], false);
    }

    async fn a_dockerfile_built_on_the_default_image_is_not_subject_to_the_policy(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[]).await;
        let service = app.service_token().await;
        let dockerfile = format!("FROM {DEFAULT_IMAGE}\n");

        let codespace = created(
            &app,
            &service,
            dockerfile_request(json!({ "dockerfile": "Dockerfile" }), &dockerfile),
        )
        .await;

        assert_eq!(codespace["image"], DEFAULT_IMAGE);
        assert_eq!(codespace["image_source"], "dockerfile");
        assert_eq!(codespace["recovery_mode"], false);
    }

    async fn the_configured_default_image_is_used_and_not_subject_to_the_policy(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[]).await;
        let own = with_own_images(app);
        let service = own.service_token().await;

        let implicit = created(&own, &service, request_for("repo-a", "mona", Value::Null)).await;
        let explicit = created(&own, &service, image_request(OWN_DEFAULT)).await;
        let builtin = own.create_codespace(&service, image_request(DEFAULT_IMAGE)).await;

        assert_eq!(implicit["image"], OWN_DEFAULT);
        assert_eq!(implicit["image_source"], "default");
        assert_eq!(explicit["image"], OWN_DEFAULT);
        assert_eq!(explicit["recovery_mode"], false);
        assert_refused(&builtin, DEFAULT_IMAGE);
    }

    async fn the_configured_recovery_image_is_used_for_recovery_mode(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let own = with_own_images(app);
        let service = own.service_token().await;
        let body = dockerfile_request(json!({ "dockerfile": "Dockerfile" }), "FROM python:3\n");

        let recovered = created(&own, &service, body).await;
        let explicit = created(&own, &service, image_request(OWN_RECOVERY)).await;

        assert_eq!(recovered["recovery_mode"], true);
        assert_eq!(recovered["image"], OWN_RECOVERY);
        assert!(last_log_line(&recovered).contains(OWN_RECOVERY), "{recovered}");
        assert_eq!(explicit["image"], OWN_RECOVERY);
        assert_eq!(explicit["recovery_mode"], false);
    }
}
