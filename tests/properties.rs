//! Property tests for the pure parts of the service: the image reference and allowed value
//! parsers, the policy matcher (checked against a naive reference implementation), and the
//! devcontainer.json / Dockerfile reader. Every property also checks that nothing panics on
//! hostile input: unicode look-alikes, control characters, very long or deeply nested text.
//!
//! Case counts are kept modest (proptest runs without `fork` or `timeout` here) so that the
//! whole binary stays fast on a small machine.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base_image_policy::devcontainer::{ConfigError, ConfiguredImage, Sources};
use base_image_policy::policy::{
    AllowedValue, AllowedValueError, CompiledPolicySet, ImageRef, ImageRefError, PolicyRules,
    Target, MAX_ALLOWED_VALUE_LEN, MAX_IMAGE_REF_LEN,
};
use base_image_policy::routes::{EvaluateResponse, LimitsResponse};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::Config as ProptestConfig;
use serde_json::{json, Map, Value};

/// A proptest configuration with `cases` cases that writes no regression files (the
/// failing input is printed in the panic message instead).
fn cases(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Reads `devcontainer` with `dockerfile` and no compose files.
fn read_config(
    devcontainer: Option<&Value>,
    dockerfile: Option<&str>,
) -> Result<ConfiguredImage, ConfigError> {
    base_image_policy::devcontainer::read_config(Sources {
        devcontainer,
        dockerfile,
        compose_files: None,
    })
}

// ---------------------------------------------------------------------------------------
// Hostile text
// ---------------------------------------------------------------------------------------

/// Characters that break parsers: look-alikes, invisible and control characters, the
/// grammar's own punctuation, and the odd case-folding letters.
const NASTY_CHARS: &[char] = &[
    '\0', '\t', '\n', '\r', ' ', '\u{b}', '\u{c}', '\u{1b}', '\u{7f}', '\u{85}', '\u{a0}',
    '\u{200b}', '\u{200d}', '\u{202e}', '\u{2028}', '\u{feff}', '\u{fffd}', '\u{430}', '\u{43e}',
    '\u{435}', '\u{440}', '\u{441}', '\u{ff1a}', '\u{ff0f}', '\u{2024}', '\u{212a}', 'ı', 'ſ', 'é',
    '😀', 'A', 'Z', '0', '9', '.', '_', '-', '/', ':', '@', '[', ']', '+', '*', '$', '{', '}', '"',
    '\'', '\\', '`', '#', '=', ',', '<',
];

fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('a', 'z'),
        3 => select(NASTY_CHARS),
        1 => any::<char>(),
    ]
}

/// Arbitrary strings, biased towards the characters that matter, sometimes very long.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        4 => vec(hostile_char(), 0..48).prop_map(String::from_iter),
        1 => vec(hostile_char(), 0..3000).prop_map(String::from_iter),
        2 => (valid_image(), vec((any::<Index>(), hostile_char()), 1..4)).prop_map(
            |(image, edits)| mutate(&image, &edits)
        ),
    ]
}

/// Inserts each `(position, char)` of `edits` into `s`.
fn mutate(s: &str, edits: &[(Index, char)]) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for (at, c) in edits {
        let at = at.index(chars.len() + 1);
        chars.insert(at, *c);
    }
    chars.into_iter().collect()
}

// ---------------------------------------------------------------------------------------
// Valid image references, per the OCI distribution grammar
// ---------------------------------------------------------------------------------------

/// `[a-z0-9]+ (separator [a-z0-9]+)*`
fn path_component() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,6}((\\.|_|__|-{1,3})[a-z0-9]{1,6}){0,2}"
}

fn domain() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9]([a-zA-Z0-9-]{0,4}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,4}[a-zA-Z0-9])?){1,3}(:[0-9]{1,5})?",
        "localhost(:[0-9]{1,5})?",
        // An IPv6 address always has a ':', which is what marks `[...]` as a registry.
        "\\[[0-9a-f]{0,4}(:[0-9a-f]{0,4}){1,7}\\](:[0-9]{1,5})?",
    ]
}

/// A reference the grammar accepts: `[domain/]path[:tag][@digest]`.
fn valid_image() -> impl Strategy<Value = String> {
    (
        proptest::option::of(domain()),
        vec(path_component(), 1..4),
        proptest::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"),
        proptest::option::of("(sha256|sha512|sha256\\+b64u|multihash\\.v2)-?:[0-9a-fA-F]{32,70}"),
    )
        .prop_map(|(domain, mut path, tag, digest)| {
            let mut image = String::new();
            if let Some(domain) = domain {
                image.push_str(&domain);
                image.push('/');
            } else if path.len() > 1 {
                // Like Docker's splitDockerDomain, the service takes a first part with a
                // '.' for a registry (so `my_org.io/app` is refused, deliberately): keep
                // the first path part free of dots when there is no registry.
                path[0] = path[0].replace('.', "-");
            }
            image.push_str(&path.join("/"));
            if let Some(tag) = tag {
                image.push(':');
                image.push_str(&tag);
            }
            if let Some(digest) = digest {
                image.push('@');
                image.push_str(&digest.replace("-:", ":"));
            }
            image
        })
}

/// The part of a reference before its tag and digest.
fn name_part(image: &str) -> &str {
    let before_digest = image.split_once('@').map_or(image, |(name, _)| name);
    match (before_digest.rfind(':'), before_digest.rfind('/')) {
        (Some(colon), slash) if slash.is_none_or(|slash| colon > slash) => &before_digest[..colon],
        _ => before_digest,
    }
}

/// The tag of a reference, if it has one.
fn tag_part(image: &str) -> Option<&str> {
    let before_digest = image.split_once('@').map_or(image, |(name, _)| name);
    let name = name_part(image);
    before_digest.get(name.len() + 1..)
}

// ---------------------------------------------------------------------------------------
// ImageRef and AllowedValue parsers
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(512))]

    /// Whatever comes in, parsing answers; what it accepts is kept as written and obeys
    /// the grammar's hard rules.
    #[test]
    fn image_ref_parse_never_panics_and_accepts_only_grammar_text(s in hostile_string()) {
        if let Ok(image) = ImageRef::parse(&s) {
            prop_assert_eq!(image.as_str(), s.as_str());
            prop_assert_eq!(image.to_string(), s.clone());
            prop_assert!(!s.is_empty() && s.len() <= MAX_IMAGE_REF_LEN);
            prop_assert!(s.is_ascii(), "non-ASCII accepted: {:?}", s);
            prop_assert!(
                s.chars().all(|c| c.is_ascii_alphanumeric() || "._-/:@[]+".contains(c)),
                "a character outside the grammar was accepted: {:?}", s
            );
            prop_assert!(!name_part(&s).contains(".."), "'..' accepted in the name: {:?}", s);
            prop_assert!(name_part(&s).len() <= 255);
            if let Some(tag) = tag_part(&s) {
                prop_assert!(!tag.is_empty() && tag.len() <= 128, "tag {:?}", tag);
            }
            if !name_part(&s).contains('/') {
                prop_assert!(
                    !name_part(&s).bytes().any(|b| b.is_ascii_uppercase()),
                    "uppercase repository accepted: {:?}", s
                );
            }
        }
    }

    /// Any string of any length, any char.
    #[test]
    fn image_ref_parse_never_panics_on_arbitrary_strings(s in any::<String>()) {
        let _ = ImageRef::parse(&s);
    }

    /// Everything the grammar allows is accepted, unchanged.
    #[test]
    fn valid_references_are_accepted_as_written(image in valid_image()) {
        let parsed = ImageRef::parse(&image);
        prop_assert!(parsed.is_ok(), "{:?} refused: {:?}", image, parsed);
        let parsed = parsed.unwrap();
        prop_assert_eq!(parsed.as_str(), image.as_str());
    }

    /// An uppercase letter in the repository path, a `..`, a look-alike, an invisible or a
    /// control character, or a tag over 128 characters: never a valid reference.
    #[test]
    fn breaking_a_valid_reference_is_always_refused(
        path in vec(path_component(), 1..4),
        domain in proptest::option::of(domain()),
        at in any::<Index>(),
        bad in select(&[
            '\0', '\t', '\n', ' ', '\u{7f}', '\u{85}', '\u{a0}', '\u{200b}', '\u{202e}',
            '\u{feff}', '\u{430}', '\u{43e}', '\u{ff1a}', '\u{212a}', 'ı', '*', '#', '!',
        ][..]),
        breakage in 0..4u8,
    ) {
        let prefix = domain.map(|d| format!("{d}/")).unwrap_or_default();
        let (last, earlier) = path.split_last().expect("at least one component");
        let head = format!("{prefix}{}", earlier.iter().map(|c| format!("{c}/")).collect::<String>());
        let broken = match breakage {
            // Uppercase in the last path component (never mistaken for a registry).
            0 => {
                let mut chars: Vec<char> = last.chars().collect();
                let letters: Vec<usize> = chars.iter().enumerate()
                    .filter(|(_, c)| c.is_ascii_lowercase()).map(|(i, _)| i).collect();
                if letters.is_empty() {
                    format!("{head}{last}X")
                } else {
                    let i = letters[at.index(letters.len())];
                    chars[i] = chars[i].to_ascii_uppercase();
                    format!("{head}{}", chars.into_iter().collect::<String>())
                }
            }
            1 => format!("{head}{last}..x"),
            2 => mutate(&format!("{head}{last}:18"), &[(at, bad)]),
            _ => format!("{head}{last}:{}", "t".repeat(129 + at.index(64))),
        };
        let parsed = ImageRef::parse(&broken);
        prop_assert!(parsed.is_err(), "{:?} accepted", broken);
        // And no exact allowed value can be made of it either (a trailing `*` makes a
        // prefix value, which is fine).
        if !broken.ends_with('*') {
            prop_assert!(AllowedValue::parse(&broken).is_err(), "{:?} accepted as a value", broken);
        }
    }

    /// Allowed values: never a panic; accepted ones are kept as written, have at most a
    /// trailing `*`, and an exact one is a valid image reference.
    #[test]
    fn allowed_value_parse_never_panics_and_keeps_its_invariants(
        s in prop_oneof![hostile_string(), hostile_string().prop_map(|s| format!("{s}*"))]
    ) {
        match AllowedValue::parse(&s) {
            Ok(value) => {
                prop_assert_eq!(value.as_str(), s.as_str());
                prop_assert!(!s.is_empty() && s.len() <= MAX_ALLOWED_VALUE_LEN);
                prop_assert!(s.is_ascii());
                prop_assert!(!s.chars().any(|c| c.is_whitespace() || c.is_control()));
                prop_assert_eq!(value.is_prefix(), s.ends_with('*'));
                prop_assert_eq!(s.matches('*').count(), usize::from(value.is_prefix()));
                prop_assert_eq!(value.prefix(), s.strip_suffix('*').unwrap_or(&s));
                if !value.is_prefix() {
                    prop_assert!(ImageRef::parse(&s).is_ok());
                }
            }
            Err(AllowedValueError::InvalidImageRef(e)) => {
                prop_assert!(!s.contains('*'));
                prop_assert_eq!(ImageRef::parse(&s).err(), Some(e));
            }
            Err(_) => {}
        }
    }

    /// Matching one value against one image is plain string equality or `starts_with`.
    #[test]
    fn a_value_matches_exactly_or_by_prefix(value in small_value(), image in small_image()) {
        let parsed = AllowedValue::parse(&value).expect("generated values are valid");
        let image_ref = ImageRef::parse(&image).expect("generated images are valid");
        prop_assert_eq!(parsed.matches(&image_ref), naive_match(&value, &image));
    }
}

#[test]
fn image_ref_errors_name_what_is_wrong() {
    let tag = format!("node:{}", "a".repeat(129));
    let cases = [
        ("Node:18", ImageRefError::UppercasePath),
        ("n\u{43e}de:18", ImageRefError::NonAscii),
        ("node\0:18", ImageRefError::ControlCharacter),
        ("node\t:18", ImageRefError::Whitespace),
        ("node:18\n", ImageRefError::Whitespace),
        ("node\u{200b}:18", ImageRefError::NonAscii),
        (tag.as_str(), ImageRefError::TagTooLong),
    ];
    for (input, expected) in cases {
        assert_eq!(ImageRef::parse(input), Err(expected), "{input:?}");
    }
    assert!(matches!(
        ImageRef::parse("a..b"),
        Err(ImageRefError::InvalidPathComponent(_))
    ));
    assert_eq!(
        ImageRef::parse(&"a".repeat(10 * MAX_IMAGE_REF_LEN)),
        Err(ImageRefError::TooLong)
    );
}

// ---------------------------------------------------------------------------------------
// The policy matcher against a naive reference implementation
// ---------------------------------------------------------------------------------------

const REPOS: &[&str] = &["repo-a", "repo-b", "repo-c"];

/// Images from a small alphabet, so that values and images actually meet.
fn small_image() -> impl Strategy<Value = String> {
    (
        select(
            &[
                "",
                "ghcr.io/",
                "docker.io/",
                "mcr.microsoft.com/",
                "localhost:5000/",
            ][..],
        ),
        select(&["a", "a/b", "ab", "node", "node/x", "library/node"][..]),
        select(
            &[
                "",
                ":1",
                ":18",
                ":18-alpine",
                ":latest",
                "@sha256:0123456789abcdef0123456789abcdef",
                ":1@sha256:0123456789abcdef0123456789abcdef",
            ][..],
        ),
    )
        .prop_map(|(registry, path, tail)| format!("{registry}{path}{tail}"))
}

/// An exact value (an image of the same alphabet) or a prefix of one followed by `*`.
fn small_value() -> impl Strategy<Value = String> {
    prop_oneof![
        small_image(),
        (small_image(), any::<Index>()).prop_map(|(image, cut)| {
            let cut = cut.index(image.len() + 1);
            format!("{}*", &image[..cut])
        }),
    ]
}

/// The contract's rule, written as plainly as possible.
fn naive_match(value: &str, image: &str) -> bool {
    match value.strip_suffix('*') {
        Some(prefix) => image.starts_with(prefix),
        None => value == image,
    }
}

/// The value the contract says a policy reports: an exact match, else the longest prefix.
fn naive_matched_value(values: &[String], image: &str) -> Option<String> {
    if let Some(exact) = values.iter().find(|v| !v.ends_with('*') && *v == image) {
        return Some(exact.clone());
    }
    values
        .iter()
        .filter(|v| v.ends_with('*') && naive_match(v, image))
        .max_by_key(|v| v.len())
        .cloned()
}

/// A policy as a test writes it: `repos` None is org-wide; `values` None constrains nothing.
#[derive(Debug, Clone)]
struct Spec {
    id: i64,
    repos: Option<Vec<String>>,
    values: Option<Vec<String>>,
}

impl Spec {
    fn applies_to(&self, repo: &str) -> bool {
        self.values.is_some()
            && self
                .repos
                .as_ref()
                .is_none_or(|repos| repos.iter().any(|r| r == repo))
    }

    fn rules(&self) -> PolicyRules {
        PolicyRules {
            constraints: Default::default(),
            id: self.id,
            name: format!("policy {}", self.id),
            enforcement: Default::default(),
            target: match &self.repos {
                None => Target::AllRepositories,
                Some(repos) => Target::SelectedRepositories(repos.clone()),
            },
            base_images: self.values.as_ref().map(|values| {
                values
                    .iter()
                    .map(|v| AllowedValue::parse(v).expect("generated values are valid"))
                    .collect()
            }),
        }
    }
}

fn spec_without_id() -> impl Strategy<Value = (Option<Vec<String>>, Option<Vec<String>>)> {
    (
        prop_oneof![
            1 => Just(None),
            2 => vec(select(REPOS).prop_map(str::to_owned), 1..4).prop_map(Some),
        ],
        prop_oneof![
            1 => Just(None),
            6 => vec(small_value(), 0..5).prop_map(Some),
        ],
    )
}

/// Up to 7 policies with distinct ids in no particular order.
fn specs() -> impl Strategy<Value = Vec<Spec>> {
    vec(spec_without_id(), 0..7).prop_flat_map(|parts| {
        let ids: Vec<i64> = (1..=parts.len() as i64).map(|i| i * 10).collect();
        (Just(parts), Just(ids).prop_shuffle()).prop_map(|(parts, ids)| {
            parts
                .into_iter()
                .zip(ids)
                .map(|((repos, values), id)| Spec { id, repos, values })
                .collect()
        })
    })
}

fn compile(specs: &[Spec]) -> CompiledPolicySet {
    CompiledPolicySet::compile(specs.iter().map(Spec::rules).collect())
}

fn repo() -> impl Strategy<Value = &'static str> {
    select(&["repo-a", "repo-b", "repo-c", "repo-z"][..])
}

proptest! {
    #![proptest_config(cases(512))]

    /// The decision equals the naive reading of the contract: allowed exactly when every
    /// applicable policy with base_images has a value equal to the image or a prefix of
    /// it before its `*`; one verdict per applicable constrained policy, by id.
    #[test]
    fn decisions_agree_with_a_naive_reference(
        specs in specs(), repo in repo(), image in small_image()
    ) {
        let set = compile(&specs);
        let image_ref = ImageRef::parse(&image).expect("generated images are valid");
        let decision = set.decide(repo, &image_ref);

        let mut applicable: Vec<&Spec> = specs.iter().filter(|s| s.applies_to(repo)).collect();
        applicable.sort_by_key(|s| s.id);
        let allows = |s: &Spec| s.values.as_ref().is_some_and(|vs| vs.iter().any(|v| naive_match(v, &image)));

        // allowed implies every applicable policy has a matching value ...
        if decision.allowed {
            for spec in &applicable {
                prop_assert!(allows(spec), "allowed although policy {} has no matching value", spec.id);
            }
        }
        // ... and conversely.
        let every_policy_allows = applicable.iter().all(|s| allows(s));
        prop_assert_eq!(decision.allowed, every_policy_allows);

        prop_assert_eq!(decision.verdicts.len(), applicable.len());
        prop_assert_eq!(set.policy_count(), specs.len());
        for (verdict, spec) in decision.verdicts.iter().zip(&applicable) {
            prop_assert_eq!(verdict.policy_id, spec.id);
            prop_assert_eq!(verdict.policy_name, format!("policy {}", spec.id));
            prop_assert_eq!(verdict.allowed, allows(spec));
            let values = spec.values.as_deref().unwrap_or_default();
            prop_assert_eq!(
                verdict.matched_value.map(|m| m.to_string()),
                naive_matched_value(values, &image)
            );
        }
        let refusing: Vec<i64> = applicable.iter().filter(|s| !allows(s)).map(|s| s.id).collect();
        prop_assert_eq!(decision.refusing_policy_ids(), refusing.clone());
        // The creation path's shortcut says the same.
        prop_assert_eq!(set.refused_by(repo, &image_ref), refusing);
    }

    /// The effective policy is the decision as one list: every image of the alphabet is
    /// allowed by it exactly when the decision allows it, every listed value is allowed
    /// (exact ones, and images a listed prefix starts), and no listed value covers another.
    #[test]
    fn the_effective_policy_allows_exactly_what_the_decision_allows(
        specs in specs(), repo in repo(), images in vec(small_image(), 1..24)
    ) {
        let set = compile(&specs);
        let effective = set.effective(repo);
        let applicable = specs.iter().filter(|s| s.applies_to(repo)).count();
        prop_assert_eq!(effective.constrained, applicable > 0);
        let listed = effective.allowed.values();
        for image in &images {
            let image_ref = ImageRef::parse(image).expect("generated images are valid");
            let decided = set.decide(repo, &image_ref).allowed;
            let by_list = !effective.constrained || listed.iter().any(|v| naive_match(v, image));
            prop_assert_eq!(by_list, decided, "{} in {}: {:?}", image, repo, listed);
            prop_assert_eq!(effective.allowed.allows(image), effective.constrained && decided);
            for value in listed.iter().filter(|v| v.ends_with('*') && naive_match(v, image)) {
                prop_assert!(decided, "{} lists {} but {} is refused", repo, value, image);
            }
        }
        for value in listed.iter().filter(|v| !v.ends_with('*')) {
            let image_ref = ImageRef::parse(value).expect("exact values are images");
            prop_assert!(set.decide(repo, &image_ref).allowed, "{} lists {}", repo, value);
        }
        for (i, a) in listed.iter().enumerate() {
            for b in listed.iter().skip(i + 1) {
                prop_assert!(!naive_match(a, b.trim_end_matches('*')) && !naive_match(b, a.trim_end_matches('*')),
                    "{} and {} overlap in {:?}", a, b, listed);
            }
        }
    }

    /// More policies only narrow: adding one never turns a refusal into an allowance, and
    /// never changes what the others said.
    #[test]
    fn adding_a_policy_never_widens(
        specs in specs(),
        extra in spec_without_id(),
        repo in repo(),
        image in small_image(),
    ) {
        let image_ref = ImageRef::parse(&image).expect("generated images are valid");
        let before_set = compile(&specs);
        let before = before_set.decide(repo, &image_ref);
        let mut more = specs.clone();
        more.push(Spec { id: 5, repos: extra.0, values: extra.1 });
        let after_set = compile(&more);
        let after = after_set.decide(repo, &image_ref);
        if !before.allowed {
            prop_assert!(!after.allowed, "adding a policy allowed {:?}", image);
        }
        if after.allowed {
            prop_assert!(before.allowed);
        }
        let others: Vec<_> = after.verdicts.iter().filter(|v| v.policy_id != 5).cloned().collect();
        prop_assert_eq!(others, before.verdicts);
    }

    /// A policy without a base_images constraint changes nothing; the order policies come
    /// in changes nothing.
    #[test]
    fn unconstrained_policies_and_order_change_nothing(
        specs in specs(),
        repos in proptest::option::of(vec(select(REPOS).prop_map(str::to_owned), 1..3)),
        repo in repo(),
        image in small_image(),
    ) {
        let image_ref = ImageRef::parse(&image).expect("generated images are valid");
        let set = compile(&specs);
        let before = set.decide(repo, &image_ref);

        let mut more = specs.clone();
        more.push(Spec { id: 5, repos, values: None });
        let more_set = compile(&more);
        prop_assert_eq!(&more_set.decide(repo, &image_ref), &before);

        let mut reversed = specs.clone();
        reversed.reverse();
        let reversed_set = compile(&reversed);
        prop_assert_eq!(&reversed_set.decide(repo, &image_ref), &before);

        // No applicable policy: everything is allowed, with no verdicts.
        if !specs.iter().any(|s| s.applies_to(repo)) {
            prop_assert!(before.allowed && before.verdicts.is_empty());
        }
    }

    /// A repository key the set has never heard of is judged by the org-wide policies only,
    /// whatever odd text it holds.
    #[test]
    fn unknown_repository_keys_see_only_org_wide_policies(
        specs in specs(), repo in hostile_string(), image in small_image()
    ) {
        prop_assume!(!REPOS.contains(&repo.as_str()));
        let image_ref = ImageRef::parse(&image).expect("generated images are valid");
        let set = compile(&specs);
        let decision = set.decide(&repo, &image_ref);
        let org_wide = specs.iter().filter(|s| s.repos.is_none() && s.values.is_some()).count();
        prop_assert_eq!(decision.verdicts.len(), org_wide);
    }

    /// The evaluate answer says what the decision says, and every policy name comes back
    /// as written, whatever odd text it holds.
    #[test]
    fn the_evaluate_answer_carries_the_decision_and_the_names_as_written(
        specs in specs(), names in vec(hostile_string(), 7), repo in repo(), image in small_image()
    ) {
        let image_ref = ImageRef::parse(&image).expect("generated images are valid");
        let set = CompiledPolicySet::compile(
            specs
                .iter()
                .zip(names)
                .map(|(spec, name)| PolicyRules { name, ..spec.rules() })
                .collect(),
        );
        let decision = set.decide(repo, &image_ref);
        let limits = LimitsResponse::new(
            &set.limits(repo),
            &base_image_policy::machines::MachineCatalog::github_linux(),
        );
        let text = serde_json::to_string(&EvaluateResponse::new(&decision, &image_ref, None, limits))
            .expect("serializes");
        let answer: Value = serde_json::from_str(&text).expect("the answer is JSON");
        prop_assert_eq!(&answer["allowed"], &json!(decision.allowed));
        prop_assert_eq!(answer.get("message").is_some(), !decision.allowed);
        let verdicts = answer["policies"].as_array().expect("a list");
        prop_assert_eq!(verdicts.len(), decision.verdicts.len());
        for (entry, verdict) in verdicts.iter().zip(&decision.verdicts) {
            prop_assert_eq!(&entry["id"], &json!(verdict.policy_id));
            prop_assert_eq!(&entry["name"], &json!(verdict.policy_name));
            prop_assert_eq!(&entry["allowed"], &json!(verdict.allowed));
        }
    }
}

// ---------------------------------------------------------------------------------------
// devcontainer.json and Dockerfile reader
// ---------------------------------------------------------------------------------------

/// Keys the reader looks at, and a few it does not.
const KEYS: &[&str] = &[
    "image",
    "build",
    "dockerfile",
    "dockerFile",
    "args",
    "target",
    "context",
    "name",
    "features",
    "Image",
    "",
];

fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(KEYS).prop_map(str::to_owned),
        1 => hostile_string(),
    ]
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        small_image().prop_map(Value::String),
        hostile_string().prop_map(Value::String),
        dockerfile_soup().prop_map(Value::String),
    ]
}

/// Arbitrary JSON, with the keys the reader cares about showing up often.
fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            btree_map(json_key(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Checks what every answer of `read_config` must look like.
fn check_outcome(outcome: &Result<ConfiguredImage, ConfigError>) -> Result<(), TestCaseError> {
    match outcome {
        Ok(ConfiguredImage::Image(image)) => prop_assert!(!image.is_empty()),
        Ok(ConfiguredImage::Dockerfile { base_image }) => prop_assert!(!base_image.is_empty()),
        Ok(ConfiguredImage::Compose { service, image }) => {
            prop_assert!(!service.is_empty() && !image.is_empty())
        }
        Ok(ConfiguredImage::ComposeBuild {
            service,
            base_image,
        }) => prop_assert!(!service.is_empty() && !base_image.is_empty()),
        Ok(ConfiguredImage::Default) => {}
        Err(e) => {
            prop_assert!(
                matches!(e.field, "devcontainer" | "dockerfile" | "compose_files"),
                "field {:?}",
                e.field
            );
            prop_assert!(!e.message.is_empty());
            prop_assert_eq!(e.to_string(), e.message.clone());
        }
    }
    Ok(())
}

/// Writes `value` as JSONC, sprinkling comments, blank space and trailing commas where
/// `choices` says so.
fn to_jsonc(value: &Value, choices: &mut impl Iterator<Item = u8>, out: &mut String) {
    fn gap(choices: &mut impl Iterator<Item = u8>, out: &mut String) {
        match choices.next().unwrap_or(0) % 6 {
            0 | 1 => {}
            2 => out.push_str(" \n\t"),
            3 => out.push_str("// a comment with \"quotes\", /* and */ and // \n"),
            4 => out.push_str("/* a block\n comment with // inside, and \"*\" */"),
            _ => out.push_str("\r\n"),
        }
    }
    fn trailing_comma(choices: &mut impl Iterator<Item = u8>, out: &mut String) {
        if choices.next().unwrap_or(0) % 2 == 0 {
            out.push(',');
            gap(choices, out);
        }
    }
    gap(choices, out);
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                to_jsonc(item, choices, out);
            }
            if !items.is_empty() {
                trailing_comma(choices, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                gap(choices, out);
                out.push_str(&Value::String(key.clone()).to_string());
                gap(choices, out);
                out.push(':');
                to_jsonc(item, choices, out);
            }
            if !map.is_empty() {
                trailing_comma(choices, out);
            }
            out.push('}');
        }
        leaf => out.push_str(&leaf.to_string()),
    }
    gap(choices, out);
}

/// Text made of JSONC tokens, so that the scanner's corner cases come up often.
fn jsonc_soup() -> impl Strategy<Value = String> {
    vec(
        select(
            &[
                "{",
                "}",
                "[",
                "]",
                ",",
                ":",
                "\"",
                "\\",
                "\"image\"",
                "\"build\"",
                "\"dockerfile\"",
                "\"node:18\"",
                "//",
                "/*",
                "*/",
                "*",
                "/",
                "\n",
                "\r",
                " ",
                "1",
                "-",
                "e9",
                "null",
                "true",
                "\u{feff}",
                "\u{0}",
                "\"\\u0000\"",
                "\"\\ud800\"",
                "\u{2028}",
                "\u{430}",
            ][..],
        ),
        0..64,
    )
    .prop_map(|tokens| tokens.concat())
}

/// Text made of Dockerfile pieces: keywords, substitutions, stage names, quotes, escapes,
/// here-documents and continuations.
fn dockerfile_soup() -> impl Strategy<Value = String> {
    let word = select(
        &[
            "FROM",
            "from",
            "ARG",
            "RUN",
            "COPY",
            "ADD",
            "ENV",
            "AS",
            "as",
            "node:18",
            "ghcr.io/a/b:1",
            "base",
            "Base",
            "stage",
            "scratch",
            "$A",
            "${A}",
            "${A:-node}",
            "${A:+x}",
            "${A-${B}}",
            "${",
            "}",
            "$",
            "A",
            "A=1",
            "A=node:18",
            "B=$A",
            "--platform=$BUILDPLATFORM",
            "--from=base",
            "<<EOF",
            "<<-EOF",
            "<<'EOF'",
            "EOF",
            "\"",
            "'",
            "\\",
            "`",
            "=",
            "#",
            "# escape=`",
            "# syntax=x",
            "\t",
            "\u{0}",
            "\u{430}",
            "\u{feff}",
            "\r",
        ][..],
    );
    let line = (vec(word, 0..6), any::<bool>()).prop_map(|(words, continued)| {
        let mut line = words.join(" ");
        if continued {
            line.push_str(" \\");
        }
        line
    });
    vec(line, 0..24).prop_map(|lines| lines.join("\n"))
}

fn dockerfile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => dockerfile_soup(),
        1 => hostile_string(),
        1 => any::<String>(),
    ]
}

fn build_section() -> impl Strategy<Value = Value> {
    (
        select(&["Dockerfile", "dockerfile", ""][..]),
        proptest::option::of(btree_map(
            select(&["A", "B", "IMG", "a"][..]).prop_map(str::to_owned),
            prop_oneof![
                4 => select(&["node:18", "", "$A", "x y", "\u{0}", "Node"][..])
                    .prop_map(|s| Value::String(s.to_owned())),
                1 => json_leaf(),
            ],
            0..3,
        )),
        proptest::option::of(prop_oneof![
            select(&["base", "Base", "stage", "", "nope"][..]).prop_map(|s| json!(s)),
            json_leaf(),
        ]),
    )
        .prop_map(|(file, args, target)| {
            let mut build = Map::new();
            build.insert("dockerfile".into(), json!(file));
            if let Some(args) = args {
                build.insert("args".into(), Value::Object(args.into_iter().collect()));
            }
            if let Some(target) = target {
                build.insert("target".into(), target);
            }
            Value::Object(build)
        })
}

proptest! {
    #![proptest_config(cases(384))]

    /// Arbitrary JSON values, with or without a Dockerfile: an answer, never a panic.
    #[test]
    fn read_config_never_panics_on_arbitrary_values(
        value in json_value(), dockerfile in proptest::option::of(dockerfile_text())
    ) {
        let outcome = read_config(Some(&value), dockerfile.as_deref());
        check_outcome(&outcome)?;
        match &value {
            Value::Object(map) => {
                if let Some(Value::String(image)) = map.get("image").filter(|i| i.as_str() != Some("")) {
                    prop_assert_eq!(&outcome, &Ok(ConfiguredImage::Image(image.clone())));
                }
            }
            Value::String(_) | Value::Null => {}
            _ => prop_assert_eq!(outcome.map_err(|e| e.field), Err("devcontainer")),
        }
    }

    /// Arbitrary text as devcontainer.json: an answer, never a panic.
    #[test]
    fn read_config_never_panics_on_arbitrary_text(
        text in prop_oneof![hostile_string(), jsonc_soup()],
        dockerfile in proptest::option::of(dockerfile_text()),
    ) {
        let outcome = read_config(Some(&Value::String(text)), dockerfile.as_deref());
        check_outcome(&outcome)?;
    }

    /// An object read as plain JSON text, or as JSONC with comments and trailing commas,
    /// gives the same answer as the object itself.
    #[test]
    fn jsonc_text_reads_like_the_object_it_writes(
        map in btree_map(json_key(), json_value(), 0..6),
        choices in vec(any::<u8>(), 0..64),
        dockerfile in proptest::option::of(dockerfile_soup()),
    ) {
        let object = Value::Object(map.into_iter().collect());
        let expected = read_config(Some(&object), dockerfile.as_deref());
        let plain = Value::String(object.to_string());
        prop_assert_eq!(&read_config(Some(&plain), dockerfile.as_deref()), &expected);
        let mut text = String::new();
        to_jsonc(&object, &mut choices.into_iter().cycle(), &mut text);
        let commented = read_config(Some(&Value::String(text.clone())), dockerfile.as_deref());
        prop_assert_eq!(&commented, &expected, "JSONC text: {}", text);
    }

    /// Arbitrary Dockerfile text under a configuration that builds it: an answer, never a
    /// panic, and never anything but a Dockerfile result.
    #[test]
    fn read_config_never_panics_on_arbitrary_dockerfiles(
        build in build_section(), dockerfile in dockerfile_text(),
    ) {
        let config = json!({ "build": build });
        let outcome = read_config(Some(&config), Some(&dockerfile));
        check_outcome(&outcome)?;
        if let Ok(found) = &outcome {
            prop_assert!(matches!(found, ConfiguredImage::Dockerfile { .. }), "{:?}", found);
        }
        // The older top-level key reads the same Dockerfile the same way.
        let mut old = Map::new();
        old.insert("dockerFile".into(), build["dockerfile"].clone());
        let old_outcome = read_config(Some(&Value::Object(old)), Some(&dockerfile));
        check_outcome(&old_outcome)?;
    }
}

// ---------------------------------------------------------------------------------------
// Valid multi-stage Dockerfiles resolve to the expected base image
// ---------------------------------------------------------------------------------------

/// Real images a stage may start from; none of them is a stage name.
const BASES: &[&str] = &[
    "node:18",
    "ubuntu:22.04",
    "ghcr.io/octo-org/dev:1.2",
    "mcr.microsoft.com/devcontainers/base:ubuntu",
    "localhost:5000/team/app@sha256:0123456789abcdef0123456789abcdef",
    "scratch",
];

/// How one stage starts.
#[derive(Debug, Clone)]
enum FromSpec {
    /// A real image, written literally.
    Image(usize),
    /// A real image through global ARG `V{n}`.
    Arg { arg: usize, braced: bool },
    /// An earlier stage, named in some letter case.
    Stage { index: Index, upper: bool },
}

#[derive(Debug, Clone)]
struct StageSpec {
    from: FromSpec,
    named: bool,
    platform: bool,
    lower_keywords: bool,
    run_lines: u8,
    heredoc: bool,
}

fn stage_spec() -> impl Strategy<Value = StageSpec> {
    (
        prop_oneof![
            2 => (0..BASES.len()).prop_map(FromSpec::Image),
            1 => (0..3usize, any::<bool>()).prop_map(|(arg, braced)| FromSpec::Arg { arg, braced }),
            3 => (any::<Index>(), any::<bool>()).prop_map(|(index, upper)| FromSpec::Stage { index, upper }),
        ],
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0..3u8,
        any::<bool>(),
    )
        .prop_map(
            |(from, named, platform, lower_keywords, run_lines, heredoc)| StageSpec {
                from,
                named,
                platform,
                lower_keywords,
                run_lines,
                heredoc,
            },
        )
}

/// A Dockerfile built from `stages`, with global ARGs `V0..V2` defaulting to
/// `defaults`, and the expected base image of each stage.
fn write_dockerfile(
    stages: &[StageSpec],
    defaults: &[usize; 3],
    overrides: &BTreeMap<usize, usize>,
) -> (String, Vec<String>, Vec<Option<String>>) {
    let mut text = String::from("# syntax=docker/dockerfile:1\n# A generated Dockerfile\n\n");
    for (n, base) in defaults.iter().enumerate() {
        text.push_str(&format!("ARG V{n}={}\n", BASES[*base]));
    }
    let arg_value = |n: usize| BASES[overrides.get(&n).copied().unwrap_or(defaults[n])];
    let mut resolved: Vec<String> = Vec::new();
    let mut names: Vec<Option<String>> = Vec::new();
    for (i, stage) in stages.iter().enumerate() {
        let named_earlier: Vec<usize> = (0..i).filter(|j| names[*j].is_some()).collect();
        let (word, base) = match &stage.from {
            FromSpec::Stage { index, upper } if !named_earlier.is_empty() => {
                let j = named_earlier[index.index(named_earlier.len())];
                let name = names[j].clone().expect("named");
                let word = if *upper {
                    name.to_ascii_uppercase()
                } else {
                    name
                };
                (word, resolved[j].clone())
            }
            FromSpec::Arg { arg, braced } => {
                let word = if *braced {
                    format!("${{V{arg}}}")
                } else {
                    format!("$V{arg}")
                };
                (word, arg_value(*arg).to_owned())
            }
            FromSpec::Image(base) => (BASES[*base].to_owned(), BASES[*base].to_owned()),
            // No named stage yet: fall back to a literal image.
            FromSpec::Stage { index, .. } => {
                let base = BASES[index.index(BASES.len())];
                (base.to_owned(), base.to_owned())
            }
        };
        let from_kw = if stage.lower_keywords { "from" } else { "FROM" };
        let as_kw = if stage.lower_keywords { "as" } else { "AS" };
        let platform = if stage.platform {
            "--platform=$BUILDPLATFORM "
        } else {
            ""
        };
        let name = stage.named.then(|| format!("Stage-{i}.x_y"));
        match &name {
            Some(name) => text.push_str(&format!("{from_kw} {platform}{word} {as_kw} {name}\n")),
            None => text.push_str(&format!("{from_kw} {platform}{word}\n")),
        }
        for r in 0..stage.run_lines {
            text.push_str(&format!(
                "RUN echo {r} && \\\n  # a comment in a continuation\n  echo FROM evil:{r}\n"
            ));
        }
        if stage.heredoc {
            // The body of a here-document is not Dockerfile syntax: a FROM in it is no stage.
            text.push_str("RUN <<EOF\nFROM evil:latest AS sneaky\nEOF\n");
        }
        resolved.push(base);
        names.push(name);
    }
    (text, resolved, names)
}

proptest! {
    #![proptest_config(cases(384))]

    /// A generated valid multi-stage Dockerfile resolves to the image its final stage (or
    /// its target stage) comes from, following stage names and substituting ARGs.
    #[test]
    fn valid_multi_stage_dockerfiles_resolve_to_the_expected_base(
        stages in vec(stage_spec(), 1..12),
        defaults in [0..BASES.len(), 0..BASES.len(), 0..BASES.len()],
        overrides in btree_map(0..3usize, 0..BASES.len(), 0..3),
        target in any::<Option<Index>>(),
    ) {
        let (text, resolved, names) = write_dockerfile(&stages, &defaults, &overrides);
        let args: Map<String, Value> = overrides
            .iter()
            .map(|(n, base)| (format!("V{n}"), json!(BASES[*base])))
            .collect();
        let named: Vec<usize> = (0..names.len()).filter(|i| names[*i].is_some()).collect();
        let (target, expected) = match target {
            Some(index) if !named.is_empty() => {
                let i = named[index.index(named.len())];
                let name = names[i].clone().expect("named");
                (Some(name.to_ascii_lowercase()), resolved[i].clone())
            }
            _ => (None, resolved.last().expect("one stage").clone()),
        };
        let mut build = json!({ "dockerfile": "Dockerfile", "args": args });
        if let Some(target) = &target {
            build["target"] = json!(target);
        }
        let outcome = read_config(Some(&json!({ "build": build })), Some(&text));
        prop_assert_eq!(
            outcome,
            Ok(ConfiguredImage::Dockerfile { base_image: expected }),
            "Dockerfile:\n{}", text
        );
        // The same configuration given as JSONC text reads the same.
        let jsonc = format!("// generated\n{{ \"build\": {build}, }}");
        let outcome = read_config(Some(&Value::String(jsonc)), Some(&text));
        prop_assert!(outcome.is_ok(), "{:?}", outcome);
    }

    /// A stage whose FROM names itself or a later stage is refused, wherever it is.
    #[test]
    fn self_and_forward_references_are_refused(
        stages in vec(stage_spec(), 1..10),
        at in any::<Index>(),
        to in any::<Index>(),
    ) {
        let mut stages = stages;
        for stage in &mut stages {
            stage.named = true;
        }
        let (text, _, names) = write_dockerfile(&stages, &[0, 1, 2], &BTreeMap::new());
        let at = at.index(names.len());
        let to = at + to.index(names.len() - at);
        let bad_name = names[to].clone().expect("every stage is named");
        // Replace stage `at`'s FROM line by one naming stage `to` (itself or later).
        let own_name = names[at].clone().expect("every stage is named");
        let text: String = text
            .lines()
            .map(|line| {
                let lower = line.to_ascii_lowercase();
                if lower.starts_with("from ") && lower.ends_with(&format!(" as {}", own_name.to_ascii_lowercase())) {
                    format!("FROM {bad_name} AS {own_name}\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        let outcome = read_config(
            Some(&json!({ "build": { "dockerfile": "Dockerfile" } })),
            Some(&text),
        );
        let err = outcome.expect_err(&format!("resolved although stage {at} names stage {to}:\n{text}"));
        prop_assert_eq!(err.field, "dockerfile");
        prop_assert!(err.message.starts_with("Dockerfile line "), "{}", err.message);
    }
}

// ---------------------------------------------------------------------------------------
// Pathological inputs: bounded time, an error rather than a crash
// ---------------------------------------------------------------------------------------

/// Generous: a debug build on a busy two-core machine. Anything quadratic in these sizes
/// would take far longer.
const QUICK: Duration = Duration::from_secs(20);

fn read_dockerfile(text: &str) -> Result<ConfiguredImage, ConfigError> {
    read_config(
        Some(&json!({ "build": { "dockerfile": "Dockerfile" } })),
        Some(text),
    )
}

#[test]
fn thousands_of_stages_resolve_quickly() {
    let started = Instant::now();
    let mut chain = String::from("FROM node:18 AS s0\n");
    for i in 1..5000 {
        chain.push_str(&format!("FROM s{} AS s{i}\n", i - 1));
    }
    chain.push_str("FROM S4999\n");
    assert_eq!(
        read_dockerfile(&chain),
        Ok(ConfiguredImage::Dockerfile {
            base_image: "node:18".into()
        })
    );
    let mut independent = String::new();
    for i in 0..20_000 {
        independent.push_str(&format!("FROM node:{i} AS s{i}\nRUN true\n"));
    }
    assert_eq!(
        read_dockerfile(&independent),
        Ok(ConfiguredImage::Dockerfile {
            base_image: "node:19999".into()
        })
    );
    assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
}

#[test]
fn pathological_dockerfiles_are_errors_or_answers_in_bounded_time() {
    let started = Instant::now();
    let deep_default = format!(
        "FROM {}node:18{}",
        "${NOPE:-".repeat(50_000),
        "}".repeat(50_000)
    );
    assert_eq!(
        read_dockerfile(&deep_default),
        Ok(ConfiguredImage::Dockerfile {
            base_image: "node:18".into()
        })
    );
    let unclosed = format!("FROM {}node:18", "${NOPE:-".repeat(50_000));
    assert_eq!(read_dockerfile(&unclosed).unwrap_err().field, "dockerfile");
    let continuations = format!("FROM \\\n{}node:18", " \\\n".repeat(50_000));
    assert!(read_dockerfile(&continuations).is_ok());
    let heredocs = format!("FROM node:18\n{}", "RUN <<A <<B <<C\n".repeat(20_000));
    assert_eq!(read_dockerfile(&heredocs).unwrap_err().field, "dockerfile");
    let self_ref = "FROM x AS x\n".to_string();
    assert_eq!(read_dockerfile(&self_ref).unwrap_err().field, "dockerfile");
    let cycle = "FROM b AS a\nFROM a AS b\n";
    assert_eq!(read_dockerfile(cycle).unwrap_err().field, "dockerfile");
    let long_line = format!("FROM {}", "a".repeat(2_000_000));
    assert!(read_dockerfile(&long_line).is_ok());
    let many_args: String = (0..20_000)
        .map(|i| format!("ARG A{i}=${{A{}}}\n", i.max(1) - 1))
        .chain(std::iter::once("FROM $A19999\n".to_string()))
        .collect();
    // A0 refers to itself before it has a value: every ARG is left without one.
    assert_eq!(read_dockerfile(&many_args).unwrap_err().field, "dockerfile");
    assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
}

#[test]
fn pathological_devcontainer_text_is_an_error_not_a_crash() {
    let started = Instant::now();
    let texts = [
        "[".repeat(100_000),
        format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)),
        format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)),
        format!("{{\"image\": {}}}", "{\"a\":".repeat(100_000)),
        "/*".repeat(100_000),
        format!("{{{}}}", ",".repeat(100_000)),
        format!("{{\"image\": \"{}\"", "\\".repeat(100_001)),
        "{\"image\": \"\\ud800\"}".to_string(),
        "{\"image\": \"node:18\"} trailing".to_string(),
        "\u{0}{}".to_string(),
        String::new(),
    ];
    for text in texts {
        let outcome = read_config(Some(&Value::String(text.clone())), None);
        let err = outcome.expect_err(&text.chars().take(40).collect::<String>());
        assert_eq!(err.field, "devcontainer");
    }
    // Many comments and trailing commas are fine.
    let commented = format!(
        "{}{{\"image\": \"node:18\",{}}}",
        "// c\n/* c */".repeat(50_000),
        " /**/ ".repeat(50_000)
    );
    assert_eq!(
        read_config(Some(&Value::String(commented)), None),
        Ok(ConfiguredImage::Image("node:18".into()))
    );
    assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------------------
// Docker Compose files: never a panic, always within bounds
// ---------------------------------------------------------------------------------------

/// Reads the service `service` of the compose files `files`, named in that order by
/// devcontainer.json, with `dockerfile`.
fn read_compose(
    files: &[(String, String)],
    service: &str,
    dockerfile: Option<&str>,
) -> Result<ConfiguredImage, ConfigError> {
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    let config = json!({ "dockerComposeFile": names, "service": service });
    let compose_files: BTreeMap<String, String> = files.iter().cloned().collect();
    base_image_policy::devcontainer::read_config(Sources {
        devcontainer: Some(&config),
        dockerfile,
        compose_files: Some(&compose_files),
    })
}

/// Reads service `app` of the single compose file `text`.
fn read_compose_text(text: &str, dockerfile: Option<&str>) -> Result<ConfiguredImage, ConfigError> {
    read_compose(
        &[("docker-compose.yml".into(), text.to_owned())],
        "app",
        dockerfile,
    )
}

/// Checks an answer of the Compose reader: `check_outcome`, and only Compose answers.
fn check_compose_outcome(
    outcome: &Result<ConfiguredImage, ConfigError>,
) -> Result<(), TestCaseError> {
    check_outcome(outcome)?;
    match outcome {
        Ok(ConfiguredImage::Compose { service, .. })
        | Ok(ConfiguredImage::ComposeBuild { service, .. }) => prop_assert_eq!(service, "app"),
        Ok(other) => prop_assert!(false, "not a Compose answer: {:?}", other),
        Err(e) => prop_assert!(e.field != "devcontainer", "{:?}", e),
    }
    Ok(())
}

/// Text made of YAML and Compose pieces: keys the reader looks for, indentation, flow
/// collections, anchors, aliases, merge keys, tags, quotes, directives, document markers,
/// interpolation and block scalars.
fn yaml_soup() -> impl Strategy<Value = String> {
    let token = select(
        &[
            "services:",
            "app:",
            "base:",
            "image:",
            "build:",
            "context:",
            "dockerfile:",
            "dockerfile_inline:",
            "args:",
            "target:",
            "extends:",
            "service:",
            "file:",
            "node:18",
            "x.yml",
            "docker-compose.yml",
            ".",
            "..",
            "A=1",
            "A",
            "&a",
            "&b",
            "*a",
            "*b",
            "<<:",
            "<<",
            "!reset",
            "!override",
            "!!binary",
            "!!str",
            "!<tag:x>",
            "!",
            "%TAG ! tag:x,2000:",
            "%YAML 1.1",
            "---",
            "...",
            "- ",
            "? ",
            ": ",
            ":",
            ",",
            "[",
            "]",
            "{",
            "}",
            "\"",
            "'",
            "''",
            "\\",
            "#",
            "# c",
            "|",
            ">-",
            "|2",
            "${A}",
            "${A:-node}",
            "${A-${B:-x}}",
            "$$",
            "$",
            "${",
            "~",
            "null",
            "3.10",
            "0x1F",
            "1e400",
            "true",
            "\t",
            "\u{feff}",
            "\u{0}",
            "\u{85}",
            "\u{2028}",
            "\u{430}",
            "é",
        ][..],
    );
    let gap = select(&["", " ", "\n", "\n  ", "\n    ", "\n      ", "\r\n"][..]);
    vec((token, gap), 0..96).prop_map(|pieces| {
        pieces
            .into_iter()
            .flat_map(|(token, gap)| [token, gap])
            .collect()
    })
}

/// A compose file with a real `app` service, mutated with soup in one place.
fn mutated_compose() -> impl Strategy<Value = String> {
    let base = "x-a: &a\n  image: node:${TAG:-18}\nservices:\n  base:\n    <<: *a\n  app:\n    \
                extends: base\n    build:\n      context: ..\n      args: [V=1]\n      target: dev\n";
    (any::<Index>(), yaml_soup()).prop_map(move |(at, soup)| {
        let mut cut = at.index(base.len() + 1);
        while !base.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}{soup}{}", &base[..cut], &base[cut..])
    })
}

/// A billion-laughs document: `levels` levels of `width` aliases each, then the service
/// whose image is the last level, somewhere the reader must expand.
fn alias_bomb(width: usize, levels: usize, as_image: bool) -> String {
    let mut text = String::from("x-0: &l0 [lol, lol]\n");
    for level in 1..=levels {
        let aliases = vec![format!("*l{}", level - 1); width].join(", ");
        text.push_str(&format!("x-{level}: &l{level} [{aliases}]\n"));
    }
    if as_image {
        text.push_str(&format!("services:\n  app:\n    image: *l{levels}\n"));
    } else {
        text.push_str("services:\n  app:\n    image: node:18\n");
    }
    text
}

proptest! {
    #![proptest_config(cases(256))]

    /// Arbitrary text as a compose file: an answer or an error, never a panic.
    #[test]
    fn compose_reader_never_panics_on_arbitrary_text(
        text in prop_oneof![hostile_string(), any::<String>(), jsonc_soup()],
        dockerfile in proptest::option::of(dockerfile_text()),
    ) {
        check_compose_outcome(&read_compose_text(&text, dockerfile.as_deref()))?;
    }

    /// YAML-ish text, and a real compose file with YAML-ish text put into it: an answer or
    /// an error, never a panic, in bounded time.
    #[test]
    fn compose_reader_never_panics_on_generated_yaml(
        text in prop_oneof![yaml_soup(), mutated_compose()],
        dockerfile in proptest::option::of(prop_oneof![
            Just("ARG V\nFROM node:$V AS dev\nFROM debian\n".to_owned()),
            dockerfile_soup(),
        ]),
    ) {
        let started = Instant::now();
        let outcome = read_compose_text(&text, dockerfile.as_deref());
        check_compose_outcome(&outcome)?;
        prop_assert!(started.elapsed() < QUICK, "took {:?}: {}", started.elapsed(), text);
    }

    /// An alias expansion past the node budget is an error about the bound, quickly, and
    /// never a result, wherever the expansion is.
    #[test]
    fn alias_expansions_past_the_budget_are_refused(
        width in 2..12usize, extra in 0..6usize, as_image in any::<bool>(),
    ) {
        // The smallest number of levels that expands past the budget, and some more.
        let mut levels = 1;
        while width.pow(levels as u32) <= base_image_policy::devcontainer::MAX_YAML_NODES {
            levels += 1;
        }
        let text = alias_bomb(width, levels + extra, as_image);
        let started = Instant::now();
        let err = read_compose_text(&text, None).expect_err("an expansion past the budget");
        prop_assert_eq!(err.field, "compose_files");
        prop_assert!(
            err.message.contains("nodes") || err.message.contains("repetition limit"),
            "{}", err.message
        );
        prop_assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
    }

    /// Generated multi-file configurations resolve as the merging rules say: the last file
    /// that gives the service a `build` decides its base image; else the last `image`.
    #[test]
    fn compose_files_merge_in_order(
        layers in vec((any::<bool>(), proptest::option::of(0..BASES.len()), proptest::option::of(0..3usize)), 1..6),
    ) {
        let dockerfile = "ARG S=0\nFROM node:$S AS s0\nFROM ubuntu:$S AS s1\nFROM debian:$S AS s2\n";
        let mut files = Vec::new();
        let (mut image, mut build) = (None, None);
        for (i, (defines, layer_image, layer_target)) in layers.iter().enumerate() {
            let mut service = String::new();
            if *defines {
                if let Some(base) = layer_image {
                    service.push_str(&format!("    image: \"{}\"\n", BASES[*base]));
                    image = Some(BASES[*base].to_owned());
                }
                if let Some(target) = layer_target {
                    service.push_str(&format!("    build: {{context: ., target: s{target}, args: [S={i}]}}\n"));
                    build = Some(format!("{}:{i}", ["node", "ubuntu", "debian"][*target]));
                }
                if service.is_empty() {
                    service.push_str("    ports: ['80']\n");
                }
            }
            let text = if *defines {
                format!("services:\n  app:\n{service}  other:\n    image: x\n")
            } else {
                "services:\n  other:\n    image: x\n".to_owned()
            };
            files.push((format!("f{i}.yml"), text));
        }
        let outcome = read_compose(&files, "app", Some(dockerfile));
        match (build, image) {
            (Some(base_image), _) => prop_assert_eq!(
                outcome,
                Ok(ConfiguredImage::ComposeBuild { service: "app".into(), base_image })
            ),
            (None, Some(image)) => prop_assert_eq!(
                outcome,
                Ok(ConfiguredImage::Compose { service: "app".into(), image })
            ),
            (None, None) => prop_assert_eq!(outcome.map_err(|e| e.field), Err("compose_files")),
        }
    }
}

#[test]
fn pathological_compose_files_are_errors_in_bounded_time() {
    let started = Instant::now();
    let max = base_image_policy::devcontainer::MAX_COMPOSE_FILE_BYTES;
    let texts = [
        "[".repeat(max),
        "{a: ".repeat(max / 4),
        "{\"\":[".repeat(max / 5),
        "{a: \"}\", b: ".repeat(max / 13),
        "- ".repeat(max / 2),
        "&a a: *a\n".repeat(max / 10),
        format!(
            "services:\n  app:\n    image: \"{}\"\n",
            "\\\\".repeat(max / 3)
        ),
        format!("services:\n  app:\n    image: '{}\n", "''".repeat(max / 3)),
        format!(
            "services:\n  app:\n    image: x\n{}",
            "# ]\n".repeat(max / 5)
        ),
        "!".repeat(max),
        "%".repeat(max),
        "\u{feff}".repeat(max / 3),
    ];
    for text in &texts {
        let outcome = read_compose_text(text, None);
        assert!(
            !matches!(outcome, Ok(ConfiguredImage::Default)),
            "{}",
            text.chars().take(40).collect::<String>()
        );
    }
    assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
}
