//! What the secrets tests share: sealing a value as a GitHub API client does, putting a
//! secret at a level, and reading what the database holds.

use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use sqlx::Connection as _;

use crate::helpers::{TestApp, TestDatabase, TestResponse};

/// Seals `value` for the base64 public key `key`, as PyNaCl's `SealedBox` does.
pub fn seal(key: &str, value: &str) -> String {
    seal_bytes(key, value.as_bytes())
}

/// Seals raw bytes (which need not be UTF-8).
pub fn seal_bytes(key: &str, value: &[u8]) -> String {
    let bytes: [u8; 32] = STANDARD.decode(key).unwrap().try_into().unwrap();
    let public = crypto_box::PublicKey::from(bytes);
    STANDARD.encode(public.seal(&mut crypto_box::aead::OsRng, value).unwrap())
}

/// `GET {base}/public-key`: `(key_id, key)`.
pub async fn public_key(app: &TestApp, base: &str, token: &str) -> (String, String) {
    let response = app.get(&format!("{base}/public-key"), token).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    let key_id = response.body["key_id"].as_str().unwrap().to_string();
    let key = response.body["key"].as_str().unwrap().to_string();
    assert_eq!(STANDARD.decode(&key).unwrap().len(), 32);
    (key_id, key)
}

/// The PUT body of `value` sealed for the level's key, with `extra` fields merged in.
pub async fn sealed_body(
    app: &TestApp,
    base: &str,
    token: &str,
    value: &str,
    extra: Value,
) -> Value {
    let (key_id, key) = public_key(app, base, token).await;
    let mut body = json!({ "encrypted_value": seal(&key, value), "key_id": key_id });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    body
}

/// PUTs `value` as secret `name` of the level at `base`.
pub async fn put_secret(
    app: &TestApp,
    base: &str,
    token: &str,
    name: &str,
    value: &str,
    extra: Value,
) -> TestResponse {
    let body = sealed_body(app, base, token, value, extra).await;
    app.put(&format!("{base}/{name}"), token, Some(body)).await
}

/// The names a level lists.
pub async fn names(app: &TestApp, base: &str, token: &str) -> Vec<String> {
    let response = app.get(&format!("{base}?per_page=100"), token).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

/// The id of repository `repo` of `org`.
pub async fn repo_id(app: &TestApp, org: &str, repo: &str) -> i64 {
    let response = app
        .put(&format!("/orgs/{org}/repos/{repo}"), &app.admin, None)
        .await;
    response.body["id"].as_i64().unwrap()
}

/// Every stored secret's `(level, owner_id, name, value ciphertext)`.
pub async fn stored_values(app: &TestApp) -> Vec<(String, i64, String, Vec<u8>)> {
    let sql = "SELECT level, owner_id, name, value FROM secrets ORDER BY id";
    match &app.database {
        TestDatabase::Postgres(options) => {
            let mut conn = sqlx::PgConnection::connect_with(options).await.unwrap();
            sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap()
        }
        TestDatabase::Sqlite(url) => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap()
        }
    }
}

/// Everything the database holds, as text: on SQLite the file's bytes (and its WAL's), on
/// PostgreSQL every row of every table of the test's schema.
pub async fn database_text(app: &TestApp) -> String {
    match &app.database {
        TestDatabase::Sqlite(url) => {
            let path = url.trim_start_matches("sqlite://");
            let mut bytes = std::fs::read(path).unwrap();
            for suffix in ["-wal", "-journal"] {
                if let Ok(more) = std::fs::read(format!("{path}{suffix}")) {
                    bytes.extend(more);
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        TestDatabase::Postgres(options) => {
            let mut conn = sqlx::PgConnection::connect_with(options).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            assert!(tables.iter().any(|t| t == "secrets"), "{tables:?}");
            let mut text = String::new();
            for table in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT t::text FROM \"{table}\" t"))
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                text.push_str(&rows.join("\n"));
            }
            text
        }
    }
}

/// Everything logged at trace level on this thread (the tests' current-thread runtime)
/// while the guard lives.
#[derive(Clone, Default)]
pub struct TraceLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl TraceLogs {
    pub fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(self.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for TraceLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for TraceLogs {
    type Writer = TraceLogs;

    fn make_writer(&'a self) -> TraceLogs {
        self.clone()
    }
}
