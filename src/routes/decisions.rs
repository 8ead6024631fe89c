//! `GET /orgs/{org}/codespaces/decisions`: the decision log, newest first, for owners and
//! site admins. Every creation and full rebuild the policies judged is in it, written with
//! the codespace it made, or alone for a refusal.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::error::{ApiError, ErrorBody};
use crate::policy::DecisionOutcome;
use crate::routes::{timestamp, Pagination};
use crate::state::AppState;
use crate::store::{DecisionEntry, DecisionFilter};

/// The log's filters; every one given must hold.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DecisionQuery {
    /// A repository's name (without the org), case-insensitively.
    #[param(pattern = "^[A-Za-z0-9._-]{1,100}$")]
    repository: Option<String>,
    /// `created`, `refused` or `recovery`.
    #[param(pattern = "^(created|refused|recovery)$")]
    outcome: Option<String>,
    /// RFC 3339: only decisions at or after it.
    #[param(format = DateTime)]
    since: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DecisionResponse {
    at: String,
    repository: String,
    user: String,
    /// The image judged, as configured.
    image: String,
    image_source: &'static str,
    /// `created`, `refused` or `recovery`.
    outcome: &'static str,
    /// The enforcing policies that refused the image.
    refused_by: Vec<i64>,
    /// The report-only policies that would have refused it.
    reported_by: Vec<i64>,
    /// The codespace it made; null for a refusal.
    codespace_id: Option<String>,
    /// The policy exception that allowed the image although a policy did not; null when
    /// none did.
    exception: Option<i64>,
}

impl From<DecisionEntry> for DecisionResponse {
    fn from(entry: DecisionEntry) -> Self {
        Self {
            at: timestamp(entry.at),
            repository: entry.repository,
            user: entry.user,
            image: entry.note.image,
            image_source: entry.note.image_source.as_str(),
            outcome: entry.note.outcome.as_str(),
            refused_by: entry.note.refused_by,
            reported_by: entry.note.reported_by,
            codespace_id: entry.codespace_id,
            exception: entry.note.exception,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DecisionList {
    total_count: i64,
    decisions: Vec<DecisionResponse>,
}

/// The org's decisions, newest first.
#[utoipa::path(get, path = "/orgs/{org}/codespaces/decisions", tag = "policies",
    params(("org" = String, Path), DecisionQuery, Pagination),
    responses((status = 200, body = DecisionList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "A filter or the pagination is malformed", body = ErrorBody),
        (status = 503, description = "The store cannot be reached; retry", body = ErrorBody)))]
pub async fn list_decisions(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    query: Result<Query<DecisionQuery>, axum::extract::rejection::QueryRejection>,
    pagination: Pagination,
) -> Result<Json<DecisionList>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let Query(query) = query.map_err(|e| ApiError::invalid("Request", "query", e.body_text()))?;
    let filter = filter(query)?;
    let page = state
        .store
        .list_decisions(org.id, &filter, pagination.page_request()?)
        .await?;
    Ok(Json(DecisionList {
        total_count: page.total_count,
        decisions: page.items.into_iter().map(Into::into).collect(),
    }))
}

fn filter(query: DecisionQuery) -> Result<DecisionFilter, ApiError> {
    let invalid = |field: &str, message: &str| ApiError::invalid("Request", field, message);
    let outcome = match query.outcome.as_deref() {
        None => None,
        Some(raw) => Some(
            DecisionOutcome::parse(raw)
                .ok_or_else(|| invalid("outcome", "must be created, refused or recovery"))?,
        ),
    };
    let since = match query.since.as_deref() {
        None => None,
        Some(raw) => Some(
            chrono::DateTime::parse_from_rfc3339(raw)
                .map_err(|_| invalid("since", "must be an RFC 3339 time, as 2026-12-01T10:00:00Z"))?
                .with_timezone(&chrono::Utc),
        ),
    };
    if let Some(name) = &query.repository {
        crate::names::Name::parse(name).map_err(|e| invalid("repository", &e.to_string()))?;
    }
    Ok(DecisionFilter {
        repository: query.repository,
        outcome,
        since,
    })
}
