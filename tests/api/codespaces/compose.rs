//! Docker Compose configurations on creation and full rebuild: the codespace is judged by
//! the image of the service it runs in (400 when refused), or by the base image of the
//! Dockerfile that service builds (recovery mode when refused).

use super::*;

/// The shape of the official templates: `app` built from a Dockerfile next to `db` on a
/// stock image, and a second file that overrides `app`.
const TEMPLATE: &str = "services:\n  app:\n    build:\n      context: ..\n      dockerfile: .devcontainer/Dockerfile\n    command: sleep infinity\n  db:\n    image: postgres:16\n";

fn compose_request(devcontainer: Value, files: Value, dockerfile: Option<&str>) -> Value {
    json!({
        "repository": "octo-org/repo-a",
        "user": "mona",
        "devcontainer": devcontainer,
        "dockerfile": dockerfile,
        "compose_files": files,
    })
}

fn image_service(image: &str) -> Value {
    compose_request(
        json!({ "dockerComposeFile": "docker-compose.yml", "service": "app" }),
        json!({ "docker-compose.yml": format!("services:\n  app:\n    image: {image}\n  db:\n    image: postgres:16\n") }),
        None,
    )
}

backend_tests! {
    // The new user's repository from issue: judged by its service's image, not the default.
    async fn a_compose_service_image_is_the_codespace_image(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[NODE_IMAGE]).await;
        let service = app.service_token().await;

        let codespace = created(&app, &service, image_service(NODE_IMAGE)).await;

        assert_eq!(codespace["image"], NODE_IMAGE);
        assert_eq!(codespace["image_source"], "compose");
        assert_eq!(codespace["recovery_mode"], false);
        let log = codespace["creation_log"].to_string();
        assert!(log.contains("of Docker Compose service 'app'"), "{log}");
    }

    async fn a_refused_compose_image_is_the_documented_400_and_records_nothing(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        let service = app.service_token().await;

        let response = app.create_codespace(&service, image_service("node:18")).await;

        assert_refused(&response, "node:18");
        assert_eq!(org_codespace_count(&app).await, 0);
    }

    async fn a_refused_base_image_of_a_built_service_runs_in_recovery_mode(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        let service = app.service_token().await;
        let body = compose_request(
            json!({ "dockerComposeFile": ["docker-compose.yml"], "service": "app" }),
            json!({ "docker-compose.yml": TEMPLATE }),
            Some("FROM python:3.12 AS base\nFROM base\nRUN true\n"),
        );

        let codespace = created(&app, &service, body).await;

        assert_eq!(codespace["recovery_mode"], true);
        assert_eq!(codespace["image"], RECOVERY_IMAGE);
        assert_eq!(codespace["image_source"], "dockerfile");
        assert!(last_log_line(&codespace).contains("python:3.12"), "{codespace}");
    }

    async fn a_second_file_overrides_the_first_and_build_wins_over_image(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[NODE_IMAGE]).await;
        let service = app.service_token().await;
        let devcontainer = json!({ "dockerComposeFile": ["base.yml", "override.yml"], "service": "app" });
        // The override replaces the image: node:18 (refused) becomes the allowed one.
        let body = compose_request(devcontainer.clone(), json!({
            "base.yml": "services:\n  app:\n    image: node:18\n",
            "override.yml": format!("services:\n  app:\n    image: ${{APP_IMAGE:-{NODE_IMAGE}}}\n"),
        }), None);
        let codespace = created(&app, &service, body).await;
        assert_eq!(codespace["image"], NODE_IMAGE);

        // A build in the override wins over the base's image.
        let body = compose_request(devcontainer, json!({
            "base.yml": format!("services:\n  app:\n    image: {NODE_IMAGE}\n"),
            "override.yml": "services:\n  app:\n    build: .\n",
        }), Some("FROM python:3\n"));
        let codespace = created(&app, &service, body).await;
        assert_eq!(codespace["recovery_mode"], true, "{codespace}");
    }

    async fn a_full_rebuild_reads_compose_files_again_under_the_policy_now(app) {
        app.octo_org().await;
        let policy = app.allow_org_wide("octo-org", &[NODE_IMAGE, "node:18"]).await;
        let service = app.service_token().await;
        let codespace = created(&app, &service, image_service("node:18")).await;
        restrict_policy_to(&app, &policy, &[NODE_IMAGE]).await;
        let path = format!("/codespaces/{}/rebuild", codespace["id"].as_str().unwrap());
        let mut rebuild = image_service("node:18");
        rebuild["full"] = json!(true);
        rebuild.as_object_mut().unwrap().remove("repository");
        rebuild.as_object_mut().unwrap().remove("user");

        let response = app.post(&path, &service, rebuild).await;

        assert_refused(&response, "node:18");
    }

    async fn compose_errors_are_422_naming_what_is_wrong_and_create_nothing(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let config = json!({ "dockerComposeFile": "c.yml", "service": "app" });
        let cases = [
            (json!({}), "compose_files does not hold"),
            (json!({ "c.yml": "services:\n  web:\n    image: x\n" }), "app"),
            (json!({ "c.yml": "services:\n  app:\n    command: x\n" }), "neither"),
            (json!({ "c.yml": "services:\n  app:\n    image: ${NOPE}\n" }), "NOPE"),
            (json!({ "c.yml": "services:\n  app:\n    extends: app\n" }), "extends"),
            (json!({ "c.yml": "services: [\n" }), "line"),
            (json!({ "c.yml": "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\nservices:\n  app:\n    image: x\n" }), "YAML"),
        ];
        for (files, needle) in cases {
            let body = compose_request(config.clone(), files.clone(), None);
            let response = app.create_codespace(&service, body).await;
            let body = assert_invalid(&response, "compose_files");
            assert!(body.to_string().contains(needle), "{needle} in {body} for {files}");
        }
        assert_eq!(org_codespace_count(&app).await, 0);
    }
}
