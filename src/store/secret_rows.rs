//! Secrets' rows as the SQL reads them, and what the audit log keeps of a secret.

use chrono::{DateTime, Utc};

use super::reach_store::CandidateSecret;
use super::rows::RepoRow;
use super::secret_store::{SecretOwner, SecretRecord, SecretRepo};
use super::{StoreError, StoreResult};
use crate::registries::{Level, OrgSecretVisibility, SecretEntry};

#[derive(sqlx::FromRow)]
pub struct SecretRow {
    pub id: i64,
    pub name: String,
    pub visibility: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<SecretRow> for SecretRecord {
    type Error = StoreError;
    fn try_from(row: SecretRow) -> StoreResult<Self> {
        let visibility = row
            .visibility
            .map(|raw| {
                OrgSecretVisibility::parse(&raw).ok_or_else(|| {
                    StoreError::Internal(format!("stored secret visibility '{raw}' is not valid"))
                })
            })
            .transpose()?;
        Ok(Self {
            id: row.id,
            name: row.name,
            visibility,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct SecretRepoRow {
    pub org_login: String,
    #[sqlx(flatten)]
    pub repo: RepoRow,
}

impl TryFrom<SecretRepoRow> for SecretRepo {
    type Error = StoreError;
    fn try_from(row: SecretRepoRow) -> StoreResult<Self> {
        Ok(Self {
            org_login: row.org_login,
            repo: row.repo.try_into()?,
        })
    }
}

/// What the audit log keeps of a secret: where it is, its name, visibility and
/// repositories; never its value, in any form.
pub fn secret_snapshot(
    owner: &SecretOwner,
    name: &str,
    visibility: Option<OrgSecretVisibility>,
    repository_ids: &[i64],
) -> serde_json::Value {
    serde_json::json!({
        "level": owner.level.as_str(),
        "owner": owner.label,
        "name": name,
        "visibility": visibility.map(OrgSecretVisibility::as_str),
        "repository_ids": repository_ids,
    })
}

/// A secret as resolution reads it: its selected repositories as a JSON array, and its
/// value (encrypted) when the read asked for it.
#[derive(sqlx::FromRow)]
pub struct CandidateRow {
    pub level: String,
    pub owner_id: i64,
    pub name: String,
    pub visibility: Option<String>,
    pub selected: String,
    pub value: Option<Vec<u8>>,
}

impl TryFrom<CandidateRow> for CandidateSecret {
    type Error = StoreError;
    fn try_from(row: CandidateRow) -> StoreResult<Self> {
        let level = Level::parse(&row.level)
            .ok_or_else(|| StoreError::Internal(format!("stored secret level '{}'", row.level)))?;
        let visibility = row
            .visibility
            .map(|raw| {
                OrgSecretVisibility::parse(&raw).ok_or_else(|| {
                    StoreError::Internal(format!("stored secret visibility '{raw}' is not valid"))
                })
            })
            .transpose()?;
        let selected_repo_ids = serde_json::from_str(&row.selected).map_err(|_| {
            StoreError::Internal("stored secret repositories are not a list".into())
        })?;
        Ok(Self {
            entry: SecretEntry {
                level,
                name: row.name,
                visibility,
                selected_repo_ids,
            },
            owner_id: row.owner_id,
            value: row.value,
        })
    }
}
