//! The prefix values of one policy, as a radix trie walked once along the image: a lookup
//! stops at the first byte no prefix continues with, so its cost depends on the image, not
//! on how many prefixes there are (a miss costs the same at 10 values as at 100,000).
//! `build` recurses once per branching level, at most once per byte of the longest prefix.

/// A radix trie in flat arrays: node `n`'s children are `edges[first..first + count]`,
/// in sorted order, each with the first byte of its label; a child's label (the bytes its
/// edge consumes) lies in `labels`. Chains without a branch are one node.
#[derive(Debug)]
pub struct PrefixTrie {
    nodes: Vec<Node>,
    edges: Vec<(u8, u32)>,
    labels: Vec<u8>,
}

#[derive(Debug)]
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

    /// The prefixes no other prefix of the trie starts: the walk stops at the first
    /// prefix on each path, since everything below it is covered by it.
    pub fn shortest_prefixes(&self) -> Vec<String> {
        let mut found = Vec::new();
        let Some(root) = self.nodes.first() else {
            return found;
        };
        // (node, the bytes that reach it): a terminal's bytes are a whole prefix again.
        let mut stack: Vec<(&Node, Vec<u8>)> = vec![(root, Vec::new())];
        while let Some((node, mut path)) = stack.pop() {
            let start = node.label_start as usize;
            path.extend_from_slice(&self.labels[start..start + node.label_len as usize]);
            if node.terminal {
                found.push(String::from_utf8_lossy(&path).into_owned());
                continue;
            }
            let children = &self.edges[node.first as usize..(node.first + node.count) as usize];
            for &(_, child) in children.iter().rev() {
                stack.push((&self.nodes[child as usize], path.clone()));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trie(prefixes: &[&str]) -> PrefixTrie {
        PrefixTrie::new(prefixes)
    }

    #[test]
    fn finds_the_longest_prefix_of_the_image() {
        let t = trie(&[
            "ghcr.io/",
            "ghcr.io/octo-org/",
            "mcr.microsoft.com/devcontainers/",
        ]);
        assert_eq!(
            t.longest("ghcr.io/octo-org/dev:1"),
            Some("ghcr.io/octo-org/")
        );
        assert_eq!(t.longest("ghcr.io/other/x"), Some("ghcr.io/"));
        assert_eq!(
            t.longest("ghcr.io"),
            None,
            "nothing shorter than a prefix matches"
        );
        assert_eq!(t.longest("docker.io/library/node"), None);
    }

    #[test]
    fn the_empty_prefix_matches_everything() {
        let t = trie(&["", "node:"]);
        assert_eq!(t.longest("python:3"), Some(""));
        assert_eq!(t.longest("node:18"), Some("node:"));
    }

    #[test]
    fn no_prefixes_match_nothing() {
        assert_eq!(trie(&[]).longest("node:18"), None);
    }

    #[test]
    fn the_shortest_prefixes_are_those_no_other_starts() {
        let t = trie(&[
            "ghcr.io/",
            "ghcr.io/octo/",
            "node:1",
            "node:18",
            "nodes:",
            "x",
        ]);
        assert_eq!(
            t.shortest_prefixes(),
            vec!["ghcr.io/", "node:1", "nodes:", "x"]
        );
        assert!(trie(&[]).shortest_prefixes().is_empty());
        assert_eq!(trie(&["", "a"]).shortest_prefixes(), vec![""]);
    }

    #[test]
    fn a_prefix_equal_to_the_image_matches() {
        let t = trie(&["node:18", "node:1"]);
        assert_eq!(t.longest("node:18"), Some("node:18"));
        assert_eq!(t.longest("node:19"), Some("node:1"));
    }
}
