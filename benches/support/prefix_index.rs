//! Two ways to find the longest prefix value that an image starts with, measured side by
//! side in `matcher.rs`:
//!
//! - [`LengthProbe`] is what `src/policy/policy_index.rs` does today: one hash probe per
//!   distinct prefix length, so a miss costs more as values of new lengths are added;
//! - [`PrefixTrie`] is the candidate replacement: a byte trie walked along the image once,
//!   which stops at the first byte no prefix continues with, whatever the number of values.

use std::collections::HashSet;

/// Today's lookup: prefixes in a hash set, probed once per distinct length, longest first.
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

/// A radix trie in flat arrays: node `n`'s children are `edges[first..first + count]`,
/// in sorted order, each with the first byte of its label; a child's label (the bytes its
/// edge consumes) lies in `labels`. Chains without a branch are one node, so the 50,000 prefixes of the
/// 100,000-value benchmark take about 2 nodes each.
pub struct PrefixTrie {
    nodes: Vec<Node>,
    edges: Vec<(u8, u32)>,
    labels: Vec<u8>,
}

struct Node {
    label_start: u32,
    label_len: u32,
    first: u32,
    count: u32,
    /// Whether a prefix ends here.
    terminal: bool,
}

impl PrefixTrie {
    pub fn new(prefixes: &[&str]) -> Self {
        let mut sorted: Vec<&[u8]> = prefixes.iter().map(|p| p.as_bytes()).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let mut trie = PrefixTrie {
            nodes: Vec::new(),
            edges: Vec::new(),
            labels: Vec::new(),
        };
        trie.build(&sorted, 0, &[]);
        trie
    }

    /// Adds the node reached by `label` for `group` (sorted, distinct prefixes that agree on
    /// their first `depth` bytes), then its subtrees; returns its index.
    fn build(&mut self, group: &[&[u8]], depth: usize, label: &[u8]) -> u32 {
        let index = self.nodes.len() as u32;
        let terminal = group.first().is_some_and(|p| p.len() == depth);
        let rest = if terminal { &group[1..] } else { group };
        // One child per next byte; within a run, the label runs to the end of what the
        // run's first and last prefixes (so all of them) share.
        let mut runs: Vec<(&[&[u8]], usize)> = Vec::new();
        let mut start = 0;
        while start < rest.len() {
            let byte = rest[start][depth];
            let end = start + rest[start..].partition_point(|p| p[depth] == byte);
            let (a, b) = (rest[start], rest[end - 1]);
            let shared = a.iter().zip(b).take_while(|(x, y)| x == y).count();
            runs.push((&rest[start..end], shared));
            start = end;
        }
        let first = self.edges.len() as u32;
        self.nodes.push(Node {
            label_start: self.labels.len() as u32,
            label_len: label.len() as u32,
            first,
            count: runs.len() as u32,
            terminal,
        });
        self.labels.extend_from_slice(label);
        self.edges
            .extend(runs.iter().map(|(run, _)| (run[0][depth], 0)));
        for (k, (run, shared)) in runs.into_iter().enumerate() {
            let child = self.build(run, shared, &run[0][depth..shared]);
            self.edges[first as usize + k].1 = child;
        }
        index
    }

    /// The longest prefix of `image` in the trie.
    pub fn longest<'a>(&self, image: &'a str) -> Option<&'a str> {
        let bytes = image.as_bytes();
        let mut node = self.nodes.first()?;
        let mut best = node.terminal.then_some(0);
        let mut depth = 0;
        while let Some(&byte) = bytes.get(depth) {
            let children = &self.edges[node.first as usize..(node.first + node.count) as usize];
            let Some(k) = children.iter().position(|&(b, _)| b == byte) else {
                break;
            };
            node = &self.nodes[children[k].1 as usize];
            // The edge's byte matched; the rest of the label must follow.
            depth += 1;
            if node.label_len > 1 {
                let start = node.label_start as usize + 1;
                let rest = &self.labels[start..start + node.label_len as usize - 1];
                if !bytes[depth..].starts_with(rest) {
                    break;
                }
                depth += rest.len();
            }
            if node.terminal {
                best = Some(depth);
            }
        }
        best.map(|len| &image[..len])
    }
}
