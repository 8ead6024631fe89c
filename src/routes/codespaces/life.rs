//! A codespace's life: stop, start (which re-applies the machine type, the idle timeout and
//! the port visibility the policies allow now), deletion, and a forwarded port's
//! visibility. The rules are `crate::lifecycle`'s; the store applies them under the
//! codespace's row lock, with the audit entry in the same transaction.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::answer::{check_id, codespace_answer, CodespaceResponse};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::lifecycle::{self, limits_for, LifeRefusal};
use crate::policy::PortVisibility;
use crate::routes::{ApiJson, OptionalApiJson};
use crate::state::AppState;
use crate::store::{Decide, ForwardedPort, LifeChange};

/// `POST /codespaces/{id}/start`'s optional body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartCodespace {
    /// A machine type of the catalog (`GET /machines`) to start on instead of its own.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub machine: Option<Value>,
}

/// `PATCH /codespaces/{id}/ports/{port}`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortUpdate {
    /// Who may reach the port; `private` is always allowed.
    #[serde(default)]
    #[schema(value_type = PortVisibility, required = true)]
    pub visibility: Option<Value>,
}

/// Stops a codespace: `Shutdown`, deleted by the service once its retention period has
/// passed (`retention_expires_at`). Stopping a stopped codespace changes nothing.
#[utoipa::path(post, path = "/codespaces/{id}/stop", tag = "codespaces",
    params(("id" = String, Path)),
    responses((status = 200, body = CodespaceResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, description = "The store cannot be reached; retry", body = ErrorBody)))]
pub async fn stop_codespace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require_codespaces_service()?;
    let id = check_id(&id)?;
    let now = state.clock.now();
    let change = LifeChange {
        action: "codespace.stop",
        actor: caller.actor(),
        decide: Decide::Plain(Box::new(move |codespace| lifecycle::stop(codespace, now))),
    };
    answer(state.store.change_life(id, change).await?)
}

/// Starts a stopped codespace under the policies in force now (when the org pays for it):
/// its machine type, or the one `machine` names, must be allowed (400 naming it and the
/// policies, the codespace stays stopped); the idle timeout is capped again from the user's
/// own choice; ports whose visibility is no longer allowed become `private`. Starting a
/// running codespace changes nothing (409 if the body names another machine).
#[utoipa::path(post, path = "/codespaces/{id}/start", tag = "codespaces",
    params(("id" = String, Path)), request_body(content = Option<StartCodespace>),
    responses((status = 200, body = CodespaceResponse),
        (status = 400, description = "The machine type is not allowed by an organization policy, or the JSON is malformed", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 409, description = "The codespace runs, and the body names another machine type", body = ErrorBody),
        (status = 422, description = "`machine` is not a machine type of the catalog", body = ErrorBody),
        (status = 503, description = "The store cannot be reached; retry", body = ErrorBody)))]
pub async fn start_codespace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalApiJson(body): OptionalApiJson<StartCodespace>,
) -> Result<Response, ApiError> {
    caller.require_codespaces_service()?;
    let id = check_id(&id)?;
    let catalog = &state.config.machine_catalog;
    let machine = match body.and_then(|body| body.machine) {
        None | Some(Value::Null) => None,
        Some(value) => Some(catalog_machine(&state, &value)?),
    };
    let change = LifeChange {
        action: "codespace.start",
        actor: caller.actor(),
        decide: Decide::Judged(Box::new(move |codespace, set| {
            let limits = limits_for(codespace, set);
            lifecycle::start(codespace, &limits, catalog, machine.as_deref())
        })),
    };
    answer(state.store.change_life(id, change).await?)
}

/// Deletes a codespace, running or stopped; it no longer counts against
/// `max_codespaces_per_user`.
#[utoipa::path(delete, path = "/codespaces/{id}", tag = "codespaces",
    params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, description = "The store cannot be reached; retry", body = ErrorBody)))]
pub async fn delete_codespace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_codespaces_service()?;
    let id = check_id(&id)?;
    state.store.delete_codespace(id, caller.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forwards a port of the codespace with a visibility, adding the port or changing it. A
/// visibility the policies in force do not allow (for a codespace the org pays for) is a 400
/// naming them, and nothing changes; `private` is always allowed.
#[utoipa::path(patch, path = "/codespaces/{id}/ports/{port}", tag = "codespaces",
    params(("id" = String, Path),
        ("port" = u16, Path, minimum = 1, maximum = 65535, description = "The port number, 1 to 65535")),
    request_body = PortUpdate,
    responses((status = 200, body = CodespaceResponse),
        (status = 400, description = "The visibility is not allowed by an organization policy, or the JSON is malformed", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, description = "`port` or `visibility` is not valid", body = ErrorBody),
        (status = 503, description = "The store cannot be reached; retry", body = ErrorBody)))]
pub async fn set_port_visibility(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, port)): Path<(String, String)>,
    ApiJson(body): ApiJson<PortUpdate>,
) -> Result<Response, ApiError> {
    caller.require_codespaces_service()?;
    let id = check_id(&id)?;
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|port| *port >= 1)
        .ok_or_else(|| ApiError::invalid("Codespace", "port", "must be between 1 and 65535"))?;
    let visibility = match body.visibility {
        Some(Value::String(raw)) => PortVisibility::parse(&raw),
        _ => None,
    }
    .ok_or_else(|| {
        ApiError::invalid(
            "Codespace",
            "visibility",
            "must be one of private, org, public",
        )
    })?;
    let wanted = ForwardedPort { port, visibility };
    let change = LifeChange {
        action: "codespace.port",
        actor: caller.actor(),
        decide: Decide::Judged(Box::new(move |codespace, set| {
            lifecycle::forward_port(codespace, &limits_for(codespace, set), wanted)
        })),
    };
    answer(state.store.change_life(id, change).await?)
}

/// A machine of the catalog, as the catalog spells it; anything else is a 422 on `machine`.
fn catalog_machine(state: &AppState, value: &Value) -> Result<String, ApiError> {
    let catalog = &state.config.machine_catalog;
    let invalid = |message: String| ApiError::invalid("Codespace", "machine", message);
    let name = value.as_str().ok_or_else(|| {
        invalid(format!(
            "must be a machine type; known: {}",
            catalog.names().join(", ")
        ))
    })?;
    catalog
        .resolve(name)
        .map(|machine| machine.name.clone())
        .map_err(invalid)
}

/// The 200 of a change, or its refusal.
fn answer(changed: Result<crate::store::Codespace, LifeRefusal>) -> Result<Response, ApiError> {
    match changed {
        Ok(codespace) => Ok(codespace_answer(StatusCode::OK, codespace)),
        Err(LifeRefusal::Refused {
            message,
            policy_ids,
        }) => {
            tracing::info!(?policy_ids, %message, "codespace life change refused by policy");
            Err(ApiError::BadRequest(message))
        }
        Err(LifeRefusal::Conflict(message)) => Err(ApiError::Conflict(message)),
        Err(LifeRefusal::Invalid { field, message }) => {
            Err(ApiError::invalid("Codespace", field, message))
        }
    }
}
