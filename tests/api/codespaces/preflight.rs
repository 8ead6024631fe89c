//! `POST /repos/{owner}/{repo}/codespaces/preflight`: what creation would do now, by the
//! same decision, creating and recording nothing; for service tokens, site admins and the
//! org's owners and members.

use super::*;

const PREFLIGHT: &str = "/repos/octo-org/repo-a/codespaces/preflight";

backend_tests! {
    async fn preflight_answers_create_refuse_and_recovery_as_creation_would(app) {
        app.octo_org().await;
        let policy = app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        let service = app.service_token().await;

        let create = app.post(PREFLIGHT, &service, json!({ "devcontainer": { "image": NODE_IMAGE } })).await;
        assert_eq!(create.status, StatusCode::OK, "{:?}", create.body);
        assert_eq!(create.body["outcome"], "create");
        assert_eq!(create.body["image"], NODE_IMAGE);
        assert_eq!(create.body["image_source"], "image");
        assert!(create.body.get("message").is_none());
        assert_eq!(create.body["policies"], json!([{
            "id": policy["id"], "name": "Org-wide images", "enforcement": "enforce", "allowed": true, "matched_value": DEVCONTAINERS,
        }]));
        assert_eq!(create.body["registries"], json!([]));
        let log = create.body["creation_log"].as_array().unwrap();
        assert_eq!(log.last().unwrap(), &json!(format!("Creating the codespace container from '{NODE_IMAGE}'.")));

        let refuse = app.post(PREFLIGHT, &service, json!({ "devcontainer": { "image": "node:18" } })).await;
        assert_eq!(refuse.body["outcome"], "refuse", "{:?}", refuse.body);
        assert_eq!(refuse.body["image"], "node:18");
        assert_eq!(refuse.body["message"], refusal("node:18"));
        assert_eq!(refuse.body["policies"][0]["allowed"], false);
        assert!(refuse.body["creation_log"].to_string().contains("not allowed"));

        let recovery = app.post(PREFLIGHT, &service, json!({
            "devcontainer": "{ \"build\": { \"dockerfile\": \"Dockerfile\" } } // JSONC",
            "dockerfile": "FROM python:3 AS a\nFROM a AS b\nFROM b\n",
        })).await;
        assert_eq!(recovery.body["outcome"], "recovery", "{:?}", recovery.body);
        assert_eq!(recovery.body["image"], RECOVERY_IMAGE);
        assert_eq!(recovery.body["image_source"], "dockerfile");

        let compose = app.post(PREFLIGHT, &service, json!({
            "devcontainer": { "dockerComposeFile": "c.yml", "service": "app" },
            "compose_files": { "c.yml": "services:\n  app:\n    image: node:18\n" },
        })).await;
        assert_eq!(compose.body["outcome"], "refuse", "{:?}", compose.body);
        assert_eq!(compose.body["image_source"], "compose");

        // Nothing was created, and the decision metrics did not move.
        assert_eq!(org_codespace_count(&app).await, 0);
    }

    async fn preflight_without_a_user_judges_as_billed_to_the_org_and_with_one_as_billing_says(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &[DEVCONTAINERS]).await;
        let service = app.service_token().await;
        let refused = json!({ "devcontainer": { "image": "node:18" } });
        assert_eq!(app.post(PREFLIGHT, &service, refused.clone()).await.body["outcome"], "refuse");

        // A user with no role pays for their own codespace: the policies do not apply.
        let mut as_stranger = refused.clone();
        as_stranger["user"] = json!("stranger");
        let answer = app.post(PREFLIGHT, &service, as_stranger).await;
        assert_eq!(answer.body["outcome"], "create", "{:?}", answer.body);
        assert_eq!(answer.body["policies"], json!([]));

        let mut as_member = refused;
        as_member["user"] = json!("mona");
        assert_eq!(app.post(PREFLIGHT, &service, as_member).await.body["outcome"], "refuse");
    }

    async fn preflight_follows_a_policy_change_at_once(app) {
        app.octo_org().await;
        let policy = app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;
        let body = json!({ "devcontainer": { "image": "node:18" } });
        assert_eq!(app.post(PREFLIGHT, &service, body.clone()).await.body["outcome"], "create");
        restrict_policy_to(&app, &policy, &[DEVCONTAINERS]).await;
        assert_eq!(app.post(PREFLIGHT, &service, body).await.body["outcome"], "refuse");
    }

    async fn owners_members_services_and_admins_may_preflight_others_may_not(app) {
        app.octo_org().await;
        app.set_role("octo-org", "outsider", "outside_collaborator").await;
        app.create_org("other-org").await;
        app.set_role("other-org", "stranger", "owner").await;
        let body = json!({ "devcontainer": { "image": NODE_IMAGE } });
        for (who, token) in [
            ("owner", app.user_token("octocat").await),
            ("member", app.user_token("mona").await),
            ("service", app.service_token().await),
            ("admin", app.admin.clone()),
        ] {
            let response = app.post(PREFLIGHT, &token, body.clone()).await;
            assert_eq!(response.status, StatusCode::OK, "{who}: {:?}", response.body);
        }
        for (who, token) in [
            ("outside collaborator", app.user_token("outsider").await),
            ("another org's owner", app.user_token("stranger").await),
        ] {
            let response = app.post(PREFLIGHT, &token, body.clone()).await;
            assert_error(&response, StatusCode::NOT_FOUND);
            assert!(!response.body.to_string().contains("octo-org"), "{who}");
        }
        assert_error(&app.request(Method::POST, PREFLIGHT, None, Some(body.clone())).await, StatusCode::UNAUTHORIZED);
        let service = app.service_token().await;
        assert_error(&app.post("/repos/octo-org/nope/codespaces/preflight", &service, body.clone()).await, StatusCode::NOT_FOUND);
        assert_error(&app.post("/repos/no-org/repo-a/codespaces/preflight", &service, body).await, StatusCode::NOT_FOUND);
    }

    async fn a_configuration_creation_could_not_read_is_the_same_422(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        for (body, field) in [
            (json!({ "devcontainer": { "image": "UPPER/Case" } }), "devcontainer.image"),
            (json!({ "devcontainer": { "build": { "dockerfile": "Dockerfile" } } }), "dockerfile"),
            (json!({ "devcontainer": "{ not json" }), "devcontainer"),
            (json!({ "devcontainer": { "dockerComposeFile": "c.yml", "service": "app" } }), "compose_files"),
            (json!({ "user": "not a name", "devcontainer": null }), "user"),
        ] {
            let preflight = app.post(PREFLIGHT, &service, body.clone()).await;
            let preflight_body = assert_invalid(&preflight, field);
            let mut creation = body.clone();
            creation["repository"] = json!("octo-org/repo-a");
            if creation.get("user").is_none() {
                creation["user"] = json!("mona");
            }
            let created = app.create_codespace(&service, creation).await;
            if field != "user" {
                assert_eq!(assert_invalid(&created, field)["errors"], preflight_body["errors"]);
            }
        }
        let unknown_field = app.post(PREFLIGHT, &service, json!({ "repository": "octo-org/repo-a" })).await;
        assert_error(&unknown_field, StatusCode::UNPROCESSABLE_ENTITY);
    }
}
