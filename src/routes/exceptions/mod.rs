//! Policy exceptions of an org (owners and site admins):
//! `/orgs/{org}/codespaces/policy-exceptions`. Until it expires by the service's clock, an
//! exception allows an image one of its values allows, for the codespaces it covers, whatever
//! the policies say; the decision itself is `policy::judge`'s. These routes only keep them.

mod answer;
mod input;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::error::{ApiError, ErrorBody};
use crate::routes::{ApiJson, Pagination};
use crate::state::AppState;
use crate::store::StoreError;

pub use answer::{AppliedExceptionResponse, ExceptionList, ExceptionResponse};
pub use input::CreateException;

const RESOURCE: &str = "PolicyException";

/// Every exceptions route, with its documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_exceptions, create_exception))
        .routes(routes!(get_exception, delete_exception))
}

/// Exception ids are positive integers; anything else names no exception.
fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(ApiError::NotFound)
}

/// Lists the org's exceptions by id, expired ones included (`expired: true`).
#[utoipa::path(get, path = "/orgs/{org}/codespaces/policy-exceptions", tag = "policies",
    params(("org" = String, Path), Pagination),
    responses((status = 200, body = ExceptionList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, description = "The store cannot be reached; retry", body = ErrorBody)))]
pub async fn list_exceptions(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    pagination: Pagination,
) -> Result<Json<ExceptionList>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let page = state
        .store
        .list_exceptions(org.id, pagination.page_request()?)
        .await?;
    let now = state.clock.now();
    Ok(Json(ExceptionList::new(page.total_count, page.items, now)))
}

/// Creates an exception; it applies from the next codespace creation or full rebuild on,
/// until it expires.
#[utoipa::path(post, path = "/orgs/{org}/codespaces/policy-exceptions", tag = "policies",
    params(("org" = String, Path)), request_body = CreateException,
    responses((status = 201, body = ExceptionResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "A field is missing or invalid, the expiry is not ahead by at most 90 days, or the repository is not the org's", body = ErrorBody),
        (status = 503, description = "The store cannot be reached; retry", body = ErrorBody)))]
pub async fn create_exception(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiJson(request): ApiJson<CreateException>,
) -> Result<(StatusCode, Json<ExceptionResponse>), ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let now = state.clock.now();
    let draft = request.validate(now).map_err(ApiError::validation)?;
    let exception = state
        .store
        .create_exception(org.id, &draft, caller.actor())
        .await
        .map_err(|e| match e {
            StoreError::Invalid { field, message } => ApiError::invalid(RESOURCE, &field, message),
            other => other.into(),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(ExceptionResponse::new(exception, now)),
    ))
}

/// Shows an exception.
#[utoipa::path(get, path = "/orgs/{org}/codespaces/policy-exceptions/{exception_id}",
    tag = "policies", params(("org" = String, Path), ("exception_id" = i64, Path)),
    responses((status = 200, body = ExceptionResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, description = "The store cannot be reached; retry", body = ErrorBody)))]
pub async fn get_exception(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> Result<Json<ExceptionResponse>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let exception = state.store.get_exception(org.id, parse_id(&id)?).await?;
    Ok(Json(ExceptionResponse::new(exception, state.clock.now())))
}

/// Deletes an exception: it applies no more, from the next creation or full rebuild on.
#[utoipa::path(delete, path = "/orgs/{org}/codespaces/policy-exceptions/{exception_id}",
    tag = "policies", params(("org" = String, Path), ("exception_id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, description = "The store cannot be reached; retry", body = ErrorBody)))]
pub async fn delete_exception(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    state
        .store
        .delete_exception(org.id, parse_id(&id)?, caller.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
