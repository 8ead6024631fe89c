//! `GET /machines`: the machine types on offer (`MACHINE_CATALOG`, GitHub's five Linux
//! machines by default), smallest first, for any caller with a valid token.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ErrorBody;
use crate::machines::Machine;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct MachineList {
    total_count: usize,
    /// Smallest first: by cores, then memory, then storage.
    machines: Vec<Machine>,
}

impl MachineList {
    pub fn new(machines: Vec<Machine>) -> Self {
        Self {
            total_count: machines.len(),
            machines,
        }
    }
}

/// The machine catalog.
#[utoipa::path(get, path = "/machines", tag = "machines",
    responses((status = 200, body = MachineList), (status = 401, body = ErrorBody)))]
pub async fn list_machines(State(state): State<AppState>, _caller: Caller) -> Json<MachineList> {
    Json(MachineList::new(
        state.config.machine_catalog.machines().to_vec(),
    ))
}
