//! The real binary, end to end: start it, drive it over HTTP, stop it with SIGTERM, and
//! read every line it logged at the most verbose level. No token may appear there.

use std::net::SocketAddr;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

mod process;

use process::{
    free_port, fresh_postgres_url, http, octo_org, service_token, start_logging_to, start_on,
    token_in, wait_until_ready, CANARY_ADMIN,
};

const CANARY_BAD: &str = "bip_canarybadtoken0123456789abcdef";

fn start(dir: &std::path::Path, port: u16) -> Child {
    let url = format!("sqlite://{}", dir.join("db.sqlite").display());
    start_logging_to(&url, port, "trace", &dir.join("service.log"))
}

#[test]
fn a_full_run_logs_decisions_but_never_a_token_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut child = start(dir.path(), port);
    wait_until_ready(addr);

    let admin = CANARY_ADMIN;
    octo_org(addr, "owner");
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
    let service = service_token(addr);
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
        .contains("http_requests_total{method=\"POST\",route=\"/codespaces\",status=\"400\"} 1"));
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
    let logs = std::fs::read_to_string(dir.path().join("service.log")).unwrap();

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

fn image(i: usize) -> String {
    format!("registry.test/team/img-{i}:1")
}

/// Two service processes share one PostgreSQL: creations alternate between them while edits
/// on the first remove one allowed image after another. No creation that started after the
/// removal of its image was acknowledged may be recorded; every 201 is recorded.
#[test]
fn two_service_processes_sharing_postgresql_never_judge_by_a_stale_policy() {
    const IMAGES: usize = 20;
    let url = fresh_postgres_url();
    let (port_a, port_b) = (free_port(), free_port());
    let mut first = start_on(&url, port_a, "warn");
    let addr_a: SocketAddr = format!("127.0.0.1:{port_a}").parse().unwrap();
    wait_until_ready(addr_a);
    let mut second = start_on(&url, port_b, "warn");
    let addr_b: SocketAddr = format!("127.0.0.1:{port_b}").parse().unwrap();
    wait_until_ready(addr_b);

    let admin = CANARY_ADMIN;
    octo_org(addr_a, "member");
    let all: Vec<String> = (0..IMAGES).map(image).collect();
    let policy = serde_json::json!({ "name": "P", "target": "all_repositories",
        "constraints": { "base_images": { "allowed_values": all } } });
    let (status, body) = http(
        addr_a,
        "POST",
        "/orgs/octo-org/codespaces/policies",
        admin,
        &policy.to_string(),
    );
    assert_eq!(status, 201, "{body}");
    let policy_id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"].clone();
    let service = service_token(addr_a);

    let removed_at = std::sync::Arc::new(std::sync::Mutex::new(vec![None::<Instant>; IMAGES]));
    let editor = {
        let removed_at = removed_at.clone();
        std::thread::spawn(move || {
            let path = format!("/orgs/octo-org/codespaces/policies/{policy_id}");
            for removed in 0..IMAGES - 1 {
                let remaining: Vec<String> = ((removed + 1)..IMAGES).map(image).collect();
                let body = serde_json::json!({ "constraints": { "base_images": { "allowed_values": remaining } } });
                loop {
                    let (status, answer) = http(addr_a, "PATCH", &path, admin, &body.to_string());
                    if status == 200 {
                        break;
                    }
                    assert_eq!(status, 503, "{answer}");
                }
                removed_at.lock().unwrap()[removed] = Some(Instant::now());
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let service = service.clone();
            std::thread::spawn(move || {
                let mut attempts = Vec::new();
                let mut seed = 0x9E37_79B9_u64 + worker as u64;
                for n in 0..150 {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    let i = (seed >> 33) as usize % IMAGES;
                    let addr = if (n + worker) % 2 == 0 {
                        addr_a
                    } else {
                        addr_b
                    };
                    let body = serde_json::json!({ "repository": "octo-org/repo-a", "user": "mona",
                        "devcontainer": { "image": image(i) } });
                    let started = Instant::now();
                    let (status, answer) =
                        http(addr, "POST", "/codespaces", &service, &body.to_string());
                    assert!(matches!(status, 201 | 400 | 503), "{status} {answer}");
                    attempts.push((i, started, status));
                }
                attempts
            })
        })
        .collect();
    editor.join().unwrap();
    let removed_at = removed_at.lock().unwrap().clone();
    let (mut created, mut refused_after_removal) = (0, 0);
    for worker in workers {
        for (i, started, status) in worker.join().unwrap() {
            let stale = removed_at[i].is_some_and(|acked| started > acked);
            if status == 201 {
                created += 1;
                assert!(
                    !stale,
                    "{} was created after its removal was acknowledged",
                    image(i)
                );
            } else if stale {
                refused_after_removal += 1;
            }
        }
    }
    let (_, listed) = http(
        addr_b,
        "GET",
        "/orgs/octo-org/codespaces?per_page=1",
        admin,
        "",
    );
    let total = serde_json::from_str::<serde_json::Value>(&listed).unwrap()["total_count"].clone();
    let _ = (first.kill(), second.kill(), first.wait(), second.wait());
    assert!(
        created > 0 && refused_after_removal > 0,
        "the race exercised both outcomes"
    );
    assert_eq!(total, created, "every 201 was recorded, nothing else");
}
