//! Hostile input through the whole router: references the OCI grammar rejects, look-alike
//! letters, NUL and control characters, oversized, deeply nested and malformed bodies,
//! pathological Dockerfiles. Every case answers a clear 4xx in the contract's error shape,
//! never a 5xx, never a hang, and stores nothing.

use std::future::Future;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{TestApp, TestResponse, RECOVERY_IMAGE};

const POLICIES: &str = "/orgs/octo-org/codespaces/policies";
const EVALUATE: &str = "/orgs/octo-org/codespaces/policies/evaluate";
const ORG_CODESPACES: &str = "/orgs/octo-org/codespaces";

/// Generous for a debug build on a busy machine; a hang or anything quadratic in these
/// sizes takes far longer.
const QUICK: Duration = Duration::from_secs(30);

/// Image references the OCI distribution grammar rejects, each with what is wrong.
fn invalid_images() -> Vec<(String, &'static str)> {
    vec![
        ("Node:18".into(), "uppercase repository"),
        ("ubuntu/Foo".into(), "uppercase path part"),
        (
            "ghcr.io/Octo-Org/dev:1".into(),
            "uppercase path after a registry",
        ),
        ("a..b".into(), "'..' in a path part"),
        ("ghcr.io/octo-org/../dev:1".into(), "'..' as a path part"),
        ("ghcr..io/octo-org/dev".into(), "'..' in the registry"),
        ("nöde:18".into(), "non-ASCII letter"),
        ("n\u{43e}de:18".into(), "Cyrillic o look-alike"),
        (
            "ghcr.io/\u{43e}cto-org/dev:1".into(),
            "Cyrillic o in the org",
        ),
        ("\u{440}ython:3".into(), "Cyrillic r look-alike"),
        (
            "mcr.micr\u{43e}soft.com/devcontainers/base:ubuntu".into(),
            "Cyrillic o in the registry",
        ),
        ("node\u{ff1a}18".into(), "fullwidth colon"),
        ("node\u{200b}:18".into(), "zero-width space"),
        ("node\u{202e}:18".into(), "right-to-left override"),
        ("\u{feff}node:18".into(), "byte-order mark"),
        ("node\u{a0}:18".into(), "no-break space"),
        ("node\0:18".into(), "NUL"),
        ("node:18\0".into(), "trailing NUL"),
        ("\0".into(), "only NUL"),
        ("node\t:18".into(), "tab"),
        ("node:18\n".into(), "trailing newline"),
        ("node:18\r\nFROM evil".into(), "CRLF and more"),
        (" node:18".into(), "leading space"),
        ("node\u{7f}:18".into(), "DEL"),
        ("node\u{1b}[31m:18".into(), "escape sequence"),
        (
            format!("node:{}", "a".repeat(129)),
            "tag over 128 characters",
        ),
        ("a".repeat(5000), "over the length limit"),
        (
            format!("{}a:1", "a/".repeat(200)),
            "name over 255 characters",
        ),
        ("node:18@sha256:abc".into(), "short digest"),
        ("node:*".into(), "a wildcard is no reference"),
        ("*".into(), "a lone wildcard"),
        ("node:".into(), "empty tag"),
        (":18".into(), "no name"),
    ]
}

/// Asserts an error answer with `status` in the contract's error shape.
fn assert_error(response: &TestResponse, status: StatusCode, what: &str) {
    assert_eq!(response.status, status, "{what}: {:?}", response.body);
    assert!(
        response.body["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: no message in {:?}",
        response.body
    );
    assert!(
        response.body["documentation_url"].is_string(),
        "{what}: no documentation_url in {:?}",
        response.body
    );
}

/// Asserts a 422 whose `errors` name `field`.
fn assert_invalid(response: &TestResponse, field: &str, what: &str) {
    assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, what);
    let fields: Vec<&str> = response.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: a 422 names its fields: {:?}", response.body))
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(
        fields.contains(&field),
        "{what}: expected field {field:?}, got {fields:?}"
    );
}

/// Fails the test instead of hanging when `future` takes longer than [`QUICK`].
async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(QUICK, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {QUICK:?}"))
}

/// Sends `body` as it is (no JSON encoding) with a JSON content type.
async fn send_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: impl Into<Body>,
) -> TestResponse {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(body.into())
        .expect("request");
    within(path, app.send(request)).await
}

async fn total_count(app: &TestApp, path: &str) -> i64 {
    let response = app.get(path, &app.admin).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body["total_count"].as_i64().expect("total_count")
}

async fn codespace_count(app: &TestApp) -> i64 {
    total_count(app, ORG_CODESPACES).await
}

async fn policy_count(app: &TestApp) -> i64 {
    total_count(app, POLICIES).await
}

/// octo-org with an org-wide policy `*` that allows every valid reference, and a service
/// token.
async fn everything_allowed(app: &TestApp) -> String {
    app.octo_org().await;
    app.allow_org_wide("octo-org", &["*"]).await;
    let service = app.service_token().await;
    let allowed = app
        .post(
            EVALUATE,
            &app.admin,
            json!({ "repository": "repo-a", "image": "node:18" }),
        )
        .await;
    assert_eq!(allowed.body["allowed"], true, "{:?}", allowed.body);
    service
}

fn image_request(image: &str) -> Value {
    json!({
        "repository": "octo-org/repo-a",
        "user": "mona",
        "devcontainer": { "image": image },
    })
}

fn dockerfile_request(dockerfile: &str, build: Value) -> Value {
    let mut section = json!({ "dockerfile": "Dockerfile" });
    if let (Some(section), Value::Object(extra)) = (section.as_object_mut(), build) {
        section.extend(extra);
    }
    json!({
        "repository": "octo-org/repo-a",
        "user": "mona",
        "devcontainer": { "build": section },
        "dockerfile": dockerfile,
    })
}

fn text_request(devcontainer_text: String) -> Value {
    json!({
        "repository": "octo-org/repo-a",
        "user": "mona",
        "devcontainer": devcontainer_text,
    })
}

/// A Dockerfile of `stages` stages, each built on the one before, the first on `base`.
fn chained_stages(base: &str, stages: usize) -> String {
    let mut text = format!("FROM {base} AS s0\nRUN echo 0\n");
    for i in 1..stages {
        text.push_str(&format!("FROM s{} AS s{i}\nRUN echo {i}\n", i - 1));
    }
    text
}

backend_tests! {
    async fn invalid_image_references_are_a_422_naming_the_field_even_when_star_allows_everything(app) {
        let service = everything_allowed(&app).await;
        for (image, what) in invalid_images() {
            let response = within(what, app.create_codespace(&service, image_request(&image))).await;
            assert_invalid(&response, "devcontainer.image", what);

            // The same configuration written as JSONC text.
            let text = format!("{{ // {what}\n \"image\": {}, }}", Value::String(image.clone()));
            let response = within(what, app.create_codespace(&service, text_request(text))).await;
            assert_invalid(&response, "devcontainer.image", what);
        }
        assert_eq!(codespace_count(&app).await, 0, "nothing is stored");
    }

    async fn an_image_that_is_empty_or_not_a_string_is_a_422(app) {
        let service = everything_allowed(&app).await;
        for image in [json!(""), json!(18), json!(["node:18"]), json!({ "name": "node" }), json!(true)] {
            let body = json!({
                "repository": "octo-org/repo-a", "user": "mona", "devcontainer": { "image": image },
            });
            let response = app.create_codespace(&service, body).await;
            assert_invalid(&response, "devcontainer", &image.to_string());
        }
        for devcontainer in [json!(5), json!([]), json!("[]"), json!("\"node:18\""), json!("null")] {
            let body = json!({
                "repository": "octo-org/repo-a", "user": "mona", "devcontainer": devcontainer,
            });
            let response = app.create_codespace(&service, body).await;
            assert_invalid(&response, "devcontainer", &devcontainer.to_string());
        }
        assert_eq!(codespace_count(&app).await, 0);
    }

    async fn evaluate_never_allows_an_invalid_reference(app) {
        everything_allowed(&app).await;
        for (image, what) in invalid_images() {
            let body = json!({ "repository": "repo-a", "image": image });
            let response = within(what, app.post(EVALUATE, &app.admin, body)).await;
            assert_invalid(&response, "image", what);
        }
        for repository in ["repo\0-a", "r\u{435}po-a", "repo-a\n", "repo-a\u{200b}", "../repo-a"] {
            let body = json!({ "repository": repository, "image": "node:18" });
            let response = app.post(EVALUATE, &app.admin, body).await;
            assert_invalid(&response, "repository", &format!("{repository:?}"));
        }
    }

    async fn an_invalid_dockerfile_base_image_is_a_422_not_recovery_mode(app) {
        let service = everything_allowed(&app).await;
        let cases = [
            ("FROM ghcr.io/Octo/dev:1\n", json!({}), "uppercase path"),
            ("FROM n\u{43e}de:18\n", json!({}), "Cyrillic look-alike"),
            ("FROM node\0:18\n", json!({}), "NUL"),
            ("FROM node:18\u{1b}\n", json!({}), "escape character"),
            ("FROM a..b\n", json!({}), "'..'"),
            ("FROM node:18 AS base\nFROM base:latest\n", json!({}), "harmless"),
            // Docker folds case beyond ASCII when it looks up stage names (the Kelvin sign
            // and the long s fold to k and s); such a FROM must not be taken for an image.
            ("FROM node:18 AS k\nFROM \u{212a}\n", json!({}), "Kelvin sign for a stage name"),
            ("FROM node:18 AS stage\nFROM \u{17f}tage\n", json!({}), "long s for a stage name"),
            (
                "ARG IMG=node:18\nFROM $IMG\n",
                json!({ "args": { "IMG": "Node:18" } }),
                "uppercase through a build arg",
            ),
            (
                "ARG IMG=node:18\nFROM ${IMG}\n",
                json!({ "args": { "IMG": "node:18\u{0}" } }),
                "NUL through a build arg",
            ),
            (
                "ARG TAG=18\nFROM node:${TAG}\n",
                json!({ "args": { "TAG": "a".repeat(129) } }),
                "tag over 128 characters through a build arg",
            ),
        ];
        for (dockerfile, build, what) in cases {
            let response = within(what, app.create_codespace(&service, dockerfile_request(dockerfile, build))).await;
            if what == "harmless" {
                // `base:latest` is an image, not the stage `base`: a valid reference.
                assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
                assert_eq!(response.body["image"], "base:latest");
                continue;
            }
            assert_invalid(&response, "dockerfile", what);
        }
        assert_eq!(codespace_count(&app).await, 1, "only the valid one is stored");
    }

    async fn a_full_rebuild_with_an_invalid_reference_is_a_422_and_changes_nothing(app) {
        let service = everything_allowed(&app).await;
        let created = app.create_codespace(&service, image_request("node:18")).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let path = format!("/codespaces/{}", created.body["id"].as_str().unwrap());
        let before = app.get(&path, &service).await.body;
        for (image, what) in invalid_images() {
            let body = json!({ "full": true, "devcontainer": { "image": image } });
            let response = within(what, app.post(&format!("{path}/rebuild"), &service, body)).await;
            assert_invalid(&response, "devcontainer.image", what);
        }
        let body = json!({
            "full": true,
            "devcontainer": { "build": { "dockerfile": "Dockerfile" } },
            "dockerfile": "FROM x AS x\n",
        });
        let response = app.post(&format!("{path}/rebuild"), &service, body).await;
        assert_invalid(&response, "dockerfile", "self-referencing stage");
        assert_eq!(app.get(&path, &service).await.body, before);
        assert_eq!(codespace_count(&app).await, 1);
    }

    async fn devcontainer_text_nested_ten_thousand_deep_is_a_422(app) {
        let service = everything_allowed(&app).await;
        let texts = [
            ("arrays", format!("{}{}", "[".repeat(10_000), "]".repeat(10_000))),
            ("objects", format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000))),
            ("under image", format!("{{\"image\": {}\"node:18\"{}}}", "[".repeat(10_000), "]".repeat(10_000))),
            ("under build", format!("{{\"build\": {}{{}}{}}}", "{\"args\":".repeat(10_000), "}".repeat(10_000))),
            ("unclosed", "{".repeat(10_000)),
            ("unterminated comment", "{\"image\": \"node:18\" /* no end".to_string()),
            ("comments only", "/* */ // nothing\n".repeat(1000)),
            ("lone surrogate", "{\"image\": \"\\ud800\"}".to_string()),
            ("trailing text", "{\"image\": \"node:18\"} {\"image\": \"python:3\"}".to_string()),
            ("NUL before", "\0{\"image\": \"node:18\"}".to_string()),
            ("raw NUL in a string", "{\"image\": \"node:18\0\"}".to_string()),
            ("empty", String::new()),
        ];
        for (what, text) in texts {
            let started = Instant::now();
            let response = within(what, app.create_codespace(&service, text_request(text))).await;
            assert_invalid(&response, "devcontainer", what);
            assert!(started.elapsed() < QUICK, "{what}: {:?}", started.elapsed());
        }
        assert_eq!(codespace_count(&app).await, 0);
    }

    async fn a_json_body_nested_deeply_is_a_400(app) {
        let service = everything_allowed(&app).await;
        let prefix = r#"{"repository": "octo-org/repo-a", "user": "mona", "devcontainer": "#;
        let bodies = [
            ("objects", format!("{prefix}{}{{}}{}}}", "{\"a\":".repeat(10_000), "}".repeat(10_000))),
            ("arrays", format!("{prefix}{}{}}}", "[".repeat(100_000), "]".repeat(100_000))),
            ("unclosed", format!("{prefix}{}", "[".repeat(100_000))),
        ];
        for (what, body) in bodies {
            let response = send_raw(&app, Method::POST, "/codespaces", &service, body).await;
            assert_error(&response, StatusCode::BAD_REQUEST, what);
        }
        // Where the body's shape leaves no room for nesting, the shape error comes first.
        let policy = format!(
            r#"{{"name": "deep", "target": "all_repositories", "constraints": {{"base_images": {{"allowed_values": {}"#,
            "[".repeat(100_000)
        );
        let response = send_raw(&app, Method::POST, POLICIES, &app.admin, policy).await;
        assert_invalid(&response, "body", "nested allowed values");
        let response = send_raw(&app, Method::POST, POLICIES, &app.admin, "[".repeat(100_000)).await;
        assert_invalid(&response, "body", "nested arrays as a policy");
        // A nested value where any JSON value may stand is cut off by the parser's limit.
        let evaluate = format!(r#"{{"repository": "repo-a", "image": "node:18", "x": {}"#, "{\"a\":".repeat(10_000));
        let response = send_raw(&app, Method::POST, EVALUATE, &app.admin, evaluate).await;
        assert_error(&response, StatusCode::UNPROCESSABLE_ENTITY, "unknown field before the nesting");
        // Nesting within the parser's limit, in a part the reader ignores, is fine.
        let mut extra = json!("leaf");
        // 100 levels here, 3 around them: under serde_json's limit of 128.
        for _ in 0..50 {
            extra = json!({ "a": [extra] });
        }
        let body = json!({
            "repository": "octo-org/repo-a", "user": "mona",
            "devcontainer": { "image": "node:18", "customizations": extra },
        });
        let response = app.create_codespace(&service, body).await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        assert_eq!(codespace_count(&app).await, 1);
        assert_eq!(policy_count(&app).await, 1);
    }

    async fn a_body_over_one_mebibyte_is_a_413(app) {
        let service = everything_allowed(&app).await;
        let padding = " ".repeat(1024 * 1024 + 1);
        let text = format!("{{ \"image\": \"node:18\" /* {padding} */ }}");
        let response = within("big devcontainer", app.create_codespace(&service, text_request(text))).await;
        assert_error(&response, StatusCode::PAYLOAD_TOO_LARGE, "big devcontainer");

        let dockerfile = format!("FROM node:18\n{}", "RUN true\n".repeat(130_000));
        let response = app.create_codespace(&service, dockerfile_request(&dockerfile, json!({}))).await;
        assert_error(&response, StatusCode::PAYLOAD_TOO_LARGE, "big Dockerfile");

        let values: Vec<String> = (0..3000).map(|i| format!("{}{i}*", "a".repeat(400))).collect();
        let policy = json!({
            "name": "Huge", "target": "all_repositories",
            "constraints": { "base_images": { "allowed_values": values } },
        });
        let response = app.post(POLICIES, &app.admin, policy).await;
        assert_error(&response, StatusCode::PAYLOAD_TOO_LARGE, "big policy");

        // With a Content-Length that says so up front, too.
        let body = format!("{{\"login\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
        let request = Request::builder()
            .method(Method::POST)
            .uri("/orgs")
            .header("authorization", format!("Bearer {}", app.admin))
            .header("content-type", "application/json")
            .header("content-length", body.len().to_string())
            .body(Body::from(body))
            .expect("request");
        let response = within("big org", app.send(request)).await;
        assert_error(&response, StatusCode::PAYLOAD_TOO_LARGE, "big org");

        assert_eq!(codespace_count(&app).await, 0);
        assert_eq!(policy_count(&app).await, 1);

        // Just under the limit is read.
        let padding = " ".repeat(1_000_000);
        let text = format!("{{ \"image\": \"node:18\" /* {padding} */ }}");
        let response = app.create_codespace(&service, text_request(text)).await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    }

    async fn malformed_json_is_a_400(app) {
        let service = everything_allowed(&app).await;
        let bodies: Vec<(&str, Vec<u8>)> = vec![
            ("empty", b"".to_vec()),
            ("truncated", br#"{"repository": "octo-org/repo-a", "user": "#.to_vec()),
            ("not JSON", b"repository=octo-org/repo-a".to_vec()),
            ("trailing comma", br#"{"repository": "octo-org/repo-a", "user": "mona",}"#.to_vec()),
            ("comment", br#"{"repository": "octo-org/repo-a", /* c */ "user": "mona"}"#.to_vec()),
            ("single quotes", br#"{'repository': 'octo-org/repo-a', 'user': 'mona'}"#.to_vec()),
            ("invalid UTF-8", b"{\"repository\": \"octo-org/repo-a\", \"user\": \"mo\xffna\"}".to_vec()),
            ("raw NUL in a string", b"{\"repository\": \"octo-org/repo-a\", \"user\": \"mo\0na\"}".to_vec()),
            ("raw newline in a string", b"{\"repository\": \"octo-org/repo-a\", \"user\": \"mo\nna\"}".to_vec()),
            ("lone surrogate", br#"{"repository": "octo-org/repo-a", "user": "\ud800"}"#.to_vec()),
            ("bad escape", br#"{"repository": "octo-org/repo-a", "user": "\x41"}"#.to_vec()),
            ("trailing garbage", br#"{"repository": "octo-org/repo-a", "user": "mona"} x"#.to_vec()),
            ("two documents", br#"{"repository": "octo-org/repo-a", "user": "mona"}{}"#.to_vec()),
            ("NaN", br#"{"repository": "octo-org/repo-a", "user": "mona", "devcontainer": NaN}"#.to_vec()),
            ("number out of range", br#"{"repository": "octo-org/repo-a", "user": "mona", "devcontainer": {"x": 1e999999}}"#.to_vec()),
            ("UTF-16", "{\"user\": \"mona\"}".encode_utf16().flat_map(u16::to_le_bytes).collect()),
        ];
        for (what, body) in bodies {
            let response = send_raw(&app, Method::POST, "/codespaces", &service, body).await;
            assert_error(&response, StatusCode::BAD_REQUEST, what);
        }
        let policies: Vec<(&str, Vec<u8>)> = vec![
            ("truncated", br#"{"name": "x", "target": "#.to_vec()),
            ("invalid UTF-8", b"{\"name\": \"\xc0\xaf\"}".to_vec()),
            ("raw NUL", b"{\"name\": \"a\0b\"}".to_vec()),
            ("lone surrogate", br#"{"name": "\udfff"}"#.to_vec()),
            ("trailing comma", br#"{"name": "x",}"#.to_vec()),
        ];
        for (what, body) in policies {
            let response = send_raw(&app, Method::POST, POLICIES, &app.admin, body).await;
            assert_error(&response, StatusCode::BAD_REQUEST, what);
        }
        // Well-formed JSON of the wrong shape is a 422.
        for (what, body) in [
            ("null", "null"),
            ("array", "[]"),
            ("string", "\"octo-org/repo-a\""),
            ("unknown field", r#"{"repository": "octo-org/repo-a", "user": "mona", "image": "node:18"}"#),
            ("wrong type", r#"{"repository": ["octo-org/repo-a"], "user": "mona"}"#),
            ("dockerfile not text", r#"{"repository": "octo-org/repo-a", "user": "mona", "dockerfile": 1}"#),
        ] {
            let response = send_raw(&app, Method::POST, "/codespaces", &service, body).await;
            assert_error(&response, StatusCode::UNPROCESSABLE_ENTITY, what);
        }
        // And a body without the JSON content type is a 415.
        let request = Request::builder()
            .method(Method::POST)
            .uri("/codespaces")
            .header("authorization", format!("Bearer {service}"))
            .header("content-type", "text/plain")
            .body(Body::from(image_request("node:18").to_string()))
            .expect("request");
        let response = app.send(request).await;
        assert_error(&response, StatusCode::UNSUPPORTED_MEDIA_TYPE, "text/plain");
        assert_eq!(codespace_count(&app).await, 0);
        assert_eq!(policy_count(&app).await, 1);
    }

    async fn a_dockerfile_with_five_thousand_stages_resolves_quickly(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let service = app.service_token().await;

        let started = Instant::now();
        let text = chained_stages("node:18", 5000);
        let response = within("5,000 chained stages", app.create_codespace(&service, dockerfile_request(&text, json!({})))).await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        assert_eq!(response.body["image"], "node:18");
        assert_eq!(response.body["image_source"], "dockerfile");
        assert_eq!(response.body["recovery_mode"], false);

        // Thousands of independent stages: only the final one counts, and it is refused.
        let mut text = String::new();
        for i in 0..5000 {
            text.push_str(&format!("FROM node:18 AS s{i}\n"));
        }
        text.push_str("FROM python:3\n");
        let response = within("5,000 stages", app.create_codespace(&service, dockerfile_request(&text, json!({})))).await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        assert_eq!(response.body["recovery_mode"], true);
        assert_eq!(response.body["image"], RECOVERY_IMAGE);

        // The target stage, deep in the chain, is followed back to its base.
        let text = chained_stages("node:18", 5000);
        let build = json!({ "target": "S2500" });
        let response = app.create_codespace(&service, dockerfile_request(&text, build)).await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        assert_eq!(response.body["image"], "node:18");
        assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
        assert_eq!(codespace_count(&app).await, 3);
    }

    async fn self_referencing_and_forward_referencing_stages_are_a_422(app) {
        let service = everything_allowed(&app).await;
        let cases = [
            ("FROM x AS x\n", "itself"),
            ("FROM X AS x\n", "itself, in another case"),
            ("FROM node:18 AS base\nFROM later AS first\nFROM base AS later\n", "a later stage"),
            ("FROM b AS a\nFROM a AS b\n", "a cycle"),
            ("FROM node:18 AS a\nFROM a AS b\nFROM c AS c\nFROM b\n", "itself, not final"),
        ];
        for (dockerfile, what) in cases {
            let response = within(what, app.create_codespace(&service, dockerfile_request(dockerfile, json!({})))).await;
            assert_invalid(&response, "dockerfile", what);
            let message = response.body["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(message.contains("line"), "{what}: {message}");
        }
        // A self-reference made of a thousand stages, at the very end.
        let text = format!("{}FROM s1000 AS s1000\n", chained_stages("node:18", 1000));
        let response = app.create_codespace(&service, dockerfile_request(&text, json!({}))).await;
        assert_invalid(&response, "dockerfile", "self-reference after a long chain");
        assert_eq!(codespace_count(&app).await, 0);
    }

    async fn an_unresolved_arg_is_a_422(app) {
        let service = everything_allowed(&app).await;
        let cases = [
            ("ARG IMG\nFROM $IMG\n", json!({}), "declared without a value"),
            ("FROM ${NOPE}\n", json!({}), "never declared"),
            ("FROM node:${NOPE}\n", json!({ "args": { "NOPE": "18" } }), "a build arg for an undeclared ARG"),
            ("FROM node:18\nARG IMG=python:3\nFROM $IMG\n", json!({}), "declared inside a stage"),
            ("ARG A=${B}\nFROM $A\n", json!({}), "a default from an unset ARG"),
            ("ARG A\nFROM ${A:?required}\n", json!({}), "an unsupported operator"),
            ("ARG A=${\nFROM $A\n", json!({}), "a malformed default"),
        ];
        for (dockerfile, build, what) in cases {
            let response = within(what, app.create_codespace(&service, dockerfile_request(dockerfile, build))).await;
            assert_invalid(&response, "dockerfile", what);
        }
        // No FROM at all, or no Dockerfile text.
        let response = app.create_codespace(&service, dockerfile_request("RUN true\n# FROM node:18\n", json!({}))).await;
        assert_invalid(&response, "dockerfile", "no FROM");
        let body = json!({
            "repository": "octo-org/repo-a", "user": "mona",
            "devcontainer": { "build": { "dockerfile": "Dockerfile" } },
        });
        let response = app.create_codespace(&service, body).await;
        assert_invalid(&response, "dockerfile", "no Dockerfile text");
        assert_eq!(codespace_count(&app).await, 0);
    }

    async fn nul_and_look_alikes_in_org_and_user_names_are_a_422_and_store_nothing(app) {
        for login in ["octo\0org", "\u{43e}cto-org", "octo-org\n", "octo\u{200b}org", "octo\torg", "octo-org\u{0}"] {
            let response = app.post("/orgs", &app.admin, json!({ "login": login })).await;
            assert_invalid(&response, "login", &format!("{login:?}"));
        }
        for path in ["/orgs/octoorg", "/orgs/octo-org", "/orgs/octo%00org", "/orgs/%D0%BEcto-org"] {
            let response = app.get(path, &app.admin).await;
            assert_error(&response, StatusCode::NOT_FOUND, path);
        }

        app.octo_org().await;
        let repos = total_count(&app, "/orgs/octo-org/repos").await;
        for repo in ["repo%00a", "r%D0%B5po-a", "repo-a%0A", "repo%E2%80%8Ba"] {
            let response = app.put(&format!("/orgs/octo-org/repos/{repo}"), &app.admin, None).await;
            assert_invalid(&response, "repo", repo);
        }
        assert_eq!(total_count(&app, "/orgs/octo-org/repos").await, repos);

        for user in ["mon%00a", "m%D0%BEna", "mona%09"] {
            let path = format!("/orgs/octo-org/memberships/{user}");
            let response = app.put(&path, &app.admin, Some(json!({ "role": "member" }))).await;
            assert_invalid(&response, "username", user);
            let response = app.post(&format!("/users/{user}/tokens"), &app.admin, json!({})).await;
            assert_invalid(&response, "username", user);
        }
        for name in ["orch\0estrator", "\u{1b}[2J", "a\u{85}b"] {
            let response = app.post("/service-tokens", &app.admin, json!({ "name": name })).await;
            assert_invalid(&response, "name", &format!("service token {name:?}"));
        }
        let body = json!({ "mode": "selected_members", "selected_usernames": ["mona", "mon\0a"] });
        let response = app.put("/orgs/octo-org/codespaces/billing", &app.admin, Some(body)).await;
        assert_invalid(&response, "selected_usernames[1]", "NUL in a selected username");
        let billing = app.get("/orgs/octo-org/codespaces/billing", &app.admin).await;
        assert_eq!(billing.body["mode"], "members", "{:?}", billing.body);
    }

    async fn nul_and_look_alikes_in_a_codespace_request_are_a_422_and_store_nothing(app) {
        let service = everything_allowed(&app).await;
        let long = "a".repeat(101);
        for user in ["mon\0a", "m\u{43e}na", "mona\n", "", long.as_str()] {
            let body = json!({
                "repository": "octo-org/repo-a", "user": user, "devcontainer": { "image": "node:18" },
            });
            let response = app.create_codespace(&service, body).await;
            assert_invalid(&response, "user", &format!("{user:?}"));
        }
        for repository in ["octo-org/repo\0-a", "octo-org/r\u{435}po-a", "octo\0org/repo-a", "octo-org/repo-a/x", "octo-org/", "/repo-a", "octo-org\\repo-a"] {
            let body = json!({
                "repository": repository, "user": "mona", "devcontainer": { "image": "node:18" },
            });
            let response = app.create_codespace(&service, body).await;
            assert_invalid(&response, "repository", &format!("{repository:?}"));
        }
        assert_eq!(codespace_count(&app).await, 0);
    }

    async fn hostile_codespace_ids_are_not_found(app) {
        let service = everything_allowed(&app).await;
        let long = "x".repeat(10_000);
        // Every case is tried before failing, so that the failure lists them all.
        let mut wrong = Vec::new();
        for id in ["cs_%00", "%00", "cs_%D0%BE", "cs_%0A", long.as_str(), "cs_'%20OR%20'1'='1"] {
            let path = format!("/codespaces/{id}");
            let get = within(id, app.get(&path, &service)).await;
            let rebuild = within(id, app.post(&format!("{path}/rebuild"), &service, json!({ "full": true, "devcontainer": { "image": "node:18" } }))).await;
            for (what, response) in [("GET", get), ("POST rebuild", rebuild)] {
                if response.status != StatusCode::NOT_FOUND {
                    wrong.push(format!("{what} {id}: {} {}", response.status, response.body));
                } else {
                    assert_error(&response, StatusCode::NOT_FOUND, &format!("{what} {id}"));
                }
            }
        }
        assert!(wrong.is_empty(), "hostile codespace ids must answer 404:\n{}", wrong.join("\n"));
        assert_eq!(codespace_count(&app).await, 0);
    }

    async fn nul_and_look_alikes_in_policies_are_a_422_and_store_nothing(app) {
        app.octo_org().await;
        let field = "constraints.base_images.allowed_values";
        let policy = |name: &str, repositories: Value, values: Value| json!({
            "name": name,
            "target": if repositories.is_null() { "all_repositories" } else { "selected_repositories" },
            "repositories": if repositories.is_null() { json!([]) } else { repositories },
            "constraints": { "base_images": { "allowed_values": values } },
        });
        let long = "n".repeat(101);
        for name in ["Approved\0images", "\u{1b}[31mred", "Appro\nved", "a\u{7f}", long.as_str()] {
            let response = app.post(POLICIES, &app.admin, policy(name, Value::Null, json!(["node:18"]))).await;
            assert_invalid(&response, "name", &format!("{name:?}"));
        }
        for value in [
            "node\0:18", "node:18\0*", "n\u{43e}de:18", "n\u{43e}de*", "node\u{200b}*", "node\t:18",
            "node:18\n", "*node", "no*de:18", "", " ", "Node:18", "a..b", "\u{feff}*",
        ] {
            let response = app.post(POLICIES, &app.admin, policy("Bad", Value::Null, json!(["node:18", value]))).await;
            assert_invalid(&response, &format!("{field}[1]"), &format!("{value:?}"));
        }
        for repository in ["repo\0-a", "r\u{435}po-a", "repo-a\n"] {
            let response = app.post(POLICIES, &app.admin, policy("Bad", json!([repository]), json!(["node:18"]))).await;
            assert_invalid(&response, "repositories[0]", &format!("{repository:?}"));
        }
        let many: Vec<String> = (0..1001).map(|i| format!("img{i}:1")).collect();
        let response = app.post(POLICIES, &app.admin, policy("Many", Value::Null, json!(many))).await;
        assert_invalid(&response, field, "1001 values");
        let long = format!("{}*", "a".repeat(512));
        let response = app.post(POLICIES, &app.admin, policy("Long", Value::Null, json!([long]))).await;
        assert_invalid(&response, &format!("{field}[0]"), "a value over 512 characters");
        let many_repos: Vec<String> = (0..1001).map(|i| format!("repo-{i}")).collect();
        let response = app.post(POLICIES, &app.admin, policy("Many repos", json!(many_repos), json!(["node:18"]))).await;
        assert_error(&response, StatusCode::UNPROCESSABLE_ENTITY, "1001 repositories");
        assert_eq!(policy_count(&app).await, 0, "nothing is stored");

        // At the limits exactly, a policy is accepted.
        let at_limit: Vec<String> = (0..1000).map(|i| format!("img{i}:1")).collect();
        let created = app.create_policy("octo-org", policy("At the limit", Value::Null, json!(at_limit))).await;

        // A bad PATCH changes nothing.
        let path = format!("{POLICIES}/{}", created["id"]);
        for body in [
            json!({ "name": "x\0y" }),
            json!({ "constraints": { "base_images": { "allowed_values": ["n\u{43e}de:18"] } } }),
            json!({ "constraints": { "base_images": { "allowed_values": ["node:18\0"] } } }),
            json!({ "repositories": ["repo\0-a"], "target": "selected_repositories" }),
        ] {
            let response = app.patch(&path, &app.admin, body.clone()).await;
            assert_error(&response, StatusCode::UNPROCESSABLE_ENTITY, &body.to_string());
        }
        assert_eq!(app.get(&path, &app.admin).await.body, created);

        // Hostile ids and If-Match headers.
        for id in ["1%00", "%00", "99999999999999999999999", "-1", "0", "1e3", "%D0%BE"] {
            let response = app.get(&format!("{POLICIES}/{id}"), &app.admin).await;
            assert_error(&response, StatusCode::NOT_FOUND, id);
        }
        for if_match in [&b"\"\xff\""[..], b"garbage", b"W/\"99999999999999999999999\"", b"\"-1\""] {
            let request = Request::builder()
                .method(Method::PATCH)
                .uri(&path)
                .header("authorization", format!("Bearer {}", app.admin))
                .header("content-type", "application/json")
                .header("if-match", HeaderValue::from_bytes(if_match).expect("header value"))
                .body(Body::from(json!({ "name": "Changed" }).to_string()))
                .expect("request");
            let response = app.send(request).await;
            assert_error(&response, StatusCode::PRECONDITION_FAILED, &String::from_utf8_lossy(if_match));
        }
        assert_eq!(app.get(&path, &app.admin).await.body, created);
        assert_eq!(policy_count(&app).await, 1);
    }

    async fn hostile_query_strings_are_a_422(app) {
        app.octo_org().await;
        for query in [
            "per_page=1%00", "page=99999999999999999999", "page=-1", "per_page=1e2",
            "page=%D0%BE", "per_page=101", "page=2147483648",
        ] {
            for path in [POLICIES, ORG_CODESPACES, "/orgs/octo-org/repos"] {
                let response = app.get(&format!("{path}?{query}"), &app.admin).await;
                let what = format!("{path}?{query}");
                assert_error(&response, StatusCode::UNPROCESSABLE_ENTITY, &what);
                let field = response.body["errors"][0]["field"].as_str().unwrap_or_default();
                assert!(["query", "page", "per_page"].contains(&field), "{what}: {field}");
            }
        }
    }

    async fn duplicate_keys_in_a_request_body_are_a_422(app) {
        // A body that says two things at once is ambiguous: a proxy or the orchestrator may
        // read the first value where the service reads the last. Refuse it, as serde does
        // for a typed body.
        let service = everything_allowed(&app).await;
        let cases = [
            ("user twice", r#"{"repository": "octo-org/repo-a", "user": "mona", "user": "octocat", "devcontainer": {"image": "node:18"}}"#),
            ("repository twice", r#"{"repository": "octo-org/repo-a", "repository": "octo-org/repo-b", "user": "mona"}"#),
            ("devcontainer twice", r#"{"repository": "octo-org/repo-a", "user": "mona", "devcontainer": {"image": "python:3"}, "devcontainer": {"image": "node:18"}}"#),
        ];
        let mut wrong = Vec::new();
        for (what, body) in cases {
            let response = send_raw(&app, Method::POST, "/codespaces", &service, body).await;
            if response.status != StatusCode::UNPROCESSABLE_ENTITY {
                wrong.push(format!("POST /codespaces, {what}: {} {}", response.status, response.body));
            }
        }
        let policy = r#"{"name": "a", "name": "b", "target": "all_repositories", "constraints": {}}"#;
        let response = send_raw(&app, Method::POST, POLICIES, &app.admin, policy).await;
        if response.status != StatusCode::UNPROCESSABLE_ENTITY {
            wrong.push(format!("POST policies, name twice: {} {}", response.status, response.body));
        }
        assert!(wrong.is_empty(), "duplicate keys must answer 422:\n{}", wrong.join("\n"));
        assert_eq!(codespace_count(&app).await, 0);
        assert_eq!(policy_count(&app).await, 1);
    }

    async fn a_malformed_idempotency_key_is_a_422_and_stores_nothing(app) {
        let service = everything_allowed(&app).await;
        let long = "k".repeat(256);
        let keys: [(&str, &[u8]); 6] = [
            ("empty", b""),
            ("256 characters", long.as_bytes()),
            ("space", b"a b"),
            ("tab", b"a\tb"),
            ("obs-text byte", b"key-\xff"),
            ("UTF-8 look-alike", "k\u{435}y".as_bytes()),
        ];
        for (what, key) in keys {
            let request = Request::builder()
                .method(Method::POST)
                .uri("/codespaces")
                .header("authorization", format!("Bearer {service}"))
                .header("content-type", "application/json")
                .header("idempotency-key", HeaderValue::from_bytes(key).expect("header value"))
                .body(Body::from(image_request("node:18").to_string()))
                .expect("request");
            let response = within(what, app.send(request)).await;
            assert_invalid(&response, "Idempotency-Key", what);
        }
        assert_eq!(codespace_count(&app).await, 0);
        // 255 visible characters are a key.
        let key = "k".repeat(255);
        let response = app
            .request_with_headers(Method::POST, "/codespaces", Some(&service), Some(image_request("node:18")), &[("idempotency-key", &key)])
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    }
}
