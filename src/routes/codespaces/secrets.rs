//! `GET /codespaces/{id}/secrets`: the orchestrator's read of the opened values that reach
//! a codespace now. The only answer that ever holds a value: never cached, and every read
//! is in the org's audit log by codespace and names.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::answer::check_id;
use super::plan::find_repository;
use super::reach::{candidates, open, reaching, Holder};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::names::Name;
use crate::registries::Level;
use crate::state::AppState;
use crate::store::ValuesWanted;

/// One secret that reaches the codespace, opened.
#[derive(Serialize, ToSchema)]
pub struct CodespaceSecret {
    name: String,
    /// Wiped from memory once the answer is written.
    #[schema(value_type = String)]
    #[serde(serialize_with = "plain")]
    value: Zeroizing<String>,
    /// Where it is stored: `user`, `repository` or `organization`.
    source: Level,
}

fn plain<S: serde::Serializer>(
    value: &Zeroizing<String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value)
}

#[derive(Serialize, ToSchema)]
pub struct CodespaceSecrets {
    secrets: Vec<CodespaceSecret>,
}

/// The opened values of the secrets that reach the codespace now (service tokens only).
#[utoipa::path(get, path = "/codespaces/{id}/secrets", tag = "codespaces",
    params(("id" = String, Path)),
    responses((status = 200, description = "Sent with Cache-Control: no-store", body = CodespaceSecrets),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 503, description = "The store cannot be reached; retry", body = ErrorBody)))]
pub async fn codespace_secrets(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require_service_only()?;
    let codespace = state.store.get_codespace(check_id(&id)?).await?;
    let (org, repo) = find_repository(&state, &codespace.repository).await?;
    let user = Name::parse(&codespace.user)
        .map_err(|_| ApiError::Internal("stored codespace user is not a valid name".into()))?;
    let known = state.store.find_user(&user).await?;
    let role = match &known {
        Some(known) => state.store.role_of(org.id, known.id).await?,
        None => None,
    };
    let holder = Holder {
        user_id: known.map(|u| u.id),
        role,
    };
    let levels = candidates(&state, &org, &repo, holder, ValuesWanted::All).await?;
    let reaching = reaching(&levels, &repo, holder);
    let mut secrets = Vec::with_capacity(reaching.len());
    for secret in reaching {
        let value = open(&state, secret)?
            .ok_or_else(|| ApiError::Internal("a secret was read without its value".into()))?;
        secrets.push(CodespaceSecret {
            name: secret.entry.name.clone(),
            value,
            source: secret.entry.level,
        });
    }
    let names: Vec<String> = secrets.iter().map(|s| s.name.clone()).collect();
    // Audited before answering: a read that cannot be recorded is not answered.
    state
        .store
        .record_secrets_read(org.id, caller.actor(), &codespace.id, &names)
        .await?;
    let mut response = Json(CodespaceSecrets { secrets }).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
