//! `GET /machines`: GitHub's five Linux machines by default, or the configured catalog.

use axum::http::StatusCode;
use base_image_policy::config::Config;
use base_image_policy::machines::MachineCatalog;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};

fn names(body: &serde_json::Value) -> Vec<String> {
    body["machines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

backend_tests! {
    async fn a_repository_lists_the_machines_its_policies_allow_together(app) {
        app.octo_org().await;
        let path = "/repos/octo-org/repo-a/codespaces/machines";
        let member = app.user_token("mona").await;
        let open = app.get(path, &member).await;
        assert_eq!(open.status, StatusCode::OK, "{:?}", open.body);
        assert_eq!(open.body["total_count"], 5);
        app.create_policy("octo-org", json!({ "name": "Org", "target": "all_repositories",
            "constraints": { "machine_types": { "allowed_values":
                ["basicLinux32gb", "standardLinux32gb", "premiumLinux"] } } })).await;
        app.create_policy("octo-org", json!({ "name": "A", "target": "selected_repositories",
            "repositories": ["repo-a"],
            "constraints": { "machine_types": { "allowed_values":
                ["premiumLinux", "standardLinux32gb", "xLargePremiumLinux"] } } })).await;
        let narrowed = app.get(path, &member).await;
        assert_eq!(names(&narrowed.body), ["standardLinux32gb", "premiumLinux"]);
        assert_eq!(narrowed.body["total_count"], 2);
        let other = app.get("/repos/octo-org/repo-b/codespaces/machines", &app.admin).await;
        assert_eq!(names(&other.body), ["basicLinux32gb", "standardLinux32gb", "premiumLinux"]);
        // A user the org does not pay for is not limited by its policies.
        app.set_role("octo-org", "outsider", "outside_collaborator").await;
        let outsider = app.get(&format!("{path}?user=outsider"), &app.admin).await;
        assert_eq!(outsider.body["total_count"], 5);
        let billed = app.get(&format!("{path}?user=mona"), &app.admin).await;
        assert_eq!(billed.body["total_count"], 2);
        // Unknown repository: 404; someone outside the org: 404 too.
        assert_eq!(app.get("/repos/octo-org/nope/codespaces/machines", &app.admin).await.status,
            StatusCode::NOT_FOUND);
        let stranger = app.user_token("stranger").await;
        assert_eq!(app.get(path, &stranger).await.status, StatusCode::NOT_FOUND);
    }

    async fn the_default_catalog_is_githubs_five_linux_machines_smallest_first(app) {
        let listed = app.get("/machines", &app.admin).await;
        assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
        assert_eq!(listed.body["total_count"], 5);
        let names: Vec<&str> = listed.body["machines"].as_array().unwrap().iter()
            .map(|m| m["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["basicLinux32gb", "standardLinux32gb", "premiumLinux",
            "largePremiumLinux", "xLargePremiumLinux"]);
        assert_eq!(listed.body["machines"][0]["cpus"], 2);
        assert_eq!(listed.body["machines"][0]["memory_in_bytes"], 8u64 << 30);
        assert_eq!(listed.body["machines"][0]["storage_in_bytes"], 32u64 << 30);
        // Any valid token may read it; none is a 401.
        let member = app.user_token("mona").await;
        assert_eq!(app.get("/machines", &member).await.status, StatusCode::OK);
        assert_eq!(app.get("/machines", "not-a-token").await.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_configured_catalog_is_served_instead() {
    let text = r#"[{"name": "tiny", "display_name": "1 core", "cpus": 1,
        "memory_in_bytes": 2147483648, "storage_in_bytes": 10737418240}]"#;
    let catalog = MachineCatalog::from_json("MACHINE_CATALOG", text).unwrap();
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.machine_catalog = catalog.into()
    })
    .await;
    let listed = app.get("/machines", &app.admin).await.body;
    assert_eq!(
        listed,
        json!({ "total_count": 1, "machines": [{ "name": "tiny",
        "display_name": "1 core", "cpus": 1, "memory_in_bytes": 2147483648u64,
        "storage_in_bytes": 10737418240u64 }] })
    );
}

#[test]
fn a_catalog_that_cannot_be_used_stops_the_service_naming_the_field() {
    let bad = r#"[{"name": "tiny", "display_name": "1 core", "cpus": 0,
        "memory_in_bytes": 1, "storage_in_bytes": 1}]"#;
    let err = Config::from_lookup(|key| (key == "MACHINE_CATALOG").then(|| bad.to_owned()))
        .expect_err("a machine without cores");
    assert!(err.to_string().contains("MACHINE_CATALOG[0].cpus"), "{err}");
}
