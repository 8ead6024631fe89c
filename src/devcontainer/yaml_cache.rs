//! Parsed compose files kept by their text, so that the same files asked about again (every
//! codespace of a repository, every CI check of a branch) are not parsed again: parsing is
//! most of a Compose preflight's cost. Only small results are kept, and few of them, so the
//! cache stays within a few megabytes whatever is sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::devcontainer::yaml::{self, Yaml, YamlError};

/// Files longer than this are parsed every time.
const MAX_CACHED_TEXT: usize = 16 * 1024;

/// Trees of more nodes than this (aliases can expand a short text) are not kept.
const MAX_CACHED_NODES: usize = 2_000;

/// How many files are kept; when full, the cache starts over.
const MAX_ENTRIES: usize = 64;

static CACHE: Mutex<Option<HashMap<String, Arc<Yaml>>>> = Mutex::new(None);

/// [`yaml::parse`], answered from the cache when the same text was parsed before. Errors
/// are not kept: a refused file is refused again, by the same bounds.
pub(crate) fn parse(text: &str) -> Result<Arc<Yaml>, YamlError> {
    if text.len() > MAX_CACHED_TEXT {
        return yaml::parse(text).map(Arc::new);
    }
    if let Some(tree) = lock().as_ref().and_then(|cache| cache.get(text).cloned()) {
        return Ok(tree);
    }
    let tree = Arc::new(yaml::parse(text)?);
    if nodes(&tree, MAX_CACHED_NODES + 1) <= MAX_CACHED_NODES {
        let mut cache = lock();
        let cache = cache.get_or_insert_with(HashMap::new);
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(text.to_owned(), Arc::clone(&tree));
    }
    Ok(tree)
}

fn lock() -> std::sync::MutexGuard<'static, Option<HashMap<String, Arc<Yaml>>>> {
    // A panic while holding the lock leaves a map that is still whole.
    CACHE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The nodes of `tree`, counted up to `limit`.
fn nodes(tree: &Yaml, limit: usize) -> usize {
    let mut count = 0;
    let mut stack = vec![tree];
    while let Some(node) = stack.pop() {
        count += 1;
        if count >= limit {
            return limit;
        }
        match node {
            Yaml::Seq(items) => stack.extend(items),
            Yaml::Map(entries) => stack.extend(entries.values()),
            _ => {}
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_gives_the_same_tree_and_errors_stay_errors() {
        let text = "services:\n  app:\n    image: node:18 # cache test one\n";
        let first = parse(text).unwrap();
        let second = parse(text).unwrap();
        assert!(Arc::ptr_eq(&first, &second), "kept and reused");
        assert_eq!(*first, yaml::parse(text).unwrap());
        let bad = "services: [ # cache test two\n";
        assert!(parse(bad).is_err());
        assert!(parse(bad).is_err());
    }

    #[test]
    fn large_expansions_are_not_kept() {
        let text = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c]\n";
        let first = parse(text).unwrap();
        let second = parse(text).unwrap();
        assert!(!Arc::ptr_eq(&first, &second), "over MAX_CACHED_NODES nodes");
        assert!(nodes(&first, usize::MAX) > MAX_CACHED_NODES);
        assert_eq!(nodes(&first, 10), 10, "counting stops at the limit");
    }
}
