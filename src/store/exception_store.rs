//! Policy exceptions in the store: the record the routes answer, the validated draft they
//! write, the row the SQL reads, and the trait part. Every write orders itself against
//! codespace writes exactly as a policy write does (it bumps the org's policy version), so
//! that the next creation on every instance judges by it.

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};

use super::{PageRequest, Paged, StoreError, StoreResult};
use crate::names::Name;
use crate::policy::{AllowedValue, PolicyException};

/// A stored exception, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionRecord {
    pub id: i64,
    /// The repository it covers, by name as first written; `None`: every repository.
    pub repository: Option<String>,
    /// The user it covers, as written; `None`: every user.
    pub user: Option<String>,
    pub allowed_values: Vec<String>,
    pub expires_at: DateTime<Utc>,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

impl ExceptionRecord {
    /// The exception as the decision sees it. Values were validated when written; one that
    /// no longer parses is an error, never silently dropped (fail closed).
    pub fn rules(&self) -> Result<PolicyException, String> {
        let allowed_values = self
            .allowed_values
            .iter()
            .map(|v| AllowedValue::parse(v))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("exception {} holds an invalid value: {e}", self.id))?;
        Ok(PolicyException {
            id: self.id,
            repo_key: self.repository.as_deref().map(str::to_ascii_lowercase),
            user_key: self.user.as_deref().map(str::to_ascii_lowercase),
            allowed_values,
            expires_at: self.expires_at,
            reason: self.reason.clone(),
        })
    }

    /// What the audit log keeps of it.
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "repository": self.repository,
            "user": self.user,
            "allowed_values": self.allowed_values,
            "expires_at": self.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "reason": self.reason,
        })
    }
}

/// A validated exception to create.
#[derive(Debug, Clone)]
pub struct ExceptionDraft {
    /// A repository of the org (checked in the creating transaction).
    pub repository: Option<Name>,
    pub user: Option<Name>,
    pub allowed_values: Vec<AllowedValue>,
    pub expires_at: DateTime<Utc>,
    pub reason: String,
    /// By the service's clock.
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub struct ExceptionRow {
    pub id: i64,
    pub repository: Option<String>,
    pub user_login: Option<String>,
    pub allowed_values: String,
    pub expires_at: DateTime<Utc>,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

impl TryFrom<ExceptionRow> for ExceptionRecord {
    type Error = StoreError;
    fn try_from(row: ExceptionRow) -> StoreResult<Self> {
        let allowed_values = serde_json::from_str(&row.allowed_values).map_err(|_| {
            StoreError::Internal(format!(
                "stored values of exception {} are not valid",
                row.id
            ))
        })?;
        Ok(Self {
            id: row.id,
            repository: row.repository,
            user: row.user_login,
            allowed_values,
            expires_at: row.expires_at,
            reason: row.reason,
            created_at: row.created_at,
            created_by: row.created_by,
        })
    }
}

#[async_trait]
pub trait ExceptionStore: Send + Sync {
    /// The org's exceptions by id, expired ones included.
    async fn list_exceptions(
        &self,
        org_id: i64,
        page: PageRequest,
    ) -> StoreResult<Paged<ExceptionRecord>>;
    /// `NotFound` when the org has no exception `id`.
    async fn get_exception(&self, org_id: i64, id: i64) -> StoreResult<ExceptionRecord>;
    /// Creates the exception with its audit entry; `Invalid` on `repository` when it names
    /// no repository of the org.
    async fn create_exception(
        &self,
        org_id: i64,
        draft: &ExceptionDraft,
        actor: &str,
    ) -> StoreResult<ExceptionRecord>;
    /// Deletes it with its audit entry; `NotFound` when the org has no exception `id`.
    async fn delete_exception(&self, org_id: i64, id: i64, actor: &str) -> StoreResult<()>;
}
