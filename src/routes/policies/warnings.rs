//! The authoring warnings every policy answer carries, computed from the org's policies as
//! they are once the request is done (`crate::policy::warnings`).

use std::collections::BTreeMap;

use crate::error::ApiError;
use crate::policy::{self, Warning};
use crate::state::AppState;
use crate::store::{policy_rules, Policy};

/// The warnings of each of the org's policies, by id.
pub struct OrgWarnings(BTreeMap<i64, Vec<Warning>>);

impl OrgWarnings {
    /// Reads every policy of the org and judges them together.
    pub async fn read(state: &AppState, org_id: i64) -> Result<Self, ApiError> {
        let policies = state.store.all_policies(org_id).await?;
        Self::of(&policies, &state.config.machine_catalog.names())
    }

    /// Judges `policies`, all of one org, together; `machines` are the catalog's names.
    pub fn of(policies: &[Policy], machines: &[&str]) -> Result<Self, ApiError> {
        let rules = policy_rules(policies).map_err(ApiError::Internal)?;
        // Messages name repositories as their policies write them.
        let names: BTreeMap<String, String> = policies
            .iter()
            .flat_map(|p| &p.repositories)
            .map(|name| (name.to_ascii_lowercase(), name.clone()))
            .collect();
        Ok(Self(policy::warnings(&rules, &names, machines)))
    }

    /// The warnings of policy `id` (empty when none).
    pub fn take(&mut self, id: i64) -> Vec<Warning> {
        self.0.remove(&id).unwrap_or_default()
    }
}
