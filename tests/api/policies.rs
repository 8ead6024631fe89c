use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{refusal, unconstrained, TestApp};

const POLICIES: &str = "/orgs/octo-org/codespaces/policies";
const EVALUATE: &str = "/orgs/octo-org/codespaces/policies/evaluate";

fn approved_images() -> Value {
    json!({
        "name": "Approved images",
        "target": "selected_repositories",
        "repositories": ["repo-a", "repo-b"],
        "constraints": { "base_images": { "allowed_values": [
            "mcr.microsoft.com/devcontainers/*", "ghcr.io/octo-org/dev:1.2"
        ] } }
    })
}

async fn evaluate(app: &TestApp, repository: &str, image: &str) -> Value {
    let response = app
        .post(
            EVALUATE,
            &app.admin,
            json!({ "repository": repository, "image": image }),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body
}

/// The field names of a 422.
fn bad_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .expect("a 422 names its fields")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_string())
        .collect()
}

backend_tests! {
    async fn an_owner_creates_a_policy_and_reads_it_back(app) {
        app.octo_org().await;
        let owner = app.user_token("octocat").await;
        let created = app.post(POLICIES, &owner, approved_images()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let policy = created.body;
        assert!(policy["id"].as_i64().unwrap() > 0);
        assert_eq!(policy["name"], "Approved images");
        assert_eq!(policy["target"], "selected_repositories");
        assert_eq!(policy["repositories"], json!(["repo-a", "repo-b"]));
        assert_eq!(
            policy["constraints"]["base_images"]["allowed_values"],
            json!(["mcr.microsoft.com/devcontainers/*", "ghcr.io/octo-org/dev:1.2"])
        );
        assert!(policy["created_at"].as_str().unwrap().ends_with('Z'));
        assert!(created.headers.get("etag").is_some());

        let fetched = app.get(&format!("{POLICIES}/{}", policy["id"]), &owner).await;
        assert_eq!(fetched.status, StatusCode::OK);
        assert_eq!(fetched.body, policy);

        let list = app.get(POLICIES, &owner).await;
        assert_eq!(list.body["total_count"], 1);
        assert_eq!(list.body["policies"][0], policy);
    }

    async fn repository_names_are_matched_case_insensitively_and_returned_as_written(app) {
        app.octo_org().await;
        let mut body = approved_images();
        body["repositories"] = json!(["REPO-A"]);
        let policy = app.create_policy("octo-org", body).await;
        assert_eq!(policy["repositories"], json!(["repo-a"]));
        let verdict = evaluate(&app, "Repo-A", "ghcr.io/octo-org/dev:1.2").await;
        assert_eq!(verdict["policies"].as_array().unwrap().len(), 1);
    }

    async fn repositories_come_back_in_name_order_and_values_as_given(app) {
        app.octo_org().await;
        // Created after repo-a and repo-b: neither id order nor byte order is name order.
        app.add_repo("octo-org", "Zed").await;
        app.add_repo("octo-org", "aaa").await;
        let mut body = approved_images();
        body["repositories"] = json!(["repo-b", "zed", "aaa", "REPO-A"]);
        let values = json!(["z.io/a:1", "a.io/*", "m.io/b:2", "b.io/c*"]);
        body["constraints"]["base_images"]["allowed_values"] = values.clone();
        let policy = app.create_policy("octo-org", body).await;
        // A second policy in between, so that each policy's items are its own.
        app.allow_org_wide("octo-org", &["node:18"]).await;

        let fetched = app.get(&format!("{POLICIES}/{}", policy["id"]), &app.admin).await;
        assert_eq!(fetched.body["repositories"], json!(["aaa", "repo-a", "repo-b", "Zed"]));
        assert_eq!(fetched.body["constraints"]["base_images"]["allowed_values"], values);
        let list = app.get(POLICIES, &app.admin).await;
        assert_eq!(list.body["policies"][0], fetched.body);
        assert_eq!(list.body["policies"][1]["repositories"], json!([]));
        assert_eq!(
            list.body["policies"][1]["constraints"]["base_images"]["allowed_values"],
            json!(["node:18"])
        );
    }

    async fn an_all_repositories_policy_has_no_repositories(app) {
        app.octo_org().await;
        let policy = app.allow_org_wide("octo-org", &["node:18"]).await;
        assert_eq!(policy["target"], "all_repositories");
        assert_eq!(policy["repositories"], json!([]));
    }

    async fn invalid_allowed_values_are_a_422_naming_each_index(app) {
        app.octo_org().await;
        let response = app.post(POLICIES, &app.admin, json!({
            "name": "Bad",
            "target": "all_repositories",
            "constraints": { "base_images": { "allowed_values": [
                "node:18", "ghcr.io/*/dev", "", "node :18", "node:18\n", "Node:18", "node:*"
            ] } }
        })).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad_fields(&response.body), [1, 2, 3, 4, 5].map(|i|
            format!("constraints.base_images.allowed_values[{i}]")));
        assert_eq!(response.body["errors"][0]["resource"], "Policy");
        assert!(response.body["errors"][0]["message"].as_str().unwrap().contains('*'));
        let list = app.get(POLICIES, &app.admin).await;
        assert_eq!(list.body["total_count"], 0, "nothing is stored");
    }

    async fn too_many_or_too_long_allowed_values_are_a_422(app) {
        app.octo_org().await;
        let many: Vec<String> = (0..1001).map(|i| format!("img{i}:1")).collect();
        let response = app.post(POLICIES, &app.admin, json!({
            "name": "Many", "target": "all_repositories",
            "constraints": { "base_images": { "allowed_values": many } }
        })).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad_fields(&response.body), ["constraints.base_images.allowed_values"]);

        let long = format!("{}*", "a".repeat(512));
        let response = app.post(POLICIES, &app.admin, json!({
            "name": "Long", "target": "all_repositories",
            "constraints": { "base_images": { "allowed_values": [long] } }
        })).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn targets_and_repositories_must_agree(app) {
        app.octo_org().await;
        let mut body = approved_images();
        body["target"] = json!("all_repositories");
        let response = app.post(POLICIES, &app.admin, body).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad_fields(&response.body), ["repositories"]);

        let mut body = approved_images();
        body["repositories"] = json!([]);
        let response = app.post(POLICIES, &app.admin, body).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn an_unknown_repository_is_a_422(app) {
        app.octo_org().await;
        let mut body = approved_images();
        body["repositories"] = json!(["repo-a", "nope"]);
        let response = app.post(POLICIES, &app.admin, body).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad_fields(&response.body), ["repositories[1]"]);
        assert_eq!(app.get(POLICIES, &app.admin).await.body["total_count"], 0);
    }

    async fn malformed_and_mistyped_bodies_are_refused_in_the_error_shape(app) {
        app.octo_org().await;
        let request = axum::http::Request::builder()
            .method(Method::POST)
            .uri(POLICIES)
            .header("authorization", format!("Bearer {}", app.admin))
            .header("content-type", "application/json")
            .body(axum::body::Body::from("{\"name\": "))
            .unwrap();
        let response = app.send(request).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        assert_eq!(response.body["message"], "Problems parsing JSON");

        let response = app.post(POLICIES, &app.admin, json!({ "name": 5 })).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(response.body["documentation_url"].is_string());

        let mut body = approved_images();
        body["target"] = json!("some_repositories");
        let response = app.post(POLICIES, &app.admin, body).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn patch_changes_only_the_given_fields(app) {
        app.octo_org().await;
        let policy = app.create_policy("octo-org", approved_images()).await;
        let path = format!("{POLICIES}/{}", policy["id"]);
        let patched = app.patch(&path, &app.admin, json!({
            "constraints": { "base_images": { "allowed_values": ["node:18"] } }
        })).await;
        assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
        assert_eq!(patched.body["name"], policy["name"]);
        assert_eq!(patched.body["repositories"], policy["repositories"]);
        assert_eq!(patched.body["constraints"]["base_images"]["allowed_values"], json!(["node:18"]));

        let renamed = app.patch(&path, &app.admin, json!({ "name": "Renamed" })).await;
        assert_eq!(renamed.body["name"], "Renamed");
        assert_eq!(renamed.body["constraints"]["base_images"]["allowed_values"], json!(["node:18"]));

        let widened = app.patch(&path, &app.admin, json!({ "target": "all_repositories" })).await;
        assert_eq!(widened.status, StatusCode::OK, "{:?}", widened.body);
        assert_eq!(widened.body["repositories"], json!([]));
    }

    async fn a_bad_patch_changes_nothing(app) {
        app.octo_org().await;
        let policy = app.create_policy("octo-org", approved_images()).await;
        let path = format!("{POLICIES}/{}", policy["id"]);
        for body in [
            json!({ "constraints": { "base_images": { "allowed_values": ["*node"] } } }),
            json!({ "repositories": ["ghost"] }),
            json!({ "repositories": [] }),
            json!({ "name": "" }),
        ] {
            let response = app.patch(&path, &app.admin, body.clone()).await;
            assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        }
        assert_eq!(app.get(&path, &app.admin).await.body, policy);
    }

    async fn if_match_with_a_stale_etag_answers_412_and_changes_nothing(app) {
        app.octo_org().await;
        let created = app.post(POLICIES, &app.admin, approved_images()).await;
        let etag = created.headers["etag"].to_str().unwrap().to_string();
        let path = format!("{POLICIES}/{}", created.body["id"]);
        let first = app.request_with_headers(Method::PATCH, &path, Some(&app.admin),
            Some(json!({ "name": "First" })), &[("if-match", &etag)]).await;
        assert_eq!(first.status, StatusCode::OK);
        assert_ne!(first.headers["etag"].to_str().unwrap(), etag);
        let second = app.request_with_headers(Method::PATCH, &path, Some(&app.admin),
            Some(json!({ "name": "Second" })), &[("if-match", &etag)]).await;
        assert_eq!(second.status, StatusCode::PRECONDITION_FAILED);
        let stale_delete = app.request_with_headers(Method::DELETE, &path, Some(&app.admin),
            None, &[("if-match", &etag)]).await;
        assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED);
        assert_eq!(app.get(&path, &app.admin).await.body["name"], "First");
    }

    async fn delete_removes_the_policy(app) {
        app.octo_org().await;
        let policy = app.create_policy("octo-org", approved_images()).await;
        let path = format!("{POLICIES}/{}", policy["id"]);
        assert_eq!(app.delete(&path, &app.admin).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get(&path, &app.admin).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.delete(&path, &app.admin).await.status, StatusCode::NOT_FOUND);
    }

    async fn policies_of_another_org_are_not_found(app) {
        app.octo_org().await;
        app.create_org("other").await;
        let policy = app.create_policy("octo-org", approved_images()).await;
        let path = format!("/orgs/other/codespaces/policies/{}", policy["id"]);
        assert_eq!(app.get(&path, &app.admin).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.delete(&path, &app.admin).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&format!("{POLICIES}/abc"), &app.admin).await.status, StatusCode::NOT_FOUND);
    }

    async fn only_owners_and_site_admins_manage_policies(app) {
        app.octo_org().await;
        app.set_role("octo-org", "outsider", "outside_collaborator").await;
        let policy = app.create_policy("octo-org", approved_images()).await;
        let one = format!("{POLICIES}/{}", policy["id"]);
        let owner = app.user_token("octocat").await;
        let member = app.user_token("mona").await;
        let stranger = app.user_token("stranger").await;
        let outsider = app.user_token("outsider").await;
        let service = app.service_token().await;
        for (token, expected) in [
            (&owner, StatusCode::OK),
            (&member, StatusCode::FORBIDDEN),
            (&service, StatusCode::FORBIDDEN),
            (&stranger, StatusCode::NOT_FOUND),
            (&outsider, StatusCode::NOT_FOUND),
        ] {
            assert_eq!(app.get(POLICIES, token).await.status, expected);
            assert_eq!(app.get(&one, token).await.status, expected);
            let created = app.post(POLICIES, token, approved_images()).await;
            let expected_create = if expected == StatusCode::OK { StatusCode::CREATED } else { expected };
            assert_eq!(created.status, expected_create);
            let patched = app.patch(&one, token, json!({ "name": "x" })).await;
            assert_eq!(patched.status, expected);
            let verdict = app.post(EVALUATE, token, json!({ "repository": "repo-a", "image": "node:18" })).await;
            assert_eq!(verdict.status, expected);
        }
        let forbidden = app.get(POLICIES, &member).await;
        assert_eq!(forbidden.body["message"], "Must be an organization owner");
        let anonymous = app.request(Method::GET, POLICIES, None, None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        let bad = app.get(POLICIES, "bip_not-a-real-token").await;
        assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.delete(&one, &member).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.delete(&one, &owner).await.status, StatusCode::NO_CONTENT);
    }

    async fn evaluate_with_no_policy_allows_everything(app) {
        app.octo_org().await;
        let verdict = evaluate(&app, "repo-a", "anything/at-all:1").await;
        assert_eq!(verdict, json!({ "allowed": true, "policies": [], "constraints": unconstrained() }));
    }

    async fn evaluate_explains_each_applicable_policy(app) {
        app.octo_org().await;
        let org_wide = app.allow_org_wide("octo-org", &["node:*", "python:3"]).await;
        let scoped = app.create_policy("octo-org", json!({
            "name": "Repo A", "target": "selected_repositories", "repositories": ["repo-a"],
            "constraints": { "base_images": { "allowed_values": ["node:18", "ruby:3"] } }
        })).await;

        let verdict = evaluate(&app, "repo-a", "node:18").await;
        assert_eq!(verdict, json!({ "allowed": true, "policies": [
            { "id": org_wide["id"], "name": "Org-wide images", "enforcement": "enforce", "allowed": true, "matched_value": "node:*" },
            { "id": scoped["id"], "name": "Repo A", "enforcement": "enforce", "allowed": true, "matched_value": "node:18" },
        ], "constraints": unconstrained() }));

        // Listed only by the repository-scoped policy: the org-wide one still refuses it.
        let verdict = evaluate(&app, "repo-a", "ruby:3").await;
        assert_eq!(verdict["allowed"], false);
        assert_eq!(verdict["message"], refusal("ruby:3"));
        assert_eq!(verdict["policies"][0]["allowed"], false);
        assert_eq!(verdict["policies"][0]["matched_value"], Value::Null);
        assert_eq!(verdict["policies"][1]["allowed"], true);

        // repo-b is judged by the org-wide policy alone.
        let verdict = evaluate(&app, "repo-b", "python:3").await;
        assert_eq!(verdict["allowed"], true);
        assert_eq!(verdict["policies"].as_array().unwrap().len(), 1);
    }

    async fn evaluate_matches_as_written_with_prefixes_and_star(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18", "ghcr.io/octo-org/*"]).await;
        assert_eq!(evaluate(&app, "repo-a", "node:18").await["allowed"], true);
        assert_eq!(evaluate(&app, "repo-a", "docker.io/library/node:18").await["allowed"], false);
        assert_eq!(evaluate(&app, "repo-a", "node:18.1").await["allowed"], false);
        assert_eq!(evaluate(&app, "repo-a", "ghcr.io/octo-org/dev:2").await["allowed"], true);
        assert_eq!(evaluate(&app, "repo-a", "ghcr.io/octo-org").await["allowed"], false);

        app.create_policy("octo-org", json!({
            "name": "Anything", "target": "all_repositories",
            "constraints": { "base_images": { "allowed_values": ["*"] } }
        })).await;
        assert_eq!(evaluate(&app, "repo-a", "node:18").await["allowed"], true);
        assert_eq!(evaluate(&app, "repo-a", "python:3").await["allowed"], false);
    }

    async fn evaluate_refuses_bad_input_with_a_422(app) {
        app.octo_org().await;
        for (body, field) in [
            (json!({ "repository": "repo-a", "image": "Node:18" }), "image"),
            (json!({ "repository": "repo-a", "image": "a..b" }), "image"),
            (json!({ "repository": "repo-a", "image": "nöde:18" }), "image"),
            (json!({ "repository": "ghost", "image": "node:18" }), "repository"),
            (json!({ "repository": "a/b", "image": "node:18" }), "repository"),
        ] {
            let response = app.post(EVALUATE, &app.admin, body.clone()).await;
            assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(bad_fields(&response.body), [field], "{body}");
        }
    }

    async fn a_policy_without_a_base_images_constraint_constrains_nothing(app) {
        app.octo_org().await;
        let policy = app.create_policy("octo-org", json!({
            "name": "Empty", "target": "all_repositories", "constraints": {}
        })).await;
        assert_eq!(policy["constraints"], json!({}));
        assert_eq!(evaluate(&app, "repo-a", "node:18").await, json!({ "allowed": true, "policies": [], "constraints": unconstrained() }));
    }

    async fn policy_lists_are_paginated(app) {
        app.octo_org().await;
        for _ in 0..3 {
            app.allow_org_wide("octo-org", &["node:18"]).await;
        }
        let page = app.get(&format!("{POLICIES}?per_page=2&page=2"), &app.admin).await;
        assert_eq!(page.body["total_count"], 3);
        assert_eq!(page.body["policies"].as_array().unwrap().len(), 1);
        for bad in ["per_page=0", "per_page=101", "page=0", "page=x"] {
            let response = app.get(&format!("{POLICIES}?{bad}"), &app.admin).await;
            assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        }
    }
}
