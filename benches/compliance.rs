//! `GET /orgs/{org}/codespaces/compliance` and `POST /orgs/{org}/codespaces/policies/preview`
//! through the router in process, on SQLite and on PostgreSQL, for an org of 100,000 and of
//! 200,000 codespaces and as many decisions of the last 30 days, each inserted by one SQL
//! statement. Goals (docs/benchmarks.md): under 2 s on each store at 100,000, and 200,000 at
//! most 2.2 times 100,000.
//!
//! `cargo bench --bench compliance`. PostgreSQL is `BENCH_DATABASE_URL`, else
//! `TEST_DATABASE_URL`, else postgres://postgres@127.0.0.1:5432/postgres; the benchmark
//! works in a schema of its own and drops it. Run as a test (`cargo test --benches`), each
//! store is exercised once on 2,000 codespaces.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use base_image_policy::app::build_router;
use base_image_policy::compliance::Scan;
use base_image_policy::config::Config;
use base_image_policy::policy::{
    AllowedValue, CompiledPolicySet, Enforcement, ExemptImages, ImageSource, PolicyRules, Target,
};
use base_image_policy::state::AppState;
use base_image_policy::store::{CodespaceImage, PageRequest, PgStore, SqliteStore, Store};
use divan::Bencher;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor, PgConnection, SqliteConnection};
use tower::ServiceExt;

// The service's allocator (src/main.rs), so that the figures are the service's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

const ADMIN: &str = "bench-admin-token-0123456789abcdef";
const DEFAULT_IMAGE: &str = "mcr.microsoft.com/devcontainers/universal:2";
const RECOVERY_IMAGE: &str = "mcr.microsoft.com/devcontainers/base:ubuntu";
const REPOS: i64 = 10;
const TIMEOUT: Duration = Duration::from_secs(10);

/// The org sizes: the goals' under `cargo bench`, a small one when run as a test.
fn sizes() -> Vec<i64> {
    if std::env::args().any(|arg| arg == "--bench") {
        vec![100_000, 200_000]
    } else {
        vec![2_000]
    }
}

/// How many of `n` codespaces the policy refuses: see [`values`].
fn refused(n: i64) -> i64 {
    (1..=n).filter(|i| i % 8 == 0 || i % 8 == 5).count() as i64
}

/// An `INSERT ... SELECT` of codespace `i` of `octo-org` for each `i` of `source`, with
/// `id` and `ts` its id and creation time. By `i % 8`, two images in eight are refused
/// (`python:3.x`, a ghcr.io tool), three allowed, and three not judged (the default image,
/// the recovery image in recovery mode, billed to the user). `$1` is the count.
fn values(id: &str, ts: &str, source: &str) -> String {
    format!(
        "INSERT INTO codespaces (id, org_id, repo_id, user_login, billable_owner, image, \
         image_source, recovery_mode, creation_log, created_at, updated_at, registries) \
         SELECT {id}, o.id, (SELECT MIN(r.id) FROM repos r WHERE r.org_id = o.id) + i % {REPOS}, \
         'user-' || (i % 500), \
         CASE WHEN i % 8 = 7 THEN 'user-' || (i % 500) ELSE o.login END, \
         CASE i % 8 WHEN 0 THEN 'python:3.' || (i % 13) WHEN 1 THEN 'node:18' \
             WHEN 2 THEN 'node:20' WHEN 3 THEN $2 WHEN 4 THEN $3 \
             WHEN 5 THEN 'ghcr.io/octo-org/tool-' || (i % 50) || ':1' \
             WHEN 6 THEN 'mcr.microsoft.com/devcontainers/go:1' ELSE 'python:3' END, \
         CASE i % 8 WHEN 2 THEN 'dockerfile' WHEN 3 THEN 'default' WHEN 4 THEN 'dockerfile' \
             ELSE 'image' END, \
         i % 8 = 4, '[]', {ts}, {ts}, '[]' \
         FROM {source} JOIN orgs o ON o.login = 'octo-org'"
    )
}

/// An `INSERT ... SELECT` of decision `i` of `octo-org` for each `i` of `source`, at `ts` (within
/// the last 30 days), with the images of [`values`] (the exempt ones are never logged, so
/// they stand for allowed images here).
fn decisions(ts: &str, source: &str) -> String {
    format!(
        "INSERT INTO decisions (org_id, at, repository, repo_key, user_login, image, \
         image_source, outcome, refused_by, reported_by, codespace_id) \
         SELECT o.id, {ts}, 'octo-org/repo-' || (i % {REPOS}), 'repo-' || (i % {REPOS}), \
         'user-' || (i % 500), \
         CASE i % 8 WHEN 0 THEN 'python:3.' || (i % 13) WHEN 1 THEN 'node:18' \
             WHEN 2 THEN 'node:20' WHEN 5 THEN 'ghcr.io/octo-org/tool-' || (i % 50) || ':1' \
             WHEN 7 THEN 'python:3' ELSE 'mcr.microsoft.com/devcontainers/go:1' END, \
         'image', CASE WHEN i % 8 IN (0, 5, 7) THEN 'refused' ELSE 'created' END, \
         CASE WHEN i % 8 IN (0, 5, 7) THEN '[1]' ELSE '[]' END, '[]', NULL \
         FROM {source} JOIN orgs o ON o.login = 'octo-org'"
    )
}

/// Where a benchmark keeps its codespaces.
#[allow(clippy::large_enum_variant)] // one per benchmark; size does not matter
enum Db {
    /// The directory holds the file, and goes with it.
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres(PgConnectOptions, String),
}

impl Db {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        Self::Sqlite { _dir: dir, url }
    }

    async fn postgres() -> Self {
        let url = std::env::var("BENCH_DATABASE_URL")
            .or_else(|_| std::env::var("TEST_DATABASE_URL"))
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let options = PgConnectOptions::from_str(&url).expect("a PostgreSQL URL");
        let mut admin = options
            .connect()
            .await
            .unwrap_or_else(|e| panic!("this benchmark needs PostgreSQL at {url}: {e}"));
        let schema = format!("bench_compliance_{}", std::process::id());
        admin
            .execute(
                format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}").as_str(),
            )
            .await
            .expect("create the benchmark's schema");
        Self::Postgres(options.options([("search_path", schema.as_str())]), schema)
    }

    async fn store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite { url, .. } => Arc::new(SqliteStore::connect(url, TIMEOUT).await.unwrap()),
            Self::Postgres(options, _) => Arc::new(
                PgStore::connect_with(options.clone(), TIMEOUT)
                    .await
                    .unwrap(),
            ),
        }
    }

    /// Inserts `n` codespaces and `n` decisions into `octo-org`, each in one statement.
    async fn insert(&self, n: i64) {
        match self {
            Self::Sqlite { url, .. } => {
                // The text sqlx writes for a whole second, so that keyset cursors compare equal.
                let ts = "strftime('%Y-%m-%dT%H:%M:%S', 1767225600 + i, 'unixepoch') || '+00:00'";
                let sql = format!(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) {}",
                    values("printf('cs_%026d', i)", ts, "n")
                );
                let mut conn = SqliteConnection::connect(url).await.unwrap();
                insert(&sql, n, &mut conn).await;
                let at = "strftime('%Y-%m-%dT%H:%M:%S', 'now', '-' || i || ' seconds') || '+00:00'";
                let sql = format!(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) {}",
                    decisions(at, "n")
                );
                insert(&sql, n, &mut conn).await;
                // As a database that has served a while: the rows in the file, not the WAL.
                conn.execute("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)")
                    .await
                    .unwrap();
            }
            Self::Postgres(options, _) => {
                let ts = "timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second'";
                let sql = values(
                    "'cs_' || lpad(i::text, 26, '0')",
                    ts,
                    "generate_series(1, $1::bigint) AS g(i)",
                );
                let mut conn = PgConnection::connect_with(options).await.unwrap();
                insert(&sql, n, &mut conn).await;
                let at = "now() - i * interval '1 second'";
                let sql = decisions(at, "generate_series(1, $1::bigint) AS g(i)");
                insert(&sql, n, &mut conn).await;
                // One statement each: several would run as one transaction, where VACUUM cannot.
                for table in ["codespaces", "decisions"] {
                    conn.execute(format!("VACUUM ANALYZE {table}").as_str())
                        .await
                        .unwrap();
                }
            }
        }
    }

    async fn drop_schema(self) {
        if let Self::Postgres(options, schema) = self {
            let mut conn = PgConnection::connect_with(&options).await.unwrap();
            conn.execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
                .await
                .unwrap();
        }
    }
}

async fn send(
    router: &Router,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {ADMIN}"))
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// `octo-org` with its repositories and an enforcing org-wide policy, then `n` codespaces;
/// answers the router.
async fn arrange(db: &Db, n: i64) -> Router {
    let config = Config::from_lookup(|key| (key == "ADMIN_TOKEN").then(|| ADMIN.to_owned()))
        .expect("configuration");
    let router = build_router(AppState::new(db.store().await, config));
    let (status, org) = send(
        &router,
        Method::POST,
        "/orgs",
        Some(json!({ "login": "octo-org" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    for r in 0..REPOS {
        let path = format!("/orgs/octo-org/repos/repo-{r}");
        let (status, repo) = send(&router, Method::PUT, &path, None).await;
        assert!(status.is_success(), "{repo}");
    }
    let policy = json!({ "name": "Approved", "target": "all_repositories",
        "constraints": { "base_images": { "allowed_values": ["node:*", "mcr.microsoft.com/devcontainers/*"] } } });
    let (status, _) = send(
        &router,
        Method::POST,
        "/orgs/octo-org/codespaces/policies",
        Some(policy),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    db.insert(n).await;
    router
}

/// Runs `sql` with the count and the two exempt images.
async fn insert<'c, E>(sql: &str, n: i64, conn: E)
where
    E: Executor<'c>,
    for<'q> i64: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> &'q str: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> <E::Database as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, E::Database>,
{
    sqlx::query(sql)
        .bind(n)
        .bind(DEFAULT_IMAGE)
        .bind(RECOVERY_IMAGE)
        .execute(conn)
        .await
        .expect("insert the codespaces");
}

/// A draft that allows only `node:20` beside the devcontainers images: it newly refuses
/// `node:18` (one codespace in eight and one decision in eight).
fn bench_preview(bencher: Bencher, db: Db, runtime: &tokio::runtime::Runtime, n: i64) {
    let router = runtime.block_on(arrange(&db, n));
    let path = "/orgs/octo-org/codespaces/policies/preview";
    let draft = json!({ "policy": { "name": "Tighter", "target": "all_repositories",
        "constraints": { "base_images": { "allowed_values": ["node:20", "mcr.microsoft.com/devcontainers/*"] } } } });
    let (status, answer) = runtime.block_on(send(&router, Method::POST, path, Some(draft.clone())));
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["codespaces"]["checked"], n);
    assert_eq!(answer["decisions"]["checked"], n);
    let node_18 = (1..=n).filter(|i| i % 8 == 1).count() as i64;
    assert_eq!(answer["codespaces"]["newly_refused_count"], node_18);
    assert_eq!(answer["decisions"]["newly_refused_count"], node_18);
    bencher
        .bench_local(|| runtime.block_on(send(&router, Method::POST, path, Some(draft.clone()))));
    drop(router);
    runtime.block_on(db.drop_schema());
}

fn bench_compliance(bencher: Bencher, db: Db, runtime: &tokio::runtime::Runtime, n: i64) {
    let router = runtime.block_on(arrange(&db, n));
    let path = "/orgs/octo-org/codespaces/compliance";
    let (status, answer) = runtime.block_on(send(&router, Method::GET, path, None));
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["total_count"], refused(n));
    assert_eq!(answer["codespaces"].as_array().unwrap().len(), 30);
    bencher.bench_local(|| runtime.block_on(send(&router, Method::GET, path, None)));
    drop(router);
    runtime.block_on(db.drop_schema());
}

/// The floor under the two above: the same 100,000 codespaces already in memory, judged
/// by `compliance::Scan` alone (no database, no HTTP).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn judging_only(bencher: Bencher) {
    let set = CompiledPolicySet::compile(vec![PolicyRules {
        constraints: Default::default(),
        id: 1,
        name: "Approved".into(),
        target: Target::AllRepositories,
        enforcement: Enforcement::Enforce,
        base_images: Some(
            ["node:*", "mcr.microsoft.com/devcontainers/*"]
                .iter()
                .map(|v| AllowedValue::parse(v).unwrap())
                .collect(),
        ),
    }]);
    let exempt = ExemptImages {
        default_image: DEFAULT_IMAGE,
        recovery_image: RECOVERY_IMAGE,
    };
    let n = 100_000;
    let rows: Vec<CodespaceImage> = (1..=n).map(codespace).collect();
    bencher
        .with_inputs(|| rows.clone())
        .bench_local_values(|rows| {
            let page = PageRequest {
                page: 1,
                per_page: 30,
            };
            let mut scan = Scan::new(&set, "octo-org", exempt, chrono::Utc::now(), page);
            for row in rows {
                scan.judge(row);
            }
            let found = scan.finish();
            assert_eq!(found.total_count, refused(n));
            found
        });
}

/// Codespace `i` as [`values`] writes it.
fn codespace(i: i64) -> CodespaceImage {
    let user = format!("user-{}", i % 500);
    let (image, source) = match i % 8 {
        0 => (format!("python:3.{}", i % 13), ImageSource::Image),
        1 => ("node:18".to_owned(), ImageSource::Image),
        2 => ("node:20".to_owned(), ImageSource::Dockerfile),
        3 => (DEFAULT_IMAGE.to_owned(), ImageSource::Default),
        4 => (RECOVERY_IMAGE.to_owned(), ImageSource::Dockerfile),
        5 => (
            format!("ghcr.io/octo-org/tool-{}:1", i % 50),
            ImageSource::Image,
        ),
        6 => (
            "mcr.microsoft.com/devcontainers/go:1".to_owned(),
            ImageSource::Image,
        ),
        _ => ("python:3".to_owned(), ImageSource::Image),
    };
    CodespaceImage {
        id: format!("cs_{i:026}"),
        repo_name: format!("repo-{}", i % REPOS),
        billable_owner: if i % 8 == 7 {
            user.clone()
        } else {
            "octo-org".to_owned()
        },
        user,
        image,
        image_source: source,
        machine: Some("basicLinux32gb".to_owned()),
        created_at: chrono::DateTime::from_timestamp(1_767_225_600 + i, 0).unwrap(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[divan::bench(args = sizes(), sample_count = 10, sample_size = 1)]
fn compliance_sqlite(bencher: Bencher, n: i64) {
    let runtime = runtime();
    bench_compliance(bencher, Db::sqlite(), &runtime, n);
}

#[divan::bench(args = sizes(), sample_count = 10, sample_size = 1)]
fn compliance_postgres(bencher: Bencher, n: i64) {
    let runtime = runtime();
    let db = runtime.block_on(Db::postgres());
    bench_compliance(bencher, db, &runtime, n);
}

#[divan::bench(args = sizes(), sample_count = 10, sample_size = 1)]
fn preview_sqlite(bencher: Bencher, n: i64) {
    let runtime = runtime();
    bench_preview(bencher, Db::sqlite(), &runtime, n);
}

#[divan::bench(args = sizes(), sample_count = 10, sample_size = 1)]
fn preview_postgres(bencher: Bencher, n: i64) {
    let runtime = runtime();
    let db = runtime.block_on(Db::postgres());
    bench_preview(bencher, db, &runtime, n);
}
