//! `GET /machines`: GitHub's five Linux machines by default, or the configured catalog.

use axum::http::StatusCode;
use base_image_policy::config::Config;
use base_image_policy::machines::MachineCatalog;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};

backend_tests! {
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
