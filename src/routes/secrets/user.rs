//! A user's own secrets (the user, with a user token): `/user/codespaces/secrets`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::answer::{
    PublicKeyResponse, SecretList, SecretRepoList, SecretResponse, SelectedRepositories,
    UserSecretRequest,
};
use super::flow::{self, repository_id, Scope};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::registries::Level;
use crate::routes::{ApiJson, Pagination};
use crate::state::AppState;
use crate::store::{RepoChange, SecretOwner};

/// Only the user may touch their secrets: site admins and service tokens get a 403.
fn scope(caller: &Caller) -> Result<Scope, ApiError> {
    let Caller::User(user) = caller else {
        return Err(ApiError::Forbidden(
            "Codespaces user secrets are reached only with the user's own token",
        ));
    };
    Ok(Scope {
        base: Some("/user/codespaces/secrets".to_string()),
        owner: SecretOwner {
            level: Level::User,
            id: user.id,
            org_id: None,
            label: user.login.clone(),
        },
    })
}

/// Lists the user's secrets, by name (never their values).
#[utoipa::path(get, path = "/user/codespaces/secrets", tag = "secrets",
    params(Pagination),
    responses((status = 200, body = SecretList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_user_secrets(
    State(state): State<AppState>,
    caller: Caller,
    pagination: Pagination,
) -> Result<Json<SecretList>, ApiError> {
    let scope = scope(&caller)?;
    flow::list(&state, &scope, pagination.page_request()?).await
}

/// The public key to seal the user's secret values for.
#[utoipa::path(get, path = "/user/codespaces/secrets/public-key", tag = "secrets",
    responses((status = 200, body = PublicKeyResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn user_public_key(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<PublicKeyResponse>, ApiError> {
    let scope = scope(&caller)?;
    flow::public_key(&state, &scope).await
}

/// Shows an user secret (never its value).
#[utoipa::path(get, path = "/user/codespaces/secrets/{secret_name}", tag = "secrets",
    params(("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$")),
    responses((status = 200, body = SecretResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_user_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<SecretResponse>, ApiError> {
    let scope = scope(&caller)?;
    flow::get(&state, &scope, &name).await
}

/// Creates (201) or updates (204) an user secret from a value sealed for its key.
#[utoipa::path(put, path = "/user/codespaces/secrets/{secret_name}", tag = "secrets",
    params(("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$")),
    request_body = UserSecretRequest,
    responses((status = 201, description = "Created"), (status = 204, description = "Updated"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_user_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(request): ApiJson<UserSecretRequest>,
) -> Result<StatusCode, ApiError> {
    let scope = scope(&caller)?;
    flow::put(&state, &scope, &name, request.into(), caller.actor()).await
}

/// Deletes an user secret.
#[utoipa::path(delete, path = "/user/codespaces/secrets/{secret_name}", tag = "secrets",
    params(("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_user_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let scope = scope(&caller)?;
    flow::delete(&state, &scope, &name, caller.actor()).await
}

/// Lists the repositories a user secret names.
#[utoipa::path(get, path = "/user/codespaces/secrets/{secret_name}/repositories",
    tag = "secrets",
    params(("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$"), Pagination),
    responses((status = 200, body = SecretRepoList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_user_secret_repos(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    pagination: Pagination,
) -> Result<Json<SecretRepoList>, ApiError> {
    let scope = scope(&caller)?;
    flow::repositories(&state, &scope, &name, pagination.page_request()?).await
}

/// Replaces the repositories a user secret names.
#[utoipa::path(put, path = "/user/codespaces/secrets/{secret_name}/repositories",
    tag = "secrets",
    params(("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$")),
    request_body = SelectedRepositories,
    responses((status = 204, description = "Replaced"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_user_secret_repos(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(request): ApiJson<SelectedRepositories>,
) -> Result<StatusCode, ApiError> {
    let scope = scope(&caller)?;
    let change = RepoChange::Replace(request.selected_repository_ids);
    flow::change_repositories(&state, &scope, &name, change, caller.actor()).await
}

/// Adds one repository to a user secret.
#[utoipa::path(put,
    path = "/user/codespaces/secrets/{secret_name}/repositories/{repository_id}",
    tag = "secrets",
    params(("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$"), ("repository_id" = i64, Path)),
    responses((status = 204, description = "Added"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn add_user_secret_repo(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, repo)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let scope = scope(&caller)?;
    let change = RepoChange::Add(repository_id(&repo)?);
    flow::change_repositories(&state, &scope, &name, change, caller.actor()).await
}

/// Removes one repository from a user secret.
#[utoipa::path(delete,
    path = "/user/codespaces/secrets/{secret_name}/repositories/{repository_id}",
    tag = "secrets",
    params(("secret_name" = String, Path, pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$"), ("repository_id" = i64, Path)),
    responses((status = 204, description = "Removed"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn remove_user_secret_repo(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, repo)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let scope = scope(&caller)?;
    let change = RepoChange::Remove(repository_id(&repo)?);
    flow::change_repositories(&state, &scope, &name, change, caller.actor()).await
}
