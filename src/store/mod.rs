//! Persistence behind one trait. The backend is picked at start-up from the `DATABASE_URL`
//! scheme: PostgreSQL in production, SQLite as the embedded default.

mod cache;
mod compliance_store;
mod decision_store;
mod exception_store;
mod key_store;
mod life_store;
mod listener;
mod package_rows;
mod package_store;
mod postgres;
mod reach_store;
mod reads;
mod records;
mod revision_rows;
mod revision_store;
mod rows;
pub use rows::repo_key_of;
mod secret_rows;
mod secret_store;
mod session_store;
mod sql;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use cache::{compile_policies, compile_policies_with, policy_rules, PolicyCache};
pub use compliance_store::{CodespaceCursor, CodespaceImage, ComplianceStore};
pub use decision_store::*;
pub use exception_store::{ExceptionDraft, ExceptionRecord, ExceptionStore};
pub use key_store::*;
pub use life_store::*;
pub use package_store::*;
pub use postgres::PgStore;
pub use reach_store::*;
pub use records::*;
pub use revision_store::*;
pub use secret_store::*;
pub use session_store::{SessionRecord, SessionStore};
pub use sqlite::SqliteStore;

use crate::billing::{BillingMode, Role};
use crate::names::Name;
use crate::policy::{CompiledPolicySet, Refused};
use crate::registries::RepoVisibility;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("the version in If-Match is stale")]
    PreconditionFailed,
    /// The write would break a rule only the stored state can check (a policy naming a
    /// repository the org does not have, say): a 422 on `field`.
    #[error("{field} {message}")]
    Invalid { field: String, message: String },
    /// The database cannot be reached or answers too slowly: callers fail closed.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(err.to_string()),
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                Self::Conflict("already exists".to_string())
            }
            // PostgreSQL: admin shutdown, cannot connect now, statement/lock timeout.
            sqlx::Error::Database(ref db)
                if matches!(
                    db.code().as_deref(),
                    Some("57P01" | "57P02" | "57P03" | "57014" | "55P03" | "08006" | "08001")
                ) =>
            {
                Self::Unavailable(err.to_string())
            }
            // PostgreSQL: a character it cannot store (NUL). Inputs are validated before they
            // get here; this keeps anything missed a client error rather than a 500.
            sqlx::Error::Database(ref db)
                if matches!(db.code().as_deref(), Some("22021" | "22P05")) =>
            {
                Self::Invalid {
                    field: "body".to_string(),
                    message: "contains a character that cannot be stored".to_string(),
                }
            }
            // SQLite: database is busy or locked.
            sqlx::Error::Database(ref db) if matches!(db.code().as_deref(), Some("5" | "6")) => {
                Self::Unavailable(err.to_string())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Decides what to write for a codespace given the policy set in force; `Err` means the
/// policy refused the image outright. It may be asked again when the set it was given
/// turns out to be stale by the time of writing.
pub type BuildPlan<'a> =
    Box<dyn FnMut(&CompiledPolicySet) -> Result<CodespaceBuild, Refused> + Send + 'a>;

/// Merges a partial update into the current policy, under the store's lock.
pub type PolicyMerge<'a> = Box<dyn FnOnce(&Policy) -> StoreResult<PolicyDraft> + Send + 'a>;

/// A new codespace: where it lives and who it is for.
#[derive(Debug, Clone)]
pub struct NewCodespace {
    pub id: String,
    pub org_id: i64,
    pub repo_id: i64,
    /// `org/repo`, as the answer shows it.
    pub repository: String,
    pub user: String,
}

/// The idempotency key a creation answers under: its answer (always a 201) is stored in the
/// codespace's own transaction, so that no crash can leave a codespace without the answer a
/// retry must replay.
pub struct IdempotentAnswer<'a> {
    pub scope: &'a str,
    pub key: &'a str,
    /// The answer's body for the codespace as written.
    pub render: Box<dyn Fn(&Codespace) -> String + Send + Sync + 'a>,
}

/// Tokens and users, and the database's own health.
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Answers only while the database does (readiness).
    async fn ping(&self) -> StoreResult<()>;
    /// The pool's connections: `(in_use, idle)`.
    fn pool_connections(&self) -> (u64, u64);
    async fn find_token(&self, token_hash: &[u8]) -> StoreResult<Option<TokenRecord>>;
    async fn has_site_admin_token(&self) -> StoreResult<bool>;
    /// A known user, by login (case-insensitively).
    async fn find_user(&self, login: &Name) -> StoreResult<Option<User>>;
    /// Stores a token hash; `user` is required for (and only for) user tokens.
    async fn insert_token(
        &self,
        kind: TokenKind,
        token_hash: &[u8],
        user: Option<&Name>,
        name: Option<&str>,
        actor: &str,
    ) -> StoreResult<()>;
    /// Revokes a live token; `NotFound` when no live token has this hash.
    async fn revoke_token(&self, token_hash: &[u8], actor: &str) -> StoreResult<()>;
}

/// Orgs, repositories, memberships, billing, and the audit log of their changes.
#[async_trait]
pub trait OrgStore: Send + Sync {
    async fn create_org(&self, login: &Name) -> StoreResult<Org>;
    async fn find_org(&self, login: &Name) -> StoreResult<Option<Org>>;
    async fn role_of(&self, org_id: i64, user_id: i64) -> StoreResult<Option<Role>>;
    /// Creates the repository if absent (`private` unless `visibility` says otherwise), or
    /// sets the visibility of the one there when given; the flag says whether it was created.
    async fn put_repo(
        &self,
        org_id: i64,
        name: &Name,
        visibility: Option<RepoVisibility>,
    ) -> StoreResult<(Repo, bool)>;
    async fn find_repo(&self, org_id: i64, name: &Name) -> StoreResult<Option<Repo>>;
    async fn list_repos(&self, org_id: i64, page: PageRequest) -> StoreResult<Paged<Repo>>;
    /// Creates the user if unknown.
    async fn set_membership(
        &self,
        org_id: i64,
        user: &Name,
        role: Role,
        actor: &str,
    ) -> StoreResult<Membership>;
    /// `NotFound` when the user has no role in the org.
    async fn remove_membership(&self, org_id: i64, user: &Name, actor: &str) -> StoreResult<()>;
    async fn billing(&self, org_id: i64) -> StoreResult<Billing>;
    async fn set_billing(
        &self,
        org_id: i64,
        mode: BillingMode,
        selected: &[Name],
        actor: &str,
    ) -> StoreResult<Billing>;
    async fn is_selected_for_billing(&self, org_id: i64, user: &Name) -> StoreResult<bool>;
    /// The org's audit log, newest first.
    async fn audit_log(&self, org_id: i64, page: PageRequest) -> StoreResult<Paged<AuditEntry>>;
}

/// Policies. Every change bumps the org's policy version in the same transaction.
#[async_trait]
pub trait PolicyStore: Send + Sync {
    async fn list_policies(&self, org_id: i64, page: PageRequest) -> StoreResult<Paged<Policy>>;
    /// Every policy of the org, by id (for what needs them all: warnings, preview).
    async fn all_policies(&self, org_id: i64) -> StoreResult<Vec<Policy>>;
    async fn get_policy(&self, org_id: i64, policy_id: i64) -> StoreResult<Policy>;
    async fn create_policy(
        &self,
        org_id: i64,
        draft: &PolicyDraft,
        actor: &str,
    ) -> StoreResult<Policy>;
    /// Replaces a policy with `draft(current)`, under a lock, if its version is still
    /// `if_version` (when given). The closure merges a partial update into the current policy.
    async fn update_policy(
        &self,
        org_id: i64,
        policy_id: i64,
        if_version: Option<i64>,
        draft: PolicyMerge<'_>,
        actor: &str,
    ) -> StoreResult<Policy>;
    async fn delete_policy(
        &self,
        org_id: i64,
        policy_id: i64,
        if_version: Option<i64>,
        actor: &str,
    ) -> StoreResult<()>;
    /// The org's compiled policy set at its current version (served from the cache when the
    /// version matches).
    async fn policy_set(&self, org_id: i64) -> StoreResult<Arc<CompiledPolicySet>>;
}

/// Codespaces: their creation and rebuilds, judged against the policy in force, and reads.
#[async_trait]
pub trait CodespaceStore: Send + Sync {
    /// Judges and records a codespace so that no policy edit commits between the reading of
    /// the org's policy version and the write: a creation which starts after a policy edit
    /// was acknowledged sees it, and none is recorded under a policy older than the one in
    /// force at its commit.
    /// With `answer`, the creation's idempotent answer is stored in the same transaction.
    async fn create_codespace(
        &self,
        new: NewCodespace,
        plan: BuildPlan<'_>,
        answer: Option<IdempotentAnswer<'_>>,
    ) -> StoreResult<Result<Codespace, Refused>>;
    /// The same for a full rebuild of an existing codespace.
    async fn rebuild_codespace(
        &self,
        id: &str,
        plan: BuildPlan<'_>,
    ) -> StoreResult<Result<Codespace, Refused>>;
    /// A rebuild that keeps the image: only the log and `updated_at` change.
    async fn append_codespace_log(&self, id: &str, line: &str) -> StoreResult<Codespace>;
    async fn get_codespace(&self, id: &str) -> StoreResult<Codespace>;
    /// How many codespaces billed to the org `user` holds there, active and stopped (what
    /// `max_codespaces_per_user` counts). Creation checks the same number, atomically with
    /// its insert.
    async fn count_user_codespaces(&self, org_id: i64, user: &str) -> StoreResult<i64>;
    async fn list_codespaces(
        &self,
        org_id: i64,
        page: PageRequest,
    ) -> StoreResult<Paged<Codespace>>;
}

/// The idempotency keys of codespace creation, scoped to the calling token.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a request with `request_hash`. An in-flight claim older than `lease`
    /// counts as abandoned (its process died) and is taken over. Keys older than `keep`
    /// are forgotten.
    async fn begin_idempotent(
        &self,
        scope: &str,
        key: &str,
        request_hash: &[u8],
        lease: Duration,
        keep: Duration,
    ) -> StoreResult<IdempotencyStart>;
    /// Records the answer to replay.
    async fn finish_idempotent(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()>;
    /// Releases the claim without an answer (the request failed transiently).
    async fn abandon_idempotent(&self, scope: &str, key: &str) -> StoreResult<()>;
}

/// Everything the service keeps, behind one object: each backend implements every part.
pub trait Store:
    AccessStore
    + OrgStore
    + PolicyStore
    + RevisionStore
    + CodespaceStore
    + IdempotencyStore
    + SecretStore
    + ReachStore
    + KeyStore
    + PackageStore
    + DecisionStore
    + ComplianceStore
    + ExceptionStore
    + LifeStore
    + SessionStore
    + 'static
{
}

impl<T> Store for T where
    T: AccessStore
        + OrgStore
        + PolicyStore
        + RevisionStore
        + CodespaceStore
        + IdempotencyStore
        + SecretStore
        + ReachStore
        + KeyStore
        + PackageStore
        + DecisionStore
        + ComplianceStore
        + ExceptionStore
        + LifeStore
        + SessionStore
        + 'static
{
}

/// Opens the store named by `database_url` and applies its migrations.
pub async fn connect(database_url: &str, timeout: Duration) -> StoreResult<Arc<dyn Store>> {
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(database_url, timeout).await?))
    } else {
        Ok(Arc::new(PgStore::connect(database_url, timeout).await?))
    }
}
