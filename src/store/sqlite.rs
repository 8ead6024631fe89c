//! SQLite, the embedded default: `cargo run` works with no setup.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::SqliteConnection;

use super::reads::ReadCache;
use super::{PolicyCache, StoreError, StoreResult};

pub struct SqliteStore {
    pool: SqlitePool,
    cache: PolicyCache,
    reads: std::sync::Arc<ReadCache>,
}

impl SqliteStore {
    /// `timeout` bounds waits for a connection and for the database's write lock.
    pub async fn connect(url: &str, timeout: Duration) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Internal(format!("DATABASE_URL is not valid: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            // Half SQLite's default page cache a connection: eight connections reading a big
            // org's policies would otherwise hold the resident set near its bound
            // (docs/benchmarks.md, goal 5); the file stays in the OS page cache.
            .pragma("cache_size", "-1024")
            .busy_timeout(timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(timeout)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Internal(format!("migrating SQLite: {e}")))?;
        // One process owns an SQLite file, so its own writes are all the changes there are.
        let reads = std::sync::Arc::new(ReadCache::always_current());
        Ok(Self {
            pool,
            cache: PolicyCache::default(),
            reads,
        })
    }
}

// Writing transactions begin IMMEDIATE: SQLite has no row locks, so taking the write lock
// up front serializes a creation's check-and-insert against policy edits.
super::sql::impl_sql_store! {
    store = SqliteStore,
    connection = SqliteConnection,
    begin_write = "BEGIN IMMEDIATE",
    hold_writes = "",
    join_writes = "",
    for_update = "",
    notify = "",
    json_array_agg = "json_group_array",
}

impl SqliteStore {
    /// Whether one statement can insert a codespace and its decision (a data-modifying
    /// `WITH`, which SQLite lacks: the two inserts share a transaction instead).
    const DECISION_IN_STATEMENT: bool = false;
    /// It counts in the writing transaction instead (`over_user_limit`), which holds the
    /// database's write lock from its start.
    const COUNT_IN_STATEMENT: bool = false;
    /// How many codespaces billed to the org a user holds there, counted.
    const HELD: &'static str =
        "SELECT COUNT(*) FROM codespaces WHERE org_id = $1 AND user_key = $2 AND billed_to_org";
    /// No rows to keep.
    const RECONCILE_HELD: &'static str = "";
}
