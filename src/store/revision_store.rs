//! Policy revisions in the store: every change to a policy keeps the policy as it was after
//! it, so that an owner can see its history and restore any earlier state. Revisions are
//! written by the policy writes themselves, in their transactions (`PolicyStore`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{PageRequest, Paged, Policy, PolicyDraft, StoreResult};

/// Who made a revision when the service does not know: a policy's state written before
/// revisions were kept, recorded as it stood before its next change.
pub const UNKNOWN_ACTOR: &str = "unknown";

/// The change a revision records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionAction {
    Create,
    Update,
    Delete,
    Restore,
}

impl RevisionAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Restore => "restore",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Create, Self::Update, Self::Delete, Self::Restore]
            .into_iter()
            .find(|action| action.as_str() == raw)
    }
}

/// One revision of a policy: the policy as it was after the change (for a deletion, as it
/// was when deleted), with the version (ETag) it then had.
#[derive(Debug, Clone)]
pub struct PolicyRevision {
    /// 1, 2, ... per policy.
    pub revision: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: RevisionAction,
    pub policy: Policy,
}

/// Turns the revision to restore into the policy to write, under the store's lock; an
/// `Err` (a deletion, a value no longer valid) changes nothing.
pub type RevisionDraft<'a> =
    Box<dyn FnOnce(&PolicyRevision) -> StoreResult<PolicyDraft> + Send + 'a>;

#[async_trait]
pub trait RevisionStore: Send + Sync {
    /// The policy's revisions in the org, newest first; `NotFound` when it has none there
    /// (deleted policies keep theirs).
    async fn list_revisions(
        &self,
        org_id: i64,
        policy_id: i64,
        page: PageRequest,
    ) -> StoreResult<Paged<PolicyRevision>>;
    /// Makes the policy what `draft(revision)` says, recreating it under the same id when
    /// it was deleted, if its version is still `if_version` (when given; a deleted policy
    /// matches none). Records a `restore` revision, audits it and bumps the org's policy
    /// version, all in one transaction. `NotFound` when that revision does not exist.
    async fn restore_policy(
        &self,
        org_id: i64,
        policy_id: i64,
        revision: i64,
        if_version: Option<i64>,
        draft: RevisionDraft<'_>,
        actor: &str,
    ) -> StoreResult<Policy>;
}
