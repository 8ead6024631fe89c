//! Which of a list of policies apply to a repository: the org-wide ones and those naming
//! it, kept as indices into the list, so that a decision looks a repository up once.

use std::collections::HashMap;

use super::policy_set::Target;

#[derive(Debug, Default)]
pub(super) struct TargetIndex {
    /// Indices of the all-repositories policies, ascending.
    all_repositories: Vec<usize>,
    /// Repository key to indices of the policies naming it, ascending and de-duplicated.
    selected: HashMap<String, Vec<usize>>,
}

impl TargetIndex {
    /// Records that policy `index` has `target`; indices must be added in ascending order.
    pub(super) fn add(&mut self, index: usize, target: Target) {
        match target {
            Target::AllRepositories => self.all_repositories.push(index),
            Target::SelectedRepositories(repos) => {
                for repo in repos {
                    let indices = self.selected.entry(repo).or_default();
                    // Indices arrive in ascending order, so a repository named twice by
                    // one policy shows up as a repeat of the last.
                    if indices.last() != Some(&index) {
                        indices.push(index);
                    }
                }
            }
        }
    }

    /// Indices of the policies that apply to `repo_key`: the org-wide ones, then the ones
    /// naming it. Each part is ascending; the whole is not.
    pub(super) fn applicable(&self, repo_key: &str) -> impl Iterator<Item = usize> + '_ {
        let selected = self.selected.get(repo_key).map_or(&[][..], Vec::as_slice);
        self.all_repositories.iter().chain(selected).copied()
    }
}
