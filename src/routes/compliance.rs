//! `GET /orgs/{org}/codespaces/compliance`: the org's existing codespaces that the policies
//! in force now would refuse on a full rebuild (`crate::compliance`). Read-only.

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::compliance::{self, Noncompliant, Scan};
use crate::error::{ApiError, ErrorBody};
use crate::policy::ExemptImages;
use crate::routes::Pagination;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ComplianceList {
    /// How many of the org's codespaces the policies would refuse, on every page.
    pub total_count: i64,
    /// This page of them, oldest codespace first.
    pub codespaces: Vec<NoncompliantCodespace>,
}

/// A codespace whose image the policies in force now would refuse on a full rebuild.
#[derive(Serialize, ToSchema)]
pub struct NoncompliantCodespace {
    id: String,
    /// `org/repo`.
    repository: String,
    user: String,
    /// The org's login: codespaces the user pays for are not subject to its policies.
    billable_owner: String,
    /// The image it was built from.
    image: String,
    /// `image`, `dockerfile` or `compose`.
    image_source: String,
    /// What the policies refuse: `base_images` (its image, on a full rebuild) or
    /// `machine_types` (its machine, at its next start); the image is judged first.
    constraint: &'static str,
    /// The enforcing policies that refuse it.
    refused_by: Vec<i64>,
}

impl NoncompliantCodespace {
    fn new(org_login: &str, noncompliant: Noncompliant) -> Self {
        let codespace = noncompliant.codespace;
        Self {
            id: codespace.id,
            repository: format!("{org_login}/{}", codespace.repo_name),
            user: codespace.user,
            billable_owner: codespace.billable_owner,
            image: codespace.image,
            image_source: codespace.image_source.as_str().to_string(),
            constraint: noncompliant.refusal.constraint,
            refused_by: noncompliant.refusal.refused_by,
        }
    }
}

/// Lists the org's codespaces that the policies in force now would refuse on a full rebuild.
///
/// Each is judged by the image it was built from, as a full rebuild judges it; oldest first.
/// Codespaces the org does not pay for, on the default image or on the recovery image are
/// never listed, nor those a live policy exception covers; report-only policies refuse
/// nothing. Nothing is changed.
#[utoipa::path(get, path = "/orgs/{org}/codespaces/compliance", tag = "codespaces",
    params(("org" = String, Path), Pagination),
    responses((status = 200, body = ComplianceList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, description = "The policy store cannot be reached; retry", body = ErrorBody)))]
pub async fn codespaces_compliance(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    pagination: Pagination,
) -> Result<Json<ComplianceList>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let page = pagination.page_request()?;
    let set = state.store.policy_set(org.id).await?;
    let exempt = ExemptImages {
        default_image: &state.config.default_image,
        recovery_image: &state.config.recovery_image,
    };
    let scan = Scan::new(&set, &org.login, exempt, state.clock.now(), page);
    let found = compliance::run(&*state.store, org.id, scan).await?;
    Ok(Json(ComplianceList {
        total_count: found.total_count,
        codespaces: found
            .codespaces
            .into_iter()
            .map(|n| NoncompliantCodespace::new(&org.login, n))
            .collect(),
    }))
}
