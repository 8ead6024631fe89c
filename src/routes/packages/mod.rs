//! GitHub Container Registry packages of an org (org owners and site admins):
//! `/orgs/{org}/packages/container/{package_name}`. What a package lets a codespace pull is
//! decided by `registries::pull`; these routes only keep the packages.
//!
//! A name with `/` (`team/app`) arrives percent-encoded in one path segment (`team%2Fapp`),
//! which the path extractor decodes. A PUT of a name outside the grammar is a 422; on the
//! other routes such a name names no package, a 404.

mod answer;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::error::{ApiError, ErrorBody};
use crate::names::{Name, PackageName};
use crate::routes::{repo_in, ApiJson};
use crate::state::AppState;
use crate::store::{Org, PackageWrite};
use answer::{PackageRequest, PackageResponse};

/// Every packages route, with its documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_package, put_package, delete_package))
        .routes(routes!(grant_package_access, revoke_package_access))
}

const RESOURCE: &str = "Package";

/// A name from the path of a route that reads or changes a package: a bad one names none.
fn existing_name(raw: &str) -> Result<PackageName, ApiError> {
    PackageName::parse(raw).map_err(|_| ApiError::NotFound)
}

/// The id of the org's repository a PUT body names; unknown or invalid is a 422.
async fn linked_repo(state: &AppState, org: &Org, raw: &str) -> Result<i64, ApiError> {
    let invalid = |message: String| ApiError::invalid(RESOURCE, "repository", message);
    let name = Name::parse(raw).map_err(|e| invalid(e.to_string()))?;
    let repo = state.store.find_repo(org.id, &name).await?;
    let repo = repo.ok_or_else(|| {
        invalid(format!(
            "names repository '{name}', which does not exist in this organization"
        ))
    })?;
    Ok(repo.id)
}

/// Shows a package of the organization.
#[utoipa::path(get, path = "/orgs/{org}/packages/container/{package_name}", tag = "packages",
    params(("org" = String, Path),
        ("package_name" = String, Path, description = "`/` percent-encoded as `%2F`")),
    responses((status = 200, body = PackageResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_package(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, name)): Path<(String, String)>,
) -> Result<Json<PackageResponse>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let name = existing_name(&name)?;
    let package = state.store.get_package(org.id, &name).await?;
    Ok(Json(package.ok_or(ApiError::NotFound)?.into()))
}

/// Creates (201) or updates (200) a package of the organization.
#[utoipa::path(put, path = "/orgs/{org}/packages/container/{package_name}", tag = "packages",
    params(("org" = String, Path),
        ("package_name" = String, Path, description = "`/` percent-encoded as `%2F`")),
    request_body = PackageRequest,
    responses((status = 201, body = PackageResponse), (status = 200, body = PackageResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_package(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, name)): Path<(String, String)>,
    ApiJson(request): ApiJson<PackageRequest>,
) -> Result<(StatusCode, Json<PackageResponse>), ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let name = PackageName::parse(&name)
        .map_err(|e| ApiError::invalid(RESOURCE, "package_name", e.to_string()))?;
    let repo_id = match &request.repository {
        Some(repository) => Some(linked_repo(&state, &org, repository).await?),
        None => None,
    };
    let write = PackageWrite {
        name,
        visibility: request.visibility,
        repo_id,
        inherit_access: request.inherit_access.unwrap_or(true),
    };
    let (package, created) = state
        .store
        .put_package(org.id, &write, caller.actor())
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(package.into())))
}

/// Deletes a package of the organization, with its grants.
#[utoipa::path(delete, path = "/orgs/{org}/packages/container/{package_name}", tag = "packages",
    params(("org" = String, Path),
        ("package_name" = String, Path, description = "`/` percent-encoded as `%2F`")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_package(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let name = existing_name(&name)?;
    state
        .store
        .delete_package(org.id, &name, caller.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Grants or revokes one repository's Codespaces access to a package.
async fn set_access(
    state: &AppState,
    caller: &Caller,
    (org, name, repo): (String, String, String),
    granted: bool,
) -> Result<StatusCode, ApiError> {
    let org = authorize_org(state, caller, &org, OrgAccess::Manage).await?;
    let name = existing_name(&name)?;
    let repo = repo_in(state, &org, &repo).await?;
    state
        .store
        .set_package_access(org.id, &name, repo.id, granted, caller.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Grants a repository's codespaces access to a package (already granted: still 204).
#[utoipa::path(put,
    path = "/orgs/{org}/packages/container/{package_name}/codespaces-access/{repo}",
    tag = "packages",
    params(("org" = String, Path),
        ("package_name" = String, Path, description = "`/` percent-encoded as `%2F`"),
        ("repo" = String, Path, description = "A repository of the organization")),
    responses((status = 204, description = "Granted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such org, package or repository", body = ErrorBody)))]
pub async fn grant_package_access(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    set_access(&state, &caller, path, true).await
}

/// Revokes a repository's Codespaces access to a package (none granted: still 204).
#[utoipa::path(delete,
    path = "/orgs/{org}/packages/container/{package_name}/codespaces-access/{repo}",
    tag = "packages",
    params(("org" = String, Path),
        ("package_name" = String, Path, description = "`/` percent-encoded as `%2F`"),
        ("repo" = String, Path, description = "A repository of the organization")),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such org, package or repository", body = ErrorBody)))]
pub async fn revoke_package_access(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    set_access(&state, &caller, path, false).await
}
