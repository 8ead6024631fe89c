//! The constraints of every policy that applies to a codespace, combined as the contract's
//! table says: machine types and port visibilities by intersection, the limits by the
//! smallest (and the user's own choice if smaller). Each answer can name the policies
//! behind it, so that a refusal names them.

use std::collections::BTreeSet;

use super::{
    idle_timeout_notice, ConstraintSet, PortVisibility, DEFAULT_IDLE_TIMEOUT_MINUTES,
    DEFAULT_RETENTION_PERIOD_MINUTES,
};
use crate::machines::Machine;

/// Minutes in a day, for comparing retention in days with a choice in minutes.
const MINUTES_PER_DAY: u32 = 24 * 60;

/// One policy, as an answer names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRef {
    pub id: i64,
    pub name: String,
}

/// One applicable policy's constraints. The caller passes only the policies that bind
/// (those that apply to the repository, to a codespace the org pays for, and enforce).
#[derive(Clone, Copy, Debug)]
pub struct Applicable<'a> {
    pub policy_id: i64,
    pub policy_name: &'a str,
    pub constraints: &'a ConstraintSet,
}

/// The smallest of the applicable limits, and the policy setting it (the lowest id on a tie).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limit {
    pub value: u32,
    pub policy: PolicyRef,
}

/// A user's choice after the policies: `capped_by` is set when a policy lowered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capped {
    pub value: u32,
    pub capped_by: Option<PolicyRef>,
}

impl Capped {
    /// The contract's `idle_timeout_notice` for this idle timeout: `None` when uncapped.
    pub fn idle_timeout_notice(&self) -> Option<String> {
        self.capped_by
            .as_ref()
            .map(|_| idle_timeout_notice(self.value))
    }
}

/// What the applicable policies allow together. The default constrains nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CombinedLimits {
    /// Each policy with `machine_types`, and its names lowercased.
    machine_lists: Vec<(PolicyRef, BTreeSet<String>)>,
    max_codespaces_per_user: Option<Limit>,
    max_idle_timeout_minutes: Option<Limit>,
    max_retention_period_days: Option<Limit>,
    /// Each policy with `port_visibility`, and what it allows (`private` included).
    port_lists: Vec<(PolicyRef, BTreeSet<PortVisibility>)>,
}

impl CombinedLimits {
    /// Combines the constraints of `policies`, in any order.
    pub fn combine<'a>(policies: impl IntoIterator<Item = Applicable<'a>>) -> Self {
        let mut combined = Self::default();
        for policy in policies {
            let reference = || PolicyRef {
                id: policy.policy_id,
                name: policy.policy_name.to_owned(),
            };
            let set = policy.constraints;
            if let Some(names) = &set.machine_types {
                let names = names.iter().map(|n| n.to_ascii_lowercase()).collect();
                combined.machine_lists.push((reference(), names));
            }
            if let Some(list) = &set.port_visibility {
                let mut allowed: BTreeSet<_> = list.iter().copied().collect();
                allowed.insert(PortVisibility::Private);
                combined.port_lists.push((reference(), allowed));
            }
            lower(
                &mut combined.max_codespaces_per_user,
                set.max_codespaces_per_user,
                reference,
            );
            lower(
                &mut combined.max_idle_timeout_minutes,
                set.max_idle_timeout_minutes,
                reference,
            );
            lower(
                &mut combined.max_retention_period_days,
                set.max_retention_period_days,
                reference,
            );
        }
        combined.machine_lists.sort_by_key(|(policy, _)| policy.id);
        combined.port_lists.sort_by_key(|(policy, _)| policy.id);
        combined
    }

    /// The policies with `machine_types`, by ascending id.
    pub fn machine_policies(&self) -> Vec<&PolicyRef> {
        self.machine_lists
            .iter()
            .map(|(policy, _)| policy)
            .collect()
    }

    /// Whether every policy with `machine_types` lists `name` (compared case-insensitively).
    pub fn is_machine_allowed(&self, name: &str) -> bool {
        self.machine_refused_by(name).is_empty()
    }

    /// The policies whose `machine_types` do not list `name`, by ascending id.
    pub fn machine_refused_by(&self, name: &str) -> Vec<&PolicyRef> {
        let key = name.to_ascii_lowercase();
        self.machine_lists
            .iter()
            .filter(|(_, names)| !names.contains(&key))
            .map(|(policy, _)| policy)
            .collect()
    }

    /// The machines of `catalog` the policies allow, in the catalog's order.
    pub fn allowed_machines<'m>(&self, catalog: &'m [Machine]) -> Vec<&'m Machine> {
        catalog
            .iter()
            .filter(|m| self.is_machine_allowed(&m.name))
            .collect()
    }

    /// The smallest `max_codespaces_per_user`, if any policy sets one.
    pub fn max_codespaces_per_user(&self) -> Option<&Limit> {
        self.max_codespaces_per_user.as_ref()
    }

    /// Whether a user holding `existing` org-billed codespaces may create another.
    pub fn may_create_codespace(&self, existing: u64) -> bool {
        self.max_codespaces_per_user
            .as_ref()
            .is_none_or(|limit| existing < u64::from(limit.value))
    }

    /// The smallest `max_idle_timeout_minutes`, if any policy sets one.
    pub fn max_idle_timeout_minutes(&self) -> Option<&Limit> {
        self.max_idle_timeout_minutes.as_ref()
    }

    /// The idle timeout for the user's choice (the default when none): the smallest of it
    /// and the policies'.
    pub fn idle_timeout_minutes(&self, requested: Option<u32>) -> Capped {
        let wanted = requested.unwrap_or(DEFAULT_IDLE_TIMEOUT_MINUTES);
        cap(wanted, self.max_idle_timeout_minutes.as_ref(), |limit| {
            limit
        })
    }

    /// The smallest `max_retention_period_days`, if any policy sets one.
    pub fn max_retention_period_days(&self) -> Option<&Limit> {
        self.max_retention_period_days.as_ref()
    }

    /// The retention, in minutes, for the user's choice (the default when none): the
    /// smallest of it and the policies' days.
    pub fn retention_period_minutes(&self, requested: Option<u32>) -> Capped {
        let wanted = requested.unwrap_or(DEFAULT_RETENTION_PERIOD_MINUTES);
        cap(wanted, self.max_retention_period_days.as_ref(), |days| {
            days.saturating_mul(MINUTES_PER_DAY)
        })
    }

    /// The policies with `port_visibility`, by ascending id.
    pub fn port_policies(&self) -> Vec<&PolicyRef> {
        self.port_lists.iter().map(|(policy, _)| policy).collect()
    }

    /// The visibilities a port may have, in the order private, org, public.
    pub fn allowed_port_visibilities(&self) -> Vec<PortVisibility> {
        PortVisibility::ALL
            .into_iter()
            .filter(|v| self.may_use_port_visibility(*v))
            .collect()
    }

    /// Whether a port may be given `visibility`; `private` always may.
    pub fn may_use_port_visibility(&self, visibility: PortVisibility) -> bool {
        self.port_visibility_refused_by(visibility).is_empty()
    }

    /// The policies whose `port_visibility` does not allow `visibility`, by ascending id.
    pub fn port_visibility_refused_by(&self, visibility: PortVisibility) -> Vec<&PolicyRef> {
        self.port_lists
            .iter()
            .filter(|(_, allowed)| !allowed.contains(&visibility))
            .map(|(policy, _)| policy)
            .collect()
    }

    /// What a port of `visibility` has at a start: unchanged if still allowed, else `private`.
    pub fn port_visibility_at_start(&self, visibility: PortVisibility) -> PortVisibility {
        if self.may_use_port_visibility(visibility) {
            visibility
        } else {
            PortVisibility::Private
        }
    }
}

/// Keeps the smaller of `current` and `candidate`, the lower policy id on a tie.
fn lower(current: &mut Option<Limit>, candidate: Option<u32>, policy: impl Fn() -> PolicyRef) {
    let Some(value) = candidate else { return };
    let replace = current
        .as_ref()
        .is_none_or(|limit| (value, policy().id) < (limit.value, limit.policy.id));
    if replace {
        *current = Some(Limit {
            value,
            policy: policy(),
        });
    }
}

/// `wanted`, lowered to the limit (converted by `to_unit`) when that is smaller.
fn cap(wanted: u32, limit: Option<&Limit>, to_unit: impl Fn(u32) -> u32) -> Capped {
    match limit {
        Some(limit) if to_unit(limit.value) < wanted => Capped {
            value: to_unit(limit.value),
            capped_by: Some(limit.policy.clone()),
        },
        _ => Capped {
            value: wanted,
            capped_by: None,
        },
    }
}

#[cfg(test)]
#[path = "combined_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "combined_props_tests.rs"]
mod props;
