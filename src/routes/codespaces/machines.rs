//! `GET /repos/{owner}/{repo}/codespaces/machines`: the machine types the policies in force
//! allow for a repository's codespaces, from the compiled set creation uses.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::plan::billing_for;
use super::preflight::find;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::names::Name;
use crate::policy::CombinedLimits;
use crate::routes::machines::MachineList;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MachinesQuery {
    /// The codespace's user: a codespace the org does not pay for is not limited by its
    /// policies. Without it, the codespace is taken as billed to the organization.
    #[param(pattern = "^[A-Za-z0-9._-]{1,100}$")]
    user: Option<String>,
}

/// The machine types a codespace of this repository may use now, smallest first.
#[utoipa::path(get, path = "/repos/{owner}/{repo}/codespaces/machines", tag = "machines",
    params(("owner" = String, Path), ("repo" = String, Path), MachinesQuery),
    responses((status = 200, body = MachineList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown organization or repository", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, description = "The policy store cannot be reached; retry", body = ErrorBody)))]
pub async fn repository_machines(
    State(state): State<AppState>,
    caller: Caller,
    Path((owner, repo)): Path<(String, String)>,
    Query(query): Query<MachinesQuery>,
) -> Result<Json<MachineList>, ApiError> {
    let (org, repo) = find(&state, &caller, &owner, &repo).await?;
    let billed_to_org = match &query.user {
        None => true,
        Some(raw) => {
            let user = Name::parse(raw)
                .map_err(|e| ApiError::invalid("Machine", "user", e.to_string()))?;
            let known = state.store.find_user(&user).await?;
            billing_for(&state, &org, &user, known.as_ref())
                .await?
                .billed_to_org
        }
    };
    let limits = if billed_to_org {
        let set = state.store.policy_set(org.id).await?;
        set.limits(&repo.name.to_ascii_lowercase())
    } else {
        CombinedLimits::default()
    };
    let catalog = state.config.machine_catalog.machines();
    let machines = limits
        .allowed_machines(catalog)
        .into_iter()
        .cloned()
        .collect();
    Ok(Json(MachineList::new(machines)))
}
