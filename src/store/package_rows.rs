//! Packages' rows as the SQL reads them, and what the audit log keeps of a package.

use chrono::{DateTime, Utc};

use super::package_store::PackageRecord;
use super::{StoreError, StoreResult};
use crate::registries::{Package, PackageVisibility};

fn visibility(raw: &str) -> StoreResult<PackageVisibility> {
    PackageVisibility::parse(raw)
        .ok_or_else(|| StoreError::Internal(format!("stored package visibility '{raw}'")))
}

fn json_list<T: serde::de::DeserializeOwned>(json: &str) -> StoreResult<Vec<T>> {
    serde_json::from_str(json)
        .map_err(|_| StoreError::Internal("stored package access is not a JSON array".into()))
}

/// A package with its linked repository's name and its granted repositories' names, the
/// latter aggregated by the query into one JSON array.
#[derive(sqlx::FromRow)]
pub struct PackageRow {
    pub id: i64,
    pub name: String,
    pub visibility: String,
    pub repo_id: Option<i64>,
    pub repository: Option<String>,
    pub inherit_access: bool,
    pub codespaces_access: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<PackageRow> for PackageRecord {
    type Error = StoreError;
    fn try_from(row: PackageRow) -> StoreResult<Self> {
        Ok(Self {
            id: row.id,
            name: row.name,
            visibility: visibility(&row.visibility)?,
            repo_id: row.repo_id,
            repository: row.repository,
            inherit_access: row.inherit_access,
            codespaces_access: json_list(&row.codespaces_access)?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A package as the pull rules read it: the granted repositories' ids in one JSON array.
#[derive(sqlx::FromRow)]
pub struct PullPackageRow {
    pub name: String,
    pub visibility: String,
    pub repo_id: Option<i64>,
    pub inherit_access: bool,
    pub granted_repo_ids: String,
}

impl TryFrom<PullPackageRow> for Package {
    type Error = StoreError;
    fn try_from(row: PullPackageRow) -> StoreResult<Self> {
        Ok(Self {
            name: row.name,
            visibility: visibility(&row.visibility)?,
            repo_id: row.repo_id,
            inherit_access: row.inherit_access,
            granted_repo_ids: json_list(&row.granted_repo_ids)?,
        })
    }
}

/// What the audit log keeps of a package: what the answer shows of it, without ids or times.
pub fn package_snapshot(package: &PackageRecord) -> serde_json::Value {
    serde_json::json!({
        "name": package.name,
        "visibility": package.visibility.as_str(),
        "repository": package.repository,
        "inherit_access": package.inherit_access,
        "codespaces_access": package.codespaces_access,
    })
}
