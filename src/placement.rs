//! Where a codespace runs and how long it may idle and be kept: the machine, the idle
//! timeout and the retention, as the user chose them and the applicable policies allow.
//! Pure, so that creation, full rebuild, start and preflight decide them the same way.

use crate::machines::{choose_machine, HostRequirements, MachineCatalog};
use crate::policy::constraints::{machine_refusal_message, no_machine_message, Limit};
use crate::policy::CombinedLimits;
use crate::store::LifeLimits;

/// What the user and the configuration ask for.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// A catalog name (the caller checked it is one); `None`: the smallest allowed machine
    /// that meets `host_requirements`.
    pub machine: Option<String>,
    pub idle_timeout_minutes: Option<u32>,
    pub retention_period_minutes: Option<u32>,
    /// The configuration's `hostRequirements`.
    pub host_requirements: HostRequirements,
}

/// What the codespace gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub machine: String,
    pub limits: LifeLimits,
    /// The `max_codespaces_per_user` its write must check.
    pub per_user_limit: Option<Limit>,
    /// Creation-log lines saying what the policies capped.
    pub log: Vec<String>,
}

/// A machine the policies (or the catalog) refuse: a 400 with `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementRefusal {
    pub message: String,
    /// The enforcing policies behind it; empty when only the catalog falls short.
    pub policy_ids: Vec<i64>,
}

/// Places a codespace under `limits` (the default when its org does not pay for it).
///
/// # Errors
///
/// The chosen machine is not allowed or does not meet `hostRequirements`, or no allowed
/// machine meets them.
pub fn place(
    limits: &CombinedLimits,
    catalog: &MachineCatalog,
    choices: &Choices,
) -> Result<Placement, PlacementRefusal> {
    let requirements = &choices.host_requirements;
    let machine = match &choices.machine {
        Some(name) => {
            let refused_by = limits.machine_refused_by(name);
            if !refused_by.is_empty() {
                return Err(PlacementRefusal {
                    message: machine_refusal_message(name, &refused_by),
                    policy_ids: refused_by.iter().map(|p| p.id).collect(),
                });
            }
            match catalog.get(name) {
                Some(machine) if requirements.is_met_by(machine) => machine.name.clone(),
                _ => {
                    return Err(PlacementRefusal {
                        message: format!(
                            "Machine type '{name}' does not meet this configuration's hostRequirements ({requirements})."
                        ),
                        policy_ids: Vec::new(),
                    })
                }
            }
        }
        None => {
            let allowed = limits.allowed_machines(catalog.machines());
            match choose_machine(allowed, requirements) {
                Some(machine) => machine.name.clone(),
                None => {
                    let restricted_by = limits.machine_policies();
                    return Err(PlacementRefusal {
                        message: no_machine_message(requirements, &restricted_by),
                        policy_ids: restricted_by.iter().map(|p| p.id).collect(),
                    });
                }
            }
        }
    };
    let idle = limits.idle_timeout_minutes(choices.idle_timeout_minutes);
    let retention = limits.retention_period_minutes(choices.retention_period_minutes);
    let mut log = vec![format!("Using machine type '{machine}'.")];
    if let Some(policy) = &idle.capped_by {
        log.push(format!(
            "Idle timeout set to {} minutes by organization policy {} ('{}').",
            idle.value, policy.id, policy.name
        ));
    }
    if let Some(policy) = &retention.capped_by {
        log.push(format!(
            "Retention period set to {} minutes by organization policy {} ('{}').",
            retention.value, policy.id, policy.name
        ));
    }
    Ok(Placement {
        machine,
        limits: LifeLimits {
            idle_timeout_minutes: idle.value,
            idle_timeout_requested: choices.idle_timeout_minutes,
            idle_timeout_notice: idle.idle_timeout_notice(),
            retention_period_minutes: retention.value,
        },
        per_user_limit: limits.max_codespaces_per_user().cloned(),
        log,
    })
}

#[cfg(test)]
#[path = "placement_tests.rs"]
mod tests;
