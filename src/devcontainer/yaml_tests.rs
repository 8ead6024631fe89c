//! Tests of the bounded YAML reader on its own: the tree it builds, merge
//! keys, and every YAML feature it refuses, in bounded time.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::devcontainer::yaml::{
    parse, Yaml, YamlError, MAX_COMPOSE_FILE_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES,
};

fn string(s: &str) -> Yaml {
    Yaml::String(s.to_owned())
}

fn map(entries: &[(&str, Yaml)]) -> Yaml {
    Yaml::Map(
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// Asserts `text` is refused with a message containing `needle`, on `line`
/// when given.
pub(crate) fn assert_refused(text: &str, needle: &str, line: Option<usize>) -> YamlError {
    let err = parse(text).unwrap_err();
    assert!(err.message.contains(needle), "{err:?} lacks {needle:?}");
    if line.is_some() {
        assert_eq!(err.line, line, "{err:?}");
    }
    err
}

#[test]
fn scalars_sequences_and_mappings() {
    let text = "a: x\nb: [1, -2, 1.5, true, ~, '3']\nc:\n  d: |\n    block\n";
    assert_eq!(
        parse(text),
        Ok(map(&[
            ("a", string("x")),
            (
                "b",
                Yaml::Seq(vec![
                    Yaml::Int("1".into()),
                    Yaml::Int("-2".into()),
                    Yaml::Float(1.5),
                    Yaml::Bool(true),
                    Yaml::Null,
                    string("3"),
                ])
            ),
            ("c", map(&[("d", string("block\n"))])),
        ]))
    );
    assert_eq!(parse(""), Ok(Yaml::Null));
    assert_eq!(parse("# only a comment\n"), Ok(Yaml::Null));
    // One document, marked as such, is fine.
    assert_eq!(parse("---\na: x\n...\n"), Ok(map(&[("a", string("x"))])));
}

#[test]
fn non_string_keys_become_strings() {
    let text = "1: a\ntrue: b\n~: c\n1.5: d\n0x10: e\n";
    assert_eq!(
        parse(text),
        Ok(map(&[
            ("1", string("a")),
            ("true", string("b")),
            ("null", string("c")),
            ("1.5", string("d")),
            ("16", string("e")),
        ]))
    );
    assert_refused("? [a]\n: x\n", "only scalar keys", Some(1));
    assert_refused("? {a: 1}\n: x\n", "only scalar keys", Some(1));
}

#[test]
fn anchors_and_aliases() {
    let text = "base: &img node:18\nother: *img\nlist: &l [a, b]\ncopy: *l\n";
    let list = Yaml::Seq(vec![string("a"), string("b")]);
    assert_eq!(
        parse(text),
        Ok(map(&[
            ("base", string("node:18")),
            ("other", string("node:18")),
            ("list", list.clone()),
            ("copy", list),
        ]))
    );
    assert_refused(
        "a: *nowhere\n",
        "the YAML cannot be read: unknown anchor",
        None,
    );
}

#[test]
fn merge_keys() {
    let text = "\
x-base: &base
  image: node:18
  user: root
x-more: &more
  user: dev
  shell: bash
one:
  <<: *base
  user: me
two:
  user: me
  <<: [*more, *base]
";
    let Ok(Yaml::Map(top)) = parse(text) else {
        panic!("not a map");
    };
    // The mapping's own keys win, wherever the merge key is.
    assert_eq!(
        top["one"],
        map(&[("image", string("node:18")), ("user", string("me"))])
    );
    // In a list, earlier mappings win over later ones.
    assert_eq!(
        top["two"],
        map(&[
            ("image", string("node:18")),
            ("user", string("me")),
            ("shell", string("bash")),
        ])
    );
    // An inline mapping merges too.
    assert_eq!(
        parse("a:\n  <<: {b: 1}\n"),
        Ok(map(&[("a", map(&[("b", Yaml::Int("1".into()))]))]))
    );
    assert_refused(
        "a:\n  <<: x\n",
        "merge key '<<' must name a mapping",
        Some(2),
    );
    assert_refused(
        "a:\n  <<: [x]\n",
        "merge key '<<' must name a mapping",
        Some(2),
    );
    assert_refused(
        "b: &b {c: 1}\na:\n  <<: *b\n  <<: *b\n",
        "duplicate key '<<'",
        Some(4),
    );
}

#[test]
fn duplicate_keys_are_errors_at_their_line() {
    assert_refused(
        "services:\n  app:\n    image: a\n    image: b\n",
        "duplicate key 'image'",
        Some(4),
    );
    // Two keys that only become equal as strings are duplicates too.
    assert_refused("1: a\n'1': b\n", "duplicate key '1'", Some(2));
}

#[test]
fn tags_are_refused() {
    for (text, tag) in [
        ("image: !reset null\n", "'!reset'"),
        ("image: !override x\n", "'!override'"),
        ("ports: !reset []\n", "'!reset'"),
        ("a: !local {b: 1}\n", "'!local'"),
        ("a: ! x\n", "'!'"),
        ("!k key: x\n", "'!k'"),
        ("image: !!binary bm9kZToxOA==\n", "'!!'"),
        ("image: !!str node\n", "'!!'"),
        ("a: [!!binary bm9k]\n", "'!!'"),
        ("{\"a\":!!binary bm9k}\n", "'!!'"),
        ("image: !<tag:yaml.org,2002:binary> bm9k\n", "'!<'"),
        (
            "%TAG !e! tag:yaml.org,2002:\n---\nimage: !e!binary bm9k\n",
            "'%TAG'",
        ),
    ] {
        let err = assert_refused(text, "YAML tags are not supported", None);
        assert!(err.message.contains(tag), "{text:?}: {err:?}");
        assert!(err.line.is_some(), "{text:?}: {err:?}");
    }
    assert_refused("a: 1\nb: !x y\n", "not supported ('!x')", Some(2));
    assert_refused("a: 1\n\nb: !!int 3\n", "not supported ('!!')", Some(3));
    // A `!` inside a word is not a tag.
    assert_eq!(
        parse("a: hey!!you\nb: x!<y\n"),
        Ok(map(&[("a", string("hey!!you")), ("b", string("x!<y"))]))
    );
    assert_eq!(parse("a: \"!x\"\n"), Ok(map(&[("a", string("!x"))])));
}

#[test]
fn several_documents_are_an_error() {
    assert_refused("a: 1\n---\nb: 2\n", "more than one document", None);
    assert_refused("---\na: 1\n---\n", "more than one document", None);
}

#[test]
fn invalid_yaml_names_the_line() {
    let err = assert_refused("services:\n  app:\n    image: [a\n  db: x\n", "line", None);
    assert!(
        err.message.starts_with("the YAML cannot be read: "),
        "{err:?}"
    );
    let err = assert_refused("a: 1\nb: 2\n  c: 3\n", "at line 3", None);
    assert!(err.message.contains("column"), "{err:?}");
    assert_refused("a: \"open\n", "the YAML cannot be read", None);
    assert_refused("\t- x\n", "the YAML cannot be read", None);
}

/// A billion-laughs document of about `size` bytes: each level a list of
/// aliases of the level before.
pub(crate) fn alias_bomb(size: usize) -> String {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    let mut level = 1;
    while text.len() < size {
        let aliases = vec![format!("*a{}", level - 1); 9].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{aliases}]\n"));
        level += 1;
    }
    // Pad with plain entries up to the size: many events, as a real bomb
    // would have to raise yaml_serde's own (event-proportional) limit.
    while text.len() + 16 < size {
        text.push_str(&format!("p{}: x\n", text.len()));
    }
    text
}

#[test]
fn alias_bombs_are_refused_quickly() {
    let started = Instant::now();
    let bomb = alias_bomb(MAX_COMPOSE_FILE_BYTES - 64);
    assert!(bomb.len() > 1_000_000 && bomb.len() <= MAX_COMPOSE_FILE_BYTES);
    let err = assert_refused(&bomb, &format!("bound of {MAX_YAML_NODES} nodes"), None);
    assert!(err.message.contains("aliases"), "{err:?}");
    // A small bomb, too small for yaml_serde's own limit to matter.
    let small = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                 c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                 e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    assert!(parse(small).is_err());
    // Big strings repeated: few nodes, many bytes.
    let big = format!(
        "a: &a \"{}\"\nb: [{}]\n",
        "x".repeat(500_000),
        ["*a"; 10].join(", ")
    );
    assert_refused(&big, "bytes of scalars", None);
    // An alias inside its own anchor.
    assert!(parse("a: &a [*a]\n").is_err());
    assert!(parse("a: &a {b: *a}\n").is_err());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn nesting_is_bounded() {
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(parse(&nested(MAX_YAML_DEPTH)).is_ok());
    assert_refused(
        &nested(MAX_YAML_DEPTH + 1),
        &format!("bound of {MAX_YAML_DEPTH} levels"),
        Some(1),
    );
    let block: String = (0..200)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    assert_refused(&block, "levels", None);
    // Far past yaml_serde's own limit, and deep enough to hurt a recursive
    // parser: still an error.
    assert!(parse(&nested(200_000)).is_err());
    assert!(parse(&"- ".repeat(100_000)).is_err());
}

#[test]
fn size_is_bounded() {
    let big = format!("a: \"{}\"\n", "x".repeat(MAX_COMPOSE_FILE_BYTES));
    let err = assert_refused(&big, "over the bound of 1048576 bytes", None);
    assert_eq!(err.line, None);
    // Keys count as nodes too.
    let many: String = (0..=MAX_YAML_NODES / 2)
        .map(|i| format!("k{i}: v\n"))
        .collect();
    assert_refused(&many, "nodes", None);
}

/// Deep flow nesting hidden behind closings in strings and comments.
#[test]
fn flow_nesting_is_bounded_before_parsing() {
    let started = Instant::now();
    // libyaml is quadratic in flow nesting: these would take minutes.
    let hidden = [
        "{a: \"}\", b: ".repeat(50_000),
        "[']', ".repeat(100_000),
        "{a: \"\\\"}\", b: ".repeat(50_000),
        "{a: 'it''s }', b: ".repeat(50_000),
        "{a: # }\n".repeat(100_000),
        "{\"\":[".repeat(100_000),
        // A quote that may close a string opens a stretch that may be text.
        "[\"a \", [[[[ \"}}}}\", ".repeat(20_000),
    ];
    for text in &hidden {
        let err = assert_refused(text, "may nest flow collections", None);
        assert!(err.message.contains("64 levels"), "{err:?}");
        // The line of the 65th opening.
        assert!(matches!(err.line, Some(1 | 65)), "{err:?}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // Brackets that are really in strings, comments and block scalars do
    // not add up.
    let mut text = String::from("services:\n");
    for i in 0..500 {
        text.push_str(&format!(
            "  s{i}:\n    image: \"a[{i}]\"\n    command: [\"sh\", \"-c\", \"[ -f x ] && echo 'b]'\"]\n    \
             ports: ['80:80'] # a comment [x]\n    entrypoint: |\n      test [ x ] ]] [\n"
        ));
    }
    assert!(parse(&text).is_ok());
    // Unbalanced openings in comments add up, which only ever refuses more.
    assert_refused(
        &"a: 1 # [\n".repeat(65),
        "may nest flow collections",
        Some(65),
    );
}
