//! The per-policy lookup structure behind
//! [`CompiledPolicySet`](crate::policy::CompiledPolicySet).
//!
//! Lookups cost one hash probe for exact values plus one walk of a prefix trie
//! along the image, never one step per value, so policies with 100,000 values
//! decide as fast as policies with one. The policies of a set share one hasher, so that
//! the image is hashed once per decision, not once per applicable policy.

use std::hash::{BuildHasher, RandomState};

use hashbrown::hash_table::{Entry, HashTable};

use crate::policy::allowed_value::AllowedValue;
use crate::policy::effective::AllowedList;
use crate::policy::policy_set::{Enforcement, MatchedValue, PolicyVerdict};
use crate::policy::prefix_trie::PrefixTrie;

/// An image ready to be looked up: the text and its hash by the set's shared hasher.
pub(super) struct Probe<'a> {
    image: &'a str,
    hash: u64,
}

impl<'a> Probe<'a> {
    pub(super) fn new(hasher: &RandomState, image: &'a str) -> Self {
        Probe {
            image,
            hash: hasher.hash_one(image),
        }
    }
}

/// A list of allowed values indexed for lookups that do not scan them: exact values in a
/// hash table, prefixes in a trie. Policies and exceptions both match through it.
#[derive(Debug)]
pub(super) struct ValueIndex {
    /// Exact values, hashed by the hasher given to [`ValueIndex::new`] (see [`Probe`]).
    exact: HashTable<Box<str>>,
    /// Prefix values without their trailing `*`.
    prefixes: PrefixTrie,
}

impl ValueIndex {
    pub(super) fn new(values: &[AllowedValue], hasher: &RandomState) -> Self {
        let mut exact: HashTable<Box<str>> = HashTable::new();
        let mut prefixes = Vec::new();
        for value in values {
            if value.is_prefix() {
                prefixes.push(value.prefix());
            } else {
                let value = value.as_str();
                let hash = hasher.hash_one(value);
                let entry = exact.entry(hash, |v| **v == *value, |v| hasher.hash_one(&**v));
                if let Entry::Vacant(slot) = entry {
                    slot.insert(Box::from(value));
                }
            }
        }
        ValueIndex {
            exact,
            prefixes: PrefixTrie::new(&prefixes),
        }
    }

    /// Whether an exact value equals the probed image (hashed by this index's hasher).
    pub(super) fn has_exact(&self, probe: &Probe<'_>) -> bool {
        self.exact
            .find(probe.hash, |v| **v == *probe.image)
            .is_some()
    }

    /// Whether some value matches the image, allocating nothing.
    pub(super) fn allows(&self, probe: &Probe<'_>) -> bool {
        self.has_exact(probe) || self.prefixes.longest(probe.image).is_some()
    }
}

/// One constraining policy, indexed for lookups that do not scan its values.
#[derive(Debug)]
pub(super) struct CompiledPolicy {
    id: i64,
    name: String,
    enforcement: Enforcement,
    /// Its values, hashed by the set's shared hasher (see [`Probe`]).
    values: ValueIndex,
    /// How many values it was given (the effective policy starts from the shortest list).
    value_count: usize,
}

impl CompiledPolicy {
    pub(super) fn new(
        id: i64,
        name: String,
        enforcement: Enforcement,
        values: &[AllowedValue],
        hasher: &RandomState,
    ) -> Self {
        CompiledPolicy {
            id,
            name,
            enforcement,
            values: ValueIndex::new(values, hasher),
            value_count: values.len(),
        }
    }

    /// How many values the policy was given.
    pub(super) fn value_count(&self) -> usize {
        self.value_count
    }

    /// What both `list` and this policy allow. Exact values and the prefixes this policy
    /// covers are kept by its own lookups; only a prefix it does not cover needs its whole
    /// list (for the longer values under that prefix).
    pub(super) fn narrow(&self, list: AllowedList, hasher: &RandomState) -> AllowedList {
        let (exact, prefixes) = list.into_parts();
        let exact = exact
            .into_iter()
            .filter(|e| self.allows(&Probe::new(hasher, e)));
        let (covered, uncovered): (Vec<String>, Vec<String>) = prefixes
            .into_iter()
            .partition(|p| self.values.prefixes.longest(p).is_some());
        let narrowed = AllowedList::from_normal_parts(exact, covered);
        if uncovered.is_empty() {
            return narrowed;
        }
        let under = AllowedList::from_normal_parts(std::iter::empty(), uncovered);
        narrowed.union(under.intersect(&self.allowed_list()))
    }

    /// What the policy allows, in normal form: its shortest prefixes, and the exact values
    /// none of them allows.
    pub(super) fn allowed_list(&self) -> AllowedList {
        let ValueIndex { exact, prefixes } = &self.values;
        let exact = exact
            .iter()
            .filter(|value| prefixes.longest(value).is_none())
            .map(|value| value.to_string());
        AllowedList::from_normal_parts(exact, prefixes.shortest_prefixes())
    }

    pub(super) fn id(&self) -> i64 {
        self.id
    }

    pub(super) fn name(&self) -> &str {
        &self.name
    }

    pub(super) fn enforcement(&self) -> Enforcement {
        self.enforcement
    }

    /// Whether some value of this policy matches the image, allocating nothing.
    pub(super) fn allows(&self, probe: &Probe<'_>) -> bool {
        self.values.allows(probe)
    }

    /// This policy's verdict on the image, borrowing its name and the matched value;
    /// allocates nothing.
    pub(super) fn verdict<'a>(&'a self, probe: &Probe<'a>) -> PolicyVerdict<'a> {
        let image = probe.image;
        let matched_value = if self.values.has_exact(probe) {
            Some(MatchedValue::Exact(image))
        } else {
            // The longest matching prefix is the most specific one.
            self.values
                .prefixes
                .longest(image)
                .map(MatchedValue::Prefix)
        };
        PolicyVerdict {
            policy_id: self.id,
            policy_name: &self.name,
            enforcement: self.enforcement,
            allowed: matched_value.is_some(),
            matched_value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(values: &[&str]) -> CompiledPolicy {
        let values: Vec<AllowedValue> = values
            .iter()
            .map(|v| AllowedValue::parse(v).unwrap())
            .collect();
        CompiledPolicy::new(7, "p".to_owned(), Enforcement::Enforce, &values, &HASHER)
    }

    static HASHER: std::sync::LazyLock<RandomState> = std::sync::LazyLock::new(RandomState::new);

    fn verdict<'a>(policy: &'a CompiledPolicy, image: &'a str) -> PolicyVerdict<'a> {
        let verdict = policy.verdict(&Probe::new(&HASHER, image));
        assert_eq!(verdict.allowed, policy.allows(&Probe::new(&HASHER, image)));
        verdict
    }

    fn matched(policy: &CompiledPolicy, image: &str) -> Option<String> {
        let verdict = verdict(policy, image);
        assert_eq!(verdict.allowed, verdict.matched_value.is_some());
        verdict.matched_value.map(|m| m.to_string())
    }

    #[test]
    fn exact_match_wins_over_any_prefix() {
        let p = policy(&["*", "node:*", "node:18"]);
        assert_eq!(matched(&p, "node:18").as_deref(), Some("node:18"));
    }

    #[test]
    fn longest_matching_prefix_is_reported_as_written() {
        let p = policy(&[
            "*",
            "ghcr.io/*",
            "ghcr.io/octo-org/*",
            "ghcr.io/octo-org/dev:9*",
        ]);
        assert_eq!(
            matched(&p, "ghcr.io/octo-org/dev:1.2").as_deref(),
            Some("ghcr.io/octo-org/*")
        );
        assert_eq!(matched(&p, "ghcr.io/x").as_deref(), Some("ghcr.io/*"));
        assert_eq!(matched(&p, "node").as_deref(), Some("*"));
    }

    #[test]
    fn prefix_never_matches_a_shorter_image() {
        let p = policy(&["ghcr.io/octo-org/*"]);
        assert_eq!(matched(&p, "ghcr.io/octo-org"), None);
        assert_eq!(
            matched(&p, "ghcr.io/octo-org/").as_deref(),
            Some("ghcr.io/octo-org/*")
        );
        assert_eq!(matched(&p, "ghcr.io/octo-orgs/a"), None);
    }

    #[test]
    fn empty_list_refuses_everything() {
        let p = policy(&[]);
        let verdict = verdict(&p, "node:18");
        assert!(!verdict.allowed);
        assert_eq!(verdict.policy_id, 7);
        assert_eq!(verdict.policy_name, "p");
    }

    #[test]
    fn duplicate_values_are_kept_once_and_the_longest_prefix_wins() {
        let p = policy(&["abc*", "xyz*", "a*", "abc*", "node:18", "node:19"]);
        assert_eq!(p.values.exact.len(), 2);
        assert_eq!(matched(&p, "abcd").as_deref(), Some("abc*"));
        assert_eq!(matched(&p, "ab").as_deref(), Some("a*"));
        assert_eq!(matched(&p, "xy"), None);
    }

    #[test]
    fn many_values_are_looked_up_not_scanned() {
        // 100,000 values: lookups walk the image, whatever the number of values.
        let mut values = Vec::new();
        for i in 0..50_000 {
            values.push(
                AllowedValue::parse(&format!("registry.example.com/team{i:05}/app:1")).unwrap(),
            );
            values
                .push(AllowedValue::parse(&format!("registry.example.com/team{i:05}/*")).unwrap());
        }
        let p = CompiledPolicy::new(1, "big".to_owned(), Enforcement::Enforce, &values, &HASHER);
        assert_eq!(
            matched(&p, "registry.example.com/team49999/app:1").as_deref(),
            Some("registry.example.com/team49999/app:1")
        );
        assert_eq!(
            matched(&p, "registry.example.com/team00042/other").as_deref(),
            Some("registry.example.com/team00042/*")
        );
        assert_eq!(matched(&p, "registry.example.com/team50000/app:1"), None);
    }
}
