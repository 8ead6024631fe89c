//! The five constraints beside base images, as policies hold them: validation (every bad
//! field named, nothing stored), the rule that `max_codespaces_per_user` targets all
//! repositories, and the answer, revision and audit shapes.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::TestApp;

const POLICIES: &str = "/orgs/octo-org/codespaces/policies";

fn every_constraint() -> Value {
    json!({
        "name": "Everything",
        "target": "all_repositories",
        "constraints": {
            "base_images": { "allowed_values": ["node:*"] },
            "machine_types": { "allowed_values": ["basicLinux32gb", "STANDARDLINUX32GB"] },
            "max_codespaces_per_user": { "value": 2 },
            "max_idle_timeout_minutes": { "value": 60 },
            "max_retention_period_days": { "value": 7 },
            "port_visibility": { "allowed_values": ["org"] }
        }
    })
}

/// The field names of a 422.
fn bad_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a 422 names its fields: {body}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn policy_count(app: &TestApp) -> u64 {
    app.get(POLICIES, &app.admin).await.body["total_count"]
        .as_u64()
        .unwrap()
}

backend_tests! {
    async fn a_policy_holds_every_constraint_and_answers_them_as_the_catalog_spells_them(app) {
        app.octo_org().await;
        let created = app.post(POLICIES, &app.admin, every_constraint()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let constraints = &created.body["constraints"];
        assert_eq!(
            constraints["machine_types"]["allowed_values"],
            json!(["basicLinux32gb", "standardLinux32gb"])
        );
        assert_eq!(constraints["max_codespaces_per_user"]["value"], 2);
        assert_eq!(constraints["max_idle_timeout_minutes"]["value"], 60);
        assert_eq!(constraints["max_retention_period_days"]["value"], 7);
        assert_eq!(constraints["port_visibility"]["allowed_values"], json!(["org"]));
        let id = created.body["id"].as_i64().unwrap();
        let read = app.get(&format!("{POLICIES}/{id}"), &app.admin).await;
        assert_eq!(read.body["constraints"], *constraints);
        // The revision and the audit entry keep them too.
        let revisions = app.get(&format!("{POLICIES}/{id}/revisions"), &app.admin).await;
        assert_eq!(revisions.body["revisions"][0]["policy"]["constraints"], *constraints);
        let audit = app.get("/orgs/octo-org/audit-log", &app.admin).await;
        let entry = audit.body["entries"].as_array().unwrap().iter()
            .find(|e| e["action"] == "policy.create").expect("audited").clone();
        assert_eq!(entry["after"]["constraints"]["max_idle_timeout_minutes"]["value"], 60);
    }

    async fn bad_constraints_are_a_422_naming_each_field_and_store_nothing(app) {
        app.octo_org().await;
        let body = json!({
            "name": "Bad", "target": "all_repositories",
            "constraints": {
                "machine_types": { "allowed_values": ["basicLinux32gb", "quantumLinux", "basicLinux32gb"] },
                "max_codespaces_per_user": { "value": 0 },
                "max_idle_timeout_minutes": { "value": 241 },
                "max_retention_period_days": { "value": 31 },
                "port_visibility": { "allowed_values": ["secret"] }
            }
        });
        let refused = app.post(POLICIES, &app.admin, body).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", refused.body);
        assert_eq!(bad_fields(&refused.body), [
            "constraints.machine_types.allowed_values[1]",
            "constraints.machine_types.allowed_values[2]",
            "constraints.max_codespaces_per_user.value",
            "constraints.max_idle_timeout_minutes.value",
            "constraints.max_retention_period_days.value",
            "constraints.port_visibility.allowed_values[0]",
        ]);
        let message = refused.body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("'quantumLinux' is not a machine type"), "{message}");
        let empty = json!({ "name": "Empty", "target": "all_repositories",
            "constraints": { "machine_types": { "allowed_values": [] } } });
        let refused = app.post(POLICIES, &app.admin, empty).await;
        assert_eq!(bad_fields(&refused.body), ["constraints.machine_types.allowed_values"]);
        assert_eq!(policy_count(&app).await, 0);
    }

    async fn a_constraint_given_twice_or_unknown_is_refused_naming_it(app) {
        app.octo_org().await;
        let twice = r#"{"name": "Twice", "target": "all_repositories", "constraints": {
            "max_idle_timeout_minutes": {"value": 30}, "max_idle_timeout_minutes": {"value": 60}}}"#;
        let request = axum::http::Request::post(POLICIES)
            .header("authorization", format!("Bearer {}", app.admin))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(twice))
            .unwrap();
        let response = app.send(request).await;
        assert!(response.status.is_client_error(), "{:?}", response.body);
        let message = response.body["message"].as_str().unwrap_or_default().to_string()
            + &response.body["errors"].to_string();
        assert!(message.contains("max_idle_timeout_minutes"), "{}", response.body);
        let unknown = json!({ "name": "Unknown", "target": "all_repositories",
            "constraints": { "max_gpus": { "value": 1 } } });
        let response = app.post(POLICIES, &app.admin, unknown).await;
        assert!(response.status.is_client_error(), "{:?}", response.body);
        assert!(response.body.to_string().contains("max_gpus"), "{}", response.body);
        // A list in place of the object is refused, not read field by field.
        let listed = json!({ "name": "Listed", "target": "all_repositories",
            "constraints": [null, null] });
        let response = app.post(POLICIES, &app.admin, listed).await;
        assert!(response.status.is_client_error(), "{:?}", response.body);
        assert_eq!(policy_count(&app).await, 0);
    }

    async fn max_codespaces_per_user_must_target_all_repositories_on_create_and_patch(app) {
        app.octo_org().await;
        let selected = json!({ "name": "Per user", "target": "selected_repositories",
            "repositories": ["repo-a"],
            "constraints": { "max_codespaces_per_user": { "value": 1 } } });
        let refused = app.post(POLICIES, &app.admin, selected).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", refused.body);
        assert_eq!(bad_fields(&refused.body), ["target"]);
        assert_eq!(policy_count(&app).await, 0);

        let created = app.create_policy("octo-org", json!({ "name": "Per user",
            "target": "all_repositories",
            "constraints": { "max_codespaces_per_user": { "value": 1 } } })).await;
        let path = format!("{POLICIES}/{}", created["id"]);
        // The seed's note: such a policy cannot be applied to selected repositories.
        let narrowed = app.patch(&path, &app.admin,
            json!({ "target": "selected_repositories", "repositories": ["repo-a"] })).await;
        assert_eq!(narrowed.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", narrowed.body);
        assert_eq!(bad_fields(&narrowed.body), ["target"]);
        let unchanged = app.get(&path, &app.admin).await.body;
        assert_eq!(unchanged["target"], "all_repositories");
        assert_eq!(unchanged["updated_at"], created["updated_at"]);

        // Adding the constraint to a selected-repositories policy is refused the same way.
        let other = app.create_policy("octo-org", json!({ "name": "Images",
            "target": "selected_repositories", "repositories": ["repo-a"],
            "constraints": { "base_images": { "allowed_values": ["node:*"] } } })).await;
        let other_path = format!("{POLICIES}/{}", other["id"]);
        let added = app.patch(&other_path, &app.admin, json!({ "constraints": {
            "base_images": { "allowed_values": ["node:*"] },
            "max_codespaces_per_user": { "value": 3 } } })).await;
        assert_eq!(added.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", added.body);
        assert_eq!(bad_fields(&added.body), ["target"]);
        let after = app.get(&other_path, &app.admin).await.body;
        assert!(after["constraints"].get("max_codespaces_per_user").is_none(), "{after}");
    }

    async fn a_patch_of_constraints_replaces_them_all_and_other_patches_keep_them(app) {
        app.octo_org().await;
        let created = app.create_policy("octo-org", every_constraint()).await;
        let path = format!("{POLICIES}/{}", created["id"]);
        let renamed = app.patch(&path, &app.admin, json!({ "name": "Renamed" })).await;
        assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
        assert_eq!(renamed.body["constraints"], created["constraints"]);
        let replaced = app.patch(&path, &app.admin, json!({ "constraints": {
            "max_idle_timeout_minutes": { "value": 15 } } })).await;
        assert_eq!(replaced.status, StatusCode::OK, "{:?}", replaced.body);
        assert_eq!(replaced.body["constraints"], json!({ "max_idle_timeout_minutes": { "value": 15 } }));
        // Now it can target selected repositories.
        let narrowed = app.patch(&path, &app.admin,
            json!({ "target": "selected_repositories", "repositories": ["repo-a"] })).await;
        assert_eq!(narrowed.status, StatusCode::OK, "{:?}", narrowed.body);
    }
}
