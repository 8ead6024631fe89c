//! The service prunes its own decision log: every hour it deletes the decisions older than
//! the retention (`DECISION_RETENTION_DAYS`, 90 days), so that the log never outgrows the
//! database however long the service runs.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::store::{Store, StoreResult, DECISION_RETENTION_DAYS};

/// How often the log is pruned.
pub const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);

/// Deletes the decisions older than the retention as of `now`; answers how many.
pub async fn prune_once(store: &dyn Store, now: DateTime<Utc>) -> StoreResult<u64> {
    store
        .prune_decisions(now - chrono::Duration::days(DECISION_RETENTION_DAYS))
        .await
}

/// Prunes now and then every [`PRUNE_EVERY`], for as long as the service runs. A failed
/// round (the database away) is logged and tried again at the next one.
pub fn spawn_pruning(store: Arc<dyn Store>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PRUNE_EVERY);
        loop {
            every.tick().await;
            match prune_once(store.as_ref(), Utc::now()).await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "pruned decisions past their retention"),
                Err(err) => tracing::warn!(error = %err, "could not prune the decision log"),
            }
        }
    })
}
