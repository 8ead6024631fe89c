//! Codespaces secrets in the store: the records it takes and gives back, and its trait.
//! Values reach it already encrypted under the master key and leave it that way; the
//! store never sees a sealed box or an opened value.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{PageRequest, Paged, Repo, StoreResult};
use crate::registries::{Level, OrgSecretVisibility};

/// Most secrets one level owner (an org, a repository, a user) may have.
pub const MAX_SECRETS_PER_LEVEL: i64 = 100;

/// Whose secrets: a level and its owner's id (an org's, a repository's or a user's).
#[derive(Debug, Clone)]
pub struct SecretOwner {
    pub level: Level,
    pub id: i64,
    /// The org whose audit log records the changes; `None` for user secrets.
    pub org_id: Option<i64>,
    /// How the audit log names the owner: `octo-org`, `octo-org/repo-a`, `mona`.
    pub label: String,
}

/// A level's key pair as stored: the private key encrypted under the master key.
#[derive(Debug, Clone)]
pub struct StoredLevelKey {
    pub key_id: String,
    pub public_key: Vec<u8>,
    pub private_key: Vec<u8>,
}

/// A stored secret, without its value.
#[derive(Debug, Clone)]
pub struct SecretRecord {
    pub id: i64,
    /// Upper-cased.
    pub name: String,
    /// Org secrets only.
    pub visibility: Option<OrgSecretVisibility>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A secret to create or update.
#[derive(Debug, Clone)]
pub struct SecretWrite {
    /// Upper-cased, checked.
    pub name: String,
    /// Encrypted under the master key with `value_aad`.
    pub value: Vec<u8>,
    /// Org secrets only.
    pub visibility: Option<OrgSecretVisibility>,
    /// The repositories it names; `None` keeps the ones it has (an update) or none (a
    /// creation). Cleared when an org secret's visibility is not `selected`.
    pub repositories: Option<Vec<i64>>,
}

/// A change to the repositories a secret names.
#[derive(Debug, Clone)]
pub enum RepoChange {
    Replace(Vec<i64>),
    Add(i64),
    Remove(i64),
}

/// A repository a secret names, with its org's login for its `full_name`.
#[derive(Debug, Clone)]
pub struct SecretRepo {
    pub org_login: String,
    pub repo: Repo,
}

#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Records `fingerprint` as the master key's if none is recorded, and answers the
    /// recorded one (never overwritten).
    async fn claim_master_key_fingerprint(&self, fingerprint: &str) -> StoreResult<String>;
    async fn current_level_key(&self, owner: &SecretOwner) -> StoreResult<Option<StoredLevelKey>>;
    /// Stores `key` as the owner's current key unless another start got there first.
    async fn insert_level_key(&self, owner: &SecretOwner, key: &StoredLevelKey) -> StoreResult<()>;
    async fn list_secrets(
        &self,
        owner: &SecretOwner,
        page: PageRequest,
    ) -> StoreResult<Paged<SecretRecord>>;
    async fn find_secret(
        &self,
        owner: &SecretOwner,
        name: &str,
    ) -> StoreResult<Option<SecretRecord>>;
    /// Creates or updates a secret in one transaction, if `key_id` is still the owner's
    /// current key; `Invalid` (nothing written) past the level's limit or for a repository
    /// the secret may not name. The flag says whether it was created.
    async fn put_secret(
        &self,
        owner: &SecretOwner,
        key_id: &str,
        write: SecretWrite,
        actor: &str,
    ) -> StoreResult<bool>;
    async fn delete_secret(&self, owner: &SecretOwner, name: &str, actor: &str) -> StoreResult<()>;
    async fn secret_repos(
        &self,
        secret_id: i64,
        page: PageRequest,
    ) -> StoreResult<Paged<SecretRepo>>;
    /// `Conflict` on an org secret whose visibility is not `selected`.
    async fn change_secret_repos(
        &self,
        owner: &SecretOwner,
        name: &str,
        change: RepoChange,
        actor: &str,
    ) -> StoreResult<()>;
}
