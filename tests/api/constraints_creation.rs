//! Creation and full rebuild under the other constraints: the machine chosen or refused,
//! `hostRequirements`, idle timeout and retention capped with the notice, and the per-user
//! count; only for codespaces the org pays for.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::TestApp;

const IMAGE: &str = "node:18";

fn request(extra: Value) -> Value {
    let mut body = json!({ "repository": "octo-org/repo-a", "user": "mona",
        "devcontainer": { "image": IMAGE } });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    body
}

async fn constrain(app: &TestApp, name: &str, constraints: Value) -> Value {
    app.create_policy(
        "octo-org",
        json!({ "name": name, "target": "all_repositories",
        "constraints": constraints }),
    )
    .await
}

backend_tests! {
    async fn a_codespace_gets_the_smallest_machine_and_the_default_limits(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let created = app.create_codespace(&service, request(json!({}))).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let codespace = &created.body;
        assert_eq!(codespace["machine"], "basicLinux32gb");
        assert_eq!(codespace["state"], "Available");
        assert_eq!(codespace["idle_timeout_minutes"], 30);
        assert_eq!(codespace["idle_timeout_notice"], Value::Null);
        assert_eq!(codespace["retention_period_minutes"], 43_200);
        assert_eq!(codespace["retention_expires_at"], Value::Null);
        assert_eq!(codespace["ports"], json!([]));
        let read = app.get(&format!("/codespaces/{}", codespace["id"].as_str().unwrap()), &service).await;
        assert_eq!(read.body["machine"], "basicLinux32gb");
    }

    async fn a_machine_the_policies_do_not_allow_is_a_400_naming_it_and_the_policy(app) {
        app.octo_org().await;
        constrain(&app, "Small machines", json!({
            "machine_types": { "allowed_values": ["basicLinux32gb", "standardLinux32gb"] } })).await;
        let service = app.service_token().await;
        let refused = app.create_codespace(&service, request(json!({ "machine": "premiumLinux" }))).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{:?}", refused.body);
        assert_eq!(refused.body["message"],
            "Machine type 'premiumLinux' is not allowed based on the organization policy 'Small machines' set by your organization administrator.");
        let listed = app.get("/orgs/octo-org/codespaces", &app.admin).await;
        assert_eq!(listed.body["total_count"], 0);
        let allowed = app.create_codespace(&service, request(json!({ "machine": "standardlinux32GB" }))).await;
        assert_eq!(allowed.status, StatusCode::CREATED, "{:?}", allowed.body);
        assert_eq!(allowed.body["machine"], "standardLinux32gb");
        // The refusal is in the decision log, naming the policy.
        let decisions = app.get("/orgs/octo-org/codespaces/decisions?outcome=refused", &app.admin).await;
        assert_eq!(decisions.body["total_count"], 1, "{:?}", decisions.body);
    }

    async fn host_requirements_choose_the_machine_or_refuse_when_none_allowed_meets_them(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let needs = |memory: &str| request(json!({ "devcontainer": { "image": IMAGE,
            "hostRequirements": { "cpus": 4, "memory": memory } } }));
        let created = app.create_codespace(&service, needs("16gb")).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        assert_eq!(created.body["machine"], "standardLinux32gb");
        constrain(&app, "Two cores", json!({
            "machine_types": { "allowed_values": ["basicLinux32gb"] } })).await;
        let refused = app.create_codespace(&service, needs("16gb")).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{:?}", refused.body);
        assert_eq!(refused.body["message"],
            "No machine type allowed based on the organization policy 'Two cores' set by your organization administrator meets this configuration's hostRequirements (4 cpus, 16gb memory).");
        let unreadable = app.create_codespace(&service, needs("8 gigs")).await;
        assert_eq!(unreadable.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", unreadable.body);
        assert_eq!(unreadable.body["errors"][0]["field"], "devcontainer.hostRequirements.memory");
    }

    async fn unknown_machines_and_choices_out_of_range_are_422s_naming_the_field(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        for (extra, field) in [
            (json!({ "machine": "quantumLinux" }), "machine"),
            (json!({ "idle_timeout_minutes": 4 }), "idle_timeout_minutes"),
            (json!({ "idle_timeout_minutes": 241 }), "idle_timeout_minutes"),
            (json!({ "retention_period_minutes": -1 }), "retention_period_minutes"),
            (json!({ "retention_period_minutes": 43_201 }), "retention_period_minutes"),
        ] {
            let refused = app.create_codespace(&service, request(extra.clone())).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{extra}: {:?}", refused.body);
            assert_eq!(refused.body["errors"][0]["field"], field, "{extra}");
        }
        let listed = app.get("/orgs/octo-org/codespaces", &app.admin).await;
        assert_eq!(listed.body["total_count"], 0);
        // A plain rebuild applies none of them, but checks them all the same.
        let created = app.create_codespace(&service, request(json!({}))).await;
        let rebuild = format!("/codespaces/{}/rebuild", created.body["id"].as_str().unwrap());
        let plain = app.post(&rebuild, &service, json!({ "retention_period_minutes": 43_201 })).await;
        assert_eq!(plain.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", plain.body);
        assert_eq!(plain.body["errors"][0]["field"], "retention_period_minutes");
    }

    async fn idle_timeout_and_retention_are_capped_silently_with_the_notice(app) {
        app.octo_org().await;
        constrain(&app, "Short", json!({ "max_idle_timeout_minutes": { "value": 60 },
            "max_retention_period_days": { "value": 2 } })).await;
        constrain(&app, "Shorter", json!({ "max_idle_timeout_minutes": { "value": 45 } })).await;
        let service = app.service_token().await;
        let created = app.create_codespace(&service, request(json!({
            "idle_timeout_minutes": 120, "retention_period_minutes": 10_000 }))).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        assert_eq!(created.body["idle_timeout_minutes"], 45);
        assert_eq!(created.body["idle_timeout_notice"],
            "Idle timeout for this codespace is set to 45 minutes in compliance with your organization's policy.");
        assert_eq!(created.body["retention_period_minutes"], 2 * 24 * 60);
        // A smaller choice of the user's own stands, and nothing is said.
        let own = app.create_codespace(&service, request(json!({ "idle_timeout_minutes": 20.0 }))).await;
        assert_eq!(own.status, StatusCode::CREATED, "a whole number written as 20.0: {:?}", own.body);
        assert_eq!(own.body["idle_timeout_minutes"], 20);
        assert_eq!(own.body["idle_timeout_notice"], Value::Null);
        let fraction = app.create_codespace(&service, request(json!({ "idle_timeout_minutes": 20.5 }))).await;
        assert!(fraction.status.is_client_error(), "{:?}", fraction.body);
    }

    async fn a_user_at_max_codespaces_per_user_is_refused_and_others_are_not(app) {
        app.octo_org().await;
        app.set_role("octo-org", "hubot", "member").await;
        constrain(&app, "Two each", json!({ "max_codespaces_per_user": { "value": 2 } })).await;
        let service = app.service_token().await;
        for _ in 0..2 {
            let created = app.create_codespace(&service, request(json!({}))).await;
            assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        }
        // Counted in any case and across repositories.
        let third = app.create_codespace(&service, json!({ "repository": "octo-org/repo-b",
            "user": "MONA", "devcontainer": { "image": IMAGE } })).await;
        assert_eq!(third.status, StatusCode::BAD_REQUEST, "{:?}", third.body);
        assert_eq!(third.body["message"],
            "You already have the maximum of 2 codespaces billed to this organization allowed by the organization policy 'Two each' set by your organization administrator.");
        let other = app.create_codespace(&service, json!({ "repository": "octo-org/repo-a",
            "user": "hubot", "devcontainer": { "image": IMAGE } })).await;
        assert_eq!(other.status, StatusCode::CREATED, "{:?}", other.body);
        // A codespace the user pays for counts for nothing and is not limited.
        let outsider = "outsider";
        app.set_role("octo-org", outsider, "outside_collaborator").await;
        for _ in 0..3 {
            let created = app.create_codespace(&service, json!({ "repository": "octo-org/repo-a",
                "user": outsider, "devcontainer": { "image": IMAGE } })).await;
            assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
            assert_eq!(created.body["billable_owner"], outsider);
        }
        let listed = app.get("/orgs/octo-org/codespaces", &app.admin).await;
        assert_eq!(listed.body["total_count"], 6);
    }

    async fn constraints_do_not_apply_to_codespaces_the_org_does_not_pay_for(app) {
        app.octo_org().await;
        constrain(&app, "Small", json!({ "machine_types": { "allowed_values": ["basicLinux32gb"] },
            "max_idle_timeout_minutes": { "value": 10 } })).await;
        app.set_role("octo-org", "outsider", "outside_collaborator").await;
        let service = app.service_token().await;
        let created = app.create_codespace(&service, json!({ "repository": "octo-org/repo-a",
            "user": "outsider", "devcontainer": { "image": IMAGE }, "machine": "premiumLinux",
            "idle_timeout_minutes": 90 })).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        assert_eq!(created.body["machine"], "premiumLinux");
        assert_eq!(created.body["idle_timeout_minutes"], 90);
    }

    async fn a_report_only_policy_constrains_nothing(app) {
        app.octo_org().await;
        app.create_policy("octo-org", json!({ "name": "Trial", "target": "all_repositories",
            "enforcement": "report",
            "constraints": { "machine_types": { "allowed_values": ["basicLinux32gb"] },
                "max_codespaces_per_user": { "value": 1 } } })).await;
        let service = app.service_token().await;
        for _ in 0..2 {
            let created = app.create_codespace(&service, request(json!({ "machine": "premiumLinux" }))).await;
            assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        }
    }

    async fn a_full_rebuild_applies_the_machine_types_in_force_now(app) {
        app.octo_org().await;
        let service = app.service_token().await;
        let created = app.create_codespace(&service, request(json!({ "machine": "premiumLinux" }))).await;
        let id = created.body["id"].as_str().unwrap().to_string();
        constrain(&app, "Small", json!({ "machine_types": { "allowed_values": ["basicLinux32gb"] } })).await;
        // The existing codespace is unchanged until rebuilt.
        let read = app.get(&format!("/codespaces/{id}"), &service).await;
        assert_eq!(read.body["machine"], "premiumLinux");
        let rebuild = format!("/codespaces/{id}/rebuild");
        let refused = app.post(&rebuild, &service, json!({ "full": true,
            "devcontainer": { "image": IMAGE }, "machine": "premiumLinux" })).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{:?}", refused.body);
        assert!(refused.body["message"].as_str().unwrap().starts_with("Machine type 'premiumLinux'"));
        let rebuilt = app.post(&rebuild, &service, json!({ "full": true,
            "devcontainer": { "image": IMAGE } })).await;
        assert_eq!(rebuilt.status, StatusCode::OK, "{:?}", rebuilt.body);
        assert_eq!(rebuilt.body["machine"], "basicLinux32gb");
    }
}
