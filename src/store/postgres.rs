//! PostgreSQL, the production store.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection};

use super::listener;
use super::reads::ReadCache;
use super::{PolicyCache, StoreError, StoreResult};

pub struct PgStore {
    pool: PgPool,
    cache: PolicyCache,
    reads: std::sync::Arc<ReadCache>,
}

impl PgStore {
    /// `timeout` bounds every wait on the database: a connection from the pool, a lock, a
    /// statement. Past it the call fails as `Unavailable` and the request answers 503.
    pub async fn connect(url: &str, timeout: Duration) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Internal(format!("DATABASE_URL is not valid: {e}")))?;
        Self::connect_with(options, timeout).await
    }

    /// Connects with explicit options (tests use this to give each test its own schema).
    pub async fn connect_with(options: PgConnectOptions, timeout: Duration) -> StoreResult<Self> {
        migrate(&options).await?;
        let millis = timeout.as_millis().to_string();
        let options = options.options([
            ("statement_timeout", millis.as_str()),
            ("lock_timeout", millis.as_str()),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(timeout)
            .connect_with(options)
            .await?;
        let reads = std::sync::Arc::new(ReadCache::untrusted());
        listener::spawn(pool.clone(), std::sync::Arc::downgrade(&reads));
        Ok(Self {
            pool,
            cache: PolicyCache::default(),
            reads,
        })
    }
}

/// How long starting up may wait on the database's migration lock and statements: other
/// instances starting at the same time migrate one at a time, each holding that lock.
const MIGRATION_TIMEOUT: Duration = Duration::from_secs(120);

/// Applies the migrations on a connection of its own, whose waits are bounded by
/// [`MIGRATION_TIMEOUT`] rather than by the request path's short database timeout.
async fn migrate(options: &PgConnectOptions) -> StoreResult<()> {
    let millis = MIGRATION_TIMEOUT.as_millis().to_string();
    let options = options.clone().options([
        ("statement_timeout", millis.as_str()),
        ("lock_timeout", millis.as_str()),
    ]);
    let mut conn = tokio::time::timeout(MIGRATION_TIMEOUT, PgConnection::connect_with(&options))
        .await
        .map_err(|_| StoreError::Unavailable("connecting to migrate: timed out".to_owned()))??;
    let migrated = sqlx::migrate!("./migrations/postgres").run(&mut conn).await;
    let _ = conn.close().await;
    migrated.map_err(|e| StoreError::Internal(format!("migrating PostgreSQL: {e}")))
}

super::sql::impl_sql_store! {
    store = PgStore,
    connection = PgConnection,
    begin_write = "BEGIN",
    hold_writes = "LOCK TABLE codespaces IN SHARE MODE",
    join_writes = "LOCK TABLE codespaces IN ROW EXCLUSIVE MODE",
    // NO KEY UPDATE: it excludes every other writer and locker of the row as FOR UPDATE does,
    // except the foreign-key checks of rows that reference it (KEY SHARE). So a policy edit
    // holding its org's row never blocks a creation's insert (see `sql/mod.rs`).
    for_update = " FOR NO KEY UPDATE",
    notify = "SELECT pg_notify('base_image_policy_changes', '')",
    json_array_agg = "json_agg",
}

impl PgStore {
    /// Whether one statement can insert a codespace and its decision (a data-modifying
    /// `WITH`, which PostgreSQL has).
    const DECISION_IN_STATEMENT: bool = true;
    /// A creation's one INSERT checks and takes the user's place under a per-user limit
    /// itself, in their `codespaces_held` row (migration 0017), so that it needs no
    /// transaction and no count.
    const COUNT_IN_STATEMENT: bool = true;
    /// The number that statement checks: the user's row, kept by it and by triggers while
    /// the org's policies set the limit (`orgs.counts_held`); counted otherwise.
    const HELD: &'static str = "SELECT CASE WHEN (SELECT counts_held FROM orgs WHERE id = $1) \
         THEN COALESCE((SELECT held FROM codespaces_held WHERE org_id = $1 AND user_key = $2), 0) \
         ELSE (SELECT COUNT(*) FROM codespaces \
             WHERE org_id = $1 AND user_key = $2 AND billed_to_org) END";
    /// After a policy edit, keeps the org's rows or drops them (migration 0017).
    const RECONCILE_HELD: &'static str = "SELECT codespaces_held_reconcile($1)";
}
