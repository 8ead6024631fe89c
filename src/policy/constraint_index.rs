//! Which enforcing policies' other constraints (machine types, limits, port visibility)
//! apply to a repository, kept in the compiled set beside the base-image index, so that a
//! codespace's limits combine from the very set its image is judged by.

use super::constraints::{Applicable, CombinedLimits, ConstraintSet};
use super::policy_set::{Enforcement, PolicyRules};
use super::target_index::TargetIndex;

#[derive(Debug, Default)]
pub(super) struct ConstraintIndex {
    /// `(id, name, constraints)` of each enforcing policy with other constraints, by id.
    policies: Vec<(i64, String, ConstraintSet)>,
    /// Which of `policies` apply to each repository.
    targets: TargetIndex,
}

impl ConstraintIndex {
    /// Indexes the policies that hold other constraints. Report-only policies never
    /// refuse, so their constraints bind nothing and are left out.
    pub(super) fn new(rules: &[PolicyRules]) -> Self {
        let mut binding: Vec<&PolicyRules> = rules
            .iter()
            .filter(|p| p.enforcement == Enforcement::Enforce && !p.constraints.is_empty())
            .collect();
        binding.sort_by_key(|p| p.id);
        let mut index = Self::default();
        for (at, rules) in binding.into_iter().enumerate() {
            index
                .policies
                .push((rules.id, rules.name.clone(), rules.constraints.clone()));
            index.targets.add(at, rules.target.clone());
        }
        index
    }

    /// The combined constraints of the policies that apply to `repo_key` (lowercased).
    pub(super) fn limits(&self, repo_key: &str) -> CombinedLimits {
        if self.policies.is_empty() {
            return CombinedLimits::default();
        }
        CombinedLimits::combine(
            self.targets
                .applicable(repo_key)
                .filter_map(|at| self.policies.get(at))
                .map(|(id, name, constraints)| Applicable {
                    policy_id: *id,
                    policy_name: name,
                    constraints,
                }),
        )
    }
}
