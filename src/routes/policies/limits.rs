//! What the applicable policies allow together beside base images, as evaluate and the
//! effective policy show it: each constraint's combined value and the policies behind it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::machines::MachineCatalog;
use crate::policy::constraints::{Limit, PolicyRef};
use crate::policy::{CombinedLimits, PortVisibility};

/// Each constraint as the applicable enforcing policies combine it; null when none sets it.
#[derive(Serialize, ToSchema)]
pub struct LimitsResponse {
    /// The catalog's machine types every policy with `machine_types` lists (their
    /// intersection), smallest first; empty when they share none.
    machine_types: Option<ListedResponse<String>>,
    /// The smallest `max_codespaces_per_user`.
    max_codespaces_per_user: Option<LimitResponse>,
    /// The smallest `max_idle_timeout_minutes`.
    max_idle_timeout_minutes: Option<LimitResponse>,
    /// The smallest `max_retention_period_days`.
    max_retention_period_days: Option<LimitResponse>,
    /// The visibilities a forwarded port may have (`private` always).
    port_visibility: Option<ListedResponse<PortVisibility>>,
}

/// An intersection and the policies taking part in it.
#[derive(Serialize, ToSchema)]
pub struct ListedResponse<T: ToSchema> {
    allowed_values: Vec<T>,
    /// Ids, ascending.
    policies: Vec<i64>,
}

/// The smallest value and the policy that sets it (the lowest id on a tie).
#[derive(Serialize, ToSchema)]
pub struct LimitResponse {
    value: u32,
    policy: i64,
}

fn ids(policies: &[&PolicyRef]) -> Vec<i64> {
    policies.iter().map(|p| p.id).collect()
}

fn limit(limit: Option<&Limit>) -> Option<LimitResponse> {
    limit.map(|l| LimitResponse {
        value: l.value,
        policy: l.policy.id,
    })
}

impl LimitsResponse {
    pub fn new(limits: &CombinedLimits, catalog: &MachineCatalog) -> Self {
        let machine_policies = limits.machine_policies();
        let port_policies = limits.port_policies();
        Self {
            machine_types: (!machine_policies.is_empty()).then(|| ListedResponse {
                allowed_values: limits
                    .allowed_machines(catalog.machines())
                    .into_iter()
                    .map(|m| m.name.clone())
                    .collect(),
                policies: ids(&machine_policies),
            }),
            max_codespaces_per_user: limit(limits.max_codespaces_per_user()),
            max_idle_timeout_minutes: limit(limits.max_idle_timeout_minutes()),
            max_retention_period_days: limit(limits.max_retention_period_days()),
            port_visibility: (!port_policies.is_empty()).then(|| ListedResponse {
                allowed_values: limits.allowed_port_visibilities(),
                policies: ids(&port_policies),
            }),
        }
    }
}
