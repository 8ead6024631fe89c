//! The other constraints as the dry runs and authoring views show them: evaluate, the
//! effective policy, preflight and the warnings.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::TestApp;

async fn arrange(app: &TestApp) -> (Value, Value) {
    app.octo_org().await;
    let org = app.create_policy("octo-org", json!({ "name": "Org", "target": "all_repositories",
        "constraints": {
            "machine_types": { "allowed_values": ["basicLinux32gb", "standardLinux32gb", "premiumLinux"] },
            "max_codespaces_per_user": { "value": 1 },
            "max_idle_timeout_minutes": { "value": 60 },
            "port_visibility": { "allowed_values": ["org", "public"] } } })).await;
    let repo_a = app
        .create_policy(
            "octo-org",
            json!({ "name": "Repo A",
        "target": "selected_repositories", "repositories": ["repo-a"],
        "constraints": {
            "machine_types": { "allowed_values": ["premiumLinux", "standardLinux32gb"] },
            "max_idle_timeout_minutes": { "value": 30 },
            "max_retention_period_days": { "value": 3 },
            "port_visibility": { "allowed_values": ["org"] } } }),
        )
        .await;
    (org, repo_a)
}

backend_tests! {
    async fn evaluate_shows_the_combined_constraints_and_judges_a_machine(app) {
        let (org, repo_a) = arrange(&app).await;
        let (org, repo_a) = (org["id"].as_i64().unwrap(), repo_a["id"].as_i64().unwrap());
        let path = "/orgs/octo-org/codespaces/policies/evaluate";
        let verdict = app.post(path, &app.admin, json!({ "repository": "repo-a",
            "image": "node:18", "machine": "basicLinux32gb" })).await;
        assert_eq!(verdict.status, StatusCode::OK, "{:?}", verdict.body);
        assert_eq!(verdict.body["allowed"], false);
        assert_eq!(verdict.body["message"],
            "Machine type 'basicLinux32gb' is not allowed based on the organization policy 'Repo A' set by your organization administrator.");
        assert_eq!(verdict.body["machine"], json!({ "name": "basicLinux32gb", "allowed": false,
            "refused_by": [repo_a], "message": verdict.body["message"] }));
        assert_eq!(verdict.body["constraints"], json!({
            "machine_types": { "allowed_values": ["standardLinux32gb", "premiumLinux"],
                "policies": [org, repo_a] },
            "max_codespaces_per_user": { "value": 1, "policy": org },
            "max_idle_timeout_minutes": { "value": 30, "policy": repo_a },
            "max_retention_period_days": { "value": 3, "policy": repo_a },
            "port_visibility": { "allowed_values": ["private", "org"], "policies": [org, repo_a] },
        }));
        let allowed = app.post(path, &app.admin, json!({ "repository": "repo-b",
            "image": "node:18", "machine": "basicLinux32gb" })).await;
        assert_eq!(allowed.body["allowed"], true, "{:?}", allowed.body);
        assert!(allowed.body.get("message").is_none());
        assert_eq!(allowed.body["constraints"]["max_retention_period_days"], Value::Null);
        let unknown = app.post(path, &app.admin, json!({ "repository": "repo-b",
            "image": "node:18", "machine": "quantumLinux" })).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(unknown.body["errors"][0]["field"], "machine");
    }

    async fn the_effective_policy_covers_every_constraint(app) {
        let (_, repo_a) = arrange(&app).await;
        let effective = app.get("/orgs/octo-org/repos/repo-a/codespaces/effective-policy",
            &app.admin).await;
        assert_eq!(effective.status, StatusCode::OK, "{:?}", effective.body);
        assert_eq!(effective.body["constrained"], false);
        let constraints = &effective.body["constraints"];
        assert_eq!(constraints["machine_types"]["allowed_values"],
            json!(["standardLinux32gb", "premiumLinux"]));
        assert_eq!(constraints["max_idle_timeout_minutes"],
            json!({ "value": 30, "policy": repo_a["id"] }));
        assert_eq!(constraints["port_visibility"]["allowed_values"], json!(["private", "org"]));
    }

    async fn preflight_says_what_creation_would_choose_cap_and_refuse(app) {
        arrange(&app).await;
        let path = "/repos/octo-org/repo-a/codespaces/preflight";
        let service = app.service_token().await;
        let body = json!({ "user": "mona", "devcontainer": { "image": "node:18" },
            "idle_timeout_minutes": 120 });
        let ok = app.post(path, &service, body.clone()).await;
        assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
        assert_eq!(ok.body["outcome"], "create");
        assert_eq!(ok.body["machine"], "standardLinux32gb");
        assert_eq!(ok.body["idle_timeout_minutes"], 30);
        assert_eq!(ok.body["retention_period_minutes"], 3 * 24 * 60);
        assert!(ok.body["idle_timeout_notice"].as_str().unwrap().contains("30 minutes"));
        let machine = app.post(path, &service, json!({ "user": "mona",
            "devcontainer": { "image": "node:18" }, "machine": "basicLinux32gb" })).await;
        assert_eq!(machine.body["outcome"], "refuse");
        assert!(machine.body["message"].as_str().unwrap().starts_with("Machine type 'basicLinux32gb'"));
        // Mona's first codespace uses her one allowed; preflight then says creation would refuse.
        let created = app.create_codespace(&service, json!({ "repository": "octo-org/repo-a",
            "user": "mona", "devcontainer": { "image": "node:18" } })).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let full = app.post(path, &service, body).await;
        assert_eq!(full.body["outcome"], "refuse", "{:?}", full.body);
        assert!(full.body["message"].as_str().unwrap().starts_with("You already have the maximum of 1"));
        // Nothing was recorded by the preflights.
        let decisions = app.get("/orgs/octo-org/codespaces/decisions", &app.admin).await;
        assert_eq!(decisions.body["total_count"], 1, "{:?}", decisions.body);
    }

    async fn warnings_name_machine_types_sharing_none_and_a_zero_day_retention(app) {
        app.octo_org().await;
        app.create_policy("octo-org", json!({ "name": "Org", "target": "all_repositories",
            "constraints": { "machine_types": { "allowed_values": ["basicLinux32gb"] } } })).await;
        let created = app.post("/orgs/octo-org/codespaces/policies", &app.admin, json!({
            "name": "Big", "target": "selected_repositories", "repositories": ["repo-a"],
            "constraints": { "machine_types": { "allowed_values": ["premiumLinux"] },
                "max_retention_period_days": { "value": 0 } } })).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let codes: Vec<&str> = created.body["warnings"].as_array().unwrap().iter()
            .map(|w| w["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["zero_retention", "no_effect", "empty_machine_types"], "{:?}", created.body);
        assert_eq!(created.body["warnings"][1]["value"], "premiumLinux");
        assert!(created.body["warnings"][2]["message"].as_str().unwrap().contains("'repo-a'"));
    }

    async fn preview_and_compliance_list_codespaces_whose_machine_a_change_refuses(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let premium = app.create_codespace(&service, json!({ "repository": "octo-org/repo-a",
            "user": "mona", "devcontainer": { "image": "node:18" }, "machine": "premiumLinux" })).await;
        assert_eq!(premium.status, StatusCode::CREATED, "{:?}", premium.body);
        let basic = app.create_codespace(&service, json!({ "repository": "octo-org/repo-a",
            "user": "mona", "devcontainer": { "image": "node:18" } })).await;
        assert_eq!(basic.status, StatusCode::CREATED, "{:?}", basic.body);
        let draft = json!({ "policy": { "name": "Small", "target": "all_repositories",
            "constraints": { "machine_types": { "allowed_values": ["basicLinux32gb"] } } } });
        let preview = app.post("/orgs/octo-org/codespaces/policies/preview", &app.admin, draft).await;
        assert_eq!(preview.status, StatusCode::OK, "{:?}", preview.body);
        let refused = &preview.body["codespaces"]["newly_refused"];
        assert_eq!(refused.as_array().unwrap().len(), 1, "{refused}");
        assert_eq!(refused[0]["id"], premium.body["id"]);
        assert_eq!(refused[0]["constraint"], "machine_types");
        // Nothing changed; once the policy is made, compliance lists the same codespace.
        assert_eq!(app.get("/orgs/octo-org/codespaces/compliance", &app.admin).await
            .body["total_count"], 0);
        let policy = app.create_policy("octo-org", json!({ "name": "Small",
            "target": "all_repositories",
            "constraints": { "machine_types": { "allowed_values": ["basicLinux32gb"] } } })).await;
        let compliance = app.get("/orgs/octo-org/codespaces/compliance", &app.admin).await;
        assert_eq!(compliance.body["total_count"], 1, "{:?}", compliance.body);
        let entry = &compliance.body["codespaces"][0];
        assert_eq!(entry["id"], premium.body["id"]);
        assert_eq!(entry["constraint"], "machine_types");
        assert_eq!(entry["refused_by"], json!([policy["id"]]));
    }
}
