//! Goal 3 of `docs/benchmarks.md`: the throughput of `POST /codespaces` on PostgreSQL
//! against a bare `INSERT` of the same codespace row, at the same concurrency, in one run.
//!
//! It opens a `PgStore` on a fresh schema, loads an org over the API, then drives, with
//! `CONCURRENCY` tasks, for `PHASE_SECONDS` each in all. The three phases that reach the
//! database take turns in `ROUNDS` (default 6) rounds, each round starting with the next
//! phase, so that drift during the run (the table growing, checkpoints, autovacuum) falls on
//! each alike; the two that do not run after them:
//! - `bare insert`: `INSERT INTO codespaces ...` of the row the service writes, through the
//!   store's own pool (the same connections and settings), autocommitted;
//! - `POST /codespaces`: the whole request through the router in-process (`oneshot`): token,
//!   user, org, repository and billing lookups, then the creation;
//! - `store`: `Store::create_codespace` alone: with a warm cache, the decision by the newest
//!   compiled set and one `INSERT ... SELECT` that holds the org row shared and writes only
//!   while the org's policy version is still that set's;
//! - `healthz`: `GET /healthz` through the router: what the router, its middleware and this
//!   driver cost a request without the database;
//! - `lookups`: the reads the handler makes before it (`find_token`, `find_org`, `find_repo`,
//!   `role_of_login`), through the store and so through its read cache.
//!
//! Each phase also reports the CPU time a call cost this process and the whole machine
//! (PostgreSQL included), from `/proc`. `PHASES` (comma-separated: bare, router, store,
//! healthz, lookups) runs only some, for a profiler. The service's logging is on, at its
//! default level (`RUST_LOG`, default `info`), written to a temporary file that is removed at
//! the end.
//!
//! `BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`) names a server
//! on which a schema can be created; the schema is dropped at the end.

use std::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, Request, StatusCode, Uri};
use axum::Router;
use base_image_policy::app::{build_router, AppState};
use base_image_policy::auth::{generate_token, hash_token};
use base_image_policy::config::Config;
use base_image_policy::names::Name;
use base_image_policy::policy::{ImageRef, ImageSource};
use base_image_policy::provisioning::{new_codespace_id, plan_build, BuildRequest};
use base_image_policy::store::{NewCodespace, PgStore, Store};
use chrono::Utc;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::ConnectOptions;
use tower::ServiceExt;

const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const IMAGE: &str = "ghcr.io/org-1/dev:1.2";

fn env_number(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The service binary's allocator (`src/main.rs`), so that the routed creation here costs
/// what it costs the service.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| LOCAL_POSTGRES.to_owned());
    let concurrency = env_number("CONCURRENCY", 32) as usize;
    let seconds = Duration::from_secs(env_number("PHASE_SECONDS", 5));

    let base = PgConnectOptions::from_str(&url)?;
    let mut admin_conn = base.connect().await?;
    let schema = format!("write_path_{}", std::process::id());
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&mut admin_conn)
        .await?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin_conn)
        .await?;
    let options = base.options([("search_path", schema.as_str())]);

    // The service's logging at its default level, to a file, as `scripts/load` runs the
    // service: a routed creation pays for its request span and decision event as it does
    // when deployed (the bare insert logs nothing, as it would not).
    let log_path = std::env::temp_dir().join(format!("{schema}.log"));
    let log = Arc::new(std::fs::File::create(&log_path)?);
    base_image_policy::telemetry::init_writing_to(false, Arc::clone(&log));

    let result = run(options, concurrency, seconds).await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut admin_conn)
        .await?;
    println!("logged {} bytes", log.metadata()?.len());
    std::fs::remove_file(&log_path)?;
    result
}

async fn run(
    options: PgConnectOptions,
    concurrency: usize,
    seconds: Duration,
) -> Result<(), Box<dyn Error>> {
    let admin = generate_token();
    let config = Config::from_lookup(|key| (key == "ADMIN_TOKEN").then(|| admin.clone()))?;
    let timeout = config.database_timeout;
    let pg = PgStore::connect_with(options, timeout).await?;
    // The bare insert goes through the store's own pool: the same connections, settings and
    // server backends as the store's writes.
    let pool = pg.pool().clone();
    let store: Arc<dyn Store> = Arc::new(pg);
    let (default_image, recovery_image) =
        (config.default_image.clone(), config.recovery_image.clone());
    let router = build_router(AppState::new(Arc::clone(&store), config));
    let service = load_org(&router, &admin).await?;

    // One real creation gives the row the bare insert writes.
    let created = create_over_router(&router, &service).await?;
    let ids: (i64, i64) = sqlx::query_as("SELECT org_id, repo_id FROM codespaces WHERE id = $1")
        .bind(created["id"].as_str().unwrap_or_default())
        .fetch_one(&pool)
        .await?;
    let row = Arc::new(BareRow {
        org_id: ids.0,
        repo_id: ids.1,
        log: created["creation_log"].to_string(),
    });

    let rounds = env_number("ROUNDS", 6).max(1) as u32;
    let only = std::env::var("PHASES").unwrap_or_default();
    println!(
        "POST /codespaces on PostgreSQL: {concurrency} concurrent, {seconds:?} a phase \
         in {rounds} rounds"
    );
    let mut phases: Vec<Phase> = vec![
        Phase::new("bare insert", "bare", {
            let (pool, row) = (pool.clone(), Arc::clone(&row));
            move || Box::pin(bare_insert(pool.clone(), Arc::clone(&row))) as Op
        }),
        Phase::new("POST /codespaces (router)", "router", {
            let router = router.clone();
            let prepared = Arc::new(PreparedPost {
                uri: Uri::from_static("/codespaces"),
                authorization: HeaderValue::from_str(&format!("Bearer {service}"))
                    .expect("a token is a valid header value"),
                body: axum::body::Bytes::from(create_body().to_string()),
            });
            move || Box::pin(post_codespace(router.clone(), Arc::clone(&prepared))) as Op
        }),
        Phase::new("Store::create_codespace", "store", {
            let (store, row) = (Arc::clone(&store), Arc::clone(&row));
            move || {
                let (store, row) = (Arc::clone(&store), Arc::clone(&row));
                let build = BuildRequest {
                    repository: "write-org/app".to_owned(),
                    repo_key: "app".to_owned(),
                    image: ImageRef::parse(IMAGE).expect("valid"),
                    source: ImageSource::Image,
                    billed_to_org: true,
                    billable_owner: "write-org".to_owned(),
                    default_image: default_image.clone(),
                    recovery_image: recovery_image.clone(),
                    log_so_far: Vec::new(),
                };
                Box::pin(async move {
                    let new = NewCodespace {
                        id: new_codespace_id(),
                        org_id: row.org_id,
                        repo_id: row.repo_id,
                        repository: "write-org/app".to_owned(),
                        user: "mona".to_owned(),
                    };
                    let plan = Box::new(move |set: &_| plan_build(&build, set));
                    matches!(store.create_codespace(new, plan).await, Ok(Ok(_)))
                }) as Op
            }
        }),
        Phase::new("GET /healthz (router)", "healthz", {
            let router = router.clone();
            move || Box::pin(get_healthz(router.clone())) as Op
        }),
        Phase::new("lookups before it (reads)", "lookups", {
            let (store, hash) = (Arc::clone(&store), hash_token(&service));
            move || Box::pin(lookups(Arc::clone(&store), hash)) as Op
        }),
    ];
    phases.retain(|p| only.is_empty() || only.split(',').any(|k| k == p.key));

    // The database phases take turns, a slice of each per round, so that what drifts during
    // the run (the table and its indexes growing, checkpoints, autovacuum, other work on the
    // machine) falls on each alike rather than on whichever ran last; each round starts with
    // the next phase, so that none always follows the same one. The phases that never touch
    // the database run after them: interleaved, they left PostgreSQL idle for seconds, and
    // whichever phase came next found its background work done.
    let slice = seconds / rounds;
    let (mut database, mut memory): (Vec<Phase>, Vec<Phase>) =
        phases.into_iter().partition(|p| p.database);
    for round in 0..rounds as usize {
        let count = database.len();
        for i in 0..count {
            database[(round + i) % count].run(concurrency, slice).await;
        }
    }
    for phase in &mut memory {
        phase.run(concurrency, seconds).await;
    }
    let phases: Vec<Phase> = database.into_iter().chain(memory).collect();
    for phase in &phases {
        phase.report(seconds);
    }
    let find = |key: &str| phases.iter().find(|p| p.key == key);
    let rate = |key: &str| find(key).map(|p| p.done() as f64);
    if let Some(bare) = rate("bare") {
        let ratios: Vec<String> = [
            ("router", "post_codespaces"),
            ("store", "store"),
            ("lookups", "lookups"),
        ]
        .iter()
        .filter_map(|(key, label)| {
            rate(key).map(|n| format!("{label}/bare_insert={:.3}", n / bare.max(1.0)))
        })
        .collect();
        println!("RATIO {}", ratios.join(" "));
    }
    // The same ratio round by round: how far one run's figure is from its rounds'.
    if let (Some(bare), Some(router)) = (find("bare"), find("router")) {
        let mut rounds: Vec<f64> = bare
            .slices
            .iter()
            .zip(&router.slices)
            .map(|(&b, &r)| r as f64 / b.max(1) as f64)
            .collect();
        rounds.sort_by(f64::total_cmp);
        let shown: Vec<String> = rounds.iter().map(|r| format!("{r:.3}")).collect();
        println!(
            "ROUNDS post_codespaces/bare_insert median={:.3} sorted={}",
            rounds[rounds.len() / 2],
            shown.join(",")
        );
    }
    Ok(())
}

type Op = Pin<Box<dyn Future<Output = bool> + Send>>;

/// One kind of call, driven in slices; counts what it did and the CPU it and the machine
/// spent meanwhile.
struct Phase {
    name: &'static str,
    key: &'static str,
    /// Whether its calls reach PostgreSQL (those phases take turns in rounds).
    database: bool,
    task: Arc<dyn Fn() -> Op + Send + Sync>,
    /// Calls done in each slice, in order (one slice per round).
    slices: Vec<u64>,
    failed: u64,
    /// CPU time of this process and of the whole machine (PostgreSQL included), in clock ticks.
    own_ticks: u64,
    machine_ticks: u64,
}

impl Phase {
    fn new(
        name: &'static str,
        key: &'static str,
        task: impl Fn() -> Op + Send + Sync + 'static,
    ) -> Self {
        Phase {
            name,
            key,
            database: !matches!(key, "healthz" | "lookups"),
            task: Arc::new(task),
            slices: Vec::new(),
            failed: 0,
            own_ticks: 0,
            machine_ticks: 0,
        }
    }

    async fn run(&mut self, concurrency: usize, duration: Duration) {
        // A short warm-up, not counted: connections open, caches fill.
        run_for(
            concurrency,
            Duration::from_millis(300),
            Arc::clone(&self.task),
        )
        .await;
        let before = cpu_ticks();
        let (ok, failed) = run_for(concurrency, duration, Arc::clone(&self.task)).await;
        let after = cpu_ticks();
        self.slices.push(ok);
        self.failed += failed;
        if let (Some(before), Some(after)) = (before, after) {
            self.own_ticks += after.0.saturating_sub(before.0);
            self.machine_ticks += after.1.saturating_sub(before.1);
        }
    }

    /// Calls done in all its slices.
    fn done(&self) -> u64 {
        self.slices.iter().sum()
    }

    fn report(&self, duration: Duration) {
        let done = self.done();
        let rate = done as f64 / duration.as_secs_f64();
        // Linux counts CPU time in hundredths of a second.
        let per_call = |ticks: u64| ticks as f64 * 10_000.0 / done.max(1) as f64;
        println!(
            "{:<28} {rate:>9.0} /s  ({} done, {} failed)  CPU a call: {:.1} us here, {:.1} us \
             on the machine",
            self.name,
            done,
            self.failed,
            per_call(self.own_ticks),
            per_call(self.machine_ticks)
        );
    }
}

/// CPU time used so far by this process and by the whole machine, in clock ticks; `None`
/// where `/proc` cannot tell.
fn cpu_ticks() -> Option<(u64, u64)> {
    let own = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces): utime and stime are 12th and 13th.
    let fields: Vec<&str> = own.rsplit_once(')')?.1.split_whitespace().collect();
    let own = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let machine = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu: Vec<u64> = machine
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    let busy = cpu
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum();
    Some((own, busy))
}

/// The codespace row as the service writes it, but for its id and timestamps.
struct BareRow {
    org_id: i64,
    repo_id: i64,
    log: String,
}

/// The handler's reads before the creation's transaction, in its order.
async fn lookups(store: Arc<dyn Store>, token_hash: [u8; 32]) -> bool {
    let (org, repo, user) = (name("write-org"), name("app"), name("mona"));
    let Ok(Some(_)) = store.find_token(&token_hash).await else {
        return false;
    };
    let Ok(Some(org)) = store.find_org(&org).await else {
        return false;
    };
    let Ok(Some(_)) = store.find_repo(org.id, &repo).await else {
        return false;
    };
    let Ok(Some(user)) = store.find_user(&user).await else {
        return false;
    };
    store.role_of(org.id, user.id).await.is_ok()
}

fn name(s: &str) -> Name {
    Name::parse(s).expect("a valid name")
}

async fn bare_insert(pool: PgPool, row: Arc<BareRow>) -> bool {
    let now = Utc::now();
    sqlx::query(
        "INSERT INTO codespaces (id, org_id, repo_id, user_login, billable_owner, image, \
         image_source, recovery_mode, creation_log, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(new_codespace_id())
    .bind(row.org_id)
    .bind(row.repo_id)
    .bind("mona")
    .bind("write-org")
    .bind(IMAGE)
    .bind("image")
    .bind(false)
    .bind(&row.log)
    .bind(now)
    .execute(&pool)
    .await
    .is_ok()
}

/// Runs `task` in `concurrency` loops for `duration`: (successes, failures).
async fn run_for(
    concurrency: usize,
    duration: Duration,
    task: Arc<dyn Fn() -> Op + Send + Sync>,
) -> (u64, u64) {
    let counts = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    let deadline = Instant::now() + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (task, counts) = (Arc::clone(&task), Arc::clone(&counts));
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let counter = if task().await { &counts.0 } else { &counts.1 };
                    counter.fetch_add(1, Ordering::Relaxed);
                    // A request answered from memory never yields on its own; a server's
                    // would, on its socket. Without this the store's background tasks starve.
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("a worker panicked");
    }
    (
        counts.0.load(Ordering::Relaxed),
        counts.1.load(Ordering::Relaxed),
    )
}

async fn call(
    router: &Router,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Result<(StatusCode, Value), Box<dyn Error>> {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))?;
    let response = router.clone().oneshot(request).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((status, body))
}

/// An org with a repository, a member the org pays for, one org-wide policy of ten values
/// that allows [`IMAGE`] by prefix; returns a service token.
async fn load_org(router: &Router, admin: &str) -> Result<String, Box<dyn Error>> {
    let steps = [
        ("POST", "/orgs", Some(json!({"login": "write-org"}))),
        ("PUT", "/orgs/write-org/repos/app", None),
        (
            "PUT",
            "/orgs/write-org/memberships/mona",
            Some(json!({"role": "member"})),
        ),
        (
            "POST",
            "/orgs/write-org/codespaces/policies",
            Some(json!({
                "name": "Approved images",
                "target": "all_repositories",
                "constraints": {"base_images": {"allowed_values": [
                    "ghcr.io/org-0/app:0", "ghcr.io/org-1/*",
                    "registry.example.com/team-2/service:v2", "registry.example.com/team-3/*",
                    "mcr.microsoft.com/devcontainers/img-4:1.4", "docker.io/library/lang-5:*",
                    "ghcr.io/org-6/app:6", "ghcr.io/org-7/*",
                    "registry.example.com/team-8/service:v8", "registry.example.com/team-9/*"
                ]}}
            })),
        ),
    ];
    for (method, path, body) in steps {
        let (status, answer) = call(router, method, path, admin, body).await?;
        if !status.is_success() {
            return Err(format!("{method} {path}: {status} {answer}").into());
        }
    }
    let (_, answer) = call(
        router,
        "POST",
        "/service-tokens",
        admin,
        Some(json!({"name": "orchestrator"})),
    )
    .await?;
    Ok(answer["token"]
        .as_str()
        .ok_or("no service token")?
        .to_owned())
}

fn create_body() -> Value {
    json!({
        "repository": "write-org/app",
        "user": "mona",
        "devcontainer": {"image": IMAGE}
    })
}

/// What every `POST /codespaces` of the load phase sends, parsed once.
struct PreparedPost {
    uri: Uri,
    authorization: HeaderValue,
    body: axum::body::Bytes,
}

/// `POST /codespaces` as the load phase sends it: the URI, headers and body prepared once, the
/// answer's bytes read but not parsed, so that the client's own work stays small, as wrk's
/// does (it too sends the same bytes every time).
async fn post_codespace(router: Router, prepared: Arc<PreparedPost>) -> bool {
    let mut request = Request::new(Body::from(prepared.body.clone()));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = prepared.uri.clone();
    let headers = request.headers_mut();
    headers.insert(AUTHORIZATION, prepared.authorization.clone());
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    answered(router, request, StatusCode::CREATED).await
}

async fn get_healthz(router: Router) -> bool {
    let request = Request::builder()
        .uri("/healthz")
        .body(Body::empty())
        .expect("a valid request");
    answered(router, request, StatusCode::OK).await
}

/// Whether the router answered `request` with `expected`; the answer's bytes are read but
/// not parsed.
async fn answered(router: Router, request: Request<Body>, expected: StatusCode) -> bool {
    let response = router
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {});
    response.status() == expected && response.into_body().collect().await.is_ok()
}

async fn create_over_router(router: &Router, token: &str) -> Result<Value, Box<dyn Error>> {
    let (status, answer) = call(router, "POST", "/codespaces", token, Some(create_body())).await?;
    if status != StatusCode::CREATED {
        return Err(format!("POST /codespaces: {status} {answer}").into());
    }
    Ok(answer)
}
