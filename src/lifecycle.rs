//! What each step of a codespace's life changes, given the codespace as stored, the limits
//! of the policies in force now and the machine catalog: a stop, a start, a port's
//! visibility. Pure, so that the routes and the store's transaction stay thin and each
//! rule is tested on its own.

use chrono::{DateTime, Duration, Utc};

use crate::machines::{choose_machine, HostRequirements, MachineCatalog};
use crate::policy::constraints::{
    machine_refusal_message, no_machine_message, port_visibility_refusal_message,
};
use crate::policy::{CombinedLimits, CompiledPolicySet};
use crate::store::{repo_key_of, Codespace, CodespaceState, ForwardedPort, Life};

/// Most ports one codespace forwards, so that its row and its answer stay small.
pub const MAX_FORWARDED_PORTS: usize = 100;

/// Why a life change cannot be made; nothing is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifeRefusal {
    /// The policies in force refuse it: a 400 with `message`, which names them.
    Refused {
        message: String,
        policy_ids: Vec<i64>,
    },
    /// It contradicts the codespace's state: a 409.
    Conflict(String),
    /// A field the stored state makes invalid: a 422 naming `field`.
    Invalid {
        field: &'static str,
        message: String,
    },
}

/// The limits that bind a codespace now: its repository's enforcing policies when the org
/// pays for it, none otherwise.
pub fn limits_for(codespace: &Codespace, set: &CompiledPolicySet) -> CombinedLimits {
    if codespace.billed_to_org {
        set.limits(&repo_key_of(&codespace.repository))
    } else {
        CombinedLimits::default()
    }
}

/// A stop: `Shutdown`, kept until `now` plus its retention. `None` when already stopped:
/// its deadline stays the one its first stop set.
pub fn stop(codespace: &Codespace, now: DateTime<Utc>) -> Option<Life> {
    if codespace.state == CodespaceState::Shutdown {
        return None;
    }
    let retention = Duration::minutes(i64::from(codespace.limits.retention_period_minutes));
    Some(Life {
        state: CodespaceState::Shutdown,
        retention_expires_at: Some(now + retention),
        ..Life::of(codespace)
    })
}

/// A start under `limits`: the machine (`machine`, a catalog name, changes it), the idle
/// timeout from the user's own choice, and each port's visibility, as the policies allow
/// them now; the retention period stays as creation capped it. `None` when it already runs
/// and nothing else was asked.
///
/// # Errors
///
/// The machine is not allowed (the codespace stays stopped), no allowed machine is left
/// for a codespace that has none, or a running codespace is asked to change machine.
pub fn start(
    codespace: &Codespace,
    limits: &CombinedLimits,
    catalog: &MachineCatalog,
    machine: Option<&str>,
) -> Result<Option<Life>, LifeRefusal> {
    if codespace.state == CodespaceState::Available {
        return match machine {
            Some(name) if codespace.machine.as_deref() != Some(name) => Err(LifeRefusal::Conflict(
                format!("The codespace is running; stop it before changing its machine type to '{name}'."),
            )),
            _ => Ok(None),
        };
    }
    let machine = start_machine(limits, catalog, machine.or(codespace.machine.as_deref()))?;
    let idle = limits.idle_timeout_minutes(codespace.limits.idle_timeout_requested);
    let ports = codespace
        .ports
        .iter()
        .map(|port| ForwardedPort {
            port: port.port,
            visibility: limits.port_visibility_at_start(port.visibility),
        })
        .collect();
    let mut life = Life::of(codespace);
    life.machine = Some(machine);
    life.state = CodespaceState::Available;
    life.retention_expires_at = None;
    life.limits.idle_timeout_notice = idle.idle_timeout_notice();
    life.limits.idle_timeout_minutes = idle.value;
    life.ports = ports;
    Ok(Some(life))
}

/// The machine a start runs on: `wanted` if the policies allow it; with none, the smallest
/// machine they allow, as creation chooses one for a configuration without requirements.
fn start_machine(
    limits: &CombinedLimits,
    catalog: &MachineCatalog,
    wanted: Option<&str>,
) -> Result<String, LifeRefusal> {
    if let Some(name) = wanted {
        let refused_by = limits.machine_refused_by(name);
        if refused_by.is_empty() {
            return Ok(name.to_owned());
        }
        return Err(LifeRefusal::Refused {
            message: machine_refusal_message(name, &refused_by),
            policy_ids: refused_by.iter().map(|p| p.id).collect(),
        });
    }
    let requirements = HostRequirements::default();
    match choose_machine(limits.allowed_machines(catalog.machines()), &requirements) {
        Some(machine) => Ok(machine.name.clone()),
        None => {
            let restricted_by = limits.machine_policies();
            Err(LifeRefusal::Refused {
                message: no_machine_message(&requirements, &restricted_by),
                policy_ids: restricted_by.iter().map(|p| p.id).collect(),
            })
        }
    }
}

/// Forwards `wanted.port` with `wanted.visibility`, adding the port or changing it, if the
/// policies allow the visibility (`private` always). `None` when it already has it.
///
/// # Errors
///
/// The policies refuse the visibility, or the codespace already forwards
/// [`MAX_FORWARDED_PORTS`] other ports.
pub fn forward_port(
    codespace: &Codespace,
    limits: &CombinedLimits,
    wanted: ForwardedPort,
) -> Result<Option<Life>, LifeRefusal> {
    let refused_by = limits.port_visibility_refused_by(wanted.visibility);
    if !refused_by.is_empty() {
        return Err(LifeRefusal::Refused {
            message: port_visibility_refusal_message(wanted.visibility, &refused_by),
            policy_ids: refused_by.iter().map(|p| p.id).collect(),
        });
    }
    let mut life = Life::of(codespace);
    match life.ports.iter().position(|p| p.port == wanted.port) {
        Some(at) if life.ports[at] == wanted => return Ok(None),
        Some(at) => life.ports[at] = wanted,
        None if life.ports.len() >= MAX_FORWARDED_PORTS => {
            return Err(LifeRefusal::Invalid {
                field: "port",
                message: format!(
                    "cannot be added: a codespace forwards at most {MAX_FORWARDED_PORTS} ports"
                ),
            })
        }
        None => {
            life.ports.push(wanted);
            life.ports.sort_by_key(|p| p.port);
        }
    }
    Ok(Some(life))
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
