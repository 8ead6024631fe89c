//! GitHub Container Registry packages: PUT (201, then 200), GET, DELETE, the grants of
//! Codespaces access, the name grammar, who may, and what the audit log and the store's
//! `find_package` (creation's read) see.

use axum::http::{Method, StatusCode};
use base_image_policy::registries::{Package, PackageVisibility};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{TestApp, TestResponse};

const PACKAGES: &str = "/orgs/octo-org/packages/container";

pub async fn org_id(app: &TestApp, org: &str) -> i64 {
    app.get(&format!("/orgs/{org}"), &app.admin).await.body["id"]
        .as_i64()
        .unwrap()
}

async fn repo_id(app: &TestApp, repo: &str) -> i64 {
    let path = format!("/orgs/octo-org/repos/{repo}");
    app.put(&path, &app.admin, None).await.body["id"]
        .as_i64()
        .unwrap()
}

pub async fn put_package(app: &TestApp, name: &str, body: Value) -> TestResponse {
    app.put(&format!("{PACKAGES}/{name}"), &app.admin, Some(body))
        .await
}

fn assert_invalid(response: &TestResponse, field: &str) {
    crate::helpers::assert_invalid(response, field);
    assert_eq!(
        response.body["errors"][0]["resource"], "Package",
        "{:?}",
        response.body
    );
}

/// The package actions in the org's audit log, newest first.
async fn package_entries(app: &TestApp) -> Vec<Value> {
    let log = app
        .get("/orgs/octo-org/audit-log?per_page=100", &app.admin)
        .await;
    let entries = log.body["entries"].as_array().unwrap().clone();
    entries
        .into_iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("package."))
        .collect()
}

fn snapshot(visibility: &str, repository: Value, inherit: bool, access: &[&str]) -> Value {
    json!({ "name": "app", "visibility": visibility, "repository": repository,
        "inherit_access": inherit, "codespaces_access": access })
}

backend_tests! {
    async fn a_package_is_created_with_201_then_updated_with_200(app) {
        app.octo_org().await;
        let owner = app.user_token("octocat").await;
        let path = format!("{PACKAGES}/app");
        let created = app.put(&path, &owner, Some(json!({ "visibility": "private", "repository": "Repo-A" }))).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let mut keys: Vec<&String> = created.body.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["codespaces_access", "created_at", "inherit_access", "name", "package_type",
            "repository", "updated_at", "visibility"]);
        assert_eq!(created.body["name"], "app");
        assert_eq!(created.body["package_type"], "container");
        assert_eq!(created.body["visibility"], "private");
        assert_eq!(created.body["repository"], "repo-a", "the repository's name as first written");
        assert_eq!(created.body["inherit_access"], true, "the default");
        assert_eq!(created.body["codespaces_access"], json!([]));
        assert!(created.body["created_at"].as_str().unwrap().ends_with('Z'));

        let body = json!({ "visibility": "internal", "repository": null, "inherit_access": false });
        let updated = app.put(&path, &owner, Some(body)).await;
        assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
        assert_eq!(updated.body["visibility"], "internal");
        assert_eq!(updated.body["repository"], Value::Null);
        assert_eq!(updated.body["inherit_access"], false);
        assert_eq!(updated.body["created_at"], created.body["created_at"]);
        let shown = app.get(&path, &owner).await;
        assert_eq!(shown.status, StatusCode::OK);
        assert_eq!(shown.body, updated.body);
        assert_eq!(app.get(&format!("{PACKAGES}/other"), &owner).await.status, StatusCode::NOT_FOUND);
    }

    async fn absent_or_null_fields_take_their_defaults_and_bad_bodies_are_422(app) {
        app.octo_org().await;
        let public = put_package(&app, "app", json!({ "visibility": "public" })).await;
        assert_eq!(public.status, StatusCode::CREATED, "{:?}", public.body);
        assert_eq!((&public.body["repository"], &public.body["inherit_access"]), (&Value::Null, &json!(true)));
        let linked = put_package(&app, "app", json!({ "visibility": "public", "repository": "repo-a",
            "inherit_access": false })).await;
        assert_eq!(linked.body["inherit_access"], false);
        let reset = put_package(&app, "app", json!({ "visibility": "public", "inherit_access": null })).await;
        assert_eq!(reset.status, StatusCode::OK);
        assert_eq!((&reset.body["repository"], &reset.body["inherit_access"]), (&Value::Null, &json!(true)),
            "absent repository unlinks, null inherit_access is the default");
        for body in [json!({}), json!({ "visibility": "secret" }), json!({ "visibility": "public", "extra": 1 }),
            json!({ "visibility": "public", "inherit_access": "yes" }), json!({ "visibility": "public", "repository": 7 })] {
            let response = put_package(&app, "app", body.clone()).await;
            assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", response.body);
        }
        assert_eq!(app.get(&format!("{PACKAGES}/app"), &app.admin).await.body, reset.body, "unchanged");
    }

    async fn an_unknown_repository_is_a_422_and_stores_nothing(app) {
        app.octo_org().await;
        app.create_org("other-org").await;
        app.add_repo("other-org", "elsewhere").await;
        for repository in ["nope", "elsewhere", "bad name", ""] {
            let response = put_package(&app, "app", json!({ "visibility": "private", "repository": repository })).await;
            assert_invalid(&response, "repository");
        }
        assert_eq!(app.get(&format!("{PACKAGES}/app"), &app.admin).await.status, StatusCode::NOT_FOUND);
        put_package(&app, "app", json!({ "visibility": "private", "repository": "repo-a" })).await;
        let response = put_package(&app, "app", json!({ "visibility": "public", "repository": "nope" })).await;
        assert_invalid(&response, "repository");
        let kept = app.get(&format!("{PACKAGES}/app"), &app.admin).await;
        assert_eq!((&kept.body["visibility"], &kept.body["repository"]), (&json!("private"), &json!("repo-a")));
        assert_eq!(package_entries(&app).await.len(), 1, "only the creation");
    }

    async fn names_outside_the_repository_path_grammar_are_422_and_store_nothing(app) {
        app.octo_org().await;
        let too_long = "a".repeat(256);
        let body = json!({ "visibility": "public" });
        for name in ["App", "team%2FApp", "..", "team%2F..%2Fapp", "a..b", "team%2F%2Fapp", "%2Fapp", "app%2F",
            "_app", "a___b", "app%3A1", "a%20b", "%C3%A4pp", "a%00b", too_long.as_str()] {
            let response = put_package(&app, name, body.clone()).await;
            assert_invalid(&response, "package_name");
            assert!(response.body["message"].as_str().unwrap().starts_with("Validation Failed: package_name "));
        }
        assert!(package_entries(&app).await.is_empty());
        let org = org_id(&app, "octo-org").await;
        for name in ["app", "App", "a..b", "team/app", ".."] {
            assert_eq!(app.store.find_package(org, name).await.unwrap(), None, "{name}");
        }
        // The longest name: 255 characters, here across several components.
        let longest = format!("{}/{}", "a".repeat(127), "b".repeat(127));
        let encoded = longest.replace('/', "%2F");
        assert_eq!(put_package(&app, &encoded, body.clone()).await.status, StatusCode::CREATED);
        assert_eq!(put_package(&app, &format!("{encoded}c"), body).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        // On the other routes a bad name names no package.
        assert_eq!(app.get(&format!("{PACKAGES}/App"), &app.admin).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.delete(&format!("{PACKAGES}/App"), &app.admin).await.status, StatusCode::NOT_FOUND);
    }

    async fn a_name_with_a_slash_travels_percent_encoded(app) {
        app.octo_org().await;
        let created = put_package(&app, "team%2Fapp", json!({ "visibility": "internal" })).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        assert_eq!(created.body["name"], "team/app");
        assert_eq!(app.get(&format!("{PACKAGES}/team%2fapp"), &app.admin).await.body["name"], "team/app");
        assert_eq!(app.get(&format!("{PACKAGES}/team/app"), &app.admin).await.status, StatusCode::NOT_FOUND,
            "an unencoded '/' is another path");
        let grant = format!("{PACKAGES}/team%2Fapp/codespaces-access/repo-b");
        assert_eq!(app.put(&grant, &app.admin, None).await.status, StatusCode::NO_CONTENT);
        let org = org_id(&app, "octo-org").await;
        let found = app.store.find_package(org, "Team/App").await.unwrap();
        assert_eq!(found, Some(Package { name: "team/app".into(), visibility: PackageVisibility::Internal,
            repo_id: None, inherit_access: true, granted_repo_ids: vec![repo_id(&app, "repo-b").await] }),
            "compared lowercased");
        assert_eq!(app.store.find_package(org, "team").await.unwrap(), None);
        assert_eq!(app.store.find_package(org, &"a".repeat(300)).await.unwrap(), None);
        assert_eq!(app.delete(&format!("{PACKAGES}/team%2Fapp"), &app.admin).await.status, StatusCode::NO_CONTENT);
    }

    async fn access_is_granted_and_revoked_one_repository_at_a_time(app) {
        app.octo_org().await;
        app.add_repo("octo-org", "Zed").await;
        app.add_repo("octo-org", "alpha").await;
        let owner = app.user_token("octocat").await;
        put_package(&app, "app", json!({ "visibility": "private", "repository": "repo-a" })).await;
        let access = |repo: &str| format!("{PACKAGES}/app/codespaces-access/{repo}");
        for repo in ["Zed", "repo-b", "ALPHA", "repo-b"] {
            let response = app.put(&access(repo), &owner, None).await;
            assert_eq!(response.status, StatusCode::NO_CONTENT, "{repo}: {:?}", response.body);
            assert_eq!(response.raw, b"", "no body");
        }
        let shown = app.get(&format!("{PACKAGES}/app"), &owner).await;
        assert_eq!(shown.body["codespaces_access"], json!(["alpha", "repo-b", "Zed"]), "by name, once each");
        for repo in ["repo-b", "repo-b", "repo-a"] {
            assert_eq!(app.delete(&access(repo), &owner).await.status, StatusCode::NO_CONTENT, "{repo}");
        }
        let shown = app.get(&format!("{PACKAGES}/app"), &owner).await;
        assert_eq!(shown.body["codespaces_access"], json!(["alpha", "Zed"]));
        let org = org_id(&app, "octo-org").await;
        let found = app.store.find_package(org, "app").await.unwrap().unwrap();
        let mut granted = vec![repo_id(&app, "alpha").await, repo_id(&app, "Zed").await];
        granted.sort();
        assert_eq!(found.granted_repo_ids, granted);
        assert_eq!(found.repo_id, Some(repo_id(&app, "repo-a").await));
        for path in [access("nope"), access("bad%20name"), format!("{PACKAGES}/other/codespaces-access/repo-a"),
            format!("{PACKAGES}/App/codespaces-access/repo-a")] {
            assert_eq!(app.put(&path, &owner, None).await.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(app.delete(&path, &owner).await.status, StatusCode::NOT_FOUND, "{path}");
        }
    }

    async fn a_deleted_package_is_gone_with_its_grants(app) {
        app.octo_org().await;
        put_package(&app, "app", json!({ "visibility": "private" })).await;
        app.put(&format!("{PACKAGES}/app/codespaces-access/repo-a"), &app.admin, None).await;
        let deleted = app.delete(&format!("{PACKAGES}/app"), &app.admin).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        assert_eq!(deleted.raw, b"");
        assert_eq!(app.get(&format!("{PACKAGES}/app"), &app.admin).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.delete(&format!("{PACKAGES}/app"), &app.admin).await.status, StatusCode::NOT_FOUND);
        let org = org_id(&app, "octo-org").await;
        assert_eq!(app.store.find_package(org, "app").await.unwrap(), None);
        let again = put_package(&app, "app", json!({ "visibility": "private" })).await;
        assert_eq!(again.status, StatusCode::CREATED);
        assert_eq!(again.body["codespaces_access"], json!([]));
    }

    async fn only_owners_and_site_admins_manage_packages(app) {
        app.octo_org().await;
        app.create_org("other-org").await;
        app.set_role("other-org", "rival", "owner").await;
        app.set_role("octo-org", "outsider", "outside_collaborator").await;
        put_package(&app, "app", json!({ "visibility": "private" })).await;
        let body = Some(json!({ "visibility": "public" }));
        let calls = [
            (Method::GET, format!("{PACKAGES}/app"), None),
            (Method::PUT, format!("{PACKAGES}/app"), body.clone()),
            (Method::PUT, format!("{PACKAGES}/new"), body),
            (Method::DELETE, format!("{PACKAGES}/app"), None),
            (Method::PUT, format!("{PACKAGES}/app/codespaces-access/repo-a"), None),
            (Method::DELETE, format!("{PACKAGES}/app/codespaces-access/repo-a"), None),
        ];
        let callers = [
            (Some(app.user_token("mona").await), StatusCode::FORBIDDEN),
            (Some(app.service_token().await), StatusCode::FORBIDDEN),
            (Some(app.user_token("rival").await), StatusCode::NOT_FOUND),
            (Some(app.user_token("outsider").await), StatusCode::NOT_FOUND),
            (None, StatusCode::UNAUTHORIZED),
        ];
        for (token, want) in &callers {
            for (method, path, body) in &calls {
                let response = app.request(method.clone(), path, token.as_deref(), body.clone()).await;
                assert_eq!(response.status, *want, "{method} {path}: {:?}", response.body);
                assert!(!response.body.to_string().contains("octo-org"), "{:?}", response.body);
            }
        }
        let shown = app.get(&format!("{PACKAGES}/app"), &app.admin).await;
        assert_eq!((&shown.body["visibility"], &shown.body["codespaces_access"]), (&json!("private"), &json!([])));
        assert_eq!(package_entries(&app).await.len(), 1, "only the arrangement's creation");
    }

    async fn every_package_change_is_audited_with_its_snapshot_only(app) {
        app.octo_org().await;
        let owner = app.user_token("octocat").await;
        let path = format!("{PACKAGES}/app");
        app.put(&path, &owner, Some(json!({ "visibility": "private", "repository": "repo-a" }))).await;
        let same = app.put(&path, &owner, Some(json!({ "visibility": "private", "repository": "repo-a" }))).await;
        assert_eq!(same.status, StatusCode::OK, "an update that changes nothing");
        app.put(&path, &owner, Some(json!({ "visibility": "internal", "repository": "repo-a" }))).await;
        for _ in 0..2 {
            app.put(&format!("{path}/codespaces-access/repo-b"), &owner, None).await;
        }
        for _ in 0..2 {
            app.delete(&format!("{path}/codespaces-access/repo-b"), &owner).await;
        }
        app.delete(&path, &owner).await;

        let entries = package_entries(&app).await;
        let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["package.delete", "package.access.revoke", "package.access.grant",
            "package.update", "package.create"], "newest first; changes that change nothing are not recorded");
        assert!(entries.iter().all(|e| e["actor"] == "octocat"));
        let private = snapshot("private", json!("repo-a"), true, &[]);
        let internal = snapshot("internal", json!("repo-a"), true, &[]);
        let granted = snapshot("internal", json!("repo-a"), true, &["repo-b"]);
        let expected = [
            (internal.clone(), Value::Null),
            (granted.clone(), internal.clone()),
            (internal.clone(), granted),
            (private.clone(), internal),
            (Value::Null, private),
        ];
        for (entry, (before, after)) in entries.iter().zip(expected) {
            assert_eq!((&entry["before"], &entry["after"]), (&before, &after), "{}", entry["action"]);
        }
    }
}
