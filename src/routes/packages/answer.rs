//! What the packages routes take and answer.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::registries::PackageVisibility;
use crate::routes::timestamp;
use crate::store::PackageRecord;

/// PUT of a package.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageRequest {
    pub visibility: PackageVisibility,
    /// The name of the org's repository the package is linked to (its source); null or
    /// absent: not linked.
    #[serde(default)]
    pub repository: Option<String>,
    /// Whether the linked repository's codespaces may pull it; `true` when absent or null.
    #[serde(default)]
    pub inherit_access: Option<bool>,
}

/// The only kind of package this service keeps.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PackageType {
    Container,
}

/// A GitHub Container Registry package of the org.
#[derive(Serialize, ToSchema)]
pub struct PackageResponse {
    /// As in `ghcr.io/{org}/{name}`; may contain `/`.
    name: String,
    package_type: PackageType,
    visibility: PackageVisibility,
    /// The linked repository's name, or null.
    repository: Option<String>,
    inherit_access: bool,
    /// The repositories granted Codespaces access, by name.
    codespaces_access: Vec<String>,
    created_at: String,
    updated_at: String,
}

impl From<PackageRecord> for PackageResponse {
    fn from(package: PackageRecord) -> Self {
        Self {
            name: package.name,
            package_type: PackageType::Container,
            visibility: package.visibility,
            repository: package.repository,
            inherit_access: package.inherit_access,
            codespaces_access: package.codespaces_access,
            created_at: timestamp(package.created_at),
            updated_at: timestamp(package.updated_at),
        }
    }
}
