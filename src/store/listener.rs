//! PostgreSQL's change listener: every write that can make a cached read stale runs
//! `pg_notify` in its transaction; each instance LISTENs, and clears its read cache when a
//! notification arrives. A heartbeat on the listening connection keeps the cache trusted;
//! when the connection fails, the cache is distrusted (reads go to the database) until a new
//! connection listens again.

use std::sync::Weak;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};

use super::reads::{ReadCache, FRESHNESS};

/// The channel the writes' `pg_notify` names (the `notify` statement in `postgres.rs`).
pub const CHANNEL: &str = "base_image_policy_changes";

/// How often the listening connection is asked whether it is alive.
const HEARTBEAT: Duration = Duration::from_millis(500);

/// Runs until the store that owns `reads` is dropped.
pub fn spawn(pool: PgPool, reads: Weak<ReadCache>) {
    tokio::spawn(async move {
        loop {
            if reads.strong_count() == 0 {
                return;
            }
            if let Err(err) = listen(&pool, &reads).await {
                tracing::debug!(error = %err, "change listener disconnected");
            }
            if let Some(reads) = reads.upgrade() {
                reads.distrust();
            }
            tokio::time::sleep(HEARTBEAT).await;
        }
    });
}

async fn listen(pool: &PgPool, reads: &Weak<ReadCache>) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    // Changes made before LISTEN took effect were not heard: start from an empty cache.
    match reads.upgrade() {
        Some(reads) => reads.clear(),
        None => return Ok(()),
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    loop {
        tokio::select! {
            notification = listener.try_recv() => {
                let Some(reads) = reads.upgrade() else { return Ok(()) };
                match notification? {
                    Some(_) => reads.clear(),
                    // The connection was lost; notifications may have been missed.
                    None => return Ok(()),
                }
            }
            _ = heartbeat.tick() => {
                let alive = tokio::time::timeout(FRESHNESS, sqlx::query("SELECT 1").execute(&mut listener)).await;
                let Some(reads) = reads.upgrade() else { return Ok(()) };
                match alive {
                    Ok(Ok(_)) => reads.confirm_current(),
                    Ok(Err(err)) => return Err(err),
                    Err(_) => return Ok(()),
                }
            }
        }
    }
}
