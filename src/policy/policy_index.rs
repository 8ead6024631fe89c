//! The per-policy lookup structure behind
//! [`CompiledPolicySet`](crate::policy::CompiledPolicySet).
//!
//! Lookups cost one hash probe for exact values plus one walk of a prefix trie
//! along the image, never one step per value, so policies with 100,000 values
//! decide as fast as policies with one.

use std::collections::HashSet;

use crate::policy::allowed_value::AllowedValue;
use crate::policy::policy_set::{MatchedValue, PolicyVerdict};
use crate::policy::prefix_trie::PrefixTrie;

/// One constraining policy, indexed for lookups that do not scan its values.
#[derive(Debug)]
pub(super) struct CompiledPolicy {
    id: i64,
    name: String,
    exact: HashSet<String>,
    /// Prefix values without their trailing `*`.
    prefixes: PrefixTrie,
}

impl CompiledPolicy {
    pub(super) fn new(id: i64, name: String, values: &[AllowedValue]) -> Self {
        let mut exact = HashSet::new();
        let mut prefixes = Vec::new();
        for value in values {
            if value.is_prefix() {
                prefixes.push(value.prefix());
            } else {
                exact.insert(value.as_str().to_owned());
            }
        }
        let prefixes = PrefixTrie::new(&prefixes);
        CompiledPolicy {
            id,
            name,
            exact,
            prefixes,
        }
    }

    pub(super) fn id(&self) -> i64 {
        self.id
    }

    /// Whether some value of this policy matches `image`, allocating nothing.
    pub(super) fn allows(&self, image: &str) -> bool {
        self.exact.contains(image) || self.prefixes.longest(image).is_some()
    }

    /// This policy's verdict on `image`, borrowing its name and the matched value; allocates
    /// nothing.
    pub(super) fn verdict<'a>(&'a self, image: &'a str) -> PolicyVerdict<'a> {
        let matched_value = if self.exact.contains(image) {
            Some(MatchedValue::Exact(image))
        } else {
            // The longest matching prefix is the most specific one.
            self.prefixes.longest(image).map(MatchedValue::Prefix)
        };
        PolicyVerdict {
            policy_id: self.id,
            policy_name: &self.name,
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
        CompiledPolicy::new(7, "p".to_owned(), &values)
    }

    fn matched(policy: &CompiledPolicy, image: &str) -> Option<String> {
        let verdict = policy.verdict(image);
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
        let verdict = p.verdict("node:18");
        assert!(!verdict.allowed);
        assert_eq!(verdict.policy_id, 7);
        assert_eq!(verdict.policy_name, "p");
    }

    #[test]
    fn duplicate_values_are_kept_once_and_the_longest_prefix_wins() {
        let p = policy(&["abc*", "xyz*", "a*", "abc*", "node:18", "node:19"]);
        assert_eq!(p.exact.len(), 2);
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
        let p = CompiledPolicy::new(1, "big".to_owned(), &values);
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
