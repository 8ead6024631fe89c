//! The compiled, immutable structure that answers "may this repository use
//! this base image?" in time independent of how many values policies list.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::hash::RandomState;

use crate::policy::allowed_value::AllowedValue;
use crate::policy::effective::{AllowedList, Effective};
use crate::policy::image_ref::ImageRef;
use crate::policy::policy_index::{CompiledPolicy, Probe};

/// Which repositories a policy applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every repository of the organization.
    AllRepositories,
    /// Only the named repositories (keys already lowercased by the caller).
    SelectedRepositories(Vec<String>),
}

/// Whether a policy refuses what it does not allow, or only reports that it would.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Enforcement {
    /// It refuses (the default, and what every policy did before report-only existed).
    #[default]
    Enforce,
    /// It never refuses; its verdicts are shown and counted as what it would have done.
    Report,
}

impl Enforcement {
    /// The wire word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::Report => "report",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "enforce" => Some(Self::Enforce),
            "report" => Some(Self::Report),
            _ => None,
        }
    }
}

/// One policy as stored, before compilation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRules {
    /// Stable policy id; verdicts are ordered by it.
    pub id: i64,
    /// Human-readable policy name, echoed in verdicts.
    pub name: String,
    /// Repositories the policy applies to.
    pub target: Target,
    /// Whether it refuses, or only reports.
    pub enforcement: Enforcement,
    /// Allowed base images; `None` means the policy does not constrain base
    /// images at all, while an empty list refuses every image.
    pub base_images: Option<Vec<AllowedValue>>,
}

/// The outcome for one repository and image. It borrows from the compiled set and the
/// image, so that deciding copies no names or values: evaluate answers one verdict per
/// applicable policy, and with 64 policies the copies were most of its cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision<'a> {
    /// True when every applicable enforcing policy allows the image (or none applies).
    pub allowed: bool,
    /// One verdict per applicable policy, ordered by policy id.
    pub verdicts: Vec<PolicyVerdict<'a>>,
}

impl Decision<'_> {
    /// Ids of the enforcing policies that refused the image, in ascending order.
    pub fn refusing_policy_ids(&self) -> Vec<i64> {
        self.ids_refusing(Enforcement::Enforce)
    }

    /// Ids of the report-only policies that would have refused the image, ascending.
    pub fn reporting_policy_ids(&self) -> Vec<i64> {
        self.ids_refusing(Enforcement::Report)
    }

    fn ids_refusing(&self, enforcement: Enforcement) -> Vec<i64> {
        self.verdicts
            .iter()
            .filter(|v| !v.allowed && v.enforcement == enforcement)
            .map(|v| v.policy_id)
            .collect()
    }
}

/// The applicable policies that do not allow an image, by enforcement, each ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refusals {
    /// Enforcing policies: the image is refused if any.
    pub enforced: Vec<i64>,
    /// Report-only policies that would have refused it.
    pub reported: Vec<i64>,
}

/// What one applicable policy said about the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyVerdict<'a> {
    /// The policy's id.
    pub policy_id: i64,
    /// The policy's name.
    pub policy_name: &'a str,
    /// Whether it refuses or only reports.
    pub enforcement: Enforcement,
    /// Whether this policy allows the image.
    pub allowed: bool,
    /// The allowed value that matched: an exact match if any, otherwise the longest
    /// matching prefix.
    pub matched_value: Option<MatchedValue<'a>>,
}

/// An allowed value that matched an image, borrowed from the image: an exact value equals
/// the image, and a prefix value is the start of it. Displayed as written, with the `*` of
/// a prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchedValue<'a> {
    /// An exact value, equal to the image.
    Exact(&'a str),
    /// A prefix value, without its trailing `*`.
    Prefix(&'a str),
}

impl fmt::Display for MatchedValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatchedValue::Exact(value) => f.write_str(value),
            MatchedValue::Prefix(prefix) => {
                f.write_str(prefix)?;
                f.write_char('*')
            }
        }
    }
}

/// All of an organization's policies, compiled for fast decisions.
///
/// Immutable once built, so it can be shared across threads behind an `Arc`
/// and swapped wholesale when policies change.
#[derive(Debug, Default)]
pub struct CompiledPolicySet {
    /// Constraining policies (those with `base_images: Some`), sorted by id so
    /// that index order is verdict order.
    policies: Vec<CompiledPolicy>,
    /// Indices into `policies` of the all-repositories policies, ascending.
    all_repositories: Vec<usize>,
    /// Repository key to indices into `policies`, ascending and de-duplicated.
    selected: HashMap<String, Vec<usize>>,
    /// Number of policies given to `compile`, constraining or not.
    policy_count: usize,
    /// Hashes exact values for every policy of the set, so that a decision hashes the
    /// image once, however many policies apply.
    hasher: RandomState,
}

impl CompiledPolicySet {
    /// Builds the decision structure; cost is linear in the total size of the input.
    pub fn compile(policies: Vec<PolicyRules>) -> Self {
        let policy_count = policies.len();
        // Policies that constrain nothing can never refuse and get no verdict,
        // so they are dropped here rather than skipped on every decision.
        let mut constraining: Vec<PolicyRules> = policies
            .into_iter()
            .filter(|p| p.base_images.is_some())
            .collect();
        constraining.sort_by_key(|p| p.id);

        let mut set = CompiledPolicySet {
            policy_count,
            ..CompiledPolicySet::default()
        };
        for (index, rules) in constraining.into_iter().enumerate() {
            let values = rules.base_images.unwrap_or_default();
            set.policies.push(CompiledPolicy::new(
                rules.id,
                rules.name,
                rules.enforcement,
                &values,
                &set.hasher,
            ));
            match rules.target {
                Target::AllRepositories => set.all_repositories.push(index),
                Target::SelectedRepositories(repos) => {
                    for repo in repos {
                        let indices = set.selected.entry(repo).or_default();
                        // Indices arrive in ascending order, so a repository
                        // named twice by one policy shows up as a repeat of the last.
                        if indices.last() != Some(&index) {
                            indices.push(index);
                        }
                    }
                }
            }
        }
        set
    }

    /// Decides whether the repository `repo_key` (lowercased by the caller) may
    /// use `image`: every applicable policy must allow it.
    pub fn decide<'a>(&'a self, repo_key: &str, image: &'a ImageRef) -> Decision<'a> {
        let mut applicable: Vec<usize> = self.applicable(repo_key).collect();
        // Both lists are ascending and disjoint; sorting restores id order.
        applicable.sort_unstable();
        let probe = Probe::new(&self.hasher, image.as_str());
        let verdicts: Vec<PolicyVerdict<'a>> = applicable
            .into_iter()
            .filter_map(|index| self.policies.get(index))
            .map(|policy| policy.verdict(&probe))
            .collect();
        Decision {
            allowed: verdicts
                .iter()
                .all(|v| v.allowed || v.enforcement == Enforcement::Report),
            verdicts,
        }
    }

    /// The ids of the applicable enforcing policies that refuse `image`, ascending; empty
    /// when the image is allowed.
    pub fn refused_by(&self, repo_key: &str, image: &ImageRef) -> Vec<i64> {
        self.refusals(repo_key, image).enforced
    }

    /// The applicable policies that do not allow `image`, enforcing and report-only. The
    /// creation path's form of [`CompiledPolicySet::decide`]: the same rule, without
    /// building a verdict for every policy.
    pub fn refusals(&self, repo_key: &str, image: &ImageRef) -> Refusals {
        let probe = Probe::new(&self.hasher, image.as_str());
        let mut refusals = Refusals::default();
        for policy in self
            .applicable(repo_key)
            .filter_map(|index| self.policies.get(index))
            .filter(|policy| !policy.allows(&probe))
        {
            match policy.enforcement() {
                Enforcement::Enforce => refusals.enforced.push(policy.id()),
                Enforcement::Report => refusals.reported.push(policy.id()),
            }
        }
        refusals.enforced.sort_unstable();
        refusals.reported.sort_unstable();
        refusals
    }

    /// The effective policy of `repo_key` (lowercased): the intersection of the enforcing
    /// policies that apply to it, as one list. Report-only policies refuse nothing, so they
    /// take no part.
    pub fn effective(&self, repo_key: &str) -> Effective {
        let mut applicable: Vec<&CompiledPolicy> = self
            .applicable(repo_key)
            .filter_map(|index| self.policies.get(index))
            .filter(|policy| policy.enforcement() == Enforcement::Enforce)
            .collect();
        applicable.sort_by_key(|policy| policy.id());
        let mut allowed: Option<AllowedList> = None;
        for policy in &applicable {
            let list = policy.allowed_list();
            allowed = Some(match allowed {
                None => list,
                Some(so_far) => so_far.intersect(&list),
            });
        }
        Effective {
            constrained: allowed.is_some(),
            allowed: allowed.unwrap_or_default(),
            policies: applicable.iter().map(|policy| policy.id()).collect(),
        }
    }

    /// The name of the policy `id`, if it constrains base images.
    pub fn policy_name(&self, id: i64) -> Option<&str> {
        self.policies
            .iter()
            .find(|p| p.id() == id)
            .map(|p| p.name())
    }

    /// Indices of the policies that apply to `repo_key`: the org-wide ones, then the ones
    /// naming it. Each part is ascending; the whole is not.
    fn applicable(&self, repo_key: &str) -> impl Iterator<Item = usize> + '_ {
        let selected = self.selected.get(repo_key).map_or(&[][..], Vec::as_slice);
        self.all_repositories.iter().chain(selected).copied()
    }

    /// Number of policies given to [`CompiledPolicySet::compile`], including
    /// those that do not constrain base images.
    pub fn policy_count(&self) -> usize {
        self.policy_count
    }
}

#[cfg(test)]
#[path = "policy_set_tests.rs"]
mod tests;
