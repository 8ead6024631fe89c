//! The org's audit log: every change to its policies, memberships and billing, with who made
//! it and the state before and after.

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::error::{ApiError, ErrorBody};
use crate::routes::{timestamp, Pagination};
use crate::state::AppState;
use crate::store::AuditEntry;

#[derive(Serialize, ToSchema)]
pub struct AuditEntryResponse {
    id: i64,
    /// The login of the user who made the change, `site-admin` or `service`.
    actor: String,
    /// `policy.create`, `policy.update`, `policy.delete`, `membership.set`,
    /// `membership.remove`, `billing.update`, or for the org's and its repositories'
    /// Codespaces secrets `secret.create`, `secret.update`, `secret.delete`,
    /// `secret.repositories` (never a value).
    action: String,
    #[schema(value_type = Option<Object>)]
    before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    after: Option<serde_json::Value>,
    created_at: String,
}

impl From<AuditEntry> for AuditEntryResponse {
    fn from(entry: AuditEntry) -> Self {
        Self {
            id: entry.id,
            actor: entry.actor,
            action: entry.action,
            before: entry.before,
            after: entry.after,
            created_at: timestamp(entry.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditLog {
    total_count: i64,
    entries: Vec<AuditEntryResponse>,
}

/// Lists the org's audit log, newest first.
#[utoipa::path(get, path = "/orgs/{org}/audit-log", tag = "orgs",
    params(("org" = String, Path), Pagination),
    responses((status = 200, body = AuditLog), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    pagination: Pagination,
) -> Result<Json<AuditLog>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let page = state
        .store
        .audit_log(org.id, pagination.page_request()?)
        .await?;
    Ok(Json(AuditLog {
        total_count: page.total_count,
        entries: page.items.into_iter().map(Into::into).collect(),
    }))
}
