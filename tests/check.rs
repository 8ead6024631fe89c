//! `base-image-policy check`, run as a CI job runs it: the real binary, against the real
//! service, on repository folders written here, for every exit code.

mod process;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output};

use process::{free_port, http, octo_org, service_token, start_on, wait_until_ready, CANARY_ADMIN};

/// The service on a fresh SQLite file, seeded with `octo-org/repo-a` and a policy that allows
/// only Microsoft's dev container images; stopped when dropped.
struct Service {
    child: Child,
    addr: SocketAddr,
    token: String,
    _dir: tempfile::TempDir,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Service {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let child = start_on(&url, port, "warn");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        wait_until_ready(addr);
        octo_org(addr, "owner");
        let policy = r#"{"name":"Approved images","target":"all_repositories","constraints":{"base_images":{"allowed_values":["mcr.microsoft.com/devcontainers/*"]}}}"#;
        let (status, body) = http(
            addr,
            "POST",
            "/orgs/octo-org/codespaces/policies",
            CANARY_ADMIN,
            policy,
        );
        assert_eq!(status, 201, "{body}");
        let token = service_token(addr);
        Self {
            child,
            addr,
            token,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Runs `check` in `dir` with `args`, the service's URL and token in the environment.
fn check(dir: &Path, url: &str, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_base-image-policy"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BIP_URL", url)
        .arg("check")
        .arg(dir)
        .args(args);
    if !args.contains(&"--repository") {
        command.args(["--repository", "octo-org/repo-a"]);
    }
    if let Some(token) = token {
        command.env("BIP_TOKEN", token);
    }
    command.output().unwrap()
}

fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}{}",
        stdout(output),
        stderr(output)
    );
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A repository folder holding `files` (path, text).
fn repository(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

const ALLOWED: &str = "mcr.microsoft.com/devcontainers/javascript-node:18";

#[test]
fn exit_codes_follow_what_creation_would_do() {
    let service = Service::start();
    let url = service.url();
    let token = Some(service.token.as_str());

    let allowed = repository(&[(
        ".devcontainer/devcontainer.json",
        &format!("{{ // comments are fine\n \"image\": \"{ALLOWED}\", }}"),
    )]);
    let output = check(allowed.path(), &url, token, &[]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("would be created as configured"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("policy #1 'Approved images': allows it"),
        "{}",
        stdout(&output)
    );

    let refused = repository(&[(".devcontainer.json", r#"{"image": "node:18"}"#)]);
    let output = check(refused.path(), &url, token, &[]);
    assert_exit(&output, 1);
    let text = stdout(&output);
    assert!(text.contains("REFUSED"), "{text}");
    assert!(
        text.contains("Base image 'node:18' is not allowed based on an organization policy"),
        "{text}"
    );

    let recovery = repository(&[
        (
            ".devcontainer/devcontainer.json",
            r#"{"build": {"dockerfile": "Dockerfile"}}"#,
        ),
        (
            ".devcontainer/Dockerfile",
            "FROM python:3.12 AS base\nFROM base\nRUN true\n",
        ),
    ]);
    let output = check(recovery.path(), &url, token, &[]);
    assert_exit(&output, 1);
    assert!(
        stdout(&output).contains("RECOVERY MODE"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("running in recovery mode"),
        "{}",
        stdout(&output)
    );

    // JSON: the preflight answer itself.
    let output = check(refused.path(), &url, token, &["--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["outcome"], "refuse");
    assert_eq!(answer["image"], "node:18");

    // Nothing was created by any of it.
    let (status, body) = http(
        service.addr,
        "GET",
        "/orgs/octo-org/codespaces",
        CANARY_ADMIN,
        "",
    );
    assert_eq!(status, 200);
    assert!(body.contains("\"total_count\":0"), "{body}");
}

#[test]
fn a_compose_repository_is_judged_by_its_service_and_reads_every_file_it_names() {
    let service = Service::start();
    let url = service.url();
    let token = Some(service.token.as_str());
    let compose = "services:\n  app:\n    build:\n      context: ..\n      dockerfile: .devcontainer/Dockerfile\n  db:\n    image: postgres:16\n";
    let override_file = "services:\n  app:\n    image: ${APP_IMAGE:-node:20}\n";
    let allowed = repository(&[
        (
            ".devcontainer/devcontainer.json",
            r#"{"dockerComposeFile": ["docker-compose.yml", "docker-compose.ci.yml"], "service": "app"}"#,
        ),
        (".devcontainer/docker-compose.yml", compose),
        (".devcontainer/docker-compose.ci.yml", override_file),
        ("Dockerfile", "FROM python:3\n"),
        (
            ".devcontainer/Dockerfile",
            &format!("ARG BASE={ALLOWED}\nFROM $BASE\n"),
        ),
    ]);
    // The second file's image does not beat the first file's build: build wins.
    let output = check(allowed.path(), &url, token, &[]);
    assert_exit(&output, 0);
    assert!(stdout(&output).contains(ALLOWED), "{}", stdout(&output));

    let image_only = repository(&[
        (
            ".devcontainer/devcontainer.json",
            r#"{"dockerComposeFile": "compose.yml", "service": "app"}"#,
        ),
        (
            ".devcontainer/compose.yml",
            "services:\n  app:\n    image: node:18\n",
        ),
    ]);
    let output = check(image_only.path(), &url, token, &[]);
    assert_exit(&output, 1);
    assert!(
        stdout(&output).contains("(from compose)"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_check_that_cannot_be_made_exits_2_with_one_clear_line() {
    let service = Service::start();
    let url = service.url();
    let token = Some(service.token.as_str());
    let fine = repository(&[(
        ".devcontainer.json",
        &format!(r#"{{"image": "{ALLOWED}"}}"#),
    )]);

    let cases: Vec<(&str, Output, &str)> = vec![
        (
            "no configuration",
            check(repository(&[("README.md", "hi")]).path(), &url, token, &[]),
            "no dev container configuration",
        ),
        (
            "missing Dockerfile",
            check(
                repository(&[(
                    ".devcontainer.json",
                    r#"{"build": {"dockerfile": "Dockerfile"}}"#,
                )])
                .path(),
                &url,
                token,
                &[],
            ),
            "cannot read",
        ),
        (
            "missing compose file",
            check(
                repository(&[(
                    ".devcontainer.json",
                    r#"{"dockerComposeFile": "nope.yml", "service": "app"}"#,
                )])
                .path(),
                &url,
                token,
                &[],
            ),
            "cannot read",
        ),
        ("no token", check(fine.path(), &url, None, &[]), "BIP_TOKEN"),
        (
            "bad token",
            check(fine.path(), &url, Some("bip_not_a_token"), &[]),
            "401",
        ),
        (
            "unknown service",
            check(
                repository(&[
                    (
                        ".devcontainer.json",
                        r#"{"dockerComposeFile": "c.yml", "service": "web"}"#,
                    ),
                    ("c.yml", "services:\n  app:\n    image: x\n"),
                ])
                .path(),
                &url,
                token,
                &[],
            ),
            "422",
        ),
        (
            "nothing listening",
            check(
                fine.path(),
                &format!("http://127.0.0.1:{}", free_port()),
                token,
                &[],
            ),
            "could not reach",
        ),
        (
            "a 5xx",
            check(fine.path(), &failing_server(), token, &[]),
            "500",
        ),
        (
            "bad repository",
            check(fine.path(), &url, token, &["--repository", "octo-org"]),
            "OWNER/REPO",
        ),
    ];
    for (case, output, needle) in cases {
        assert_eq!(output.status.code(), Some(2), "{case}: {}", stderr(&output));
        let err = stderr(&output);
        assert!(err.contains(needle), "{case}: {err}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{case}: one line, not {err}"
        );
        assert!(!err.contains("panicked"), "{case}: {err}");
    }
}

/// A server that answers every request with a 500 and a JSON error body.
fn failing_server() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 65536];
            let _ = stream.read(&mut buffer);
            let body = r#"{"message":"Internal Server Error","documentation_url":"x"}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}
