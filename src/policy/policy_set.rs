//! The compiled, immutable structure that answers "may this repository use
//! this base image?" in time independent of how many values policies list. It holds the
//! org's exceptions too, so that whatever caches a set and renews it on a policy change
//! carries them with it.

use std::hash::RandomState;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::policy::allowed_value::AllowedValue;
use crate::policy::constraint_index::ConstraintIndex;
use crate::policy::constraints::{CombinedLimits, ConstraintSet};
use crate::policy::effective::{AllowedList, Effective};
use crate::policy::exceptions::{Exceptions, PolicyException};
use crate::policy::image_ref::ImageRef;
use crate::policy::policy_index::{CompiledPolicy, Probe};
use crate::policy::target_index::TargetIndex;
pub use crate::policy::verdict::{Decision, MatchedValue, PolicyVerdict, Refusals};

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
    /// The other constraints (machine types, limits, port visibility).
    pub constraints: ConstraintSet,
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
    /// Which of `policies` apply to each repository.
    targets: TargetIndex,
    /// Number of policies given to `compile`, constraining or not.
    policy_count: usize,
    /// Hashes exact values for every policy of the set, so that a decision hashes the
    /// image once, however many policies apply.
    hasher: RandomState,
    /// The org's exceptions, expired ones included; shared, so that a preview's changed
    /// set judges by the very same ones.
    exceptions: Arc<Exceptions>,
    /// The enforcing policies' other constraints, by the repositories they apply to.
    constraints: ConstraintIndex,
}

impl CompiledPolicySet {
    /// Builds the decision structure; cost is linear in the total size of the input.
    pub fn compile(policies: Vec<PolicyRules>) -> Self {
        let policy_count = policies.len();
        let constraints = ConstraintIndex::new(&policies);
        // Policies that constrain nothing can never refuse and get no verdict,
        // so they are dropped here rather than skipped on every decision.
        let mut constraining: Vec<PolicyRules> = policies
            .into_iter()
            .filter(|p| p.base_images.is_some())
            .collect();
        constraining.sort_by_key(|p| p.id);

        let mut set = CompiledPolicySet {
            policy_count,
            constraints,
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
            set.targets.add(index, rules.target);
        }
        set
    }

    /// [`CompiledPolicySet::compile`], with the org's exceptions.
    pub fn compile_with(policies: Vec<PolicyRules>, exceptions: Vec<PolicyException>) -> Self {
        let mut set = Self::compile(policies);
        set.exceptions = Arc::new(Exceptions::new(exceptions));
        set
    }

    /// This set with the exceptions of `other` (a preview's changed policies, judged with
    /// the exceptions in force).
    pub fn with_exceptions_of(mut self, other: &CompiledPolicySet) -> Self {
        self.exceptions = Arc::clone(&other.exceptions);
        self
    }

    /// The exceptions the set holds, expired ones included.
    pub fn exceptions(&self) -> &Exceptions {
        &self.exceptions
    }

    /// The live exception (lowest id first) that covers a codespace of `repo_key` for `user`
    /// and allows `image`. Asked only once an applicable policy did not allow the image, so
    /// that an allowed image never pays for exceptions.
    pub fn exception_for(
        &self,
        repo_key: &str,
        user: Option<&str>,
        image: &ImageRef,
        now: DateTime<Utc>,
    ) -> Option<&PolicyException> {
        self.exceptions.find(repo_key, user, image, now)
    }

    /// [`CompiledPolicySet::decide`] for `user` (or no user: then only the exceptions for
    /// every user apply) at `now`: the dry run's form of the decision creation makes, in
    /// which a live exception allows an image that an applicable policy does not.
    pub fn decide_for<'a>(
        &'a self,
        repo_key: &str,
        user: Option<&str>,
        image: &'a ImageRef,
        now: DateTime<Utc>,
    ) -> Decision<'a> {
        let mut decision = self.decide(repo_key, image);
        if decision.verdicts.iter().any(|v| !v.allowed) {
            if let Some(exception) = self.exception_for(repo_key, user, image, now) {
                decision.allowed = true;
                decision.exception = Some(exception);
            }
        }
        decision
    }

    /// Decides whether the repository `repo_key` (lowercased by the caller) may
    /// use `image`: every applicable policy must allow it. Exceptions are not looked at
    /// (see [`CompiledPolicySet::decide_for`]).
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
            exception: None,
        }
    }

    /// The ids of the applicable enforcing policies that refuse `image`, ascending; empty
    /// when the image is allowed.
    pub fn refused_by(&self, repo_key: &str, image: &ImageRef) -> Vec<i64> {
        self.refusals(repo_key, image).enforced
    }

    /// The applicable policies that do not allow `image`, enforcing and report-only. The
    /// creation path's form of [`CompiledPolicySet::decide`]: the same rule, without
    /// building a verdict for every policy. Exceptions are `policy::judge`'s to apply.
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
        // From the policy with the fewest values, narrowed by each other one's own lookups.
        let smallest = applicable.iter().min_by_key(|policy| policy.value_count());
        let allowed: Option<AllowedList> = smallest.map(|first| {
            applicable
                .iter()
                .filter(|policy| !std::ptr::eq(**policy, *first))
                .fold(first.allowed_list(), |so_far, policy| {
                    policy.narrow(so_far, &self.hasher)
                })
        });
        Effective {
            constrained: allowed.is_some(),
            allowed: allowed.unwrap_or_default(),
            policies: applicable.iter().map(|policy| policy.id()).collect(),
        }
    }

    /// What the enforcing policies that apply to `repo_key` (lowercased) allow together
    /// beside base images: machine types, the limits, port visibilities.
    pub fn limits(&self, repo_key: &str) -> CombinedLimits {
        self.constraints.limits(repo_key)
    }

    /// The name of the policy `id`, if it constrains base images.
    pub fn policy_name(&self, id: i64) -> Option<&str> {
        self.policies
            .iter()
            .find(|p| p.id() == id)
            .map(|p| p.name())
    }

    /// Indices of the policies that apply to `repo_key` (see [`TargetIndex::applicable`]).
    fn applicable(&self, repo_key: &str) -> impl Iterator<Item = usize> + '_ {
        self.targets.applicable(repo_key)
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
