//! `POST /orgs/{org}/codespaces/policies/evaluate`: the dry run of the decision creation
//! makes, for an image (and a machine type), with what the policies allow together beside
//! base images.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::answer::{EvaluateResponse, MachineVerdict};
use super::limits::LimitsResponse;
use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::error::{ApiError, ErrorBody};
use crate::names::Name;
use crate::policy::constraints::machine_refusal_message;
use crate::policy::ImageRef;
use crate::routes::ApiJson;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    /// A repository of the org.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}$", min_length = 1, max_length = 100)]
    repository: String,
    /// The image reference to judge, as written in a dev container configuration.
    image: String,
    /// The codespace's user: exceptions for that user apply too. Without it, only the
    /// exceptions for every user do.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}$", min_length = 1, max_length = 100)]
    user: Option<String>,
    /// A machine type of the catalog to judge too; `allowed` then needs both.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    machine: Option<String>,
}

/// Dry run: would the org's policies (and its live exceptions) allow this image (and this
/// machine type) in this repository? Creates nothing.
#[utoipa::path(post, path = "/orgs/{org}/codespaces/policies/evaluate", tag = "policies",
    params(("org" = String, Path)), request_body = EvaluateRequest,
    responses((status = 200, body = EvaluateResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, description = "The policy store cannot be reached", body = ErrorBody)))]
pub async fn evaluate(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiJson(request): ApiJson<EvaluateRequest>,
) -> Result<Response, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let repo_name = Name::parse(&request.repository)
        .map_err(|e| ApiError::invalid("Evaluation", "repository", e.to_string()))?;
    let image = ImageRef::parse(&request.image).map_err(|e| {
        ApiError::invalid(
            "Evaluation",
            "image",
            format!("is not a valid image reference: {e}"),
        )
    })?;
    let user = match &request.user {
        Some(raw) => Some(
            Name::parse(raw).map_err(|e| ApiError::invalid("Evaluation", "user", e.to_string()))?,
        ),
        None => None,
    };
    let catalog = &state.config.machine_catalog;
    let machine = request
        .machine
        .as_deref()
        .map(|raw| catalog.resolve(raw).map(|m| m.name.clone()))
        .transpose()
        .map_err(|message| ApiError::invalid("Evaluation", "machine", message))?;
    let repo = state
        .store
        .find_repo(org.id, &repo_name)
        .await?
        .ok_or_else(|| {
            ApiError::invalid(
                "Evaluation",
                "repository",
                "is not a repository of this organization",
            )
        })?;
    let set = state.store.policy_set(org.id).await?;
    let repo_key = repo.name.to_ascii_lowercase();
    let user = user.as_ref().map(Name::as_str);
    let decision = set.decide_for(&repo_key, user, &image, state.clock.now());
    let limits = set.limits(&repo_key);
    let machine = machine.map(|name| {
        let refused_by = limits.machine_refused_by(&name);
        MachineVerdict {
            allowed: refused_by.is_empty(),
            message: (!refused_by.is_empty()).then(|| machine_refusal_message(&name, &refused_by)),
            refused_by: refused_by.iter().map(|p| p.id).collect(),
            name,
        }
    });
    let constraints = LimitsResponse::new(&limits, catalog);
    Ok(Json(EvaluateResponse::new(
        &decision,
        &image,
        machine,
        constraints,
    ))
    .into_response())
}
