use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::backend_tests;

backend_tests! {
    async fn a_site_admin_creates_an_org_once(app) {
        let created = app.post("/orgs", &app.admin, json!({ "login": "Octo-Org" })).await;
        assert_eq!(created.status, StatusCode::CREATED);
        assert_eq!(created.body["login"], "Octo-Org");
        assert!(created.body["id"].as_i64().is_some());
        let again = app.post("/orgs", &app.admin, json!({ "login": "octo-org" })).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "logins compare case-insensitively");
        let fetched = app.get("/orgs/OCTO-ORG", &app.admin).await;
        assert_eq!(fetched.status, StatusCode::OK);
        assert_eq!(fetched.body["login"], "Octo-Org", "returned as first written");
    }

    async fn org_logins_are_validated(app) {
        for login in ["", "a b", "a/b", &"a".repeat(101)] {
            let response = app.post("/orgs", &app.admin, json!({ "login": login })).await;
            assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{login:?}");
            assert_eq!(response.body["errors"][0]["field"], "login");
        }
    }

    async fn only_site_admins_create_orgs(app) {
        let user = app.user_token("mona").await;
        let response = app.post("/orgs", &user, json!({ "login": "x" })).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN);
        let service = app.service_token().await;
        let response = app.post("/orgs", &service, json!({ "login": "x" })).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN);
    }

    async fn members_see_the_org_and_strangers_do_not(app) {
        app.octo_org().await;
        let member = app.user_token("mona").await;
        let stranger = app.user_token("stranger").await;
        assert_eq!(app.get("/orgs/octo-org", &member).await.status, StatusCode::OK);
        assert_eq!(app.get("/orgs/octo-org/repos", &member).await.status, StatusCode::OK);
        let hidden = app.get("/orgs/octo-org", &stranger).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND);
        assert_eq!(hidden.body["message"], "Not Found");
        assert_eq!(app.get("/orgs/no-such-org", &app.admin).await.status, StatusCode::NOT_FOUND);
    }

    async fn putting_a_repository_answers_201_then_200(app) {
        app.create_org("octo-org").await;
        let first = app.put("/orgs/octo-org/repos/Repo-A", &app.admin, None).await;
        assert_eq!(first.status, StatusCode::CREATED);
        assert_eq!(first.body["name"], "Repo-A");
        assert_eq!(first.body["full_name"], "octo-org/Repo-A");
        let second = app.put("/orgs/octo-org/repos/repo-a", &app.admin, None).await;
        assert_eq!(second.status, StatusCode::OK);
        assert_eq!(second.body["id"], first.body["id"]);
        let bad = app.put("/orgs/octo-org/repos/bad%20name", &app.admin, None).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn owners_manage_repositories_and_members_may_not(app) {
        app.octo_org().await;
        let owner = app.user_token("octocat").await;
        let member = app.user_token("mona").await;
        assert_eq!(app.put("/orgs/octo-org/repos/new", &owner, None).await.status, StatusCode::CREATED);
        assert_eq!(app.put("/orgs/octo-org/repos/other", &member, None).await.status, StatusCode::FORBIDDEN);
        let list = app.get("/orgs/octo-org/repos?per_page=2", &member).await;
        assert_eq!(list.body["total_count"], 3);
        assert_eq!(list.body["repositories"].as_array().unwrap().len(), 2);
        assert_eq!(list.body["repositories"][0]["name"], "new");
    }

    async fn memberships_are_set_changed_and_removed(app) {
        app.octo_org().await;
        let owner = app.user_token("octocat").await;
        let set = app.put("/orgs/octo-org/memberships/NewUser", &owner, Some(json!({ "role": "member" }))).await;
        assert_eq!(set.status, StatusCode::OK);
        assert_eq!(set.body, json!({ "organization": "octo-org", "username": "NewUser", "role": "member" }));
        let newcomer = app.user_token("newuser").await;
        assert_eq!(app.get("/orgs/octo-org", &newcomer).await.status, StatusCode::OK);

        let promoted = app.put("/orgs/octo-org/memberships/newuser", &owner, Some(json!({ "role": "owner" }))).await;
        assert_eq!(promoted.body["role"], "owner");
        assert_eq!(promoted.body["username"], "NewUser");
        assert_eq!(app.get("/orgs/octo-org/codespaces/policies", &newcomer).await.status, StatusCode::OK);

        let removed = app.delete("/orgs/octo-org/memberships/newuser", &owner).await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get("/orgs/octo-org", &newcomer).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.delete("/orgs/octo-org/memberships/newuser", &owner).await.status, StatusCode::NOT_FOUND);
    }

    async fn membership_roles_are_validated_and_members_cannot_change_them(app) {
        app.octo_org().await;
        let bad = app.put("/orgs/octo-org/memberships/x", &app.admin, Some(json!({ "role": "admin" }))).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let member = app.user_token("mona").await;
        let denied = app.put("/orgs/octo-org/memberships/mona", &member, Some(json!({ "role": "owner" }))).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        assert_eq!(app.delete("/orgs/octo-org/memberships/octocat", &member).await.status, StatusCode::FORBIDDEN);
    }

    async fn billing_defaults_to_members_and_can_be_changed(app) {
        app.octo_org().await;
        let billing = app.get("/orgs/octo-org/codespaces/billing", &app.admin).await;
        assert_eq!(billing.body, json!({ "mode": "members", "selected_usernames": [] }));
        let owner = app.user_token("octocat").await;
        let set = app.put("/orgs/octo-org/codespaces/billing", &owner, Some(json!({
            "mode": "selected_members", "selected_usernames": ["mona", "Hubot"]
        }))).await;
        assert_eq!(set.status, StatusCode::OK);
        assert_eq!(set.body, json!({ "mode": "selected_members", "selected_usernames": ["Hubot", "mona"] }));
        let disabled = app.put("/orgs/octo-org/codespaces/billing", &owner, Some(json!({ "mode": "disabled" }))).await;
        assert_eq!(disabled.body, json!({ "mode": "disabled", "selected_usernames": [] }));
    }

    async fn billing_input_is_validated_and_members_cannot_change_it(app) {
        app.octo_org().await;
        for body in [
            json!({ "mode": "everyone" }),
            json!({ "mode": "members", "selected_usernames": ["mona"] }),
            json!({ "mode": "selected_members", "selected_usernames": ["bad name"] }),
        ] {
            let response = app.put("/orgs/octo-org/codespaces/billing", &app.admin, Some(body.clone())).await;
            assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        }
        let member = app.user_token("mona").await;
        let response = app.request(Method::PUT, "/orgs/octo-org/codespaces/billing", Some(&member),
            Some(json!({ "mode": "disabled" }))).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN);
        let billing = app.get("/orgs/octo-org/codespaces/billing", &app.admin).await;
        assert_eq!(billing.body["mode"], "members", "nothing changed");
    }
}
