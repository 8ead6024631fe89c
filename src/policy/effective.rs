//! What a list of allowed values allows, in a normal form that can be intersected: the
//! effective policy of a repository (the intersection of its applicable policies) and the
//! authoring warnings are both computed on it.
//!
//! Exact and trailing-`*` values intersect exactly: a prefix within a prefix is the longer
//! one, and an exact value survives where the other list allows it. The normal form keeps
//! no value another one covers, which is also the shortest list allowing the same images
//! (a prefix allows infinitely many, so no set of exact values can stand for one).

use std::collections::BTreeSet;
use std::ops::Bound;

use super::allowed_value::AllowedValue;

/// Allowed values in normal form: prefixes (without their `*`) none of which starts
/// another, and exact values no prefix allows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedList {
    exact: BTreeSet<String>,
    prefixes: BTreeSet<String>,
}

impl AllowedList {
    /// The normal form of `values`.
    pub fn new(values: &[AllowedValue]) -> Self {
        let mut exact = BTreeSet::new();
        let mut prefixes = BTreeSet::new();
        for value in values {
            if value.is_prefix() {
                prefixes.insert(value.prefix().to_owned());
            } else {
                exact.insert(value.as_str().to_owned());
            }
        }
        Self::normalized(exact, prefixes)
    }

    /// A list from exact values and prefixes (without `*`) already nearly in normal form,
    /// as a compiled policy holds them.
    pub(crate) fn from_normal_parts(
        exact: impl Iterator<Item = String>,
        prefixes: Vec<String>,
    ) -> Self {
        Self::normalized(exact.collect(), prefixes.into_iter().collect())
    }

    /// Drops every prefix another one starts and every exact value a prefix allows.
    fn normalized(exact: BTreeSet<String>, prefixes: BTreeSet<String>) -> Self {
        // In sorted order every string a prefix starts follows it directly, so the last
        // prefix kept is the only one that can cover the next.
        let mut kept: BTreeSet<String> = BTreeSet::new();
        let mut last: Option<String> = None;
        for prefix in prefixes {
            if last.as_deref().is_some_and(|l| prefix.starts_with(l)) {
                continue;
            }
            last = Some(prefix.clone());
            kept.insert(prefix);
        }
        let list = Self {
            exact: BTreeSet::new(),
            prefixes: kept,
        };
        let exact = exact
            .into_iter()
            .filter(|e| list.covering_prefix(e).is_none())
            .collect();
        Self { exact, ..list }
    }

    /// The prefix of this list that `text` starts with, if any. Among antichain prefixes,
    /// only the greatest one not after `text` can be a start of it.
    pub(crate) fn covering_prefix(&self, text: &str) -> Option<&str> {
        self.prefixes
            .range::<str, _>((Bound::Unbounded, Bound::Included(text)))
            .next_back()
            .filter(|p| text.starts_with(p.as_str()))
            .map(String::as_str)
    }

    /// Whether this list allows the image `image` (as the decision matches: byte for byte).
    pub fn allows(&self, image: &str) -> bool {
        self.exact.contains(image) || self.covering_prefix(image).is_some()
    }

    /// The images both lists allow. Work follows the shorter list and the answer, so that
    /// a short repository policy meets a long org-wide one cheaply.
    pub fn intersect(&self, other: &AllowedList) -> AllowedList {
        let (short, long) = if self.len() <= other.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut exact: BTreeSet<String> = BTreeSet::new();
        exact.extend(short.exact.iter().filter(|e| long.allows(e)).cloned());
        let mut prefixes = BTreeSet::new();
        for prefix in &short.prefixes {
            // The long list's exact values this prefix allows.
            exact.extend(starting_with(&long.exact, prefix).cloned());
            if long.covering_prefix(prefix).is_some() {
                prefixes.insert(prefix.clone());
            } else {
                // The long list's prefixes that start with this one are the longer ones.
                prefixes.extend(starting_with(&long.prefixes, prefix).cloned());
            }
        }
        Self::normalized(exact, prefixes)
    }

    /// Its exact values and its prefixes (without `*`).
    pub(crate) fn into_parts(self) -> (BTreeSet<String>, BTreeSet<String>) {
        (self.exact, self.prefixes)
    }

    /// The images either list allows.
    pub(crate) fn union(self, other: AllowedList) -> AllowedList {
        let (mut exact, mut prefixes) = self.into_parts();
        exact.extend(other.exact);
        prefixes.extend(other.prefixes);
        Self::normalized(exact, prefixes)
    }

    /// Whether `value` allows some image this list allows.
    pub fn overlaps(&self, value: &AllowedValue) -> bool {
        if !value.is_prefix() {
            return self.allows(value.as_str());
        }
        let prefix = value.prefix();
        self.covering_prefix(prefix).is_some()
            || starting_with(&self.prefixes, prefix).next().is_some()
            || starting_with(&self.exact, prefix).next().is_some()
    }

    /// How many values the list holds.
    pub fn len(&self) -> usize {
        self.exact.len() + self.prefixes.len()
    }

    /// Whether it allows no image at all.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefixes.is_empty()
    }

    /// The values as a policy writes them, prefixes with their `*`, sorted.
    pub fn values(&self) -> Vec<String> {
        let mut values: Vec<String> = self
            .prefixes
            .iter()
            .map(|p| format!("{p}*"))
            .chain(self.exact.iter().cloned())
            .collect();
        values.sort();
        values
    }
}

/// The strings of `set` that start with `prefix`: in sorted order they follow it directly.
fn starting_with<'a>(
    set: &'a BTreeSet<String>,
    prefix: &'a str,
) -> impl Iterator<Item = &'a String> + 'a {
    set.range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
        .take_while(move |s| s.starts_with(prefix))
}

/// The effective policy of one repository: what the enforcing policies that apply to it
/// allow together (`CompiledPolicySet::effective`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effective {
    /// Whether any enforcing policy with a base-images constraint applies.
    pub constrained: bool,
    /// What they allow together (meaningless when not constrained: then every image is).
    pub allowed: AllowedList,
    /// The ids of those policies, ascending.
    pub policies: Vec<i64>,
}

#[cfg(test)]
#[path = "effective_tests.rs"]
mod tests;
