//! The repository stands alone: every link in the README and in `docs/` resolves to a file
//! inside the repository, and none of them names a place outside it.

use std::path::{Path, PathBuf};

fn documents() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files
}

/// The targets of the Markdown links `[text](target)` in `text`.
fn link_targets(text: &str) -> Vec<&str> {
    text.match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &text[at + 2..];
            rest.find(')').map(|end| rest[..end].trim())
        })
        .collect()
}

#[test]
fn every_link_in_the_readme_and_docs_resolves_inside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .canonicalize()
        .unwrap();
    let mut checked = 0;
    for document in documents() {
        let text = std::fs::read_to_string(&document).unwrap();
        assert!(
            !text.contains("../shared"),
            "{} names a file outside the repository",
            document.display()
        );
        for target in link_targets(&text) {
            let path = target.split('#').next().unwrap_or_default();
            assert!(
                !target.contains("://"),
                "{}: {target} leaves the repository",
                document.display()
            );
            if path.is_empty() {
                continue;
            }
            let resolved = document.parent().unwrap().join(path);
            let resolved = resolved
                .canonicalize()
                .unwrap_or_else(|_| panic!("{}: {target} names no file", document.display()));
            assert!(
                resolved.starts_with(&root),
                "{}: {target} is outside the repository",
                document.display()
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 3,
        "the README links the API guide, openapi.yaml and the benchmarks"
    );
}

#[test]
fn link_targets_are_read_from_markdown() {
    assert_eq!(
        link_targets("see [the guide](docs/api.md) and [x]( b.md#part )."),
        ["docs/api.md", "b.md#part"]
    );
}
