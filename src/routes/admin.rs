//! Site-admin endpoints that mint tokens. A token is answered once and stored only hashed.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::names::{is_label, Name};
use crate::routes::ApiJson;
use crate::state::AppState;
use crate::store::TokenKind;
use crate::tokens::{generate_token, hash_token};

/// A freshly minted token; it is never shown again.
#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceTokenRequest {
    /// What the token is for, e.g. `orchestrator-eu`; 1 to 100 characters, no control
    /// characters.
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]{1,100}$",
        min_length = 1,
        max_length = 100
    )]
    name: String,
}

/// Mints a token for a user (created if unknown).
#[utoipa::path(post, path = "/users/{username}/tokens", tag = "tokens",
    params(("username" = String, Path, description = "The user's login")),
    responses(
        (status = 201, description = "The token, shown only now", body = TokenCreated),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 403, description = "Not a site admin", body = ErrorBody),
        (status = 422, description = "Invalid username", body = ErrorBody),
    ))]
pub async fn create_user_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    caller.require_site_admin()?;
    let user =
        Name::parse(&username).map_err(|e| ApiError::invalid("User", "username", e.to_string()))?;
    mint(&state, &caller, TokenKind::User, Some(&user), None).await
}

/// Mints a service token for the codespace orchestrator.
#[utoipa::path(post, path = "/service-tokens", tag = "tokens",
    request_body = ServiceTokenRequest,
    responses(
        (status = 201, description = "The token, shown only now", body = TokenCreated),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 403, description = "Not a site admin", body = ErrorBody),
        (status = 422, description = "Invalid name", body = ErrorBody),
    ))]
pub async fn create_service_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<ServiceTokenRequest>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    caller.require_site_admin()?;
    let name = request.name.as_str();
    if !is_label(name) {
        return Err(ApiError::invalid(
            "ServiceToken",
            "name",
            "must be 1 to 100 characters with no control characters",
        ));
    }
    mint(&state, &caller, TokenKind::Service, None, Some(name)).await
}

/// Generates a token, stores its hash and answers it, once.
async fn mint(
    state: &AppState,
    caller: &Caller,
    kind: TokenKind,
    user: Option<&Name>,
    name: Option<&str>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    let token = generate_token();
    state
        .store
        .insert_token(kind, &hash_token(&token), user, name, caller.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(TokenCreated { token })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// The token to revoke, as it was shown when minted.
    token: String,
}

/// Revokes a user or service token: it answers 401 from then on.
#[utoipa::path(post, path = "/tokens/revoke", tag = "tokens",
    request_body = RevokeRequest,
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 403, description = "Not a site admin", body = ErrorBody),
        (status = 404, description = "No live token matches", body = ErrorBody),
        (status = 422, description = "Invalid body", body = ErrorBody),
    ))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<RevokeRequest>,
) -> Result<StatusCode, ApiError> {
    caller.require_site_admin()?;
    state
        .store
        .revoke_token(&hash_token(&request.token), caller.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
