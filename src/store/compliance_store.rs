//! The one read compliance needs: an org's codespaces, a page at a time in keyset order,
//! with only what judging their images takes. An org may have hundreds of thousands of
//! codespaces, so the caller never holds more than one page of them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{StoreError, StoreResult};
use crate::policy::ImageSource;

/// A codespace as compliance judges it: the image it was built from, and who pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodespaceImage {
    pub id: String,
    /// The repository's name in its org, as stored.
    pub repo_name: String,
    pub user: String,
    pub billable_owner: String,
    /// As stored: a reference that no longer parses is the caller's to skip.
    pub image: String,
    pub image_source: ImageSource,
    /// Its machine type; `None` for a codespace created before machine types were kept.
    pub machine: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl CodespaceImage {
    /// The position just after this codespace, where the next page starts.
    pub fn cursor(&self) -> CodespaceCursor {
        CodespaceCursor {
            created_at: self.created_at,
            id: self.id.clone(),
        }
    }
}

/// A position in an org's codespaces ordered by `(created_at, id)`, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodespaceCursor {
    pub created_at: DateTime<Utc>,
    pub id: String,
}

#[async_trait]
pub trait ComplianceStore: Send + Sync {
    /// Up to `limit` of the org's codespaces after `after` (from the oldest without it),
    /// ordered by `(created_at, id)`.
    async fn codespace_images(
        &self,
        org_id: i64,
        after: Option<&CodespaceCursor>,
        limit: i64,
    ) -> StoreResult<Vec<CodespaceImage>>;
}

/// The row as the SQL reads it.
#[derive(sqlx::FromRow)]
pub(crate) struct CodespaceImageRow {
    pub id: String,
    pub repo_name: String,
    pub user_login: String,
    pub billable_owner: String,
    pub image: String,
    pub image_source: String,
    pub machine: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<CodespaceImageRow> for CodespaceImage {
    type Error = StoreError;
    fn try_from(row: CodespaceImageRow) -> StoreResult<Self> {
        let image_source = ImageSource::parse(&row.image_source).ok_or_else(|| {
            StoreError::Internal(format!(
                "stored image source '{}' is not valid",
                row.image_source
            ))
        })?;
        Ok(Self {
            id: row.id,
            repo_name: row.repo_name,
            user: row.user_login,
            billable_owner: row.billable_owner,
            image: row.image,
            image_source,
            machine: row.machine,
            created_at: row.created_at,
        })
    }
}
