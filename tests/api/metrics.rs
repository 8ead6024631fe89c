//! `GET /metrics`: the documented families, in Prometheus's text format, accepted by
//! `promtool check metrics`.

use std::io::Write;
use std::process::{Command, Stdio};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use crate::backend_tests;
use crate::helpers::TestApp;

/// The `/metrics` text.
pub async fn scrape(app: &TestApp) -> String {
    let request = Request::get("/metrics").body(Body::empty()).unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// `promtool check metrics` on `text`, where promtool is installed; `.ci/run` installs it,
/// so under CI its absence is a failure rather than a skip.
fn promtool_accepts(text: &str) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) if std::env::var_os("CI").is_none() => {
            eprintln!("promtool is not installed ({err}); not checked");
            return;
        }
        Err(err) => panic!("promtool must be installed under CI: {err}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

backend_tests! {
    async fn metrics_count_requests_by_route_template_and_pass_promtool(app) {
        let created = app.post("/orgs", &app.admin, json!({ "login": "octo-org" })).await;
        assert_eq!(created.status, StatusCode::CREATED);
        assert_eq!(app.get("/orgs/octo-org", &app.admin).await.status, StatusCode::OK);
        assert_eq!(app.get("/orgs/nobody-here", &app.admin).await.status, StatusCode::NOT_FOUND);
        let text = scrape(&app).await;
        for line in [
            "http_requests_total{method=\"POST\",route=\"/orgs\",status=\"201\"} 1",
            "http_requests_total{method=\"GET\",route=\"/orgs/{org}\",status=\"200\"} 1",
            "http_requests_total{method=\"GET\",route=\"/orgs/{org}\",status=\"404\"} 1",
            "http_request_duration_seconds_count{route=\"/orgs/{org}\"} 2",
            "policy_decisions_total{outcome=\"refused\"} 0",
            "base_image_policy_build_info{version=\"0.1.0\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
        for family in [
            "db_pool_connections{state=\"idle\"}",
            "process_resident_memory_bytes ",
            "process_cpu_seconds_total ",
            "process_open_fds ",
        ] {
            assert!(text.lines().any(|l| l.starts_with(family)), "{family} in:\n{text}");
        }
        // Labels are route templates, never what a request named.
        assert!(!text.contains("octo-org") && !text.contains("nobody-here"), "{text}");
        promtool_accepts(&text);
    }
}
