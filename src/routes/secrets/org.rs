//! Organization secrets (org owners and site admins): `/orgs/{org}/codespaces/secrets`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::answer::{
    OrgSecretRequest, PublicKeyResponse, SecretList, SecretRepoList, SecretResponse,
    SelectedRepositories,
};
use super::flow::{self, repository_id, Scope};
use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::error::{ApiError, ErrorBody};
use crate::registries::Level;
use crate::routes::{ApiJson, Pagination};
use crate::state::AppState;
use crate::store::{RepoChange, SecretOwner};

async fn scope(state: &AppState, caller: &Caller, org: &str) -> Result<Scope, ApiError> {
    let org = authorize_org(state, caller, org, OrgAccess::Manage).await?;
    Ok(Scope {
        base: Some(format!("/orgs/{}/codespaces/secrets", org.login)),
        owner: SecretOwner {
            level: Level::Organization,
            id: org.id,
            org_id: Some(org.id),
            label: org.login,
        },
    })
}

/// Lists the organization's secrets, by name (never their values).
#[utoipa::path(get, path = "/orgs/{org}/codespaces/secrets", tag = "secrets",
    params(("org" = String, Path), Pagination),
    responses((status = 200, body = SecretList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_org_secrets(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    pagination: Pagination,
) -> Result<Json<SecretList>, ApiError> {
    let scope = scope(&state, &caller, &org).await?;
    flow::list(&state, &scope, pagination.page_request()?).await
}

/// The public key to seal the organization's secret values for.
#[utoipa::path(get, path = "/orgs/{org}/codespaces/secrets/public-key", tag = "secrets",
    params(("org" = String, Path)),
    responses((status = 200, body = PublicKeyResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn org_public_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> Result<Json<PublicKeyResponse>, ApiError> {
    let scope = scope(&state, &caller, &org).await?;
    flow::public_key(&state, &scope).await
}

/// Shows an organization secret (never its value).
#[utoipa::path(get, path = "/orgs/{org}/codespaces/secrets/{secret_name}", tag = "secrets",
    params(("org" = String, Path), ("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$")),
    responses((status = 200, body = SecretResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_org_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, name)): Path<(String, String)>,
) -> Result<Json<SecretResponse>, ApiError> {
    let scope = scope(&state, &caller, &org).await?;
    flow::get(&state, &scope, &name).await
}

/// Creates (201) or updates (204) an organization secret from a value sealed for its key.
#[utoipa::path(put, path = "/orgs/{org}/codespaces/secrets/{secret_name}", tag = "secrets",
    params(("org" = String, Path), ("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$")),
    request_body = OrgSecretRequest,
    responses((status = 201, description = "Created"), (status = 204, description = "Updated"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_org_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, name)): Path<(String, String)>,
    ApiJson(request): ApiJson<OrgSecretRequest>,
) -> Result<StatusCode, ApiError> {
    let scope = scope(&state, &caller, &org).await?;
    flow::put(&state, &scope, &name, request.into(), caller.actor()).await
}

/// Deletes an organization secret.
#[utoipa::path(delete, path = "/orgs/{org}/codespaces/secrets/{secret_name}", tag = "secrets",
    params(("org" = String, Path), ("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_org_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let scope = scope(&state, &caller, &org).await?;
    flow::delete(&state, &scope, &name, caller.actor()).await
}

/// Lists the repositories a `selected` organization secret names.
#[utoipa::path(get, path = "/orgs/{org}/codespaces/secrets/{secret_name}/repositories",
    tag = "secrets",
    params(("org" = String, Path), ("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$"), Pagination),
    responses((status = 200, body = SecretRepoList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The secret's visibility is not selected", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_org_secret_repos(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, name)): Path<(String, String)>,
    pagination: Pagination,
) -> Result<Json<SecretRepoList>, ApiError> {
    let scope = scope(&state, &caller, &org).await?;
    flow::repositories(&state, &scope, &name, pagination.page_request()?).await
}

/// Replaces the repositories a `selected` organization secret names.
#[utoipa::path(put, path = "/orgs/{org}/codespaces/secrets/{secret_name}/repositories",
    tag = "secrets",
    params(("org" = String, Path), ("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$")),
    request_body = SelectedRepositories,
    responses((status = 204, description = "Replaced"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The secret's visibility is not selected", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_org_secret_repos(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, name)): Path<(String, String)>,
    ApiJson(request): ApiJson<SelectedRepositories>,
) -> Result<StatusCode, ApiError> {
    let scope = scope(&state, &caller, &org).await?;
    let change = RepoChange::Replace(request.selected_repository_ids);
    flow::change_repositories(&state, &scope, &name, change, caller.actor()).await
}

/// Adds one repository to a `selected` organization secret.
#[utoipa::path(put,
    path = "/orgs/{org}/codespaces/secrets/{secret_name}/repositories/{repository_id}",
    tag = "secrets",
    params(("org" = String, Path), ("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$"), ("repository_id" = i64, Path)),
    responses((status = 204, description = "Added"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The secret's visibility is not selected", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn add_org_secret_repo(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, name, repo)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let scope = scope(&state, &caller, &org).await?;
    let change = RepoChange::Add(repository_id(&repo)?);
    flow::change_repositories(&state, &scope, &name, change, caller.actor()).await
}

/// Removes one repository from a `selected` organization secret.
#[utoipa::path(delete,
    path = "/orgs/{org}/codespaces/secrets/{secret_name}/repositories/{repository_id}",
    tag = "secrets",
    params(("org" = String, Path), ("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$"), ("repository_id" = i64, Path)),
    responses((status = 204, description = "Removed"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The secret's visibility is not selected", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn remove_org_secret_repo(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, name, repo)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let scope = scope(&state, &caller, &org).await?;
    let change = RepoChange::Remove(repository_id(&repo)?);
    flow::change_repositories(&state, &scope, &name, change, caller.actor()).await
}
