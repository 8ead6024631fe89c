//! Deterministic policy data for the matcher benchmarks, and the equivalent Rego policy.
//!
//! Values look like what orgs write: registry paths with org and team names whose numbers
//! give them varied lengths, half exact references and half prefixes ending in `*`.

pub mod prefix_index;

use base_image_policy::policy::{AllowedValue, CompiledPolicySet, PolicyRules, Target};
use serde_json::json;

/// The repository every decision is made for.
pub const REPO: &str = "octo-org/app";

/// Which value `i` is: even ones exact, odd ones prefixes, in three shapes each.
pub fn value(i: usize) -> String {
    match (i % 2, (i / 2) % 3) {
        (0, 0) => format!("ghcr.io/org-{i}/app:{}", i % 50),
        (0, 1) => format!("registry.example.com/team-{i}/service:v{}", i % 13),
        (0, _) => format!("mcr.microsoft.com/devcontainers/img-{i}:1.{}", i % 10),
        (_, 0) => format!("ghcr.io/org-{i}/*"),
        (_, 1) => format!("registry.example.com/team-{i}/*"),
        (_, _) => format!("docker.io/library/lang-{i}:*"),
    }
}

/// The first `n` values.
pub fn values(n: usize) -> Vec<String> {
    (0..n).map(value).collect()
}

/// The prefix values among the first `n`, without their `*`.
pub fn prefixes(n: usize) -> Vec<String> {
    values(n)
        .into_iter()
        .filter_map(|v| v.strip_suffix('*').map(str::to_owned))
        .collect()
}

/// What a decision is asked about, and how the matcher has to find the answer.
#[derive(Clone, Copy, Debug)]
pub enum Query {
    /// An image equal to an exact value (one hash probe).
    Exact,
    /// An image under a prefix value (probes prefix lengths, longest first, until one hits).
    Prefix,
    /// An image no value allows: every prefix length is probed, the most work a lookup does.
    Miss,
}

impl Query {
    pub const ALL: [Query; 3] = [Query::Exact, Query::Prefix, Query::Miss];

    /// An image for this query against the first `n` values (`n >= 2`), from the middle of
    /// the list so that it is neither the first nor the last value inserted.
    pub fn image(self, n: usize) -> String {
        match self {
            // Even indices in shape 0 (`ghcr.io/org-{i}/app:..`): i % 6 == 0.
            Query::Exact => value(n / 2 / 6 * 6),
            // Odd indices in shape 0 (`ghcr.io/org-{i}/*`): i % 6 == 1.
            Query::Prefix => format!("{}dev:1.2", value(n / 2 / 6 * 6 + 1).trim_end_matches('*')),
            Query::Miss => "ghcr.io/other-org/tooling/dev:2.1".to_owned(),
        }
    }
}

/// Parses values the way the store does when it compiles a set.
pub fn parse_values(values: &[String]) -> Vec<AllowedValue> {
    values
        .iter()
        .map(|v| AllowedValue::parse(v).expect("generated values are valid"))
        .collect()
}

/// An org whose policies, all org-wide, hold `n` values in total, at most `per_policy` each.
pub fn policy_set(n: usize, per_policy: usize) -> CompiledPolicySet {
    let all = values(n);
    let rules = all
        .chunks(per_policy.max(1))
        .enumerate()
        .map(|(i, chunk)| PolicyRules {
            constraints: Default::default(),
            id: i as i64 + 1,
            name: format!("Approved images {i}"),
            target: Target::AllRepositories,
            enforcement: Default::default(),
            base_images: Some(parse_values(chunk)),
        })
        .collect();
    CompiledPolicySet::compile(rules)
}

/// `policies` org-wide policies of `values_each` values; every policy allows `Query::Exact`'s
/// image for `values_each` (each holds the same values), so each gives a verdict.
pub fn uniform_policies(policies: usize, values_each: usize) -> CompiledPolicySet {
    let chunk = parse_values(&values(values_each));
    let rules = (0..policies)
        .map(|i| PolicyRules {
            constraints: Default::default(),
            id: i as i64 + 1,
            name: format!("Approved images {i}"),
            target: Target::AllRepositories,
            enforcement: Default::default(),
            base_images: Some(chunk.clone()),
        })
        .collect();
    CompiledPolicySet::compile(rules)
}

/// A stored policy before compilation: what the store reads for a big org.
pub struct RawPolicy {
    pub id: i64,
    pub name: String,
    pub all_repositories: bool,
    pub repositories: Vec<String>,
    pub values: Vec<String>,
}

/// An org with `repos` repositories and `policies` policies: one in a hundred org-wide, the
/// rest each naming `repos_each` repositories (spread so that every repository is named),
/// each with `values_each` values.
pub fn big_org(
    repos: usize,
    policies: usize,
    repos_each: usize,
    values_each: usize,
) -> Vec<RawPolicy> {
    (0..policies)
        .map(|p| {
            let all_repositories = p % 100 == 0;
            let repositories = if all_repositories {
                Vec::new()
            } else {
                (0..repos_each)
                    .map(|k| format!("Repo-{}", (p * repos_each + k) % repos))
                    .collect()
            };
            RawPolicy {
                id: p as i64 + 1,
                name: format!("Policy {p}"),
                all_repositories,
                repositories,
                values: (0..values_each)
                    .map(|k| value(p * values_each + k))
                    .collect(),
            }
        })
        .collect()
}

/// What `store::cache::compile_policies` does: lowercase repository keys, parse values, compile.
pub fn compile_raw(policies: &[RawPolicy]) -> CompiledPolicySet {
    let rules = policies
        .iter()
        .map(|p| PolicyRules {
            constraints: Default::default(),
            id: p.id,
            name: p.name.clone(),
            enforcement: Default::default(),
            target: if p.all_repositories {
                Target::AllRepositories
            } else {
                Target::SelectedRepositories(
                    p.repositories
                        .iter()
                        .map(|r| r.to_ascii_lowercase())
                        .collect(),
                )
            },
            base_images: Some(parse_values(&p.values)),
        })
        .collect();
    CompiledPolicySet::compile(rules)
}

/// The usual Rego allow-list: equality against exact values, `startswith` against prefixes.
/// The `*` is stripped when the data is loaded, so Rego does not trim it on every decision.
pub const REGO_POLICY: &str = r#"
package codespaces

default allow := false

allow if {
	some value in data.codespaces.exact
	input.image == value
}

allow if {
	some prefix in data.codespaces.prefixes
	startswith(input.image, prefix)
}
"#;

/// A regorus engine with the policy and the first `n` values loaded, ready for inputs.
pub fn rego_engine(n: usize) -> regorus::Engine {
    let (prefixes, exact): (Vec<String>, Vec<String>) =
        values(n).into_iter().partition(|v| v.ends_with('*'));
    let prefixes: Vec<&str> = prefixes.iter().map(|p| p.trim_end_matches('*')).collect();
    let data = json!({ "codespaces": { "exact": exact, "prefixes": prefixes } });
    let mut engine = regorus::Engine::new();
    engine
        .add_policy("codespaces.rego".to_owned(), REGO_POLICY.to_owned())
        .expect("the Rego policy parses");
    engine
        .add_data(regorus::Value::from_json_str(&data.to_string()).expect("data is JSON"))
        .expect("data loads");
    engine
}

/// The input document for one decision.
pub fn rego_input(image: &str) -> regorus::Value {
    regorus::Value::from_json_str(&json!({ "image": image }).to_string()).expect("input is JSON")
}
