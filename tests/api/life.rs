//! `POST /codespaces/{id}/stop`, `POST /codespaces/{id}/start` and `DELETE /codespaces/{id}`:
//! what each changes, what a repeated one does, unknown ids, who may call, and the audit log.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use serde_json::{json, Value};

use crate::life_support::*;

const UNKNOWN: &str = "cs_01JD00000000000000000000ZZ";

crate::clocked_tests! {
    async fn a_stop_shuts_the_codespace_down_until_its_retention_period_has_passed(app, clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({ "retention_period_minutes": 90 })).await;
        assert_eq!(codespace["state"], "Available");
        assert_eq!(codespace["retention_expires_at"], Value::Null);

        let stopped = stopped(&app, &service, &codespace).await;
        assert_eq!(stopped["retention_expires_at"], minutes_after(&clock, 90));
        assert_eq!(stopped["retention_period_minutes"], 90);
        assert_eq!(stopped["machine"], SMALL);
        assert_eq!(stopped["id"], codespace["id"]);
        assert_eq!(ok(app.get(&path(&codespace, ""), &service).await), stopped);

        clock.advance(Duration::minutes(30));
        let again = ok(stop(&app, &service, &codespace).await);
        assert_eq!(again, stopped, "a second stop changes nothing, its deadline included");
    }

    async fn a_start_runs_it_again_and_clears_the_deadline(app, clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({ "idle_timeout_minutes": 60 })).await;
        stopped(&app, &service, &codespace).await;
        clock.advance(Duration::minutes(5));

        let started = ok(start(&app, &service, &codespace, None).await);
        assert_eq!(started["state"], "Available");
        assert_eq!(started["retention_expires_at"], Value::Null);
        assert_eq!(started["machine"], SMALL);
        assert_eq!(started["idle_timeout_minutes"], 60);
        assert_eq!(started["idle_timeout_notice"], Value::Null);
        assert_eq!(started["image"], codespace["image"]);
        assert_eq!(ok(app.get(&path(&codespace, ""), &service).await), started);

        let again = ok(start(&app, &service, &codespace, Some(json!({}))).await);
        assert_eq!(again, started, "starting a running codespace changes nothing");
        let same_machine = start(&app, &service, &codespace, Some(json!({ "machine": SMALL }))).await;
        assert_eq!(ok(same_machine), started);
    }

    async fn a_running_codespace_is_not_moved_to_another_machine(app, _clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({})).await;
        let moved = start(&app, &service, &codespace, Some(json!({ "machine": MEDIUM }))).await;
        assert_error(&moved, StatusCode::CONFLICT, &format!(
            "The codespace is running; stop it before changing its machine type to '{MEDIUM}'."));
        assert_eq!(ok(app.get(&path(&codespace, ""), &service).await)["machine"], SMALL);
    }

    async fn a_start_takes_only_a_catalog_machine_and_changes_nothing_otherwise(app, _clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({})).await;
        let stopped = stopped(&app, &service, &codespace).await;
        for machine in [json!("hugeLinux"), json!(5), json!("")] {
            let refused = start(&app, &service, &codespace, Some(json!({ "machine": machine }))).await;
            assert_invalid(&refused, "machine");
            assert!(refused.body["message"].as_str().unwrap().contains(SMALL), "{:?}", refused.body);
        }
        let unknown_field = start(&app, &service, &codespace, Some(json!({ "size": "big" }))).await;
        assert_invalid(&unknown_field, "body");
        assert_eq!(ok(app.get(&path(&codespace, ""), &service).await), stopped);
        // A catalog name is matched regardless of case and kept as the catalog spells it.
        let started = start(&app, &service, &codespace, Some(json!({ "machine": "STANDARDlinux32GB" }))).await;
        assert_eq!(ok(started)["machine"], MEDIUM);
    }

    async fn a_delete_answers_204_and_the_codespace_is_gone_for_every_action(app, _clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({})).await;
        let kept = create(&app, &service, json!({})).await;
        let deleted = app.delete(&path(&codespace, ""), &service).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        assert!(deleted.raw.is_empty());

        assert_eq!(app.get(&path(&codespace, ""), &service).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.delete(&path(&codespace, ""), &service).await.status, StatusCode::NOT_FOUND);
        assert_eq!(start(&app, &service, &codespace, None).await.status, StatusCode::NOT_FOUND);
        assert_eq!(stop(&app, &service, &codespace).await.status, StatusCode::NOT_FOUND);
        let port = set_port(&app, &service, &codespace, "3000", json!({ "visibility": "private" })).await;
        assert_eq!(port.status, StatusCode::NOT_FOUND);
        let listed = app.get("/orgs/octo-org/codespaces", &app.admin).await.body;
        assert_eq!(listed["total_count"], 1);
        assert_eq!(listed["codespaces"][0]["id"], kept["id"]);
    }

    async fn a_deleted_codespace_no_longer_counts_against_max_codespaces_per_user(app, _clock) {
        let service = arrange(&app).await;
        policy(&app, "One each", json!({ "max_codespaces_per_user": { "value": 1 } })).await;
        let first = create(&app, &service, json!({})).await;
        stopped(&app, &service, &first).await;
        let body = json!({ "repository": "octo-org/repo-a", "user": "mona",
            "devcontainer": { "image": IMAGE } });
        let refused = app.create_codespace(&service, body.clone()).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "a stopped one counts: {:?}", refused.body);
        assert_eq!(app.delete(&path(&first, ""), &service).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.create_codespace(&service, body).await.status, StatusCode::CREATED);
    }

    async fn unknown_and_malformed_ids_answer_404_on_every_action(app, _clock) {
        let service = arrange(&app).await;
        for id in [UNKNOWN, "cs_nope", "42"] {
            let codespace = json!({ "id": id });
            assert_eq!(stop(&app, &service, &codespace).await.status, StatusCode::NOT_FOUND, "{id}");
            assert_eq!(start(&app, &service, &codespace, None).await.status, StatusCode::NOT_FOUND);
            assert_eq!(app.delete(&path(&codespace, ""), &service).await.status, StatusCode::NOT_FOUND);
            let port = set_port(&app, &service, &codespace, "80", json!({ "visibility": "org" })).await;
            assert_eq!(port.status, StatusCode::NOT_FOUND, "{id}");
        }
        let body = app.request(Method::POST, &format!("/codespaces/{UNKNOWN}/stop"), Some(&service), None).await.body;
        assert_eq!(body["message"], "Not Found");
    }

    async fn only_service_tokens_and_site_admins_change_a_codespaces_life(app, _clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({})).await;
        let owner = app.user_token("octocat").await;
        assert_eq!(stop(&app, &owner, &codespace).await.status, StatusCode::FORBIDDEN);
        assert_eq!(start(&app, &owner, &codespace, None).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.delete(&path(&codespace, ""), &owner).await.status, StatusCode::FORBIDDEN);
        let port = set_port(&app, &owner, &codespace, "80", json!({ "visibility": "org" })).await;
        assert_eq!(port.status, StatusCode::FORBIDDEN);
        assert_eq!(stop(&app, "bip_unknown", &codespace).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(ok(app.get(&path(&codespace, ""), &service).await), codespace, "nothing changed");
        assert!(codespace_entries(&app).await.is_empty());

        let admin = app.admin.clone();
        assert_eq!(ok(stop(&app, &admin, &codespace).await)["state"], "Shutdown");
        assert_eq!(codespace_entries(&app).await[0]["actor"], "site-admin");
    }

    async fn every_change_is_in_the_audit_log_with_before_and_after_and_no_repeat(app, clock) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({ "retention_period_minutes": 60 })).await;
        set_port(&app, &service, &codespace, "3000", json!({ "visibility": "org" })).await;
        stopped(&app, &service, &codespace).await;
        stopped(&app, &service, &codespace).await;
        ok(start(&app, &service, &codespace, None).await);
        ok(start(&app, &service, &codespace, None).await);
        app.delete(&path(&codespace, ""), &service).await;

        let entries = codespace_entries(&app).await;
        let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["codespace.delete", "codespace.start", "codespace.stop", "codespace.port"],
            "unchanged repeats are not changes");
        assert!(entries.iter().all(|e| e["actor"] == "service"));
        let [delete, start, stop, port] = &entries[..] else { unreachable!() };
        assert_eq!(port["before"]["ports"], json!([]));
        assert_eq!(port["after"]["ports"], json!([{ "port": 3000, "visibility": "org" }]));
        assert_eq!(stop["before"]["state"], "Available");
        assert_eq!(stop["after"]["state"], "Shutdown");
        assert_eq!(stop["after"]["retention_expires_at"], minutes_after(&clock, 60));
        assert_eq!(start["before"]["state"], "Shutdown");
        assert_eq!(start["after"]["retention_expires_at"], Value::Null);
        assert_eq!(delete["after"], Value::Null);
        assert_eq!(delete["before"]["id"], codespace["id"]);
        assert_eq!(delete["before"]["repository"], "octo-org/repo-a");
        let mut keys: Vec<&String> = delete["before"].as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["billable_owner", "id", "idle_timeout_minutes", "image", "machine",
            "ports", "repository", "retention_expires_at", "retention_period_minutes", "state", "user"]);
    }
}
