//! A policy's revisions: its history, newest first, and the restore of any earlier state
//! (owners and site admins). Deleted policies keep their history and can be restored.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::{if_match_version, parse_policy_id, with_etag, PolicyResponse};
use super::{Constraints, CreatePolicy, KnownMachines};
use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::error::{ApiError, ErrorBody};
use crate::routes::{timestamp, Pagination};
use crate::state::AppState;
use crate::store::{PolicyDraft, PolicyRevision, RevisionAction, StoreError, StoreResult};

#[derive(Serialize, ToSchema)]
pub struct RevisionResponse {
    /// 1, 2, ... per policy.
    revision: i64,
    at: String,
    /// Who made the change; `unknown` for a state written before revisions were kept.
    actor: String,
    /// `create`, `update`, `delete` or `restore`.
    #[schema(pattern = "^(create|update|delete|restore)$")]
    action: &'static str,
    /// The policy as it was after the change (for `delete`: as it was when deleted).
    policy: PolicyResponse,
}

impl From<PolicyRevision> for RevisionResponse {
    fn from(revision: PolicyRevision) -> Self {
        Self {
            revision: revision.revision,
            at: timestamp(revision.at),
            actor: revision.actor,
            action: revision.action.as_str(),
            policy: PolicyResponse::as_it_was(revision.policy),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RevisionList {
    total_count: i64,
    revisions: Vec<RevisionResponse>,
}

/// Revision numbers are positive integers; anything else names no revision.
fn parse_revision(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(ApiError::NotFound)
}

/// The policy a revision kept, as a creation would write it: every rule POST checks holds
/// again (the repositories' existence is checked as it is written).
fn draft_of(
    revision: &PolicyRevision,
    known_machines: KnownMachines<'_>,
) -> StoreResult<PolicyDraft> {
    if revision.action == RevisionAction::Delete {
        return Err(StoreError::Invalid {
            field: "revision".to_string(),
            message: format!(
                "{} is a deletion; restore the one before it ({}), the policy as it was when deleted",
                revision.revision,
                revision.revision - 1
            ),
        });
    }
    let policy = &revision.policy;
    let request = CreatePolicy {
        name: policy.name.clone(),
        target: policy.target.into(),
        repositories: Some(policy.repositories.clone()),
        constraints: Constraints::of(policy.base_images.clone(), &policy.constraints),
        enforcement: Some(policy.enforcement),
    };
    request
        .validate(known_machines)
        .map_err(|errors| match errors.into_iter().next() {
            Some(first) => StoreError::Invalid {
                field: first.field,
                message: first.message,
            },
            None => StoreError::Internal("a revision failed validation for no reason".into()),
        })
}

/// A policy's revisions, newest first; a deleted policy's too.
#[utoipa::path(get, path = "/orgs/{org}/codespaces/policies/{policy_id}/revisions",
    tag = "policies",
    params(("org" = String, Path), ("policy_id" = i64, Path), Pagination),
    responses((status = 200, body = RevisionList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No policy of this org ever had this id", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, description = "The store cannot be reached; retry", body = ErrorBody)))]
pub async fn list_revisions(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, policy_id)): Path<(String, String)>,
    pagination: Pagination,
) -> Result<Json<RevisionList>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let policy_id = parse_policy_id(&policy_id)?;
    let page = pagination.page_request()?;
    let page = state.store.list_revisions(org.id, policy_id, page).await?;
    Ok(Json(RevisionList {
        total_count: page.total_count,
        revisions: page.items.into_iter().map(Into::into).collect(),
    }))
}

/// Makes the policy what it was at a revision, recreating it under its id if it was
/// deleted; a new revision itself. With `If-Match`, only if the policy is still at that
/// version (a deleted policy matches none: 412, and nothing changes).
#[utoipa::path(post,
    path = "/orgs/{org}/codespaces/policies/{policy_id}/revisions/{revision}/restore",
    tag = "policies",
    params(("org" = String, Path), ("policy_id" = i64, Path), ("revision" = i64, Path),
        ("If-Match" = Option<String>, Header,
            description = "The ETag the restore is based on")),
    responses(
        (status = 200, body = PolicyResponse, headers(("ETag" = String, description = "The policy's new version"))),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No such revision of this org's policy", body = ErrorBody),
        (status = 412, body = ErrorBody),
        (status = 422, description = "The revision is a deletion, or its repositories no longer exist", body = ErrorBody),
        (status = 503, description = "The store cannot be reached; retry", body = ErrorBody)))]
pub async fn restore_revision(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, policy_id, revision)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let policy_id = parse_policy_id(&policy_id)?;
    let revision = parse_revision(&revision)?;
    let known = state.config.machine_catalog.names();
    let policy = state
        .store
        .restore_policy(
            org.id,
            policy_id,
            revision,
            if_match_version(&headers),
            Box::new(|revision: &PolicyRevision| draft_of(revision, &known)),
            caller.actor(),
        )
        .await?;
    with_etag(&state, org.id, StatusCode::OK, policy).await
}
