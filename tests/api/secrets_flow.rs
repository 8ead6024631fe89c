//! Codespaces secrets as a GitHub API client uses them, at each level: public key, seal,
//! PUT (201, then 204), GET, list, repositories, DELETE; and who may.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::backend_tests;
use crate::secrets_support::{names, public_key, put_secret, repo_id};

const ORG: &str = "/orgs/octo-org/codespaces/secrets";
const REPO: &str = "/repos/octo-org/repo-a/codespaces/secrets";
const USER: &str = "/user/codespaces/secrets";

backend_tests! {
    async fn an_org_secret_goes_through_the_whole_flow(app) {
        app.octo_org().await;
        let owner = app.user_token("octocat").await;
        let (a, b) = (repo_id(&app, "octo-org", "repo-a").await, repo_id(&app, "octo-org", "repo-b").await);
        let created = put_secret(&app, ORG, &owner, "npm_token", "v1",
            json!({ "visibility": "selected", "selected_repository_ids": [a] })).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        assert_eq!(created.raw, b"", "no body");
        let updated = put_secret(&app, ORG, &owner, "NPM_TOKEN", "v2",
            json!({ "visibility": "selected" })).await;
        assert_eq!(updated.status, StatusCode::NO_CONTENT, "{:?}", updated.body);

        let secret = app.get(&format!("{ORG}/Npm_Token"), &owner).await;
        assert_eq!(secret.status, StatusCode::OK);
        assert_eq!(secret.body["name"], "NPM_TOKEN");
        assert_eq!(secret.body["visibility"], "selected");
        assert_eq!(secret.body["selected_repositories_url"],
            "/orgs/octo-org/codespaces/secrets/NPM_TOKEN/repositories");
        assert!(secret.body["created_at"].as_str().unwrap().ends_with('Z'));
        assert!(secret.body["updated_at"].as_str().is_some());
        let list = app.get(ORG, &owner).await;
        assert_eq!(list.body["total_count"], 1);
        assert_eq!(list.body["secrets"][0]["name"], "NPM_TOKEN");

        let repos = format!("{ORG}/NPM_TOKEN/repositories");
        let listed = app.get(&repos, &owner).await;
        assert_eq!(listed.status, StatusCode::OK);
        assert_eq!(listed.body["total_count"], 1, "an update without ids keeps them");
        assert_eq!(listed.body["repositories"][0]["id"], a);
        assert_eq!(listed.body["repositories"][0]["full_name"], "octo-org/repo-a");
        assert_eq!(listed.body["repositories"][0]["visibility"], "private");
        // JSON Schema's integers include 2.0: a whole number is an id however it is written.
        assert_eq!(app.put(&repos, &owner, Some(json!({ "selected_repository_ids": [b as f64] }))).await.status,
            StatusCode::NO_CONTENT);
        assert_eq!(app.put(&format!("{repos}/{a}"), &owner, None).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get(&repos, &owner).await.body["total_count"], 2);
        assert_eq!(app.delete(&format!("{repos}/{b}"), &owner).await.status, StatusCode::NO_CONTENT);
        let left = app.get(&repos, &owner).await;
        assert_eq!(left.body["total_count"], 1);
        assert_eq!(left.body["repositories"][0]["id"], a);

        assert_eq!(app.delete(&format!("{ORG}/npm_token"), &owner).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get(&format!("{ORG}/NPM_TOKEN"), &owner).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.delete(&format!("{ORG}/NPM_TOKEN"), &owner).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get(ORG, &owner).await.body["total_count"], 0);
    }

    async fn an_org_secret_that_is_not_selected_has_no_repositories_resource(app) {
        app.octo_org().await;
        let a = repo_id(&app, "octo-org", "repo-a").await;
        let put = put_secret(&app, ORG, &app.admin, "ALL_OF_THEM", "v", json!({ "visibility": "all" })).await;
        assert_eq!(put.status, StatusCode::CREATED, "{:?}", put.body);
        let repos = format!("{ORG}/ALL_OF_THEM/repositories");
        assert_eq!(app.get(&repos, &app.admin).await.status, StatusCode::CONFLICT);
        assert_eq!(app.put(&repos, &app.admin, Some(json!({ "selected_repository_ids": [a] }))).await.status,
            StatusCode::CONFLICT);
        assert_eq!(app.put(&format!("{repos}/{a}"), &app.admin, None).await.status, StatusCode::CONFLICT);
        assert_eq!(app.delete(&format!("{repos}/{a}"), &app.admin).await.status, StatusCode::CONFLICT);
        let private = put_secret(&app, ORG, &app.admin, "ALL_OF_THEM", "v", json!({ "visibility": "private" })).await;
        assert_eq!(private.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get(&format!("{ORG}/ALL_OF_THEM"), &app.admin).await.body["visibility"], "private");
    }

    async fn a_repository_secret_goes_through_the_whole_flow(app) {
        app.octo_org().await;
        let owner = app.user_token("octocat").await;
        assert_eq!(put_secret(&app, REPO, &owner, "db_url", "v1", json!({})).await.status, StatusCode::CREATED);
        assert_eq!(put_secret(&app, REPO, &owner, "DB_URL", "v2", json!({})).await.status, StatusCode::NO_CONTENT);
        let secret = app.get(&format!("{REPO}/db_url"), &owner).await;
        assert_eq!(secret.status, StatusCode::OK);
        assert_eq!(secret.body["name"], "DB_URL");
        assert!(secret.body.get("visibility").is_none());
        assert!(secret.body.get("selected_repositories_url").is_none());
        assert_eq!(names(&app, REPO, &owner).await, ["DB_URL"]);
        assert!(names(&app, "/repos/octo-org/repo-b/codespaces/secrets", &owner).await.is_empty(),
            "each repository has its own");
        assert!(names(&app, ORG, &owner).await.is_empty(), "levels are apart");
        assert_eq!(app.delete(&format!("{REPO}/DB_URL"), &owner).await.status, StatusCode::NO_CONTENT);
        assert!(names(&app, REPO, &owner).await.is_empty());
        assert_eq!(app.get("/repos/octo-org/no-such-repo/codespaces/secrets", &owner).await.status,
            StatusCode::NOT_FOUND);
    }

    async fn a_user_secret_goes_through_the_whole_flow(app) {
        app.octo_org().await;
        app.create_org("other-org").await;
        app.add_repo("other-org", "tools").await;
        app.set_role("other-org", "mona", "outside_collaborator").await;
        let mona = app.user_token("mona").await;
        let (a, tools) = (repo_id(&app, "octo-org", "repo-a").await, repo_id(&app, "other-org", "tools").await);
        let created = put_secret(&app, USER, &mona, "gh_pat", "v1",
            json!({ "selected_repository_ids": [a, tools] })).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        assert_eq!(put_secret(&app, USER, &mona, "GH_PAT", "v2", json!({})).await.status, StatusCode::NO_CONTENT);
        let secret = app.get(&format!("{USER}/GH_PAT"), &mona).await;
        assert_eq!(secret.body["visibility"], "selected");
        assert_eq!(secret.body["selected_repositories_url"], "/user/codespaces/secrets/GH_PAT/repositories");
        let repos = format!("{USER}/GH_PAT/repositories");
        let listed = app.get(&repos, &mona).await;
        assert_eq!(listed.body["total_count"], 2);
        assert_eq!(listed.body["repositories"][1]["full_name"], "other-org/tools");
        assert_eq!(app.put(&repos, &mona, Some(json!({ "selected_repository_ids": [] }))).await.status,
            StatusCode::NO_CONTENT);
        assert_eq!(app.put(&format!("{repos}/{tools}"), &mona, None).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get(&repos, &mona).await.body["repositories"][0]["id"], tools);
        assert_eq!(app.delete(&format!("{repos}/{tools}"), &mona).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get(&repos, &mona).await.body["total_count"], 0);
        let other = app.user_token("octocat").await;
        assert!(names(&app, USER, &other).await.is_empty(), "each user has their own");
        assert_eq!(app.delete(&format!("{USER}/GH_PAT"), &mona).await.status, StatusCode::NO_CONTENT);
        assert!(names(&app, USER, &mona).await.is_empty());
    }

    async fn each_level_has_its_own_key_and_keeps_it(app) {
        app.octo_org().await;
        let mona = app.user_token("mona").await;
        let org = public_key(&app, ORG, &app.admin).await;
        assert_eq!(public_key(&app, ORG, &app.admin).await, org, "created once, then kept");
        let repo = public_key(&app, REPO, &app.admin).await;
        let user = public_key(&app, USER, &mona).await;
        assert!(org != repo && repo != user && org != user);
        assert!(org.0.chars().all(|c| c.is_ascii_digit()), "numeric key ids, as GitHub's");
    }

    async fn org_and_repository_secrets_are_for_owners_and_site_admins(app) {
        app.octo_org().await;
        let member = app.user_token("mona").await;
        let stranger = app.user_token("stranger").await;
        let service = app.service_token().await;
        for base in [ORG, REPO] {
            for path in [base.to_string(), format!("{base}/public-key"), format!("{base}/X")] {
                assert_eq!(app.request(Method::GET, &path, None, None).await.status, StatusCode::UNAUTHORIZED);
                assert_eq!(app.get(&path, "bip_not_a_token").await.status, StatusCode::UNAUTHORIZED);
                assert_eq!(app.get(&path, &member).await.status, StatusCode::FORBIDDEN, "{path}");
                assert_eq!(app.get(&path, &service).await.status, StatusCode::FORBIDDEN, "{path}");
                let hidden = app.get(&path, &stranger).await;
                assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{path}");
                assert!(!hidden.raw.windows(8).any(|w| w == b"octo-org"));
            }
            assert_eq!(app.get(&format!("{base}/public-key"), &app.admin).await.status, StatusCode::OK);
            let put = put_secret(&app, base, &app.admin, "X", "v", json!({ "visibility": "all" })).await;
            assert!(put.status.is_success() || put.status == StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(app.delete(&format!("{base}/X"), &member).await.status, StatusCode::FORBIDDEN);
        }
    }

    async fn user_secrets_are_for_the_user_alone(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        for path in [USER.to_string(), format!("{USER}/public-key"), format!("{USER}/X")] {
            assert_eq!(app.request(Method::GET, &path, None, None).await.status, StatusCode::UNAUTHORIZED);
            assert_eq!(app.get(&path, &app.admin).await.status, StatusCode::FORBIDDEN, "{path}");
            assert_eq!(app.get(&path, &service).await.status, StatusCode::FORBIDDEN, "{path}");
        }
        let put = app.put(&format!("{USER}/X"), &app.admin,
            Some(json!({ "encrypted_value": "", "key_id": "1" }))).await;
        assert_eq!(put.status, StatusCode::FORBIDDEN);
    }
}
