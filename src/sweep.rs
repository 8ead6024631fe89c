//! The retention sweep: every minute the service deletes the stopped codespaces whose
//! retention has ended, as the contract says it does by itself. It works in small batches,
//! each its own short transaction, so that it never holds locks long enough to stall
//! creations or policy edits; replicas sweeping at once skip each other's rows, so each
//! codespace is deleted (and audited) once.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::store::{Store, StoreResult};

/// How often the service sweeps.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Codespaces deleted per transaction.
pub const SWEEP_BATCH: i64 = 500;

/// Deletes every stopped codespace whose retention ended by `clock`'s time, a batch at a
/// time, until a batch comes back short; answers how many it deleted.
///
/// # Errors
///
/// The store's, from the failing batch; the batches before it stay committed.
pub async fn sweep_once(store: &dyn Store, clock: &dyn Clock) -> StoreResult<u64> {
    let now = clock.now();
    let mut swept = 0;
    loop {
        let deleted = store.sweep_expired(now, SWEEP_BATCH).await?;
        swept += deleted;
        // Short: nothing expired is left, or another replica holds the rest.
        if deleted < SWEEP_BATCH.unsigned_abs() {
            return Ok(swept);
        }
    }
}

/// Sweeps now and then every [`SWEEP_EVERY`], for as long as the service runs. A failed
/// round (the database away) is logged and tried again at the next one.
pub fn spawn_sweeping(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match sweep_once(store.as_ref(), clock.as_ref()).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "deleted codespaces past their retention"),
                Err(err) => tracing::warn!(error = %err, "could not sweep expired codespaces"),
            }
        }
    })
}
