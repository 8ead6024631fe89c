//! GitHub Container Registry packages in the store: the records it takes and gives back,
//! and its trait. Creation reads a package as the pull rules see it
//! ([`Package`](crate::registries::Package)); the routes read and write the whole record.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::names::PackageName;
use crate::registries::{Package, PackageVisibility};

/// A stored package, with its repositories by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRecord {
    pub id: i64,
    pub name: String,
    pub visibility: PackageVisibility,
    /// The repository it is linked to (its source), by id and by name.
    pub repo_id: Option<i64>,
    pub repository: Option<String>,
    pub inherit_access: bool,
    /// The repositories granted Codespaces access, by name (sorted case-insensitively).
    pub codespaces_access: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A package to create or update; its granted repositories are not part of it.
#[derive(Debug, Clone)]
pub struct PackageWrite {
    pub name: PackageName,
    pub visibility: PackageVisibility,
    /// A repository of the package's org.
    pub repo_id: Option<i64>,
    pub inherit_access: bool,
}

#[async_trait]
pub trait PackageStore: Send + Sync {
    /// The org's package named `name` (compared lowercased) as the pull rules see it, with the ids of
    /// the repositories granted Codespaces access; `None` when the org has no such package.
    async fn find_package(&self, org_id: i64, name: &str) -> StoreResult<Option<Package>>;
    async fn get_package(
        &self,
        org_id: i64,
        name: &PackageName,
    ) -> StoreResult<Option<PackageRecord>>;
    /// Creates or updates the package in one transaction with its audit entry; the flag says
    /// whether it was created. An update that changes nothing writes nothing.
    async fn put_package(
        &self,
        org_id: i64,
        write: &PackageWrite,
        actor: &str,
    ) -> StoreResult<(PackageRecord, bool)>;
    /// `NotFound` when the org has no such package.
    async fn delete_package(&self, org_id: i64, name: &PackageName, actor: &str)
        -> StoreResult<()>;
    /// Grants (`granted`) or revokes Codespaces access to the package for the org's
    /// repository `repo_id`; a grant already there, or a revocation of none, changes nothing.
    /// `NotFound` when the org has no such package.
    async fn set_package_access(
        &self,
        org_id: i64,
        name: &PackageName,
        repo_id: i64,
        granted: bool,
        actor: &str,
    ) -> StoreResult<()>;
}
