//! The owners' console's "Codespaces policies" page of an org of 1,000 policies, through
//! the router in process as a logged-in browser asks for it, on SQLite and on PostgreSQL:
//! the session's lookup, the API's list (a page of 100, the API's largest, with the
//! warnings it judges over all 1,000) and the page's HTML. Goal (docs/benchmarks.md):
//! under 100 ms median.
//!
//! `cargo bench --bench console`. PostgreSQL is `BENCH_DATABASE_URL`, else
//! `TEST_DATABASE_URL`, else postgres://postgres@127.0.0.1:5432/postgres; the benchmark
//! works in a schema of its own and drops it. Run as a test (`cargo test --benches`), each
//! store is exercised once on 50 policies.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use base_image_policy::app::build_router;
use base_image_policy::config::Config;
use base_image_policy::state::AppState;
use base_image_policy::store::{PgStore, SqliteStore, Store};
use divan::Bencher;
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor, PgConnection};
use tower::ServiceExt;

// The service's allocator (src/main.rs), so that the figures are the service's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

const ADMIN: &str = "bench-admin-token-0123456789abcdef";
const REPOS: usize = 10;
const TIMEOUT: Duration = Duration::from_secs(10);

/// The goal's 1,000 policies under `cargo bench`, 50 when run as a test.
fn policies() -> usize {
    if std::env::args().any(|arg| arg == "--bench") {
        1_000
    } else {
        50
    }
}

/// One request; answers the status, the headers and the body as text.
async fn send(
    router: &Router,
    method: Method,
    path: &str,
    headers: &[(header::HeaderName, String)],
    body: Body,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = router
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

async fn api(router: &Router, method: Method, path: &str, body: serde_json::Value) {
    let headers = [
        (header::AUTHORIZATION, format!("Bearer {ADMIN}")),
        (header::CONTENT_TYPE, "application/json".to_owned()),
    ];
    let (status, _, answer) =
        send(router, method, path, &headers, Body::from(body.to_string())).await;
    assert!(status.is_success(), "{path}: {answer}");
}

/// Policy `i`: one in four org-wide, the others for one repository each, each with four
/// base images (two exact, two prefixes) of its own and one shared.
fn policy(i: usize) -> serde_json::Value {
    let values = [
        format!("ghcr.io/org-{i}/app:{}", i % 50),
        format!("registry.example.com/team-{i}/*"),
        format!("mcr.microsoft.com/devcontainers/img-{i}:1.{}", i % 10),
        format!("docker.io/library/lang-{i}:*"),
        "mcr.microsoft.com/devcontainers/*".to_owned(),
    ];
    if i % 4 == 0 {
        json!({ "name": format!("Policy {i}"), "target": "all_repositories",
            "constraints": { "base_images": { "allowed_values": values } } })
    } else {
        json!({ "name": format!("Policy {i} <for repo-{}>", i % REPOS), "target": "selected_repositories",
            "repositories": [format!("repo-{}", i % REPOS)],
            "constraints": { "base_images": { "allowed_values": values } } })
    }
}

/// The org, its repositories and `n` policies, created through the API; then a console
/// login as the site admin. Answers the router and the session's cookie.
async fn arrange(store: Arc<dyn Store>, n: usize) -> (Router, String) {
    let config = Config::from_lookup(|key| (key == "ADMIN_TOKEN").then(|| ADMIN.to_owned()))
        .expect("configuration");
    let router = build_router(AppState::new(store, config));
    api(
        &router,
        Method::POST,
        "/orgs",
        json!({ "login": "octo-org" }),
    )
    .await;
    for r in 0..REPOS {
        api(
            &router,
            Method::PUT,
            &format!("/orgs/octo-org/repos/repo-{r}"),
            json!({}),
        )
        .await;
    }
    for i in 0..n {
        api(
            &router,
            Method::POST,
            "/orgs/octo-org/codespaces/policies",
            policy(i),
        )
        .await;
    }
    let (_, headers, page) = send(&router, Method::GET, "/ui/login", &[], Body::empty()).await;
    let nonce = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let form = format!("csrf={nonce}&token={ADMIN}");
    let login = [
        (header::COOKIE, format!("bip_login={nonce}")),
        (
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".to_owned(),
        ),
    ];
    let (status, headers_after, _) =
        send(&router, Method::POST, "/ui/login", &login, Body::from(form)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    drop(headers);
    let cookie = headers_after
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("bip_session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    (router, cookie)
}

fn bench_page(bencher: Bencher, store: Arc<dyn Store>, runtime: &tokio::runtime::Runtime) {
    let n = policies();
    let (router, cookie) = runtime.block_on(arrange(store, n));
    let path = "/ui/orgs/octo-org/codespaces/policies";
    let headers = [(header::COOKIE, cookie)];
    let (status, _, page) =
        runtime.block_on(send(&router, Method::GET, path, &headers, Body::empty()));
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(&format!("({n} in all)")), "{page}");
    assert!(page.contains("&lt;for repo-1&gt;"), "names are escaped");
    bencher.bench_local(|| {
        runtime.block_on(send(&router, Method::GET, path, &headers, Body::empty()))
    });
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A fresh SQLite store in `dir`.
fn sqlite(runtime: &tokio::runtime::Runtime, dir: &tempfile::TempDir) -> Arc<dyn Store> {
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    Arc::new(
        runtime
            .block_on(SqliteStore::connect(&url, TIMEOUT))
            .unwrap(),
    )
}

/// A PostgreSQL store in a schema of its own, and a closure that drops the schema.
fn postgres(runtime: &tokio::runtime::Runtime, name: &str) -> (Arc<dyn Store>, impl FnOnce()) {
    let url = std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let options = PgConnectOptions::from_str(&url).expect("a PostgreSQL URL");
    let schema = format!("bench_console_{name}_{}", std::process::id());
    runtime.block_on(async {
        let mut admin = options
            .connect()
            .await
            .unwrap_or_else(|e| panic!("this benchmark needs PostgreSQL at {url}: {e}"));
        let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}");
        admin
            .execute(sql.as_str())
            .await
            .expect("create the benchmark's schema");
    });
    let scoped = options.clone().options([("search_path", schema.as_str())]);
    let store = runtime
        .block_on(PgStore::connect_with(scoped, TIMEOUT))
        .unwrap();
    let handle = runtime.handle().clone();
    let drop_schema = move || {
        handle.block_on(async {
            let mut conn = PgConnection::connect_with(&options).await.unwrap();
            conn.execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
                .await
                .unwrap();
        });
    };
    (Arc::new(store), drop_schema)
}

#[divan::bench(sample_count = 50, sample_size = 1)]
fn policies_page_sqlite(bencher: Bencher) {
    let runtime = runtime();
    let dir = tempfile::tempdir().expect("temporary directory");
    bench_page(bencher, sqlite(&runtime, &dir), &runtime);
}

#[divan::bench(sample_count = 50, sample_size = 1)]
fn policies_page_postgres(bencher: Bencher) {
    let runtime = runtime();
    let (store, drop_schema) = postgres(&runtime, "page");
    bench_page(bencher, store, &runtime);
    drop_schema();
}

#[divan::bench(sample_count = 50, sample_size = 1)]
fn api_list_sqlite(bencher: Bencher) {
    let runtime = runtime();
    let dir = tempfile::tempdir().expect("temporary directory");
    bench_api(bencher, sqlite(&runtime, &dir), &runtime);
}

#[divan::bench(sample_count = 50, sample_size = 1)]
fn api_list_postgres(bencher: Bencher) {
    let runtime = runtime();
    let (store, drop_schema) = postgres(&runtime, "api");
    bench_api(bencher, store, &runtime);
    drop_schema();
}

/// The floor under the page: the API's own answer it is drawn from, asked over the router
/// with a bearer token.
fn bench_api(bencher: Bencher, store: Arc<dyn Store>, runtime: &tokio::runtime::Runtime) {
    let (router, _) = runtime.block_on(arrange(store, policies()));
    let path = "/orgs/octo-org/codespaces/policies?per_page=100&page=1";
    let headers = [(header::AUTHORIZATION, format!("Bearer {ADMIN}"))];
    let answer = runtime.block_on(send(&router, Method::GET, path, &headers, Body::empty()));
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.2);
    bencher.bench_local(|| {
        runtime.block_on(send(&router, Method::GET, path, &headers, Body::empty()))
    });
}
