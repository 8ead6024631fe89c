//! What every level's secrets routes do once the caller is authorized and the owner is
//! known: the level's key pair, and listing, reading, putting and deleting its secrets and
//! their repositories. A sealed value is opened here exactly once, at PUT, then encrypted
//! under the master key; the opened value is zeroized on drop and goes nowhere else.

use axum::http::StatusCode;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::answer::{PublicKeyResponse, PutBody, SecretList, SecretRepoList, SecretResponse};
use crate::error::ApiError;
use crate::registries::{check_secret_name, Level};
use crate::routes::orgs::repo_response;
use crate::secrets::rules::{names_repositories, put_shape};
use crate::secrets::{private_key_aad, value_aad, LevelKeyPair, SecretsError};
use crate::state::AppState;
use crate::store::{
    PageRequest, RepoChange, SecretOwner, SecretRecord, SecretWrite, StoreError, StoredLevelKey,
};

/// One level owner's secrets, and where their answers point.
pub struct Scope {
    pub owner: SecretOwner,
    /// The path of the level's secrets, for `selected_repositories_url`; `None` for
    /// repository secrets, which name no repositories.
    pub base: Option<String>,
}

/// A secrets failure is the service's own (a stored key that does not open): a 500 whose
/// body says nothing; the message, which never holds key bytes or values, is logged.
fn internal(err: SecretsError) -> ApiError {
    ApiError::Internal(err.to_string())
}

/// The store's refusals of a secret write, as 422s on the secret's fields.
fn secret_error(err: StoreError) -> ApiError {
    match err {
        StoreError::Invalid { field, message } => ApiError::invalid("Secret", &field, message),
        other => other.into(),
    }
}

/// A name from the path: a bad one names no secret.
fn existing_name(raw: &str) -> Result<String, ApiError> {
    check_secret_name(raw).map_err(|_| ApiError::NotFound)
}

/// The owner's current key pair as stored (its private key still encrypted), created on
/// first use.
async fn stored_level_key(
    state: &AppState,
    owner: &SecretOwner,
) -> Result<StoredLevelKey, ApiError> {
    Ok(match state.store.current_level_key(owner).await? {
        Some(stored) => stored,
        None => {
            let pair = LevelKeyPair::generate().map_err(internal)?;
            let aad = private_key_aad(owner.level.as_str(), owner.id, pair.key_id());
            let private_key = state
                .master_key
                .encrypt(&aad, pair.secret_bytes().as_ref())
                .map_err(internal)?;
            let new = StoredLevelKey {
                key_id: pair.key_id().to_string(),
                public_key: pair.public_key_bytes().to_vec(),
                private_key,
            };
            // A concurrent first use may have stored its own pair: the stored one is current.
            state.store.insert_level_key(owner, &new).await?;
            state
                .store
                .current_level_key(owner)
                .await?
                .ok_or_else(|| ApiError::Internal("level key vanished after insert".into()))?
        }
    })
}

/// The owner's current key pair, its private key opened: only a PUT needs it.
async fn level_key(state: &AppState, owner: &SecretOwner) -> Result<LevelKeyPair, ApiError> {
    let stored = stored_level_key(state, owner).await?;
    let aad = private_key_aad(owner.level.as_str(), owner.id, &stored.key_id);
    let secret = state
        .master_key
        .decrypt(&aad, &stored.private_key)
        .map_err(internal)?;
    LevelKeyPair::from_secret_bytes(&secret).map_err(internal)
}

pub async fn public_key(
    state: &AppState,
    scope: &Scope,
) -> Result<Json<PublicKeyResponse>, ApiError> {
    // The public half is stored in the clear: no private key is opened to show it.
    let stored = stored_level_key(state, &scope.owner).await?;
    Ok(Json(PublicKeyResponse::new(
        stored.key_id,
        STANDARD.encode(&stored.public_key),
    )))
}

fn answer(scope: &Scope, secret: SecretRecord) -> SecretResponse {
    SecretResponse::new(
        secret,
        scope.base.as_deref(),
        scope.owner.level == Level::User,
    )
}

pub async fn list(
    state: &AppState,
    scope: &Scope,
    page: PageRequest,
) -> Result<Json<SecretList>, ApiError> {
    let page = state.store.list_secrets(&scope.owner, page).await?;
    Ok(Json(SecretList {
        total_count: page.total_count,
        secrets: page.items.into_iter().map(|s| answer(scope, s)).collect(),
    }))
}

async fn find(state: &AppState, scope: &Scope, raw_name: &str) -> Result<SecretRecord, ApiError> {
    let name = existing_name(raw_name)?;
    state
        .store
        .find_secret(&scope.owner, &name)
        .await?
        .ok_or(ApiError::NotFound)
}

pub async fn get(
    state: &AppState,
    scope: &Scope,
    raw_name: &str,
) -> Result<Json<SecretResponse>, ApiError> {
    Ok(Json(answer(scope, find(state, scope, raw_name).await?)))
}

/// Creates (201) or updates (204) a secret. Every check comes before the one write, so a
/// refused PUT stores nothing.
pub async fn put(
    state: &AppState,
    scope: &Scope,
    raw_name: &str,
    body: PutBody,
    actor: &str,
) -> Result<StatusCode, ApiError> {
    let owner = &scope.owner;
    let name = check_secret_name(raw_name)
        .map_err(|message| ApiError::invalid("Secret", "secret_name", message))?;
    let (visibility, repositories) =
        put_shape(owner.level, body.visibility, body.selected_repository_ids)
            .map_err(|r| ApiError::invalid("Secret", r.field, r.message))?;
    let pair = level_key(state, owner).await?;
    if body.key_id != pair.key_id() {
        return Err(ApiError::invalid(
            "Secret",
            "key_id",
            SecretsError::UnknownKeyId.to_string(),
        ));
    }
    let value = pair
        .open(&body.encrypted_value)
        .map_err(|e| ApiError::invalid("Secret", "encrypted_value", e.to_string()))?;
    let aad = value_aad(owner.level.as_str(), owner.id, &name);
    let ciphertext = state
        .master_key
        .encrypt(&aad, value.as_bytes())
        .map_err(internal)?;
    drop(value);
    let write = SecretWrite {
        name,
        value: ciphertext,
        visibility,
        repositories,
    };
    let created = state
        .store
        .put_secret(owner, pair.key_id(), write, actor)
        .await
        .map_err(secret_error)?;
    Ok(if created {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    })
}

pub async fn delete(
    state: &AppState,
    scope: &Scope,
    raw_name: &str,
    actor: &str,
) -> Result<StatusCode, ApiError> {
    let name = existing_name(raw_name)?;
    state
        .store
        .delete_secret(&scope.owner, &name, actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn not_selected() -> ApiError {
    ApiError::Conflict(
        "The secret's visibility is not 'selected': it names no repositories".to_string(),
    )
}

pub async fn repositories(
    state: &AppState,
    scope: &Scope,
    raw_name: &str,
    page: PageRequest,
) -> Result<Json<SecretRepoList>, ApiError> {
    let secret = find(state, scope, raw_name).await?;
    if !names_repositories(scope.owner.level, secret.visibility) {
        return Err(not_selected());
    }
    let page = state.store.secret_repos(secret.id, page).await?;
    Ok(Json(SecretRepoList {
        total_count: page.total_count,
        repositories: page
            .items
            .into_iter()
            .map(|r| repo_response(&r.org_login, r.repo))
            .collect(),
    }))
}

pub async fn change_repositories(
    state: &AppState,
    scope: &Scope,
    raw_name: &str,
    change: RepoChange,
    actor: &str,
) -> Result<StatusCode, ApiError> {
    let name = existing_name(raw_name)?;
    state
        .store
        .change_secret_repos(&scope.owner, &name, change, actor)
        .await
        .map_err(secret_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A repository id from the path: anything but a positive integer names no repository.
pub fn repository_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(ApiError::NotFound)
}
