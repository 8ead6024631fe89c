//! Fail closed: when the database is down or too slow, decisions answer 503 with
//! `Retry-After`, never 201 and never 400, and the same process recovers on its own.
//! Also the bounds on work: request deadline, load shedding, graceful drain, slowloris.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use base_image_policy::app::serve;
use serde_json::{json, Value};
use sqlx::{Connection, Executor, PgConnection, SqliteConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Backend, TestApp, TestDatabase};
use crate::throwaway::ThrowawayPostgres;

/// What the service logs at info while a test runs on this thread (a current-thread runtime).
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(self.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// The first line that contains `message`.
    fn line(&self, message: &str) -> String {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        let found = text.lines().find(|line| line.contains(message));
        found
            .unwrap_or_else(|| panic!("no '{message}' in the logs:\n{text}"))
            .to_string()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

/// Generous: proves the answer comes at all, not how fast (no timing assertions).
const BOUND: Duration = Duration::from_secs(30);

/// A transaction of the test's own that holds what a creation must wait for: on PostgreSQL
/// the codespaces table against writes, as a policy edit holds it before its commit; on
/// SQLite the database's write lock.
pub enum LockHolder {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

impl LockHolder {
    pub async fn hold(app: &TestApp) -> Self {
        match &app.database {
            TestDatabase::Postgres(options) => {
                let mut conn = PgConnection::connect_with(options).await.unwrap();
                conn.execute("BEGIN").await.unwrap();
                conn.execute("LOCK TABLE codespaces IN SHARE MODE")
                    .await
                    .unwrap();
                Self::Postgres(conn)
            }
            TestDatabase::Sqlite(url) => {
                let mut conn = SqliteConnection::connect(url).await.unwrap();
                conn.execute("BEGIN IMMEDIATE").await.unwrap();
                Self::Sqlite(conn)
            }
        }
    }

    pub async fn release(self) {
        match self {
            Self::Postgres(mut conn) => conn.execute("ROLLBACK").await.map(drop).unwrap(),
            Self::Sqlite(mut conn) => conn.execute("ROLLBACK").await.map(drop).unwrap(),
        }
    }
}

fn node_codespace() -> Value {
    json!({ "repository": "octo-org/repo-a", "user": "mona", "devcontainer": { "image": "node:18" } })
}

fn python_codespace() -> Value {
    json!({ "repository": "octo-org/repo-a", "user": "mona", "devcontainer": { "image": "python:3" } })
}

async fn arrange(app: &TestApp) -> String {
    app.octo_org().await;
    app.allow_org_wide("octo-org", &["node:*"]).await;
    app.service_token().await
}

fn assert_unavailable(response: &crate::helpers::TestResponse, what: &str) {
    assert_eq!(
        response.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {:?}",
        response.body
    );
    assert!(
        response.headers.get("retry-after").is_some(),
        "{what}: Retry-After"
    );
    assert!(response.body["message"].is_string(), "{what}");
}

async fn codespace_count(app: &TestApp) -> i64 {
    app.get("/orgs/octo-org/codespaces", &app.admin).await.body["total_count"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn decisions_fail_closed_while_postgresql_is_down_and_recover_when_it_is_back() {
    let cluster = ThrowawayPostgres::start();
    let options = cluster.url().parse().unwrap();
    let app = TestApp::on_database(TestDatabase::Postgres(options), |config| {
        config.database_timeout = Duration::from_millis(1000);
    })
    .await;
    let service = arrange(&app).await;
    let existing = app.create_codespace(&service, node_codespace()).await;
    assert_eq!(existing.status, StatusCode::CREATED);
    let rebuild = format!(
        "/codespaces/{}/rebuild",
        existing.body["id"].as_str().unwrap()
    );
    // Warm the read cache: a cached evaluate must still fail closed once the database is gone.
    let evaluate = json!({ "repository": "repo-a", "image": "python:3" });
    for _ in 0..3 {
        let path = "/orgs/octo-org/codespaces/policies/evaluate";
        let warm = app.post(path, &app.admin, evaluate.clone()).await;
        assert_eq!(warm.status, StatusCode::OK);
    }

    cluster.stop_server();
    for (what, method, path, body) in [
        (
            "allowed creation",
            Method::POST,
            "/codespaces",
            Some(node_codespace()),
        ),
        (
            "refused creation",
            Method::POST,
            "/codespaces",
            Some(python_codespace()),
        ),
        (
            "full rebuild",
            Method::POST,
            rebuild.as_str(),
            Some(json!({ "full": true, "devcontainer": { "image": "python:3" } })),
        ),
        (
            "evaluate",
            Method::POST,
            "/orgs/octo-org/codespaces/policies/evaluate",
            Some(json!({ "repository": "repo-a", "image": "python:3" })),
        ),
        ("readiness", Method::GET, "/readyz", None),
    ] {
        let token = if path == "/codespaces" || path.ends_with("rebuild") {
            &service
        } else {
            &app.admin
        };
        let response = tokio::time::timeout(BOUND, app.request(method, path, Some(token), body))
            .await
            .unwrap_or_else(|_| panic!("{what} hung while the database was down"));
        assert_unavailable(&response, what);
    }
    // Liveness does not depend on the database.
    assert_eq!(
        app.request(Method::GET, "/healthz", None, None)
            .await
            .status,
        StatusCode::OK
    );

    cluster.start_server();
    let deadline = tokio::time::Instant::now() + BOUND;
    while app.request(Method::GET, "/readyz", None, None).await.status != StatusCode::OK {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the service did not recover"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        app.create_codespace(&service, node_codespace())
            .await
            .status,
        StatusCode::CREATED
    );
    let refused = app.create_codespace(&service, python_codespace()).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(codespace_count(&app).await, 2);
}

#[tokio::test]
async fn a_postgresql_restart_under_load_yields_only_201_or_503_and_service_resumes() {
    let cluster = ThrowawayPostgres::start();
    let options = cluster.url().parse().unwrap();
    let app = std::sync::Arc::new(
        TestApp::on_database(TestDatabase::Postgres(options), |config| {
            config.database_timeout = Duration::from_millis(1000);
        })
        .await,
    );
    let service = arrange(&app).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (app, service, stop) = (app.clone(), service.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) && statuses.len() < 5_000 {
                statuses.push(
                    app.create_codespace(&service, node_codespace())
                        .await
                        .status,
                );
            }
            statuses
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.stop_server();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.start_server();
    tokio::time::sleep(Duration::from_millis(4000)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut created = 0;
    let mut unavailable = 0;
    for worker in workers {
        let statuses = worker.await.unwrap();
        assert!(
            statuses.last() == Some(&StatusCode::CREATED),
            "creations resumed after the restart"
        );
        for status in statuses {
            match status {
                StatusCode::CREATED => created += 1,
                StatusCode::SERVICE_UNAVAILABLE => unavailable += 1,
                other => panic!("only 201 or 503 during an outage, got {other}"),
            }
        }
    }
    assert!(unavailable > 0, "the outage was seen");
    assert_eq!(
        codespace_count(&app).await,
        created,
        "every 201 was recorded, nothing else"
    );
}

crate::backend_tests! {
    // It fails closed, and the 5xx is logged where it failed and, with its method and
    // route, by the guard.
    async fn a_creation_that_waits_too_long_on_the_database_fails_closed(app) {
        let logs = Logs::default();
        let _capture = logs.capture();
        let service = arrange(&app).await;
        let lock = LockHolder::hold(&app).await;
        let response = tokio::time::timeout(BOUND, app.create_codespace(&service, python_codespace()))
            .await
            .expect("bounded");
        assert_unavailable(&response, "creation behind a held lock");
        lock.release().await;
        logs.line("policy store unavailable");
        let failed = logs.line("request failed");
        for field in ["method=POST", "route=\"/codespaces\"", "status=503"] {
            assert!(failed.contains(field), "{field} in {failed}");
        }
        assert_eq!(app.create_codespace(&service, python_codespace()).await.status, StatusCode::BAD_REQUEST);
        assert_eq!(codespace_count(&app).await, 0);
    }
}

#[tokio::test]
async fn a_request_past_its_deadline_answers_503() {
    let logs = Logs::default();
    let _capture = logs.capture();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = TestApp::spawn_with(backend, |config| {
            config.request_timeout = Duration::from_millis(300);
            config.database_timeout = Duration::from_secs(20);
        })
        .await;
        let service = arrange(&app).await;
        let lock = LockHolder::hold(&app).await;
        let response =
            tokio::time::timeout(BOUND, app.create_codespace(&service, node_codespace()))
                .await
                .expect("bounded");
        assert_unavailable(&response, "past the request deadline");
        lock.release().await;
        assert_eq!(
            codespace_count(&app).await,
            0,
            "{backend:?}: nothing recorded"
        );
    }
    let passed = logs.line("request deadline passed");
    assert!(passed.contains("route=\"/codespaces\""), "{passed}");
}

#[tokio::test]
async fn requests_past_the_concurrency_limit_are_shed_with_503() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = TestApp::spawn_with(backend, |config| {
            config.max_concurrent_requests = 1;
            config.database_timeout = Duration::from_secs(20);
        })
        .await;
        let service = arrange(&app).await;
        let lock = LockHolder::hold(&app).await;
        let blocked = app.create_codespace(&service, node_codespace());
        let shed = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let shed = app.create_codespace(&service, node_codespace()).await;
            let health = app.request(Method::GET, "/healthz", None, None).await;
            lock.release().await;
            (shed, health)
        };
        let (blocked, (shed, health)) = tokio::join!(blocked, shed);
        assert_unavailable(&shed, "over the limit");
        assert_eq!(
            health.status,
            StatusCode::OK,
            "health checks are never shed"
        );
        assert_eq!(
            blocked.status,
            StatusCode::CREATED,
            "{backend:?}: the first one completes"
        );
    }
}

/// Sends one raw HTTP/1.1 request and reads the whole answer.
async fn raw_request(addr: std::net::SocketAddr, request: String) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    answer
}

#[tokio::test]
async fn shutdown_turns_readiness_off_first_and_completes_in_flight_requests() {
    let app = TestApp::spawn_with(Backend::Postgres, |config| {
        config.database_timeout = Duration::from_secs(20);
    })
    .await;
    let service = arrange(&app).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (signal_tx, signal_rx) = tokio::sync::oneshot::channel::<()>();
    let state = app.state.clone();
    let server = tokio::spawn(serve(
        listener,
        app.router.clone(),
        Duration::from_secs(5),
        async move {
            let _ = signal_rx.await;
            state.start_draining();
            tokio::time::sleep(Duration::from_millis(1500)).await;
        },
    ));

    let lock = LockHolder::hold(&app).await;
    let body = node_codespace().to_string();
    let in_flight = tokio::spawn(raw_request(
        addr,
        format!(
            "POST /codespaces HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {service}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    signal_tx.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ready = raw_request(
        addr,
        "GET /readyz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".into(),
    )
    .await;
    assert!(
        ready.starts_with("HTTP/1.1 503"),
        "readiness fails while draining: {ready}"
    );
    lock.release().await;
    let answer = tokio::time::timeout(BOUND, in_flight)
        .await
        .expect("bounded")
        .unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "the in-flight request completed: {answer}"
    );
    tokio::time::timeout(BOUND, server)
        .await
        .expect("shutdown completes")
        .unwrap()
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(
        listener,
        app.router.clone(),
        Duration::from_millis(300),
        async {
            let _ = stop_rx.await;
        },
    ));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: ")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(BOUND, stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the server closed the connection");
    assert!(!String::from_utf8_lossy(&rest).contains("200 OK"));
    stop_tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}
