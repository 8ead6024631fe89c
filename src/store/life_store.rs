//! A codespace's life in the store: what a stop, a start or a port change writes, how its
//! decision is handed in, the audit snapshot, and the trait part. Each change runs in one
//! writing transaction holding the codespace's row, so that a stop and a start racing on
//! one codespace leave it in one consistent state.

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};

use super::records::{Codespace, CodespaceState, ForwardedPort, LifeLimits};
use super::StoreResult;
use crate::lifecycle::LifeRefusal;
use crate::policy::CompiledPolicySet;

/// The part of a codespace its life changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Life {
    pub machine: Option<String>,
    pub state: CodespaceState,
    pub limits: LifeLimits,
    pub retention_expires_at: Option<DateTime<Utc>>,
    pub ports: Vec<ForwardedPort>,
}

impl Life {
    pub fn of(codespace: &Codespace) -> Self {
        Self {
            machine: codespace.machine.clone(),
            state: codespace.state,
            limits: codespace.limits.clone(),
            retention_expires_at: codespace.retention_expires_at,
            ports: codespace.ports.clone(),
        }
    }

    /// Its ports as the column stores them: a JSON array of `{"port", "visibility"}`.
    pub fn ports_column(&self) -> String {
        // Numbers and fixed words always serialize.
        serde_json::to_string(&self.ports).unwrap_or_else(|_| "[]".to_owned())
    }

    /// The codespace with this life, as written at `at`.
    pub fn applied_to(self, mut codespace: Codespace, at: DateTime<Utc>) -> Codespace {
        codespace.machine = self.machine;
        codespace.state = self.state;
        codespace.limits = self.limits;
        codespace.retention_expires_at = self.retention_expires_at;
        codespace.ports = self.ports;
        codespace.updated_at = at;
        codespace
    }
}

/// What a change decides from the codespace as locked: its new life, or `None` when
/// nothing changes (the codespace is answered as it is, and nothing is audited).
pub type Decided = Result<Option<Life>, LifeRefusal>;

/// How a change decides.
pub enum Decide<'a> {
    /// From nothing but the codespace (a stop).
    Plain(PlainDecision<'a>),
    /// By the org's policy set in force at the write (a start, a port change), read in the
    /// same transaction so that no policy edit commits in between.
    Judged(JudgedDecision<'a>),
}

/// [`Decide::Plain`]'s decision.
pub type PlainDecision<'a> = Box<dyn FnOnce(&Codespace) -> Option<Life> + Send + 'a>;

/// [`Decide::Judged`]'s decision.
pub type JudgedDecision<'a> =
    Box<dyn FnOnce(&Codespace, &CompiledPolicySet) -> Decided + Send + 'a>;

/// One change to a codespace's life, and how the audit log names it.
pub struct LifeChange<'a> {
    /// `codespace.stop`, `codespace.start` or `codespace.port`.
    pub action: &'static str,
    pub actor: &'a str,
    pub decide: Decide<'a>,
}

/// Who the audit log names for the deletions of the retention sweep.
pub const RETENTION_ACTOR: &str = "retention";

/// What the audit log keeps of a codespace: where it lives and its life, never a secret.
pub fn codespace_snapshot(codespace: &Codespace) -> serde_json::Value {
    let at = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    serde_json::json!({
        "id": codespace.id,
        "repository": codespace.repository,
        "user": codespace.user,
        "billable_owner": codespace.billable_owner,
        "image": codespace.image,
        "machine": codespace.machine,
        "state": codespace.state.as_str(),
        "idle_timeout_minutes": codespace.limits.idle_timeout_minutes,
        "retention_period_minutes": codespace.limits.retention_period_minutes,
        "retention_expires_at": codespace.retention_expires_at.map(at),
        "ports": codespace.ports,
    })
}

#[async_trait]
pub trait LifeStore: Send + Sync {
    /// Applies `change` to the codespace `id` under its row lock, with its audit entry in
    /// the same transaction. `NotFound` when there is no such codespace (a deleted one).
    async fn change_life(
        &self,
        id: &str,
        change: LifeChange<'_>,
    ) -> StoreResult<Result<Codespace, LifeRefusal>>;
    /// Deletes the codespace with its audit entry; `NotFound` when there is none.
    async fn delete_codespace(&self, id: &str, actor: &str) -> StoreResult<()>;
    /// Deletes at most `limit` stopped codespaces whose retention ended by `now`, each with
    /// its audit entry, in one short transaction that skips rows other writers hold (another
    /// replica's sweep, a start). Answers how many it deleted.
    async fn sweep_expired(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<u64>;
}

/// A codespace read under its row lock, with its org's policy version read in the same
/// statement.
#[derive(sqlx::FromRow)]
pub struct LockedCodespaceRow {
    #[sqlx(flatten)]
    pub codespace: super::rows::CodespaceRow,
    pub policy_version: i64,
}

/// How a change locks its codespace: the codespace's row only, not its org's (which policy
/// edits lock) nor its repository's. How the sweep locks what it deletes: PostgreSQL skips
/// rows another transaction holds, so that replicas sweeping at once share the work and
/// each codespace is deleted once.
impl super::PgStore {
    pub(super) const ROW_LOCK: &'static str = " FOR NO KEY UPDATE OF c";
    pub(super) const SWEEP_LOCK: &'static str = " FOR UPDATE OF c SKIP LOCKED";
}

/// SQLite's writing transaction (`BEGIN IMMEDIATE`) already holds the whole database.
impl super::SqliteStore {
    pub(super) const ROW_LOCK: &'static str = "";
    pub(super) const SWEEP_LOCK: &'static str = "";
}
