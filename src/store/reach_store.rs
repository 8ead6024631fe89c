//! The reads that decide what reaches a codespace: the secrets that may reach one
//! repository's codespaces (with the encrypted values asked for), and the audit entry of
//! the orchestrator's read of opened values.

use std::sync::Arc;

use async_trait::async_trait;

use super::StoreResult;
use crate::registries::SecretEntry;

/// Which encrypted values a read of candidate secrets carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValuesWanted {
    /// Only the registry triplets' secrets, and of their values only the
    /// `P_CONTAINER_REGISTRY_SERVER` ones: creation needs nothing else, so nothing else is
    /// read, kept or opened.
    RegistryServers,
    /// Every value: the orchestrator's read.
    All,
}

/// A stored secret that may reach codespaces of one repository.
#[derive(Debug, Clone)]
pub struct CandidateSecret {
    /// As resolution sees it; `selected_repo_ids` holds at least the repository when the
    /// secret selects it.
    pub entry: SecretEntry,
    /// The id of its owner (user, repository or org), part of its value's associated data.
    pub owner_id: i64,
    /// The value encrypted under the master key, when the read asked for it.
    pub value: Option<Vec<u8>>,
}

#[async_trait]
pub trait ReachStore: Send + Sync {
    /// The user's secrets (when `user_id` is known), the repository's and the org's, in
    /// lists of no particular order. With `RegistryServers` they come from the read cache
    /// when it is current (a level's registry secrets, with only the servers' values,
    /// encrypted); `All` always reads the database.
    async fn candidate_secrets(
        &self,
        user_id: Option<i64>,
        org_id: i64,
        repo_id: i64,
        values: ValuesWanted,
    ) -> StoreResult<Vec<Arc<Vec<CandidateSecret>>>>;
    /// Records in the org's audit log that `actor` read the opened values of `names` for
    /// the codespace `codespace_id` (never the values).
    async fn record_secrets_read(
        &self,
        org_id: i64,
        actor: &str,
        codespace_id: &str,
        names: &[String],
    ) -> StoreResult<()>;
}
