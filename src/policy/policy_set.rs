//! The compiled, immutable structure that answers "may this repository use
//! this base image?" in time independent of how many values policies list.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::hash::RandomState;

use crate::policy::allowed_value::AllowedValue;
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
mod tests {
    use super::*;

    fn values(list: &[&str]) -> Option<Vec<AllowedValue>> {
        Some(
            list.iter()
                .map(|v| AllowedValue::parse(v).unwrap())
                .collect(),
        )
    }

    fn rules(id: i64, target: Target, base_images: Option<Vec<AllowedValue>>) -> PolicyRules {
        PolicyRules {
            id,
            name: format!("policy {id}"),
            target,
            enforcement: Enforcement::Enforce,
            base_images,
        }
    }

    fn selected(repos: &[&str]) -> Target {
        Target::SelectedRepositories(repos.iter().map(|r| r.to_string()).collect())
    }

    /// Leaked, so that a decision may borrow it for the rest of the test.
    fn image(s: &str) -> &'static ImageRef {
        Box::leak(Box::new(ImageRef::parse(s).unwrap()))
    }

    #[test]
    fn no_policies_allows_everything() {
        for set in [
            CompiledPolicySet::default(),
            CompiledPolicySet::compile(vec![]),
        ] {
            let decision = set.decide("octo/app", image("anything:1"));
            assert!(decision.allowed);
            assert!(decision.verdicts.is_empty());
            assert!(decision.refusing_policy_ids().is_empty());
            assert_eq!(set.policy_count(), 0);
        }
    }

    #[test]
    fn policies_intersect_and_never_widen() {
        let set = CompiledPolicySet::compile(vec![
            rules(1, Target::AllRepositories, values(&["node:18"])),
            rules(2, selected(&["octo/app"]), values(&["node:18", "python:3"])),
        ]);
        let node = set.decide("octo/app", image("node:18"));
        assert!(node.allowed);
        assert_eq!(node.verdicts.len(), 2);

        // The repository-scoped policy lists python, the org-wide one does not.
        let python = set.decide("octo/app", image("python:3"));
        assert!(!python.allowed);
        assert_eq!(python.refusing_policy_ids(), vec![1]);
        assert_eq!(
            python.verdicts[1].matched_value,
            Some(MatchedValue::Exact("python:3"))
        );
    }

    #[test]
    fn selected_policies_apply_only_to_named_repositories() {
        let set = CompiledPolicySet::compile(vec![rules(
            3,
            selected(&["octo/app", "octo/web", "octo/app"]),
            values(&["node:18"]),
        )]);
        let refused = set.decide("octo/web", image("python:3"));
        assert!(!refused.allowed);
        assert_eq!(refused.refusing_policy_ids(), vec![3]);
        // A repository named twice still gets a single verdict.
        assert_eq!(set.decide("octo/app", image("python:3")).verdicts.len(), 1);

        let other = set.decide("octo/other", image("python:3"));
        assert!(other.allowed);
        assert!(other.verdicts.is_empty());
    }

    #[test]
    fn unconstrained_policy_gets_no_verdict_but_is_counted() {
        let set = CompiledPolicySet::compile(vec![
            rules(1, Target::AllRepositories, None),
            rules(2, selected(&["octo/app"]), None),
        ]);
        let decision = set.decide("octo/app", image("python:3"));
        assert!(decision.allowed);
        assert!(decision.verdicts.is_empty());
        assert_eq!(set.policy_count(), 2);
    }

    #[test]
    fn empty_list_refuses_all() {
        let set = CompiledPolicySet::compile(vec![rules(4, Target::AllRepositories, values(&[]))]);
        let decision = set.decide("octo/app", image("node:18"));
        assert!(!decision.allowed);
        assert_eq!(decision.refusing_policy_ids(), vec![4]);
        assert_eq!(decision.verdicts[0].matched_value, None);
    }

    #[test]
    fn verdicts_are_sorted_by_policy_id() {
        let set = CompiledPolicySet::compile(vec![
            rules(9, selected(&["octo/app"]), values(&["node:*"])),
            rules(5, Target::AllRepositories, values(&["python:3"])),
            rules(2, selected(&["octo/app"]), values(&["*", "node:18"])),
            rules(7, Target::AllRepositories, values(&["*"])),
            rules(1, Target::AllRepositories, None),
        ]);
        let decision = set.decide("octo/app", image("node:18"));
        let ids: Vec<i64> = decision.verdicts.iter().map(|v| v.policy_id).collect();
        assert_eq!(ids, vec![2, 5, 7, 9]);
        assert!(!decision.allowed);
        assert_eq!(decision.refusing_policy_ids(), vec![5]);
        let matched: Vec<Option<String>> = decision
            .verdicts
            .iter()
            .map(|v| v.matched_value.map(|m| m.to_string()))
            .collect();
        assert_eq!(
            matched,
            vec![
                Some("node:18".to_owned()),
                None,
                Some("*".to_owned()),
                Some("node:*".to_owned())
            ]
        );
        assert_eq!(decision.verdicts[0].policy_name, "policy 2");
    }

    #[test]
    fn matching_is_exact_without_normalization() {
        let set = CompiledPolicySet::compile(vec![rules(
            1,
            Target::AllRepositories,
            values(&["node:18"]),
        )]);
        assert!(!set.decide("r", image("docker.io/library/node:18")).allowed);
        assert!(set.decide("r", image("node:18")).allowed);
    }

    #[test]
    fn compiled_set_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<CompiledPolicySet>();
    }

    #[test]
    fn a_report_only_policy_is_listed_but_never_refuses() {
        let report = PolicyRules {
            enforcement: Enforcement::Report,
            ..rules(2, Target::AllRepositories, Some(vec![]))
        };
        let enforce = rules(
            1,
            Target::AllRepositories,
            Some(vec![AllowedValue::parse("node:*").unwrap()]),
        );
        let set = CompiledPolicySet::compile(vec![report, enforce]);
        let node = ImageRef::parse("node:18").unwrap();
        let decision = set.decide("app", &node);
        assert!(decision.allowed, "only enforcing policies count");
        assert_eq!(decision.verdicts.len(), 2);
        assert_eq!(decision.verdicts[1].enforcement, Enforcement::Report);
        assert!(!decision.verdicts[1].allowed);
        assert_eq!(decision.refusing_policy_ids(), Vec::<i64>::new());
        assert_eq!(decision.reporting_policy_ids(), [2]);
        assert_eq!(
            set.refusals("app", &node),
            Refusals {
                enforced: vec![],
                reported: vec![2]
            }
        );
        let python = ImageRef::parse("python:3").unwrap();
        assert!(!set.decide("app", &python).allowed);
        assert_eq!(
            set.refusals("app", &python),
            Refusals {
                enforced: vec![1],
                reported: vec![2]
            }
        );
        assert_eq!(Enforcement::parse("report"), Some(Enforcement::Report));
        assert_eq!(Enforcement::parse("Report"), None);
        assert_eq!(Enforcement::default().as_str(), "enforce");
    }
}
