//! The real binary, end to end: start it, drive it over HTTP, stop it with SIGTERM, and
//! read every line it logged at the most verbose level. No token may appear there.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CANARY_ADMIN: &str = "canary-admin-token-0123456789abcdefghijklmnop";
const CANARY_BAD: &str = "bip_canarybadtoken0123456789abcdef";

/// One HTTP/1.1 request on its own connection: `(status, body)`.
fn http(addr: SocketAddr, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

fn token_in(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).expect("JSON");
    value["token"].as_str().expect("a token").to_string()
}

fn start(dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_base-image-policy"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("db.sqlite").display()),
        )
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("ADMIN_TOKEN", CANARY_ADMIN)
        .env("RUST_LOG", "trace")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary")
}

fn wait_until_ready(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect(addr).is_ok() && http(addr, "GET", "/readyz", "", "").0 == 200 {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the service did not become ready");
}

#[test]
fn a_full_run_logs_decisions_but_never_a_token_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut child = start(dir.path(), port);
    wait_until_ready(addr);

    let admin = CANARY_ADMIN;
    assert_eq!(
        http(addr, "POST", "/orgs", admin, r#"{"login":"octo-org"}"#).0,
        201
    );
    assert_eq!(
        http(addr, "PUT", "/orgs/octo-org/repos/repo-a", admin, "").0,
        201
    );
    assert_eq!(
        http(
            addr,
            "PUT",
            "/orgs/octo-org/memberships/mona",
            admin,
            r#"{"role":"owner"}"#
        )
        .0,
        200
    );
    let (status, body) = http(addr, "POST", "/users/mona/tokens", admin, "");
    assert_eq!(status, 201);
    let owner = token_in(&body);
    let policy = r#"{"name":"P","target":"all_repositories","constraints":{"base_images":{"allowed_values":["mcr.microsoft.com/devcontainers/*"]}}}"#;
    assert_eq!(
        http(
            addr,
            "POST",
            "/orgs/octo-org/codespaces/policies",
            &owner,
            policy
        )
        .0,
        201
    );
    let (status, body) = http(
        addr,
        "POST",
        "/service-tokens",
        admin,
        r#"{"name":"orchestrator"}"#,
    );
    assert_eq!(status, 201);
    let service = token_in(&body);
    let refused =
        r#"{"repository":"octo-org/repo-a","user":"mona","devcontainer":{"image":"node:18"}}"#;
    let (status, body) = http(addr, "POST", "/codespaces", &service, refused);
    assert_eq!(status, 400);
    assert!(body.contains("Base image 'node:18' is not allowed based on an organization policy"));
    let recovery = r#"{"repository":"octo-org/repo-a","user":"mona","devcontainer":{"build":{"dockerfile":"Dockerfile"}},"dockerfile":"FROM python:3\n"}"#;
    let (status, body) = http(addr, "POST", "/codespaces", &service, recovery);
    assert_eq!(status, 201);
    assert!(body.contains("\"recovery_mode\":true"));
    assert_eq!(http(addr, "GET", "/orgs/octo-org", CANARY_BAD, "").0, 401);
    assert_eq!(
        http(
            addr,
            "POST",
            "/tokens/revoke",
            admin,
            &format!(r#"{{"token":"{owner}"}}"#)
        )
        .0,
        204
    );
    assert_eq!(http(addr, "GET", "/orgs/octo-org", &owner, "").0, 401);
    let (status, metrics) = http(addr, "GET", "/metrics", "", "");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("policy_decisions_total{outcome=\"refused\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("policy_decisions_total{outcome=\"recovery\"} 1"),
        "{metrics}"
    );
    assert!(metrics
        .contains("http_requests_total{route=\"/codespaces\",method=\"POST\",status=\"400\"} 1"));
    assert!(metrics.contains("db_pool_connections{state=\"idle\"}"));

    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "SIGTERM did not stop the service"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "a clean exit after SIGTERM");
    let mut logs = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();

    assert!(logs.contains("policy decision"), "decisions are logged");
    assert!(logs.contains("\"outcome\":\"refused\"") && logs.contains("\"outcome\":\"recovery\""));
    assert!(
        logs.contains("\"policy_ids\""),
        "refusing policies are named"
    );
    for secret in [CANARY_ADMIN, CANARY_BAD, owner.as_str(), service.as_str()] {
        assert!(!logs.contains(secret), "a token reached the logs");
        assert!(
            !logs.contains(&secret[8..]),
            "part of a token reached the logs"
        );
    }
    assert!(!logs.to_ascii_lowercase().contains("authorization: bearer"));
}
