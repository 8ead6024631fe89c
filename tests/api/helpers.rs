//! Test harness: a fresh app per test on a fresh database (an SQLite file in a temporary
//! directory, or a PostgreSQL schema of its own), driven in-process with `oneshot`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use base_image_policy::app::build_router;
use base_image_policy::clock::{Clock, SystemClock};
use base_image_policy::config::Config;
use base_image_policy::state::AppState;
use base_image_policy::store::{PgStore, SqliteStore, Store};
use base_image_policy::tokens::generate_token;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;
use sqlx::ConnectOptions;
use std::str::FromStr;
use tower::ServiceExt;

pub const DEFAULT_IMAGE: &str = "mcr.microsoft.com/devcontainers/universal:2";
pub const RECOVERY_IMAGE: &str = "mcr.microsoft.com/devcontainers/base:ubuntu";

/// The local default on the machines this project runs on.
const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where a test app keeps its data, so that a test can open its own connection to it.
#[derive(Clone)]
#[allow(clippy::large_enum_variant)] // one per test app; size does not matter
pub enum TestDatabase {
    Sqlite(String),
    Postgres(PgConnectOptions),
}

pub struct TestApp {
    pub router: Router,
    pub store: Arc<dyn Store>,
    pub state: AppState,
    pub admin: String,
    pub database: TestDatabase,
    pub _dir: Option<tempfile::TempDir>,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body exactly as sent.
    pub raw: Vec<u8>,
}

/// The PostgreSQL server tests use: `TEST_DATABASE_URL`, else a `postgres://`
/// `DATABASE_URL`, else the local default. `scripts/test` starts a throwaway server and
/// sets `TEST_DATABASE_URL` when none answers.
pub fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .or_else(|| {
            std::env::var("DATABASE_URL")
                .ok()
                .filter(|u| u.starts_with("postgres"))
        })
        .unwrap_or_else(|| LOCAL_POSTGRES.to_string())
}

/// Creates a schema of its own for one test and returns options that use it.
pub async fn fresh_postgres_schema() -> PgConnectOptions {
    let url = postgres_url();
    let options = PgConnectOptions::from_str(&url).expect("TEST_DATABASE_URL is not a valid URL");
    let mut admin = options.connect().await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL tests need a server and none answers at {url}: {e}.\n\
             Run `./scripts/test`, which starts a throwaway server when none answers, \
             or set TEST_DATABASE_URL to a server you can create schemas on."
        )
    });
    let schema = format!("t_{}", &generate_token()[4..20]);
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .expect("create the test schema");
    options.options([("search_path", schema.as_str())])
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts an app whose configuration `adjust` may change.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_on(backend, adjust, Arc::new(SystemClock)).await
    }

    /// Starts an app whose clock (by which exceptions expire) the test holds, to set and
    /// advance it.
    pub async fn spawn_with_clock(backend: Backend, clock: Arc<dyn Clock>) -> Self {
        Self::spawn_on(backend, |_| {}, clock).await
    }

    async fn spawn_on(
        backend: Backend,
        adjust: impl FnOnce(&mut Config),
        clock: Arc<dyn Clock>,
    ) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                let database = TestDatabase::Sqlite(url);
                let mut app = Self::on_database_with_clock(database, adjust, clock).await;
                app._dir = Some(dir);
                app
            }
            Backend::Postgres => {
                let options = fresh_postgres_schema().await;
                let database = TestDatabase::Postgres(options);
                Self::on_database_with_clock(database, adjust, clock).await
            }
        }
    }

    /// Starts an app on a given database.
    pub async fn on_database(database: TestDatabase, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::on_database_with_clock(database, adjust, Arc::new(SystemClock)).await
    }

    async fn on_database_with_clock(
        database: TestDatabase,
        adjust: impl FnOnce(&mut Config),
        clock: Arc<dyn Clock>,
    ) -> Self {
        let admin = generate_token();
        let mut config = Config::from_lookup(|key| match key {
            "ADMIN_TOKEN" => Some(admin.clone()),
            _ => None,
        })
        .expect("test configuration");
        adjust(&mut config);
        let store: Arc<dyn Store> = match &database {
            TestDatabase::Sqlite(url) => Arc::new(
                SqliteStore::connect(url, config.database_timeout)
                    .await
                    .expect("open SQLite"),
            ),
            TestDatabase::Postgres(options) => Arc::new(
                PgStore::connect_with(options.clone(), config.database_timeout)
                    .await
                    .expect("open PostgreSQL"),
            ),
        };
        let state = AppState::with_clock(Arc::clone(&store), config, clock);
        let router = build_router(state.clone());
        Self {
            router,
            store,
            state,
            admin,
            database,
            _dir: None,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        self.request_with_headers(method, path, token, body, &[])
            .await
    }

    pub async fn request_with_headers(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = match body {
            Some(body) => builder
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        }
        .expect("request");
        self.send(request).await
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("body is not JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        TestResponse {
            status,
            headers,
            body,
            raw: bytes.to_vec(),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> TestResponse {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> TestResponse {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Option<Value>) -> TestResponse {
        self.request(Method::PUT, path, Some(token), body).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> TestResponse {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> TestResponse {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    // Arrangement helpers: each asserts its own success so a test fails where it broke.

    pub async fn create_org(&self, login: &str) {
        let response = self
            .post("/orgs", &self.admin, json!({ "login": login }))
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    }

    pub async fn add_repo(&self, org: &str, repo: &str) {
        let response = self
            .put(&format!("/orgs/{org}/repos/{repo}"), &self.admin, None)
            .await;
        assert!(response.status.is_success(), "{:?}", response.body);
    }

    pub async fn set_role(&self, org: &str, user: &str, role: &str) {
        let path = format!("/orgs/{org}/memberships/{user}");
        let response = self
            .put(&path, &self.admin, Some(json!({ "role": role })))
            .await;
        assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    }

    pub async fn user_token(&self, user: &str) -> String {
        let response = self
            .post(&format!("/users/{user}/tokens"), &self.admin, json!({}))
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        response.body["token"].as_str().expect("token").to_string()
    }

    pub async fn service_token(&self) -> String {
        let response = self
            .post(
                "/service-tokens",
                &self.admin,
                json!({ "name": "orchestrator" }),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        response.body["token"].as_str().expect("token").to_string()
    }

    /// An org `octo-org` with repositories `repo-a` and `repo-b`, owner `octocat` and
    /// member `mona`.
    pub async fn octo_org(&self) {
        self.create_org("octo-org").await;
        self.add_repo("octo-org", "repo-a").await;
        self.add_repo("octo-org", "repo-b").await;
        self.set_role("octo-org", "octocat", "owner").await;
        self.set_role("octo-org", "mona", "member").await;
    }

    /// Creates a policy as the site admin and returns it.
    pub async fn create_policy(&self, org: &str, policy: Value) -> Value {
        let path = format!("/orgs/{org}/codespaces/policies");
        let response = self.post(&path, &self.admin, policy).await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        response.body
    }

    /// An org-wide policy allowing exactly `values`.
    pub async fn allow_org_wide(&self, org: &str, values: &[&str]) -> Value {
        self.create_policy(
            org,
            json!({
                "name": "Org-wide images",
                "target": "all_repositories",
                "constraints": { "base_images": { "allowed_values": values } }
            }),
        )
        .await
    }

    /// `POST /codespaces` as the orchestrator would send it.
    pub async fn create_codespace(&self, token: &str, body: Value) -> TestResponse {
        self.post("/codespaces", token, body).await
    }
}

/// Asserts a 422 whose first error names `field`.
pub fn assert_invalid(response: &TestResponse, field: &str) {
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        response.body
    );
    assert_eq!(
        response.body["errors"][0]["field"], field,
        "{:?}",
        response.body
    );
}

/// Evaluate's (and the effective policy's) `constraints` when no policy sets any.
pub fn unconstrained() -> Value {
    json!({ "machine_types": null, "max_codespaces_per_user": null,
        "max_idle_timeout_minutes": null, "max_retention_period_days": null,
        "port_visibility": null })
}

/// The contract's refusal message for `image`.
pub fn refusal(image: &str) -> String {
    format!(
        "Base image '{image}' is not allowed based on an organization policy set by your organization administrator."
    )
}

/// Runs each test once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let $app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let $app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await;
                    $body
                }
            )*
        }
    };
}
