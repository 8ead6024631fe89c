//! A start re-applies what the policies in force now say of the machine type, the idle
//! timeout and the port visibility, for a codespace the org pays for; never the retention.

use axum::http::StatusCode;
use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestDatabase};
use crate::life_support::*;

/// Runs `sql` (binding the codespace id) on the test app's own database.
async fn execute(app: &TestApp, sql: &str, id: &str) {
    use sqlx::Connection;
    match &app.database {
        TestDatabase::Postgres(options) => {
            let mut conn = sqlx::PgConnection::connect_with(options).await.unwrap();
            sqlx::query(sql).bind(id).execute(&mut conn).await.unwrap();
        }
        TestDatabase::Sqlite(url) => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query(sql).bind(id).execute(&mut conn).await.unwrap();
        }
    }
}

crate::clocked_tests! {
    async fn a_machine_a_policy_now_refuses_is_a_400_and_the_codespace_stays_stopped(app, _clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({})).await;
        let stopped = stopped(&app, &service, &codespace).await;
        policy(&app, "Bigger machines", json!({ "machine_types": { "allowed_values": [MEDIUM] } })).await;

        let refused = start(&app, &service, &codespace, None).await;
        assert_error(&refused, StatusCode::BAD_REQUEST, &format!(
            "Machine type '{SMALL}' is not allowed based on the organization policy 'Bigger machines' set by your organization administrator."));
        assert_eq!(ok(app.get(&path(&codespace, ""), &service).await), stopped, "nothing changed");
        let audited: Vec<Value> = codespace_entries(&app).await;
        assert_eq!(audited[0]["action"], "codespace.stop", "a refused start is no change");

        let moved = ok(start(&app, &service, &codespace, Some(json!({ "machine": MEDIUM }))).await);
        assert_eq!(moved["machine"], MEDIUM);
        assert_eq!(moved["state"], "Available");
        let entry = &codespace_entries(&app).await[0];
        assert_eq!((&entry["before"]["machine"], &entry["after"]["machine"]), (&json!(SMALL), &json!(MEDIUM)));
    }

    async fn a_machine_named_in_the_body_must_be_allowed_too(app, _clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({})).await;
        stopped(&app, &service, &codespace).await;
        policy(&app, "Small only", json!({ "machine_types": { "allowed_values": [SMALL] } })).await;
        policy(&app, "Also small", json!({ "machine_types": { "allowed_values": [SMALL, "premiumLinux"] } })).await;
        let refused = start(&app, &service, &codespace, Some(json!({ "machine": MEDIUM }))).await;
        assert_error(&refused, StatusCode::BAD_REQUEST, &format!(
            "Machine type '{MEDIUM}' is not allowed based on the organization policies 'Small only' and 'Also small' set by your organization administrator."));
        assert_eq!(ok(app.get(&path(&codespace, ""), &service).await)["state"], "Shutdown");
    }

    async fn the_idle_timeout_is_capped_again_from_the_users_own_choice(app, _clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({ "idle_timeout_minutes": 120 })).await;
        assert_eq!(codespace["idle_timeout_minutes"], 120);
        stopped(&app, &service, &codespace).await;
        let strict = policy(&app, "Short idle", json!({ "max_idle_timeout_minutes": { "value": 45 } })).await;

        let capped = ok(start(&app, &service, &codespace, None).await);
        assert_eq!(capped["idle_timeout_minutes"], 45);
        assert_eq!(capped["idle_timeout_notice"],
            "Idle timeout for this codespace is set to 45 minutes in compliance with your organization's policy.");

        stopped(&app, &service, &codespace).await;
        delete_policy(&app, &strict).await;
        let lifted = ok(start(&app, &service, &codespace, None).await);
        assert_eq!(lifted["idle_timeout_minutes"], 120, "the user's choice again");
        assert_eq!(lifted["idle_timeout_notice"], Value::Null);
    }

    async fn ports_whose_visibility_is_no_longer_allowed_become_private(app, _clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({})).await;
        for (port, visibility) in [("3000", "public"), ("8080", "org"), ("22", "private")] {
            ok(set_port(&app, &service, &codespace, port, json!({ "visibility": visibility })).await);
        }
        stopped(&app, &service, &codespace).await;
        policy(&app, "No public ports", json!({ "port_visibility": { "allowed_values": ["org"] } })).await;

        let started = ok(start(&app, &service, &codespace, None).await);
        assert_eq!(started["ports"], json!([
            { "port": 22, "visibility": "private" },
            { "port": 3000, "visibility": "private" },
            { "port": 8080, "visibility": "org" } ]));
    }

    async fn the_retention_period_is_never_re_applied(app, clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({ "retention_period_minutes": 1440 })).await;
        stopped(&app, &service, &codespace).await;
        policy(&app, "Delete at once", json!({ "max_retention_period_days": { "value": 0 } })).await;
        let started = ok(start(&app, &service, &codespace, None).await);
        assert_eq!(started["retention_period_minutes"], 1440);
        clock.advance(Duration::hours(1));
        let again = stopped(&app, &service, &codespace).await;
        assert_eq!(again["retention_expires_at"], minutes_after(&clock, 1440));
    }

    async fn a_codespace_the_org_does_not_pay_for_starts_whatever_the_policies_say(app, _clock) {
        let service = arrange(&app).await;
        let own = create_for(&app, &service, "stranger", json!({ "idle_timeout_minutes": 90 })).await;
        assert_eq!(own["billable_owner"], "stranger");
        ok(set_port(&app, &service, &own, "3000", json!({ "visibility": "public" })).await);
        stopped(&app, &service, &own).await;
        policy(&app, "Strict", json!({ "machine_types": { "allowed_values": [MEDIUM] },
            "max_idle_timeout_minutes": { "value": 5 }, "port_visibility": { "allowed_values": [] } })).await;
        let started = ok(start(&app, &service, &own, None).await);
        assert_eq!(started["machine"], SMALL);
        assert_eq!(started["idle_timeout_minutes"], 90);
        assert_eq!(started["ports"], json!([{ "port": 3000, "visibility": "public" }]));
    }

    async fn a_codespace_without_a_machine_starts_on_the_smallest_allowed_one(app, _clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({})).await;
        stopped(&app, &service, &codespace).await;
        // As a codespace created before machine types were kept.
        execute(&app, "UPDATE codespaces SET machine = NULL WHERE id = $1",
            codespace["id"].as_str().unwrap()).await;
        assert_eq!(ok(app.get(&path(&codespace, ""), &service).await)["machine"], Value::Null);
        policy(&app, "Mid-size", json!({ "machine_types":
            { "allowed_values": ["premiumLinux", MEDIUM] } })).await;
        let started = ok(start(&app, &service, &codespace, None).await);
        assert_eq!(started["machine"], MEDIUM);
    }

    async fn a_start_after_a_policy_edit_was_acknowledged_judges_by_the_edit(app, _clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({})).await;
        let rule = policy(&app, "Machines", json!({ "machine_types": { "allowed_values": [SMALL] } })).await;
        let rule = format!("/orgs/octo-org/codespaces/policies/{}", rule["id"]);
        let mut running_on = SMALL;
        for allowed in [MEDIUM, SMALL, MEDIUM] {
            stopped(&app, &service, &codespace).await;
            let edit = app.patch(&rule, &app.admin,
                json!({ "constraints": { "machine_types": { "allowed_values": [allowed] } } })).await;
            assert_eq!(edit.status, StatusCode::OK, "{:?}", edit.body);
            let refused = start(&app, &service, &codespace, None).await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{:?}", refused.body);
            assert!(refused.body["message"].as_str().unwrap().contains(running_on));
            let moved = ok(start(&app, &service, &codespace, Some(json!({ "machine": allowed }))).await);
            assert_eq!(moved["machine"], allowed);
            running_on = allowed;
        }
    }
}
