//! `POST /codespaces`, `GET /codespaces/{id}`, `POST /codespaces/{id}/rebuild` and
//! `GET /orgs/{org}/codespaces`: where the image comes from, when the org's policies apply,
//! what a refusal looks like, and who may call.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{refusal, TestApp, TestResponse, DEFAULT_IMAGE, RECOVERY_IMAGE};

const NODE_IMAGE: &str = "mcr.microsoft.com/devcontainers/javascript-node:18";
const DEVCONTAINERS: &str = "mcr.microsoft.com/devcontainers/*";

/// A creation request for `repository` (in `octo-org`) by `user` with `devcontainer`.
fn request_for(repository: &str, user: &str, devcontainer: Value) -> Value {
    json!({
        "repository": format!("octo-org/{repository}"),
        "user": user,
        "devcontainer": devcontainer,
    })
}

/// A creation request for mona in repo-a whose devcontainer.json names `image`.
fn image_request(image: &str) -> Value {
    request_for("repo-a", "mona", json!({ "image": image }))
}

/// A creation request for mona whose `repository` field is exactly `repository`.
fn image_request_in(repository: &str, image: &str) -> Value {
    json!({ "repository": repository, "user": "mona", "devcontainer": { "image": image } })
}

/// A creation request for mona in repo-a that builds `dockerfile` with `build`.
fn dockerfile_request(build: Value, dockerfile: &str) -> Value {
    json!({
        "repository": "octo-org/repo-a",
        "user": "mona",
        "devcontainer": { "build": build },
        "dockerfile": dockerfile,
    })
}

/// Creates a codespace that must succeed and returns its body.
async fn created(app: &TestApp, token: &str, body: Value) -> Value {
    let response = app.create_codespace(token, body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    response.body
}

/// How many codespaces `GET /orgs/octo-org/codespaces` reports.
async fn org_codespace_count(app: &TestApp) -> i64 {
    let response = app.get("/orgs/octo-org/codespaces", &app.admin).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body["total_count"].as_i64().expect("total_count")
}

/// Replaces the allowed values of policy `policy`.
async fn restrict_policy_to(app: &TestApp, policy: &Value, values: &[&str]) {
    let path = format!("/orgs/octo-org/codespaces/policies/{}", policy["id"]);
    let body = json!({ "constraints": { "base_images": { "allowed_values": values } } });
    let response = app.patch(&path, &app.admin, body).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
}

async fn set_billing(app: &TestApp, body: Value) {
    let response = app
        .put("/orgs/octo-org/codespaces/billing", &app.admin, Some(body))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
}

/// Asserts the contract's refusal: 400 and exactly `{"message", "documentation_url"}`.
fn assert_refused(response: &TestResponse, image: &str) {
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        response.body
    );
    assert_eq!(response.body["message"], refusal(image));
    let url = response.body["documentation_url"]
        .as_str()
        .expect("documentation_url");
    assert!(url.starts_with("https://"), "{url}");
    let keys: Vec<&String> = response
        .body
        .as_object()
        .expect("an object")
        .keys()
        .collect();
    assert_eq!(
        keys.len(),
        2,
        "only message and documentation_url: {:?}",
        response.body
    );
}

/// Asserts a 422 whose first error names `field`, and returns the body.
fn assert_invalid(response: &TestResponse, field: &str) -> Value {
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        response.body
    );
    assert_eq!(
        response.body["errors"][0]["field"], field,
        "{:?}",
        response.body
    );
    assert!(response.body["message"].is_string(), "{:?}", response.body);
    assert!(
        response.body["documentation_url"].is_string(),
        "{:?}",
        response.body
    );
    response.body.clone()
}

/// Asserts an error answer with `status` in the contract's error shape.
fn assert_error(response: &TestResponse, status: StatusCode) {
    assert_eq!(response.status, status, "{:?}", response.body);
    assert!(response.body["message"].is_string(), "{:?}", response.body);
    assert!(
        response.body["documentation_url"].is_string(),
        "{:?}",
        response.body
    );
}

fn assert_utc_timestamp(value: &Value) {
    let text = value.as_str().expect("a timestamp string");
    assert!(
        chrono::DateTime::parse_from_rfc3339(text).is_ok(),
        "not RFC 3339: {text}"
    );
    assert!(text.ends_with('Z'), "not UTC: {text}");
}

fn last_log_line(codespace: &Value) -> String {
    let log = codespace["creation_log"].as_array().expect("creation_log");
    log.last()
        .and_then(Value::as_str)
        .expect("a log line")
        .to_string()
}

mod creation {
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
}

mod dockerfiles {
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
}

mod exempt_images {
    use super::*;
    use base_image_policy::app::{build_router, AppState};
    use base_image_policy::config::Config;

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
}

mod billing {
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
}

mod policy_intersection {
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
}

mod value_matching {
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
}

mod policy_changes {
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
}

mod not_found_and_invalid_input {
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
}

mod permissions {
    use super::*;

    backend_tests! {
        async fn a_site_admin_may_create_read_and_rebuild_a_codespace(app) {
            app.octo_org().await;

            let codespace = created(&app, &app.admin, image_request(NODE_IMAGE)).await;
            let id = codespace["id"].as_str().unwrap();
            let read = app.get(&format!("/codespaces/{id}"), &app.admin).await;
            let rebuilt = app
                .post(
                    &format!("/codespaces/{id}/rebuild"),
                    &app.admin,
                    json!({ "full": false }),
                )
                .await;

            assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
            assert_eq!(read.body["id"], codespace["id"]);
            assert_eq!(rebuilt.status, StatusCode::OK, "{:?}", rebuilt.body);
        }

        async fn a_user_token_even_the_org_owners_may_not_create_a_codespace(app) {
            app.octo_org().await;
            let owner = app.user_token("octocat").await;

            let response = app
                .create_codespace(
                    &owner,
                    request_for("repo-a", "octocat", json!({ "image": NODE_IMAGE })),
                )
                .await;

            assert_error(&response, StatusCode::FORBIDDEN);
            assert_eq!(org_codespace_count(&app).await, 0);
        }

        async fn a_user_token_even_the_org_owners_may_not_read_or_rebuild_a_codespace(app) {
            app.octo_org().await;
            let service = app.service_token().await;
            let codespace = created(
                &app,
                &service,
                request_for("repo-a", "octocat", json!({ "image": NODE_IMAGE })),
            )
            .await;
            let id = codespace["id"].as_str().unwrap();
            let owner = app.user_token("octocat").await;

            let read = app.get(&format!("/codespaces/{id}"), &owner).await;
            let rebuilt = app
                .post(
                    &format!("/codespaces/{id}/rebuild"),
                    &owner,
                    json!({ "full": true }),
                )
                .await;

            assert_error(&read, StatusCode::FORBIDDEN);
            assert_error(&rebuilt, StatusCode::FORBIDDEN);
        }

        async fn codespace_routes_without_a_token_return_401(app) {
            app.octo_org().await;
            let service = app.service_token().await;
            let codespace = created(&app, &service, image_request(NODE_IMAGE)).await;
            let id = codespace["id"].as_str().unwrap();

            let create = app
                .request(
                    Method::POST,
                    "/codespaces",
                    None,
                    Some(image_request(NODE_IMAGE)),
                )
                .await;
            let read = app
                .request(Method::GET, &format!("/codespaces/{id}"), None, None)
                .await;
            let rebuild = app
                .request(
                    Method::POST,
                    &format!("/codespaces/{id}/rebuild"),
                    None,
                    Some(json!({ "full": false })),
                )
                .await;
            let list = app
                .request(Method::GET, "/orgs/octo-org/codespaces", None, None)
                .await;

            for response in [&create, &read, &rebuild, &list] {
                assert_error(response, StatusCode::UNAUTHORIZED);
            }
            assert_eq!(org_codespace_count(&app).await, 1);
        }

        async fn an_unknown_token_returns_401(app) {
            app.octo_org().await;

            let response = app
                .create_codespace("bip_not-a-real-token", image_request(NODE_IMAGE))
                .await;

            assert_error(&response, StatusCode::UNAUTHORIZED);
        }

        async fn the_org_codespace_list_is_for_owners_and_site_admins(app) {
            app.octo_org().await;
            app.set_role("octo-org", "hubot", "outside_collaborator")
                .await;
            let service = app.service_token().await;
            created(&app, &service, image_request(NODE_IMAGE)).await;
            let owner = app.user_token("octocat").await;
            let member = app.user_token("mona").await;
            let collaborator = app.user_token("hubot").await;
            let outsider = app.user_token("stranger").await;

            let as_owner = app.get("/orgs/octo-org/codespaces", &owner).await;
            let as_admin = app.get("/orgs/octo-org/codespaces", &app.admin).await;
            let as_member = app.get("/orgs/octo-org/codespaces", &member).await;
            let as_collaborator = app.get("/orgs/octo-org/codespaces", &collaborator).await;
            let as_outsider = app.get("/orgs/octo-org/codespaces", &outsider).await;
            let as_service = app.get("/orgs/octo-org/codespaces", &service).await;

            assert_eq!(as_owner.status, StatusCode::OK, "{:?}", as_owner.body);
            assert_eq!(as_owner.body["total_count"], 1);
            assert_eq!(as_admin.body, as_owner.body);
            assert_error(&as_member, StatusCode::FORBIDDEN);
            assert_error(&as_collaborator, StatusCode::NOT_FOUND);
            assert_error(&as_outsider, StatusCode::NOT_FOUND);
            assert_error(&as_service, StatusCode::FORBIDDEN);
        }

        async fn the_org_codespace_list_is_paginated_oldest_first(app) {
            app.octo_org().await;
            let service = app.service_token().await;
            let mut ids = Vec::new();
            for image in ["node:18", "node:20", "python:3"] {
                ids.push(created(&app, &service, image_request(image)).await["id"].clone());
            }

            let second = app
                .get("/orgs/octo-org/codespaces?per_page=1&page=2", &app.admin)
                .await;
            let beyond = app
                .get("/orgs/octo-org/codespaces?per_page=2&page=3", &app.admin)
                .await;

            assert_eq!(second.status, StatusCode::OK, "{:?}", second.body);
            assert_eq!(second.body["total_count"], 3);
            let page = second.body["codespaces"].as_array().unwrap();
            assert_eq!(page.len(), 1);
            assert_eq!(page[0]["id"], ids[1]);
            assert_eq!(page[0]["image"], "node:20");
            assert_eq!(beyond.body, json!({ "total_count": 3, "codespaces": [] }));
        }

        async fn the_org_codespace_list_holds_only_that_orgs_codespaces(app) {
            app.octo_org().await;
            app.create_org("other-org").await;
            app.add_repo("other-org", "repo-a").await;
            let service = app.service_token().await;
            created(
                &app,
                &service,
                json!({ "repository": "other-org/repo-a", "user": "mona" }),
            )
            .await;
            let ours = created(&app, &service, image_request(NODE_IMAGE)).await;

            let response = app.get("/orgs/octo-org/codespaces", &app.admin).await;

            assert_eq!(
                response.body,
                json!({ "total_count": 1, "codespaces": [ours] })
            );
        }

        async fn an_out_of_range_per_page_returns_422_naming_it(app) {
            app.octo_org().await;

            let response = app
                .get("/orgs/octo-org/codespaces?per_page=101", &app.admin)
                .await;

            assert_invalid(&response, "per_page");
        }
    }
}
