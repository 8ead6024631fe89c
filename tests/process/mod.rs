//! Running the service's own binary in a test: start it, wait for it, talk HTTP to it.
#![allow(dead_code)] // each test binary uses its own share of these

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CANARY_ADMIN: &str = "canary-admin-token-0123456789abcdefghijklmnop";
/// One master key for every process a test starts (processes sharing PostgreSQL must share
/// it), so that none generates a key file in the working directory.
pub const SECRETS_KEY: &str = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=";

/// One HTTP/1.1 request on its own connection: `(status, body)`.
pub fn http(addr: SocketAddr, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
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

pub fn token_in(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).expect("JSON");
    value["token"].as_str().expect("a token").to_string()
}

/// The binary on `database_url`, serving on `port`, logging at `log` into `file`: a file,
/// not a pipe, so that a chatty level can never fill a pipe nobody reads yet and stall
/// the service mid-request.
pub fn start_logging_to(database_url: &str, port: u16, log: &str, file: &std::path::Path) -> Child {
    let out = std::fs::File::create(file).expect("create the log file");
    let err = out.try_clone().expect("share the log file");
    service(database_url, port, SECRETS_KEY)
        .env("RUST_LOG", log)
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("start the binary")
}

/// The binary on `database_url`, serving on `port`, logging at `log` to nowhere.
pub fn start_on(database_url: &str, port: u16, log: &str) -> Child {
    service(database_url, port, SECRETS_KEY)
        .env("RUST_LOG", log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the binary")
}

/// The binary's command with a clean environment: `database_url`, `port`, the master key
/// `secrets_key` and the test's admin token; add a subcommand or more variables to it.
pub fn service(database_url: &str, port: u16, secrets_key: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_base-image-policy"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("ADMIN_TOKEN", CANARY_ADMIN)
        .env("SECRETS_KEY", secrets_key)
        .env("DATABASE_TIMEOUT_MS", "10000")
        .env("LOG_FORMAT", "json");
    command
}

pub fn wait_until_ready(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect(addr).is_ok() && http(addr, "GET", "/readyz", "", "").0 == 200 {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the service did not become ready");
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `octo-org` with `repo-a`, and `mona` a member in `role`, created as the site admin.
pub fn octo_org(addr: SocketAddr, role: &str) {
    let admin = CANARY_ADMIN;
    assert_eq!(
        http(addr, "POST", "/orgs", admin, r#"{"login":"octo-org"}"#).0,
        201
    );
    assert_eq!(
        http(addr, "PUT", "/orgs/octo-org/repos/repo-a", admin, "").0,
        201
    );
    let membership = format!(r#"{{"role":"{role}"}}"#);
    let (status, body) = http(
        addr,
        "PUT",
        "/orgs/octo-org/memberships/mona",
        admin,
        &membership,
    );
    assert_eq!(status, 200, "{body}");
}

/// A new service token for the orchestrator, minted by the site admin.
pub fn service_token(addr: SocketAddr) -> String {
    let (status, body) = http(
        addr,
        "POST",
        "/service-tokens",
        CANARY_ADMIN,
        r#"{"name":"orchestrator"}"#,
    );
    assert_eq!(status, 201, "{body}");
    token_in(&body)
}

/// A schema of its own on the test PostgreSQL (as `tests/api` finds it), as a URL.
pub fn fresh_postgres_url() -> String {
    let base = std::env::var("TEST_DATABASE_URL")
        .ok()
        .or_else(|| {
            std::env::var("DATABASE_URL")
                .ok()
                .filter(|u| u.starts_with("postgres"))
        })
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let schema = format!("t_{}", &base_image_policy::tokens::generate_token()[4..20]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {base}: {e}; run ./scripts/test"));
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .await
            .unwrap();
    });
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options%5Bsearch_path%5D={schema}")
}
