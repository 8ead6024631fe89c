//! Repository secrets (owners of its org, site admins): `/repos/{owner}/{repo}/codespaces/secrets`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::answer::{PublicKeyResponse, RepoSecretRequest, SecretList, SecretResponse};
use super::flow::{self, Scope};
use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::error::{ApiError, ErrorBody};
use crate::registries::Level;
use crate::routes::{repo_in, ApiJson, Pagination};
use crate::state::AppState;
use crate::store::SecretOwner;

/// `owner` is the repository's org; the repository must be one of its own.
async fn scope(
    state: &AppState,
    caller: &Caller,
    org: &str,
    repo: &str,
) -> Result<Scope, ApiError> {
    let org = authorize_org(state, caller, org, OrgAccess::Manage).await?;
    let repo = repo_in(state, &org, repo).await?;
    Ok(Scope {
        base: None,
        owner: SecretOwner {
            level: Level::Repository,
            id: repo.id,
            org_id: Some(org.id),
            label: format!("{}/{}", org.login, repo.name),
        },
    })
}

/// Lists the repository's secrets, by name (never their values).
#[utoipa::path(get, path = "/repos/{owner}/{repo}/codespaces/secrets", tag = "secrets",
    params(("owner" = String, Path), ("repo" = String, Path), Pagination),
    responses((status = 200, body = SecretList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_repo_secrets(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, repo)): Path<(String, String)>,
    pagination: Pagination,
) -> Result<Json<SecretList>, ApiError> {
    let scope = scope(&state, &caller, &org, &repo).await?;
    flow::list(&state, &scope, pagination.page_request()?).await
}

/// The public key to seal the repository's secret values for.
#[utoipa::path(get, path = "/repos/{owner}/{repo}/codespaces/secrets/public-key", tag = "secrets",
    params(("owner" = String, Path), ("repo" = String, Path)),
    responses((status = 200, body = PublicKeyResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn repo_public_key(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, repo)): Path<(String, String)>,
) -> Result<Json<PublicKeyResponse>, ApiError> {
    let scope = scope(&state, &caller, &org, &repo).await?;
    flow::public_key(&state, &scope).await
}

/// Shows an repository secret (never its value).
#[utoipa::path(get, path = "/repos/{owner}/{repo}/codespaces/secrets/{secret_name}", tag = "secrets",
    params(("owner" = String, Path), ("repo" = String, Path), ("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$")),
    responses((status = 200, body = SecretResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_repo_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, repo, name)): Path<(String, String, String)>,
) -> Result<Json<SecretResponse>, ApiError> {
    let scope = scope(&state, &caller, &org, &repo).await?;
    flow::get(&state, &scope, &name).await
}

/// Creates (201) or updates (204) an repository secret from a value sealed for its key.
#[utoipa::path(put, path = "/repos/{owner}/{repo}/codespaces/secrets/{secret_name}", tag = "secrets",
    params(("owner" = String, Path), ("repo" = String, Path), ("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$")),
    request_body = RepoSecretRequest,
    responses((status = 201, description = "Created"), (status = 204, description = "Updated"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_repo_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, repo, name)): Path<(String, String, String)>,
    ApiJson(request): ApiJson<RepoSecretRequest>,
) -> Result<StatusCode, ApiError> {
    let scope = scope(&state, &caller, &org, &repo).await?;
    flow::put(&state, &scope, &name, request.into(), caller.actor()).await
}

/// Deletes an repository secret.
#[utoipa::path(delete, path = "/repos/{owner}/{repo}/codespaces/secrets/{secret_name}", tag = "secrets",
    params(("owner" = String, Path), ("repo" = String, Path), ("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_repo_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, repo, name)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let scope = scope(&state, &caller, &org, &repo).await?;
    flow::delete(&state, &scope, &name, caller.actor()).await
}
