//! `POST /orgs/{org}/codespaces/policies/preview`: what a new policy, a change to one, or a
//! deletion would do to the org's existing codespaces and its decisions of the last 30
//! days (`crate::preview`). A draft is validated exactly as a POST validates it; nothing
//! is written.

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::input::CreatePolicy;
use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::error::{ApiError, ErrorBody};
use crate::names::Name;
use crate::policy::ExemptImages;
use crate::preview::{self, Capped, Sets};
use crate::routes::{timestamp, ApiJson};
use crate::state::AppState;
use crate::store::{compile_policies, Org, Policy, PolicyDraft};

/// Either `policy` (a policy body as for POST; with `id`, it stands for that existing
/// policy) or `delete` (the id of a policy to delete).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    #[schema(value_type = Option<Object>)]
    policy: Option<serde_json::Value>,
    delete: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct PreviewResponse {
    codespaces: CodespacesPreview,
    decisions: DecisionsPreview,
}

#[derive(Serialize, ToSchema)]
pub struct CodespacesPreview {
    checked: i64,
    /// How many a full rebuild would newly refuse (the list holds at most 1,000).
    newly_refused_count: i64,
    newly_refused: Vec<PreviewCodespace>,
}

#[derive(Serialize, ToSchema)]
pub struct DecisionsPreview {
    checked: i64,
    newly_refused_count: i64,
    newly_refused: Vec<PreviewDecision>,
    newly_allowed_count: i64,
    newly_allowed: Vec<PreviewDecision>,
}

#[derive(Serialize, ToSchema)]
pub struct PreviewCodespace {
    id: String,
    repository: String,
    user: String,
    image: String,
    /// What the change would make the policies refuse: `base_images` (its image, on a full
    /// rebuild) or `machine_types` (its machine, at its next start).
    constraint: &'static str,
    refused_by: Vec<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct PreviewDecision {
    at: String,
    repository: String,
    user: String,
    image: String,
    /// After the change (empty for a decision it would newly allow).
    refused_by: Vec<i64>,
}

/// Previews a policy change over the org's codespaces and recent decisions; changes nothing.
#[utoipa::path(post, path = "/orgs/{org}/codespaces/policies/preview", tag = "policies",
    params(("org" = String, Path)), request_body = PreviewRequest,
    responses((status = 200, body = PreviewResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown org, or no policy with that id", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "The draft would be refused by POST, with the same errors", body = ErrorBody),
        (status = 503, description = "The store cannot be reached; retry", body = ErrorBody)))]
pub async fn preview_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiJson(request): ApiJson<PreviewRequest>,
) -> Result<Json<PreviewResponse>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let current = state.store.all_policies(org.id).await?;
    let changed = match (request.policy, request.delete) {
        (Some(body), None) => with_draft(&state, &org, current.clone(), body).await?,
        (None, Some(id)) => {
            if !current.iter().any(|p| p.id == id) {
                return Err(ApiError::NotFound);
            }
            current.iter().filter(|p| p.id != id).cloned().collect()
        }
        _ => {
            return Err(ApiError::invalid(
                "Preview",
                "body",
                "must hold exactly one of policy and delete",
            ))
        }
    };
    let before = state.store.policy_set(org.id).await?;
    // The change is to policies: the exceptions in force apply after it as before.
    let after = compile_policies(&changed)
        .map_err(ApiError::Internal)?
        .with_exceptions_of(&before);
    let sets = Sets {
        before: &before,
        after: &after,
        org_login: &org.login,
        exempt: ExemptImages {
            default_image: &state.config.default_image,
            recovery_image: &state.config.recovery_image,
        },
        now: state.clock.now(),
    };
    let found = preview::run(state.store.as_ref(), org.id, sets, chrono::Utc::now()).await?;
    Ok(Json(answer(&org, found)))
}

/// The org's policies with `body` (a POST body, with `id` for an existing policy) in place.
async fn with_draft(
    state: &AppState,
    org: &Org,
    mut policies: Vec<Policy>,
    mut body: serde_json::Value,
) -> Result<Vec<Policy>, ApiError> {
    let id = match body.as_object_mut().and_then(|map| map.remove("id")) {
        None => None,
        Some(id) => Some(id.as_i64().filter(|id| *id > 0).ok_or_else(|| {
            ApiError::invalid(
                "Policy",
                "id",
                "must be the id of one of the org's policies",
            )
        })?),
    };
    let request: CreatePolicy = serde_json::from_value(body)
        .map_err(|e| ApiError::invalid("Policy", "policy", e.to_string()))?;
    let known = state.config.machine_catalog.names();
    let draft = request.validate(&known).map_err(ApiError::validation)?;
    check_repositories(state, org, &draft).await?;
    let placeholder = policies.iter().map(|p| p.id).max().unwrap_or(0) + 1;
    let drafted = as_policy(id.unwrap_or(placeholder), draft);
    match id {
        Some(id) => {
            let slot = policies
                .iter_mut()
                .find(|p| p.id == id)
                .ok_or(ApiError::NotFound)?;
            *slot = drafted;
        }
        None => policies.push(drafted),
    }
    Ok(policies)
}

/// The check a POST makes in its transaction: every repository named is the org's.
async fn check_repositories(
    state: &AppState,
    org: &Org,
    draft: &PolicyDraft,
) -> Result<(), ApiError> {
    for (index, name) in draft.repositories.iter().enumerate() {
        if state.store.find_repo(org.id, name).await?.is_none() {
            return Err(ApiError::invalid(
                "Policy",
                &format!("repositories[{index}]"),
                format!("names repository '{name}', which does not exist in this organization"),
            ));
        }
    }
    Ok(())
}

fn as_policy(id: i64, draft: PolicyDraft) -> Policy {
    let now = chrono::Utc::now();
    Policy {
        id,
        name: draft.name,
        target: draft.target,
        repositories: draft.repositories.iter().map(Name::to_string).collect(),
        base_images: draft
            .base_images
            .map(|values| values.iter().map(|v| v.as_str().to_string()).collect()),
        constraints: draft.constraints,
        enforcement: draft.enforcement,
        version: 0,
        created_at: now,
        updated_at: now,
    }
}

fn answer(org: &Org, found: preview::Preview) -> PreviewResponse {
    let decision = |(entry, refused_by): (crate::store::DecisionEntry, Vec<i64>)| PreviewDecision {
        at: timestamp(entry.at),
        repository: entry.repository,
        user: entry.user,
        image: entry.note.image,
        refused_by,
    };
    let allowed = |capped: Capped<crate::store::DecisionEntry>| {
        capped
            .items
            .into_iter()
            .map(|entry| decision((entry, Vec::new())))
            .collect()
    };
    PreviewResponse {
        codespaces: CodespacesPreview {
            checked: found.codespaces_checked,
            newly_refused_count: found.codespaces_newly_refused.count,
            newly_refused: found
                .codespaces_newly_refused
                .items
                .into_iter()
                .map(|(codespace, refusal)| PreviewCodespace {
                    id: codespace.id,
                    repository: format!("{}/{}", org.login, codespace.repo_name),
                    user: codespace.user,
                    image: codespace.image,
                    constraint: refusal.constraint,
                    refused_by: refusal.refused_by,
                })
                .collect(),
        },
        decisions: DecisionsPreview {
            checked: found.decisions_checked,
            newly_refused_count: found.decisions_newly_refused.count,
            newly_refused: found
                .decisions_newly_refused
                .items
                .into_iter()
                .map(decision)
                .collect(),
            newly_allowed_count: found.decisions_newly_allowed.count,
            newly_allowed: allowed(found.decisions_newly_allowed),
        },
    }
}
