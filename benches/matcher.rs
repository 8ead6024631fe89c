//! The policy decision, in process: how one decision scales with the number of allowed
//! values and of applicable policies, how long a big org's set takes to compile, and how
//! the same allow-list fares in regorus (Rego). `docs/benchmarks.md` explains the method.
//!
//! `cargo bench --bench matcher`; `scripts/load --matcher` also prints the goal ratios.

use std::fmt;

use base_image_policy::policy::{CompiledPolicySet, ImageRef};
use base_image_policy::routes::{EvaluateResponse, LimitsResponse};
use divan::{black_box, Bencher};

mod support;

use base_image_policy::policy::PrefixTrie;
use support::prefix_index::LengthProbe;
use support::{Query, REPO};

// Nanosecond benchmarks take a fixed sample size: left to divan, it differs between cases
// (100 iterations a sample for one, 6,400 for another) and so does the per-iteration figure,
// which would bend the ratios between cases.
fn main() {
    divan::main();
}

/// One decision for `n` values and a kind of query.
#[derive(Clone, Copy)]
struct Case {
    n: usize,
    query: Query,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let query = format!("{:?}", self.query).to_ascii_lowercase();
        write!(f, "{}/{query}", self.n)
    }
}

/// Each size with each kind of query.
fn cases(sizes: &[usize]) -> Vec<Case> {
    sizes
        .iter()
        .flat_map(|&n| Query::ALL.map(|query| Case { n, query }))
        .collect()
}

fn decide(bencher: Bencher, set: &CompiledPolicySet, image: &str) {
    let image = ImageRef::parse(image).expect("query images are valid");
    let verdicts = set.decide(REPO, &image).verdicts.len();
    assert!(verdicts > 0, "every case has an applicable policy");
    bencher.bench_local(|| set.decide(black_box(REPO), black_box(&image)));
}

/// Goal 1: all `n` values in one org-wide policy, so only the value count varies.
#[divan::bench(args = cases(&[10, 1_000, 100_000]), sample_size = 1_000)]
fn decide_one_policy(bencher: Bencher, case: Case) {
    let set = support::policy_set(case.n, usize::MAX);
    decide(bencher, &set, &case.query.image(case.n));
}

/// The same values spread over as few policies as the API allows (1,000 values each), so
/// 100,000 values are 100 policies and 100 verdicts.
#[divan::bench(args = cases(&[10, 1_000, 100_000]), sample_size = 1_000)]
fn decide_api_sized_policies(bencher: Bencher, case: Case) {
    let set = support::policy_set(case.n, 1_000);
    decide(bencher, &set, &case.query.image(case.n));
}

/// Goal 4 in process: 1 to 64 applicable policies of 10 values each, all allowing the image.
#[divan::bench(args = [1, 8, 64], sample_size = 1_000)]
fn decide_applicable_policies(bencher: Bencher, policies: usize) {
    let set = support::uniform_policies(policies, 10);
    decide(bencher, &set, &Query::Exact.image(10));
}

/// The evaluate answer decided and serialized as the handler does, for 1 and 64 policies:
/// what 64 policies add to each request.
#[divan::bench(args = [1, 64], sample_size = 100)]
fn evaluate_answer(bencher: Bencher, policies: usize) {
    let set = support::uniform_policies(policies, 10);
    let image = ImageRef::parse(&Query::Prefix.image(10)).expect("valid");
    let catalog = base_image_policy::machines::MachineCatalog::github_linux();
    bencher.bench_local(|| {
        let decision = set.decide(black_box(REPO), &image);
        let limits = LimitsResponse::new(&set.limits(REPO), &catalog);
        let answer = EvaluateResponse::new(&decision, &image, None, limits);
        serde_json::to_vec(&answer).expect("serializes").len()
    });
}

/// Goal 4: an org with 10,000 repositories and 1,000 policies (10 org-wide, 990 naming 20
/// repositories each, 10 values each) parsed and compiled as the store does on a cache miss.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn compile_big_org(bencher: Bencher) {
    let policies = support::big_org(10_000, 1_000, 20, 10);
    bencher.bench_local(|| support::compile_raw(black_box(&policies)));
}

/// Goal 1, against regorus: the whole decision from strings (parse the image, decide).
/// Both stop at 1,000 values: regorus's scan of 100,000 takes too long to sample.
#[divan::bench(args = cases(&[10, 1_000]), sample_size = 1_000)]
fn ours_from_strings(bencher: Bencher, case: Case) {
    let set = support::policy_set(case.n, usize::MAX);
    let image = case.query.image(case.n);
    bencher.bench_local(|| {
        let image = ImageRef::parse(black_box(&image)).expect("valid");
        set.decide(black_box(REPO), &image).allowed
    });
}

/// The same allow-list in Rego: one engine, policy and data loaded once, input set per call.
#[divan::bench(args = cases(&[10, 1_000]))]
fn regorus_engine(bencher: Bencher, case: Case) {
    let mut engine = support::rego_engine(case.n);
    let input = support::rego_input(&case.query.image(case.n));
    let expected = !matches!(case.query, Query::Miss);
    engine.set_input(input.clone());
    let allowed = engine.eval_rule("data.codespaces.allow".to_owned());
    assert_eq!(allowed.expect("evaluates"), regorus::Value::from(expected));
    bencher.bench_local(|| {
        engine.set_input(black_box(input.clone()));
        engine.eval_rule("data.codespaces.allow".to_owned())
    });
}

/// The prefix lookup alone: the former one probe per distinct prefix length
/// (`prefix_lookup_today`, its name kept for comparison with earlier figures) against the
/// crate's byte trie, at 10 and 100,000 values.
fn lookup_cases() -> Vec<Case> {
    [10, 100_000]
        .into_iter()
        .flat_map(|n| [Query::Prefix, Query::Miss].map(|query| Case { n, query }))
        .collect()
}

#[divan::bench(args = lookup_cases(), sample_size = 10_000)]
fn prefix_lookup_today(bencher: Bencher, case: Case) {
    let prefixes = support::prefixes(case.n);
    let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    let (probe, trie) = (LengthProbe::new(&prefixes), PrefixTrie::new(&prefixes));
    let mut images: Vec<String> = Query::ALL.iter().map(|q| q.image(case.n)).collect();
    images.extend(
        [
            "ghcr.io/org-1",
            "ghcr.io/org-1/",
            "ghcr.io/org-12/x",
            "docker.io/x",
        ]
        .map(String::from),
    );
    for image in &images {
        assert_eq!(probe.longest(image), trie.longest(image), "{image}");
    }
    let image = case.query.image(case.n);
    bencher.bench_local(|| probe.longest(black_box(&image)).map(str::len));
}

#[divan::bench(args = lookup_cases(), sample_size = 10_000)]
fn prefix_lookup_trie(bencher: Bencher, case: Case) {
    let prefixes = support::prefixes(case.n);
    let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    let trie = PrefixTrie::new(&prefixes);
    let image = case.query.image(case.n);
    bencher.bench_local(|| trie.longest(black_box(&image)).map(str::len));
}
