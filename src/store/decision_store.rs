//! The decision log in the store: entries as the route answers them, the filters it takes,
//! and the trait part that lists and prunes them. Entries are written by the codespace
//! writes themselves, in their transactions (`CodespaceStore`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{PageRequest, Paged, StoreResult};
use crate::policy::{DecisionNote, DecisionOutcome};

/// How long the service keeps a decision before pruning it.
pub const DECISION_RETENTION_DAYS: i64 = 90;

/// A decision as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `org/repo`.
    pub repository: String,
    pub user: String,
    pub note: DecisionNote,
    /// The codespace it made; `None` for a refusal.
    pub codespace_id: Option<String>,
}

/// Which decisions a list shows; every filter given must hold.
#[derive(Debug, Clone, Default)]
pub struct DecisionFilter {
    /// The repository's name (without the org), compared case-insensitively.
    pub repository: Option<String>,
    pub outcome: Option<DecisionOutcome>,
    /// Only decisions at or after this time.
    pub since: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait DecisionStore: Send + Sync {
    /// The org's decisions matching `filter`, newest first.
    async fn list_decisions(
        &self,
        org_id: i64,
        filter: &DecisionFilter,
        page: PageRequest,
    ) -> StoreResult<Paged<DecisionEntry>>;
    /// Up to `limit` of the org's decisions after `after` in (`at`, id) order: the keyset
    /// pages preview reads them in, which walk the org's (org_id, at, id) index.
    async fn recent_decisions(
        &self,
        org_id: i64,
        after: (DateTime<Utc>, i64),
        limit: i64,
    ) -> StoreResult<Vec<DecisionEntry>>;
    /// Deletes every decision older than `before`; answers how many.
    async fn prune_decisions(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}
