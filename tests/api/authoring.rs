//! Authoring without surprises: the warnings on every policy answer and the effective
//! policy of a repository, on the seed's "Setting organization-wide and
//! repository-specific policies" examples among others.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection, Executor, PgConnection};

use crate::backend_tests;
use crate::held::assert_unavailable;
use crate::helpers::unconstrained;
use crate::helpers::{Backend, TestApp, TestDatabase};

const POLICIES: &str = "/orgs/octo-org/codespaces/policies";

fn effective_path(repo: &str) -> String {
    format!("/orgs/octo-org/repos/{repo}/codespaces/effective-policy")
}

/// The seed's organization-wide policy: ten images.
fn ten_images() -> Vec<String> {
    (0..10)
        .map(|i| format!("ghcr.io/octo-org/image-{i}:1"))
        .collect()
}

/// The (code, value) pairs of a policy answer's warnings.
fn codes(policy: &Value) -> Vec<(String, Value)> {
    policy["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("warnings is an array: {policy}"))
        .iter()
        .map(|w| {
            assert!(w["message"].as_str().is_some_and(|m| !m.is_empty()), "{w}");
            (w["code"].as_str().unwrap().to_owned(), w["value"].clone())
        })
        .collect()
}

async fn repository_a(app: &TestApp, values: &[&str]) -> Value {
    app.create_policy(
        "octo-org",
        json!({ "name": "Repository A", "target": "selected_repositories",
            "repositories": ["repo-a"],
            "constraints": { "base_images": { "allowed_values": values } } }),
    )
    .await
}

backend_tests! {
    async fn the_seeds_repository_a_is_allowed_exactly_its_two_images(app) {
        app.octo_org().await;
        let ten = ten_images();
        let org = app.create_policy("octo-org", json!({ "name": "Org images",
            "target": "all_repositories",
            "constraints": { "base_images": { "allowed_values": ten } } })).await;
        assert_eq!(org["warnings"], json!([]), "ten images, no surprise");
        let narrowed = repository_a(&app, &[&ten[3], &ten[7]]).await;
        assert_eq!(narrowed["warnings"], json!([]), "a subset of two narrows, as the seed says");

        let effective = app.get(&effective_path("repo-a"), &app.admin).await;
        assert_eq!(effective.status, StatusCode::OK, "{:?}", effective.body);
        assert_eq!(effective.body, json!({ "constrained": true,
            "allowed_values": [ten[3], ten[7]], "policies": [org["id"], narrowed["id"]],
            "constraints": unconstrained() }));
        let other = app.get(&effective_path("repo-b"), &app.admin).await.body;
        assert_eq!(other["allowed_values"], json!(ten));
        assert_eq!(other["policies"], json!([org["id"]]));

        // "Specifying additional images for Repository A will have no effect": it is saved,
        // with the warning it deserves, and the effective policy does not move.
        let path = format!("{POLICIES}/{}", narrowed["id"]);
        let widened = app.patch(&path, &app.admin, json!({ "constraints": { "base_images":
            { "allowed_values": [ten[3], ten[7], "node:18"] } } })).await;
        assert_eq!(widened.status, StatusCode::OK, "{:?}", widened.body);
        assert_eq!(codes(&widened.body), vec![("no_effect".to_owned(), json!("node:18"))]);
        let message = widened.body["warnings"][0]["message"].as_str().unwrap();
        assert!(message.contains("'repo-a'") && message.contains("'Org images'"), "{message}");
        assert_eq!(app.get(&path, &app.admin).await.body["warnings"], widened.body["warnings"]);
        let listed = app.get(POLICIES, &app.admin).await.body;
        assert_eq!(listed["policies"][1]["warnings"], widened.body["warnings"]);
        assert_eq!(listed["policies"][0]["warnings"], json!([]));
        assert_eq!(app.get(&effective_path("repo-a"), &app.admin).await.body["allowed_values"],
            json!([ten[3], ten[7]]));
    }

    async fn an_unanchored_prefix_is_saved_with_a_warning_naming_its_neighbours(app) {
        app.octo_org().await;
        let policy = app.allow_org_wide("octo-org", &["ghcr.io/octo*", "mcr.microsoft.com/*"]).await;
        assert_eq!(codes(&policy), vec![("unanchored_prefix".to_owned(), json!("ghcr.io/octo*"))]);
        assert!(policy["warnings"][0]["message"].as_str().unwrap().contains("ghcr.io/octo-evil/x"));
        // What the warning is about: the neighbour is allowed.
        let neighbour = app.post(&format!("{POLICIES}/evaluate"), &app.admin,
            json!({ "repository": "repo-a", "image": "ghcr.io/octo-evil/x" })).await;
        assert_eq!(neighbour.body["allowed"], true);
    }

    async fn a_value_the_same_policy_already_covers_is_redundant(app) {
        app.octo_org().await;
        let policy = app.allow_org_wide("octo-org", &["node:*", "node:18", "ghcr.io/octo-org/*"]).await;
        assert_eq!(codes(&policy), vec![("redundant".to_owned(), json!("node:18"))]);
        assert_eq!(policy["warnings"][0]["message"],
            "'node:18' is redundant: 'node:*' in the same policy already allows it.");
    }

    async fn a_change_that_leaves_a_repository_no_image_warns_every_policy_concerned(app) {
        app.octo_org().await;
        let org = app.allow_org_wide("octo-org", &["node:*"]).await;
        let python = repository_a(&app, &["python:3"]).await;
        assert_eq!(codes(&python), vec![
            ("no_effect".to_owned(), json!("python:3")),
            ("empty_intersection".to_owned(), Value::Null),
        ]);
        // The org-wide policy did not change, but its answer is judged with the others now.
        let org_now = app.get(&format!("{POLICIES}/{}", org["id"]), &app.admin).await.body;
        assert_eq!(codes(&org_now), vec![("empty_intersection".to_owned(), Value::Null)]);
        assert!(org_now["warnings"][0]["message"].as_str().unwrap().contains("'repo-a'"));
        let effective = app.get(&effective_path("repo-a"), &app.admin).await.body;
        assert_eq!(effective, json!({ "constrained": true, "allowed_values": [],
            "policies": [org["id"], python["id"]], "constraints": unconstrained() }));
        // Deleting the repository's policy clears the org-wide policy's warning.
        let deleted = app.delete(&format!("{POLICIES}/{}", python["id"]), &app.admin).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        let org_now = app.get(&format!("{POLICIES}/{}", org["id"]), &app.admin).await.body;
        assert_eq!(org_now["warnings"], json!([]));
    }

    async fn the_effective_policy_of_an_unconstrained_repository_allows_everything(app) {
        app.octo_org().await;
        let none = app.get(&effective_path("repo-a"), &app.admin).await;
        assert_eq!(none.body, json!({ "constrained": false, "allowed_values": [], "policies": [],
            "constraints": unconstrained() }));
        app.create_policy("octo-org", json!({ "name": "Trial", "target": "all_repositories",
            "enforcement": "report",
            "constraints": { "base_images": { "allowed_values": ["node:*"] } } })).await;
        let report = app.get(&effective_path("repo-a"), &app.admin).await.body;
        assert_eq!(report["constrained"], false, "a report-only policy refuses nothing");
        let prefixes = app.allow_org_wide("octo-org", &["ghcr.io/*", "node:18"]).await;
        repository_a(&app, &["ghcr.io/octo-org/*", "ghcr.io/octo-org/dev:1", "node:*"]).await;
        let narrowed = app.get(&effective_path("repo-a"), &app.admin).await.body;
        assert_eq!(narrowed["allowed_values"], json!(["ghcr.io/octo-org/*", "node:18"]));
        assert_eq!(narrowed["policies"].as_array().unwrap().len(), 2);
        assert_eq!(narrowed["policies"][0], prefixes["id"]);
    }

    async fn the_effective_policy_is_for_owners_of_a_known_repository(app) {
        app.octo_org().await;
        let owner = app.user_token("octocat").await;
        assert_eq!(app.get(&effective_path("repo-a"), &owner).await.status, StatusCode::OK);
        let member = app.user_token("mona").await;
        assert_eq!(app.get(&effective_path("repo-a"), &member).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.get(&effective_path("nope"), &app.admin).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&effective_path("a%20b"), &app.admin).await.status, StatusCode::NOT_FOUND);
        let other = app.get("/orgs/other-org/repos/repo-a/codespaces/effective-policy", &app.admin).await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);
    }
}

/// The policies held against reads past the database timeout: the effective policy and a
/// policy's warnings fail closed (PostgreSQL; SQLite's readers never wait on a writer).
#[tokio::test]
async fn the_effective_policy_answers_503_when_postgresql_cannot_read_the_policies() {
    let app = TestApp::spawn_with(Backend::Postgres, |config| {
        config.database_timeout = Duration::from_millis(300);
    })
    .await;
    app.octo_org().await;
    let policy = app.allow_org_wide("octo-org", &["node:*"]).await;
    let TestDatabase::Postgres(options) = &app.database else {
        unreachable!("a PostgreSQL app")
    };
    let mut holder = PgConnection::connect_with(options).await.unwrap();
    holder.execute("BEGIN").await.unwrap();
    holder
        .execute("LOCK TABLE policies IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    assert_unavailable(
        &app.get(&effective_path("repo-a"), &app.admin).await,
        "effective",
    );
    let path = format!("{POLICIES}/{}", policy["id"]);
    assert_unavailable(&app.get(&path, &app.admin).await, "one policy");
    holder.execute("ROLLBACK").await.unwrap();
    assert_eq!(
        app.get(&effective_path("repo-a"), &app.admin).await.status,
        StatusCode::OK
    );
}
