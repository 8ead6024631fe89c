//! Policy revisions: every change keeps the policy as it was, listed newest first; a restore
//! makes the policy what it was at a revision (recreating a deleted one under its id), as a
//! new revision, under `If-Match` as PATCH is.

use std::fmt::Display;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{TestApp, TestResponse};

pub const POLICIES: &str = "/orgs/octo-org/codespaces/policies";
const EVALUATE: &str = "/orgs/octo-org/codespaces/policies/evaluate";

pub fn node_only() -> Value {
    json!({ "name": "Node only", "target": "selected_repositories", "repositories": ["repo-a"],
        "constraints": { "base_images": { "allowed_values": ["node:*"] } } })
}

/// The fields a revision's policy keeps: the policy answer's shape.
pub fn shape(policy: &Value) -> Value {
    let keys = [
        "id",
        "name",
        "target",
        "repositories",
        "constraints",
        "enforcement",
        "created_at",
        "updated_at",
    ];
    keys.iter()
        .map(|k| (k.to_string(), policy[*k].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The shape without `updated_at`, which every change moves.
fn content(policy: &Value) -> Value {
    let mut shape = shape(policy);
    shape.as_object_mut().unwrap().remove("updated_at");
    shape
}

pub fn etag(response: &TestResponse) -> String {
    response.headers["etag"].to_str().unwrap().to_string()
}

/// The policy's revisions (first page of 100), asserting a 200.
pub async fn revisions(app: &TestApp, id: impl Display) -> Value {
    let response = app
        .get(
            &format!("{POLICIES}/{id}/revisions?per_page=100"),
            &app.admin,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body
}

pub async fn restore(
    app: &TestApp,
    token: &str,
    id: impl Display,
    n: &str,
    if_match: Option<&str>,
) -> TestResponse {
    let path = format!("{POLICIES}/{id}/revisions/{n}/restore");
    let headers: Vec<(&str, &str)> = if_match.map(|e| ("if-match", e)).into_iter().collect();
    app.request_with_headers(Method::POST, &path, Some(token), None, &headers)
        .await
}

async fn page(app: &TestApp, id: &Value, query: &str) -> TestResponse {
    app.get(&format!("{POLICIES}/{id}/revisions?{query}"), &app.admin)
        .await
}

async fn allowed(app: &TestApp, image: &str) -> bool {
    let verdict = app
        .post(
            EVALUATE,
            &app.admin,
            json!({ "repository": "repo-a", "image": image }),
        )
        .await;
    assert_eq!(verdict.status, StatusCode::OK, "{:?}", verdict.body);
    verdict.body["allowed"].as_bool().unwrap()
}

backend_tests! {
    async fn every_change_makes_a_revision_with_its_actor_time_and_state(app) {
        app.octo_org().await;
        let owner = app.user_token("octocat").await;
        let created = app.post(POLICIES, &owner, node_only()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let id = created.body["id"].clone();
        let one = format!("{POLICIES}/{id}");
        let edited = app.patch(&one, &owner, json!({ "name": "Renamed", "enforcement": "report" })).await;
        assert_eq!(edited.status, StatusCode::OK);
        assert_eq!(app.delete(&one, &owner).await.status, StatusCode::NO_CONTENT);
        let restored = restore(&app, &app.admin, &id, "2", None).await;
        assert_eq!(restored.status, StatusCode::OK, "{:?}", restored.body);

        let list = revisions(&app, &id).await;
        assert_eq!(list["total_count"], 4);
        let items = list["revisions"].as_array().unwrap();
        let numbers: Vec<i64> = items.iter().map(|r| r["revision"].as_i64().unwrap()).collect();
        assert_eq!(numbers, [4, 3, 2, 1], "newest first");
        let actions: Vec<&str> = items.iter().map(|r| r["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["restore", "delete", "update", "create"]);
        let actors: Vec<&str> = items.iter().map(|r| r["actor"].as_str().unwrap()).collect();
        assert_eq!(actors, ["site-admin", "octocat", "octocat", "octocat"]);
        assert_eq!(items[3]["policy"], shape(&created.body), "as created");
        assert_eq!(items[2]["policy"], shape(&edited.body), "as edited");
        assert_eq!(items[1]["policy"], shape(&edited.body), "as it was when deleted");
        assert_eq!(items[0]["policy"], shape(&restored.body), "as restored");
        assert_eq!(items[3]["at"], created.body["updated_at"]);
        assert_eq!(items[2]["at"], edited.body["updated_at"]);
        assert_eq!(items[0]["at"], restored.body["updated_at"]);
        let times: Vec<&str> = items.iter().map(|r| r["at"].as_str().unwrap()).collect();
        assert!(times.iter().all(|t| t.ends_with('Z') && t.len() == 20), "{times:?}");
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    }

    async fn revisions_are_paginated_like_the_other_lists(app) {
        app.octo_org().await;
        let id = app.create_policy("octo-org", node_only()).await["id"].clone();
        for name in ["b", "c", "d", "e"] {
            assert_eq!(app.patch(&format!("{POLICIES}/{id}"), &app.admin, json!({ "name": name })).await.status, StatusCode::OK);
        }
        let first = page(&app, &id, "per_page=2").await;
        assert_eq!(first.body["total_count"], 5);
        let numbers = |body: &Value| body["revisions"].as_array().unwrap().iter().map(|r| r["revision"].as_i64().unwrap()).collect::<Vec<_>>();
        assert_eq!(numbers(&first.body), [5, 4]);
        assert_eq!(first.body["revisions"][0]["policy"]["name"], "e");
        assert_eq!(numbers(&page(&app, &id, "per_page=2&page=3").await.body), [1]);
        let past = page(&app, &id, "per_page=2&page=4").await;
        assert_eq!((past.status, past.body["total_count"].clone()), (StatusCode::OK, json!(5)));
        assert_eq!(numbers(&past.body), Vec::<i64>::new());
        assert_eq!(numbers(&page(&app, &id, "").await.body).len(), 5, "30 a page by default");
        for bad in ["per_page=101", "per_page=0", "page=0", "page=x"] {
            assert_eq!(page(&app, &id, bad).await.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        }
    }

    async fn one_restore_undoes_an_accidental_edit(app) {
        app.octo_org().await;
        let owner = app.user_token("octocat").await;
        let created = app.post(POLICIES, &owner, node_only()).await;
        let id = created.body["id"].clone();
        let oops = app.patch(&format!("{POLICIES}/{id}"), &owner, json!({ "target": "all_repositories",
            "constraints": { "base_images": { "allowed_values": ["*"] } } })).await;
        assert!(allowed(&app, "python:3").await, "the accidental edit allows everything");

        let restored = restore(&app, &owner, &id, "1", Some(&etag(&oops))).await;
        assert_eq!(restored.status, StatusCode::OK, "{:?}", restored.body);
        assert_eq!(content(&restored.body), content(&created.body));
        assert_eq!(etag(&restored), "\"3\"");
        let fetched = app.get(&format!("{POLICIES}/{id}"), &owner).await;
        assert_eq!((fetched.body.clone(), etag(&fetched)), (restored.body.clone(), etag(&restored)));
        assert!(!allowed(&app, "python:3").await, "refused again at once");
        assert!(allowed(&app, "node:18").await);

        let log = app.get("/orgs/octo-org/audit-log", &owner).await.body;
        assert_eq!(log["entries"][0]["action"], "policy.restore");
        assert_eq!(log["entries"][0]["actor"], "octocat");
        assert_eq!(log["entries"][0]["before"]["base_images"], json!(["*"]));
        assert_eq!(log["entries"][0]["after"]["base_images"], json!(["node:*"]));
    }

    async fn a_deleted_policy_is_restored_under_its_id_and_refuses_again(app) {
        app.octo_org().await;
        let created = app.create_policy("octo-org", node_only()).await;
        let id = created["id"].clone();
        let one = format!("{POLICIES}/{id}");
        assert!(!allowed(&app, "python:3").await);
        assert_eq!(app.delete(&one, &app.admin).await.status, StatusCode::NO_CONTENT);
        assert!(allowed(&app, "python:3").await, "no policy, everything allowed");
        let list = revisions(&app, &id).await;
        assert_eq!(list["revisions"][0]["action"], "delete", "a deleted policy keeps its history");

        let deletion = restore(&app, &app.admin, &id, "2", None).await;
        assert_eq!(deletion.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", deletion.body);
        assert_eq!(deletion.body["errors"][0]["field"], "revision");
        assert_eq!(deletion.body["message"], "Validation Failed: revision 2 is a deletion; restore the one before it (1), the policy as it was when deleted");
        for stale in ["\"1\"", "\"2\""] {
            let response = restore(&app, &app.admin, &id, "1", Some(stale)).await;
            assert_eq!(response.status, StatusCode::PRECONDITION_FAILED, "a deleted policy matches no ETag");
        }
        assert_eq!(app.get(&one, &app.admin).await.status, StatusCode::NOT_FOUND, "nothing changed");
        assert_eq!(revisions(&app, &id).await["total_count"], 2);

        let restored = restore(&app, &app.admin, &id, "1", Some("*")).await;
        assert_eq!(restored.status, StatusCode::OK, "{:?}", restored.body);
        assert_eq!(restored.body["id"], id, "the same id");
        assert_eq!(content(&restored.body), content(&created), "created_at kept");
        assert_eq!(etag(&restored), "\"2\"", "above every version it had, so no old ETag matches");
        assert_eq!(app.get(&one, &app.admin).await.body, restored.body);
        assert!(!allowed(&app, "python:3").await, "decisions see it again");
        let listed = app.get(POLICIES, &app.admin).await.body;
        assert_eq!(listed["policies"][0]["id"], id);
        let edited = app.request_with_headers(Method::PATCH, &one, Some(&app.admin),
            Some(json!({ "name": "x" })), &[("if-match", "\"1\"")]).await;
        assert_eq!(edited.status, StatusCode::PRECONDITION_FAILED, "the ETag from before the deletion");
    }

    async fn a_stale_if_match_is_a_412_and_changes_nothing(app) {
        app.octo_org().await;
        let created = app.post(POLICIES, &app.admin, node_only()).await;
        let id = created.body["id"].clone();
        let one = format!("{POLICIES}/{id}");
        let edited = app.patch(&one, &app.admin, json!({ "name": "Edited" })).await;
        for stale in [etag(&created), "W/\"2\"".to_string(), "\"2\", \"3\"".to_string(), "garbage".to_string()] {
            let response = restore(&app, &app.admin, &id, "1", Some(&stale)).await;
            assert_eq!(response.status, StatusCode::PRECONDITION_FAILED, "{stale}: {:?}", response.body);
        }
        let fetched = app.get(&one, &app.admin).await;
        assert_eq!((fetched.body.clone(), etag(&fetched)), (edited.body.clone(), etag(&edited)));
        assert_eq!(revisions(&app, &id).await["total_count"], 2);
        let current = restore(&app, &app.admin, &id, "1", Some(&etag(&edited))).await;
        assert_eq!((current.status, etag(&current)), (StatusCode::OK, "\"3\"".to_string()));
        assert_eq!(current.body["name"], "Node only");
    }

    async fn an_unknown_revision_or_policy_is_a_404_and_changes_nothing(app) {
        app.octo_org().await;
        let created = app.post(POLICIES, &app.admin, node_only()).await;
        let id = created.body["id"].clone();
        for n in ["2", "0", "-1", "abc", "99999999999999999999"] {
            let response = restore(&app, &app.admin, &id, n, None).await;
            assert_eq!(response.status, StatusCode::NOT_FOUND, "{n}: {:?}", response.body);
            assert_eq!(response.body["message"], "Not Found");
        }
        for unknown in ["9999", "abc", "0"] {
            assert_eq!(app.get(&format!("{POLICIES}/{unknown}/revisions"), &app.admin).await.status, StatusCode::NOT_FOUND);
            assert_eq!(restore(&app, &app.admin, unknown, "1", None).await.status, StatusCode::NOT_FOUND);
        }
        let fetched = app.get(&format!("{POLICIES}/{id}"), &app.admin).await;
        assert_eq!((fetched.body.clone(), etag(&fetched)), (created.body.clone(), etag(&created)));
        assert_eq!(revisions(&app, &id).await["total_count"], 1);
    }

    async fn another_orgs_policy_has_no_revisions_here(app) {
        app.octo_org().await;
        app.create_org("other-org").await;
        app.set_role("other-org", "rival", "owner").await;
        let rival = app.user_token("rival").await;
        let id = app.create_policy("octo-org", node_only()).await["id"].clone();
        let path = format!("/orgs/other-org/codespaces/policies/{id}/revisions");
        for token in [&app.admin, &rival] {
            assert_eq!(app.get(&path, token).await.status, StatusCode::NOT_FOUND);
            let restored = app.request(Method::POST, &format!("{path}/1/restore"), Some(token), None).await;
            assert_eq!(restored.status, StatusCode::NOT_FOUND);
            assert!(!restored.body.to_string().contains("octo-org"));
        }
        assert_eq!(app.get("/orgs/other-org/codespaces/policies", &app.admin).await.body["total_count"], 0);
        assert_eq!(revisions(&app, &id).await["total_count"], 1);
    }

    async fn only_owners_and_site_admins_see_and_restore_revisions(app) {
        app.octo_org().await;
        app.set_role("octo-org", "outsider", "outside_collaborator").await;
        let id = app.create_policy("octo-org", node_only()).await["id"].clone();
        let list = format!("{POLICIES}/{id}/revisions");
        let owner = app.user_token("octocat").await;
        let member = app.user_token("mona").await;
        let stranger = app.user_token("stranger").await;
        let outsider = app.user_token("outsider").await;
        let service = app.service_token().await;
        for (token, expected) in [
            (&member, StatusCode::FORBIDDEN),
            (&service, StatusCode::FORBIDDEN),
            (&stranger, StatusCode::NOT_FOUND),
            (&outsider, StatusCode::NOT_FOUND),
            (&owner, StatusCode::OK),
        ] {
            assert_eq!(app.get(&list, token).await.status, expected);
            assert_eq!(restore(&app, token, &id, "1", None).await.status, expected);
        }
        assert_eq!(app.request(Method::GET, &list, None, None).await.status, StatusCode::UNAUTHORIZED);
        let denied = restore(&app, &member, &id, "1", None).await;
        assert_eq!(denied.body["message"], "Must be an organization owner");
        // The owner's restore is the only one made.
        assert_eq!(revisions(&app, &id).await["total_count"], 2);
    }
}
