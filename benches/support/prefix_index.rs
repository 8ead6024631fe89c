//! The prefix lookup `src/policy/policy_index.rs` used before commit `51a71cd`, kept to be
//! measured beside its replacement, the crate's `PrefixTrie`, in `matcher.rs`:
//! [`LengthProbe`] probes a hash set once per distinct prefix length, so a miss costs more
//! as values of new lengths are added; the trie is walked once along the image.

use std::collections::HashSet;

/// The former lookup: prefixes in a hash set, probed once per distinct length, longest first.
pub struct LengthProbe {
    prefixes: HashSet<String>,
    lens: Vec<usize>,
}

impl LengthProbe {
    pub fn new(prefixes: &[&str]) -> Self {
        let prefixes: HashSet<String> = prefixes.iter().map(|p| (*p).to_owned()).collect();
        let mut lens: Vec<usize> = prefixes.iter().map(String::len).collect();
        lens.sort_unstable();
        lens.dedup();
        LengthProbe { prefixes, lens }
    }

    /// The longest prefix of `image` in the set.
    pub fn longest<'a>(&self, image: &'a str) -> Option<&'a str> {
        self.lens
            .iter()
            .rev()
            .filter_map(|&len| image.get(..len))
            .find(|candidate| self.prefixes.contains(*candidate))
    }
}
