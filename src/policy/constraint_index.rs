//! Which enforcing policies' other constraints (machine types, limits, port visibility)
//! apply to a repository, kept in the compiled set beside the base-image index, so that a
//! codespace's limits combine from the very set its image is judged by.

use std::collections::HashMap;

use super::constraints::{Applicable, CombinedLimits, ConstraintSet};
use super::policy_set::{Enforcement, PolicyRules, Target};

#[derive(Debug, Default)]
pub(super) struct ConstraintIndex {
    /// `(id, name, constraints)` of each enforcing policy with other constraints, by id.
    policies: Vec<(i64, String, ConstraintSet)>,
    /// Indices into `policies` of the all-repositories ones.
    all_repositories: Vec<usize>,
    /// Repository key to indices into `policies`.
    selected: HashMap<String, Vec<usize>>,
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
            match &rules.target {
                Target::AllRepositories => index.all_repositories.push(at),
                Target::SelectedRepositories(repos) => {
                    for repo in repos {
                        let list = index.selected.entry(repo.clone()).or_default();
                        if list.last() != Some(&at) {
                            list.push(at);
                        }
                    }
                }
            }
        }
        index
    }

    /// The combined constraints of the policies that apply to `repo_key` (lowercased).
    pub(super) fn limits(&self, repo_key: &str) -> CombinedLimits {
        if self.policies.is_empty() {
            return CombinedLimits::default();
        }
        let selected = self.selected.get(repo_key).map_or(&[][..], Vec::as_slice);
        CombinedLimits::combine(
            self.all_repositories
                .iter()
                .chain(selected)
                .filter_map(|&at| self.policies.get(at))
                .map(|(id, name, constraints)| Applicable {
                    policy_id: *id,
                    policy_name: name,
                    constraints,
                }),
        )
    }
}
