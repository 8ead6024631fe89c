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
