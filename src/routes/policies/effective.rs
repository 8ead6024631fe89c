//! `GET /orgs/{org}/repos/{repo}/codespaces/effective-policy`: what a repository is allowed
//! in the end, as one list (`crate::policy::effective`).

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::limits::LimitsResponse;
use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::error::{ApiError, ErrorBody};
use crate::names::Name;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct EffectivePolicy {
    /// Whether any enforcing base-images constraint applies; when false, every image is
    /// allowed and `allowed_values` is empty.
    constrained: bool,
    /// A shortest list of exact and prefix values that allows exactly what the applicable
    /// enforcing policies allow together.
    allowed_values: Vec<String>,
    /// The ids of those policies, ascending (report-only policies refuse nothing and take
    /// no part).
    policies: Vec<i64>,
    /// Every other constraint as the applicable enforcing policies combine it: the machine
    /// types they all allow, the smallest limits, the port visibilities they all allow.
    constraints: LimitsResponse,
}

/// The intersection of the enforcing policies that apply to the repository.
#[utoipa::path(get, path = "/orgs/{org}/repos/{repo}/codespaces/effective-policy",
    tag = "policies", params(("org" = String, Path), ("repo" = String, Path)),
    responses((status = 200, body = EffectivePolicy), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown org or repository", body = ErrorBody),
        (status = 503, description = "The store cannot be reached; retry", body = ErrorBody)))]
pub async fn effective_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, repo)): Path<(String, String)>,
) -> Result<Json<EffectivePolicy>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let name = Name::parse(&repo).map_err(|_| ApiError::NotFound)?;
    let repo = state
        .store
        .find_repo(org.id, &name)
        .await?
        .ok_or(ApiError::NotFound)?;
    // The compiled set creation keeps warm: no policy is read again for this.
    let set = state.store.policy_set(org.id).await?;
    let effective = set.effective(&repo.name.to_ascii_lowercase());
    let limits = set.limits(&repo.name.to_ascii_lowercase());
    Ok(Json(EffectivePolicy {
        constrained: effective.constrained,
        allowed_values: effective.allowed.values(),
        policies: effective.policies,
        constraints: LimitsResponse::new(&limits, &state.config.machine_catalog),
    }))
}
