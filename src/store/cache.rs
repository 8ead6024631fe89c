//! Compiled policy sets (with the org's exceptions), keyed by org and policy version.
//!
//! The version is read in the same transaction that uses the set, and every policy or
//! exception change bumps it in its own transaction, so the cache can never serve a set
//! older than the one the database holds for that transaction.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::policy::{AllowedValue, CompiledPolicySet, PolicyRules, Target};
use crate::store::{ExceptionRecord, Policy, PolicyTarget};

/// Compiles stored policies into the decision structure. Values were validated when they
/// were written; one that no longer parses is an error, never silently dropped (fail closed).
pub fn compile_policies(policies: &[Policy]) -> Result<CompiledPolicySet, String> {
    compile_policies_with(policies, &[])
}

/// [`compile_policies`] with the org's exceptions, expired ones included.
pub fn compile_policies_with(
    policies: &[Policy],
    exceptions: &[ExceptionRecord],
) -> Result<CompiledPolicySet, String> {
    let rules = policy_rules(policies)?;
    let exceptions = exceptions
        .iter()
        .map(ExceptionRecord::rules)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CompiledPolicySet::compile_with(rules, exceptions))
}

/// Stored policies as the pure policy code takes them, values parsed.
pub fn policy_rules(policies: &[Policy]) -> Result<Vec<PolicyRules>, String> {
    let mut rules = Vec::with_capacity(policies.len());
    for policy in policies {
        let target = match policy.target {
            PolicyTarget::AllRepositories => Target::AllRepositories,
            PolicyTarget::SelectedRepositories => Target::SelectedRepositories(
                policy
                    .repositories
                    .iter()
                    .map(|r| r.to_ascii_lowercase())
                    .collect(),
            ),
        };
        let base_images = match &policy.base_images {
            None => None,
            Some(values) => Some(
                values
                    .iter()
                    .map(|v| AllowedValue::parse(v))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("policy {} holds an invalid value: {e}", policy.id))?,
            ),
        };
        rules.push(PolicyRules {
            id: policy.id,
            name: policy.name.clone(),
            target,
            enforcement: policy.enforcement,
            base_images,
            constraints: policy.constraints.clone(),
        });
    }
    Ok(rules)
}

#[derive(Debug, Default)]
pub struct PolicyCache {
    sets: Mutex<HashMap<i64, (i64, Arc<CompiledPolicySet>)>>,
}

impl PolicyCache {
    /// The set compiled for exactly this version, if cached.
    pub fn get(&self, org_id: i64, version: i64) -> Option<Arc<CompiledPolicySet>> {
        let sets = self
            .sets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        sets.get(&org_id)
            .filter(|(cached, _)| *cached == version)
            .map(|(_, set)| Arc::clone(set))
    }

    /// The newest set compiled for the org, with its version (which may since be stale).
    pub fn latest(&self, org_id: i64) -> Option<(i64, Arc<CompiledPolicySet>)> {
        let sets = self
            .sets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        sets.get(&org_id)
            .map(|(version, set)| (*version, Arc::clone(set)))
    }

    /// Keeps the newest version seen for the org.
    pub fn put(&self, org_id: i64, version: i64, set: Arc<CompiledPolicySet>) {
        let mut sets = self
            .sets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match sets.get(&org_id) {
            Some((cached, _)) if *cached > version => {}
            _ => {
                sets.insert(org_id, (version, set));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_only_the_exact_version_and_never_goes_back() {
        let cache = PolicyCache::default();
        let set = Arc::new(CompiledPolicySet::default());
        cache.put(1, 5, Arc::clone(&set));
        assert!(cache.get(1, 5).is_some());
        assert!(cache.get(1, 6).is_none());
        assert!(cache.get(2, 5).is_none());
        cache.put(1, 4, Arc::clone(&set));
        assert!(
            cache.get(1, 4).is_none(),
            "an older version must not replace a newer one"
        );
        assert!(cache.get(1, 5).is_some());
    }
}
