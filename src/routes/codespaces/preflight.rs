//! `POST /repos/{owner}/{repo}/codespaces/preflight`: what creating a codespace would do
//! now, decided by the very code creation uses (`judgement` and `plan_judged`, which make up
//! `plan_build`, over the org's compiled policies and exceptions), with nothing created or
//! recorded.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::policy::constraints::optional_whole_number;
use utoipa::ToSchema;

use super::answer::{DevcontainerConfig, RegistryResponse, Requested};
use super::plan::{billing_for, build_request, configured_image, Billed};
use super::reach::Holder;
use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::billing::Role;
use crate::devcontainer::Sources;
use crate::error::{ApiError, ErrorBody};
use crate::names::Name;
use crate::policy::Judgement;
use crate::provisioning::{judgement, over_codespace_limit, plan_judged};
use crate::routes::exceptions::AppliedExceptionResponse;
use crate::routes::policies::PolicyVerdictResponse;
use crate::routes::{repo_in, ApiJson};
use crate::state::AppState;
use crate::store::{Org, Repo};

/// The creation body less `repository`; without `user` the codespace is judged as billed to
/// the organization.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreflightRequest {
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}$", min_length = 1, max_length = 100)]
    user: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<DevcontainerConfig>)]
    devcontainer: Option<serde_json::Value>,
    #[serde(default)]
    dockerfile: Option<String>,
    #[serde(default)]
    compose_files: Option<BTreeMap<String, String>>,
    /// As on creation.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    machine: Option<String>,
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(minimum = 5, maximum = 240)]
    idle_timeout_minutes: Option<i64>,
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(minimum = 0, maximum = 43200)]
    retention_period_minutes: Option<i64>,
}

/// What creation would do: `create` as configured, `refuse` (the 400 creation would
/// answer), or `recovery` (created on the recovery image).
#[derive(Serialize, ToSchema, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PreflightOutcome {
    Create,
    Refuse,
    Recovery,
}

#[derive(Serialize, ToSchema)]
pub struct PreflightResponse<'a> {
    outcome: PreflightOutcome,
    /// The image the codespace would be built from (the recovery image in recovery mode;
    /// the refused image on `refuse`).
    image: String,
    /// `image`, `dockerfile`, `compose` or `default`.
    image_source: &'static str,
    /// The refusal message, on `refuse` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// The policy exception that allows the image although a policy does not; absent when
    /// none does.
    #[serde(skip_serializing_if = "Option::is_none")]
    exception: Option<AppliedExceptionResponse>,
    /// One entry per applicable policy, as evaluate lists them; empty when the policies do
    /// not judge this codespace (the default image, or not billed to the organization).
    policies: Vec<PolicyVerdictResponse<'a>>,
    /// The private registries that would be available to it.
    registries: Vec<RegistryResponse>,
    /// The creation log the codespace would get.
    creation_log: Vec<String>,
    /// The machine type it would run on; absent on `refuse`.
    #[serde(skip_serializing_if = "Option::is_none")]
    machine: Option<String>,
    /// Its idle timeout, retention and notice as creation would set them; absent on `refuse`.
    #[serde(skip_serializing_if = "Option::is_none")]
    idle_timeout_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    idle_timeout_notice: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retention_period_minutes: Option<u32>,
}

/// Would a codespace of this repository be created as configured? Creates and records
/// nothing.
#[utoipa::path(post, path = "/repos/{owner}/{repo}/codespaces/preflight", tag = "codespaces",
    params(("owner" = String, Path), ("repo" = String, Path)), request_body = PreflightRequest,
    responses((status = 200, body = PreflightResponse),
        (status = 400, description = "The JSON is malformed", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown organization or repository", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, description = "The configuration cannot be read", body = ErrorBody),
        (status = 503, description = "The policy store cannot be reached; retry", body = ErrorBody)))]
pub async fn preflight(
    State(state): State<AppState>,
    caller: Caller,
    Path((owner, repo)): Path<(String, String)>,
    ApiJson(request): ApiJson<PreflightRequest>,
) -> Result<axum::response::Response, ApiError> {
    let (org, repo) = find(&state, &caller, &owner, &repo).await?;
    let sources = Sources {
        devcontainer: request.devcontainer.as_ref(),
        dockerfile: request.dockerfile.as_deref(),
        compose_files: request.compose_files.as_ref(),
    };
    let configured = configured_image(&state, sources)?;
    let billing = match &request.user {
        // No user: judged as a member's codespace billed to the org, so the org's and the
        // repository's secrets reach it and no user's do.
        None => Billed {
            user: None,
            billed_to_org: true,
            billable_owner: org.login.clone(),
            holder: Holder {
                user_id: None,
                role: Some(Role::Member),
            },
        },
        Some(user) => {
            let user = Name::parse(user)
                .map_err(|e| ApiError::invalid("Preflight", "user", e.to_string()))?;
            let known = state.store.find_user(&user).await?;
            billing_for(&state, &org, &user, known.as_ref()).await?
        }
    };
    let requested = Requested {
        machine: request.machine.as_deref(),
        idle_timeout_minutes: request.idle_timeout_minutes,
        retention_period_minutes: request.retention_period_minutes,
    };
    let life = (requested, Vec::new());
    let input = build_request(&state, &org, &repo, configured, billing, life).await?;
    let registries: Vec<RegistryResponse> = input
        .access
        .registries
        .complete
        .iter()
        .map(RegistryResponse::from)
        .collect();
    let set = state.store.policy_set(org.id).await?;
    let decision = set.decide(&input.repo_key, &input.image);
    let judgement = judgement(&input, &set);
    let judged = !matches!(judgement, Judgement::Exempt(_));
    let exception = judgement.exception().map(AppliedExceptionResponse::from);
    let policies = if judged {
        PolicyVerdictResponse::all(&decision)
    } else {
        Vec::new()
    };
    let image_source = input.source.as_str();
    let mut planned = plan_judged(&input, &set, judgement);
    // A named user already at `max_codespaces_per_user` would be refused, as creation counts.
    if let (Ok(build), Some(user)) = (&planned, &input.user) {
        if build.per_user_limit.is_some() {
            let held = state.store.count_user_codespaces(org.id, user).await?;
            if let Some(refused) = over_codespace_limit(build, held) {
                planned = Err(refused);
            }
        }
    }
    let answer = match planned {
        Ok(build) => PreflightResponse {
            machine: Some(build.machine),
            idle_timeout_minutes: Some(build.limits.idle_timeout_minutes),
            idle_timeout_notice: build.limits.idle_timeout_notice,
            retention_period_minutes: Some(build.limits.retention_period_minutes),
            outcome: if build.recovery_mode {
                PreflightOutcome::Recovery
            } else {
                PreflightOutcome::Create
            },
            image: build.image,
            image_source,
            message: None,
            exception,
            policies,
            registries: registries.clone(),
            creation_log: build.creation_log,
        },
        Err(refused) => PreflightResponse {
            outcome: PreflightOutcome::Refuse,
            message: Some(refused.message),
            image: refused.image,
            image_source,
            exception: None,
            policies,
            registries,
            creation_log: refused.log,
            machine: None,
            idle_timeout_minutes: None,
            idle_timeout_notice: None,
            retention_period_minutes: None,
        },
    };
    Ok(axum::response::IntoResponse::into_response(Json(answer)))
}

/// The org and repository; service tokens may ask for any org, people for the orgs they
/// own or belong to. An unknown repository is a 404, as on creation.
pub(super) async fn find(
    state: &AppState,
    caller: &Caller,
    owner: &str,
    repo: &str,
) -> Result<(Org, Repo), ApiError> {
    let org = match caller {
        Caller::Service => {
            let login = Name::parse(owner).map_err(|_| ApiError::NotFound)?;
            state
                .store
                .find_org(&login)
                .await?
                .ok_or(ApiError::NotFound)?
        }
        _ => authorize_org(state, caller, owner, OrgAccess::View).await?,
    };
    let repo = repo_in(state, &org, repo).await?;
    Ok((org, repo))
}
