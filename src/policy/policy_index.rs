//! The per-policy lookup structure behind
//! [`CompiledPolicySet`](crate::policy::CompiledPolicySet).
//!
//! Lookups cost one hash probe for exact values plus one per distinct prefix
//! length, never one per value, so policies with 100,000 values decide as fast
//! as policies with one.

use std::collections::HashSet;

use crate::policy::allowed_value::AllowedValue;
use crate::policy::policy_set::PolicyVerdict;

/// One constraining policy, indexed for lookups that do not scan its values.
#[derive(Debug)]
pub(super) struct CompiledPolicy {
    id: i64,
    name: String,
    exact: HashSet<String>,
    /// Prefix values without their trailing `*`.
    prefixes: HashSet<String>,
    /// Distinct lengths of `prefixes`, ascending: a lookup probes one slice of
    /// the image per length instead of one comparison per value.
    prefix_lens: Vec<usize>,
}

impl CompiledPolicy {
    pub(super) fn new(id: i64, name: String, values: &[AllowedValue]) -> Self {
        let mut exact = HashSet::new();
        let mut prefixes = HashSet::new();
        for value in values {
            if value.is_prefix() {
                prefixes.insert(value.prefix().to_owned());
            } else {
                exact.insert(value.as_str().to_owned());
            }
        }
        let mut prefix_lens: Vec<usize> = prefixes.iter().map(String::len).collect();
        prefix_lens.sort_unstable();
        prefix_lens.dedup();
        CompiledPolicy {
            id,
            name,
            exact,
            prefixes,
            prefix_lens,
        }
    }

    pub(super) fn id(&self) -> i64 {
        self.id
    }

    /// Whether some value of this policy matches `image`, allocating nothing.
    pub(super) fn allows(&self, image: &str) -> bool {
        self.exact.contains(image)
            || self
                .prefix_lens
                .iter()
                .filter_map(|&len| image.get(..len))
                .any(|candidate| self.prefixes.contains(candidate))
    }

    pub(super) fn verdict(&self, image: &str) -> PolicyVerdict {
        let matched_value = if self.exact.contains(image) {
            Some(image.to_owned())
        } else {
            // Longest first, so the first hit is the most specific prefix;
            // `get` skips lengths longer than the image, which can never match.
            self.prefix_lens
                .iter()
                .rev()
                .filter_map(|&len| image.get(..len))
                .find(|candidate| self.prefixes.contains(*candidate))
                .map(|prefix| format!("{prefix}*"))
        };
        PolicyVerdict {
            policy_id: self.id,
            policy_name: self.name.clone(),
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
        verdict.matched_value
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
    fn lengths_are_distinct_and_sorted() {
        let p = policy(&["abc*", "xyz*", "a*", "abc*", "node:18", "node:19"]);
        assert_eq!(p.prefix_lens, vec![1, 3]);
        assert_eq!(p.prefixes.len(), 3);
        assert_eq!(p.exact.len(), 2);
    }

    #[test]
    fn many_values_are_looked_up_not_scanned() {
        // 100,000 values with few distinct prefix lengths: the index stays
        // small in lengths, which is what bounds the cost of a lookup.
        let mut values = Vec::new();
        for i in 0..50_000 {
            values.push(
                AllowedValue::parse(&format!("registry.example.com/team{i:05}/app:1")).unwrap(),
            );
            values
                .push(AllowedValue::parse(&format!("registry.example.com/team{i:05}/*")).unwrap());
        }
        let p = CompiledPolicy::new(1, "big".to_owned(), &values);
        assert_eq!(p.prefix_lens.len(), 1);
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
