//! Codespaces policies of an org: CRUD for owners and site admins, and the dry-run evaluate.

mod answer;
mod constraints_body;
pub(crate) mod effective;
pub(crate) mod evaluate;
mod input;
mod limits;
pub(crate) mod preview;
pub(crate) mod revisions;
mod warnings;

use warnings::OrgWarnings;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

pub use answer::{EvaluateResponse, PolicyVerdictResponse};
pub use constraints_body::Constraints;
pub use input::{CreatePolicy, KnownMachines, Target, UpdatePolicy};
pub use limits::LimitsResponse;

use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::error::{ApiError, ErrorBody};
use crate::policy::{Enforcement, Warning};
use crate::routes::{timestamp, ApiJson, Pagination};
use crate::state::AppState;
use crate::store::{Policy, StoreError};

#[derive(Serialize, ToSchema)]
pub struct PolicyResponse {
    id: i64,
    name: String,
    target: Target,
    repositories: Vec<String>,
    constraints: Constraints,
    /// `enforce` refuses what the policy does not allow; `report` only reports it.
    enforcement: Enforcement,
    created_at: String,
    updated_at: String,
    /// What the policy says that likely does not do what was meant, judged with the org's
    /// other policies as they are now; never a reason to refuse a save. On every policy
    /// answer; absent only from the past states a revision shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    warnings: Option<Vec<Warning>>,
}

impl PolicyResponse {
    fn new(policy: Policy, warnings: Vec<Warning>) -> Self {
        Self::with(policy, Some(warnings))
    }

    /// A policy as it was, which a revision shows: warnings judge the org as it is now.
    fn as_it_was(policy: Policy) -> Self {
        Self::with(policy, None)
    }

    fn with(policy: Policy, warnings: Option<Vec<Warning>>) -> Self {
        Self {
            id: policy.id,
            name: policy.name,
            target: policy.target.into(),
            repositories: policy.repositories,
            constraints: Constraints::of(policy.base_images, &policy.constraints),
            enforcement: policy.enforcement,
            created_at: timestamp(policy.created_at),
            updated_at: timestamp(policy.updated_at),
            warnings,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PolicyList {
    total_count: i64,
    policies: Vec<PolicyResponse>,
}

/// A policy answer: the policy with its warnings (judged with the org's other policies as
/// they are now), and its version as the `ETag`.
pub(crate) async fn with_etag(
    state: &AppState,
    org_id: i64,
    status: StatusCode,
    policy: Policy,
) -> Result<Response, ApiError> {
    let warnings = OrgWarnings::read(state, org_id).await?.take(policy.id);
    let etag = format!("\"{}\"", policy.version);
    let mut response = (status, Json(PolicyResponse::new(policy, warnings))).into_response();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(response)
}

/// The version an `If-Match` header demands: `None` without one or with `*`. Anything but
/// one strong ETag of ours (`"3"`) can never match, so it demands an impossible version and
/// the change answers 412, changing nothing.
fn if_match_version(headers: &HeaderMap) -> Option<i64> {
    let raw = headers.get(header::IF_MATCH)?;
    let value = raw.to_str().unwrap_or_default().trim();
    if value == "*" {
        return None;
    }
    let version = value
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(-1);
    Some(version)
}

/// Policy ids are positive integers; anything else names no policy.
fn parse_policy_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(ApiError::NotFound)
}

/// Lists the org's policies, by id.
#[utoipa::path(get, path = "/orgs/{org}/codespaces/policies", tag = "policies",
    params(("org" = String, Path), Pagination),
    responses((status = 200, body = PolicyList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_policies(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    pagination: Pagination,
) -> Result<Json<PolicyList>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let page = state
        .store
        .list_policies(org.id, pagination.page_request()?)
        .await?;
    let mut warnings = OrgWarnings::read(&state, org.id).await?;
    let policies = page
        .items
        .into_iter()
        .map(|policy| {
            let found = warnings.take(policy.id);
            PolicyResponse::new(policy, found)
        })
        .collect();
    Ok(Json(PolicyList {
        total_count: page.total_count,
        policies,
    }))
}

/// Creates a policy; it applies from the next codespace creation or full rebuild on.
#[utoipa::path(post, path = "/orgs/{org}/codespaces/policies", tag = "policies",
    params(("org" = String, Path)), request_body = CreatePolicy,
    responses(
        (status = 201, body = PolicyResponse, headers(("ETag" = String, description = "The policy's version"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiJson(request): ApiJson<CreatePolicy>,
) -> Result<Response, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let known = state.config.machine_catalog.names();
    let draft = request.validate(&known).map_err(ApiError::validation)?;
    let policy = state
        .store
        .create_policy(org.id, &draft, caller.actor())
        .await?;
    with_etag(&state, org.id, StatusCode::CREATED, policy).await
}

/// Shows a policy.
#[utoipa::path(get, path = "/orgs/{org}/codespaces/policies/{policy_id}", tag = "policies",
    params(("org" = String, Path), ("policy_id" = i64, Path)),
    responses(
        (status = 200, body = PolicyResponse, headers(("ETag" = String, description = "The policy's version"))),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, policy_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let policy = state
        .store
        .get_policy(org.id, parse_policy_id(&policy_id)?)
        .await?;
    with_etag(&state, org.id, StatusCode::OK, policy).await
}

/// Changes some of a policy's fields. With `If-Match`, only if the policy is still at
/// that version (412 otherwise, and nothing changes).
#[utoipa::path(patch, path = "/orgs/{org}/codespaces/policies/{policy_id}", tag = "policies",
    params(("org" = String, Path), ("policy_id" = i64, Path),
        ("If-Match" = Option<String>, Header, 
            description = "The ETag the change is based on")),
    request_body = UpdatePolicy,
    responses(
        (status = 200, body = PolicyResponse, headers(("ETag" = String, description = "The policy's new version"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, policy_id)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<UpdatePolicy>,
) -> Result<Response, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let policy_id = parse_policy_id(&policy_id)?;
    let known = state.config.machine_catalog.names();
    let patch = request.validate(&known).map_err(ApiError::validation)?;
    let merge = Box::new(move |current: &Policy| {
        patch.apply(current).map_err(|mut errors| {
            let first = errors.remove(0);
            StoreError::Invalid {
                field: first.field,
                message: first.message,
            }
        })
    });
    let policy = state
        .store
        .update_policy(
            org.id,
            policy_id,
            if_match_version(&headers),
            merge,
            caller.actor(),
        )
        .await?;
    with_etag(&state, org.id, StatusCode::OK, policy).await
}

/// Deletes a policy. With `If-Match`, only if the policy is still at that version.
#[utoipa::path(delete, path = "/orgs/{org}/codespaces/policies/{policy_id}", tag = "policies",
    params(("org" = String, Path), ("policy_id" = i64, Path),
        ("If-Match" = Option<String>, Header, 
            description = "The ETag the deletion is based on")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody)))]
pub async fn delete_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, policy_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let policy_id = parse_policy_id(&policy_id)?;
    state
        .store
        .delete_policy(
            org.id,
            policy_id,
            if_match_version(&headers),
            caller.actor(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
