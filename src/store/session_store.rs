//! The owners' console's sessions in the store: a browser's login, kept by the hash of its
//! id, and the orgs a console user is offered after logging in.

use async_trait::async_trait;

use super::StoreResult;

/// A live console session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The hash of the token the session acts with (as `tokens` keeps it).
    pub token_hash: Vec<u8>,
    /// Unix seconds after which the session is over.
    pub expires_at: i64,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session; times are Unix seconds.
    async fn create_session(
        &self,
        id_hash: &[u8],
        token_hash: &[u8],
        created_at: i64,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// The session with this id hash, if it has not expired by `now`.
    async fn find_session(&self, id_hash: &[u8], now: i64) -> StoreResult<Option<SessionRecord>>;
    /// Ends a session; ending one that is not there is not an error.
    async fn delete_session(&self, id_hash: &[u8]) -> StoreResult<()>;
    /// Deletes every session expired by `now`; answers how many.
    async fn prune_sessions(&self, now: i64) -> StoreResult<u64>;
    /// The logins of the orgs `user_id` owns, by login, at most `limit` of them.
    async fn owned_orgs(&self, user_id: i64, limit: i64) -> StoreResult<Vec<String>>;
}
