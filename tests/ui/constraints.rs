//! The constraints other than base images in the create form: "Add constraint" offers each,
//! with its own fields, and the API's rules on them are shown beside those fields.

use axum::http::StatusCode;
use serde_json::json;

use crate::backend_tests;
use crate::client::{api_policies, Client};

const NEW: &str = "/ui/orgs/octo-org/codespaces/policies/new";

backend_tests! {
    async fn add_constraint_offers_every_constraint_each_with_its_own_fields(app) {
        app.octo_org().await;
        let client = Client::login(&app, &app.admin).await;
        let form = client.get(NEW).await;
        for (key, label) in [
            ("base_images", "Base images"), ("machine_types", "Machine types"),
            ("max_codespaces_per_user", "Maximum codespaces per user"),
            ("max_idle_timeout_minutes", "Maximum idle timeout"),
            ("max_retention_period_days", "Retention period"), ("port_visibility", "Port visibility"),
        ] {
            let button = format!(r#"value="add_constraint:{key}">{label}</button>"#);
            assert!(form.html.contains(&button), "{key}: {}", form.html);
        }
        let machines = client.post(NEW, NEW, &[("constraint", "port_visibility"), ("intent", "add_constraint:machine_types")]).await;
        assert!(machines.html.contains(r#"name="machine_types.allowed_values" value="basicLinux32gb""#), "{}", machines.html);
        assert!(machines.html.contains(r#"name="port_visibility.allowed_values" value="org""#));
        let saved = client.post(NEW, NEW, &[
            ("name", "Limits"), ("target", "all_repositories"), ("enforcement", "enforce"),
            ("constraint", "machine_types"), ("machine_types.allowed_values", "basicLinux32gb"),
            ("constraint", "max_idle_timeout_minutes"), ("max_idle_timeout_minutes.value", "30"),
            ("constraint", "max_codespaces_per_user"), ("max_codespaces_per_user.value", "2"),
            ("constraint", "max_retention_period_days"), ("max_retention_period_days.value", "7"),
            ("constraint", "port_visibility"), ("port_visibility.allowed_values", "org"),
            ("intent", "save"),
        ]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
        let constraints = &api_policies(&app, "octo-org").await["policies"][0]["constraints"];
        assert_eq!(constraints["machine_types"]["allowed_values"], json!(["basicLinux32gb"]));
        assert_eq!(constraints["max_idle_timeout_minutes"]["value"], 30);
        assert_eq!(constraints["max_codespaces_per_user"]["value"], 2);
        assert_eq!(constraints["max_retention_period_days"]["value"], 7);
        assert_eq!(constraints["port_visibility"]["allowed_values"], json!(["org"]));
        assert!(constraints.get("base_images").is_none());
    }

    async fn the_apis_rules_for_the_other_constraints_are_shown_beside_their_fields(app) {
        app.octo_org().await;
        let client = Client::login(&app, &app.admin).await;
        // Out of range: the API's 422. Not a number: the form's own, before any call.
        for (typed, field) in [("999", "constraints.max_idle_timeout_minutes.value"), ("soon", "constraints.max_idle_timeout_minutes.value")] {
            let refused = client.post(NEW, NEW, &[
                ("name", "Idle"), ("target", "all_repositories"), ("enforcement", "enforce"),
                ("constraint", "max_idle_timeout_minutes"), ("max_idle_timeout_minutes.value", typed),
                ("intent", "save"),
            ]).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{typed}: {}", refused.html);
            assert!(refused.html.contains(&format!(r#"id="{field}-error""#)), "{typed}: {}", refused.html);
        }
        // The per-user limit only in a policy for all repositories: the API's rule.
        let refused = client.post(NEW, NEW, &[
            ("name", "Per user"), ("target", "selected_repositories"), ("repositories", "repo-a"),
            ("enforcement", "enforce"), ("constraint", "max_codespaces_per_user"),
            ("max_codespaces_per_user.value", "2"), ("intent", "save"),
        ]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.html);
        assert_eq!(api_policies(&app, "octo-org").await["total_count"], 0);
    }
}
