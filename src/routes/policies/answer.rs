//! The evaluate answer: its documented shape, and the writer that produces it.
//!
//! Evaluate answers one entry per applicable policy. Through `serde_json`, an answer with 64
//! entries cost about 9 µs, mostly escaping the same four keys in every entry; written here
//! with the keys as literals, it costs a fraction of that. The derived `Serialize` of
//! [`EvaluateResponse`] stays the reference: a test requires the two to give the same JSON
//! for every decision, including names that need escaping.

use serde::{Serialize, Serializer};
use utoipa::ToSchema;

use crate::json::{write_int, write_str};
use crate::policy::{refusal_message, Decision, ImageRef, MatchedValue};

#[derive(Serialize, ToSchema)]
pub struct EvaluateResponse<'a> {
    allowed: bool,
    /// The refusal message; absent when `allowed` is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// One entry per applicable policy, by id.
    policies: Vec<PolicyVerdictResponse<'a>>,
}

#[derive(Serialize, ToSchema)]
pub struct PolicyVerdictResponse<'a> {
    id: i64,
    name: &'a str,
    allowed: bool,
    /// The allowed value that matched, as written.
    #[serde(serialize_with = "as_written")]
    #[schema(value_type = Option<String>)]
    matched_value: Option<MatchedValue<'a>>,
}

impl<'a> EvaluateResponse<'a> {
    /// The reference form of the answer, for the documentation and for checking
    /// [`write_evaluate_answer`].
    pub fn new(decision: &Decision<'a>, image: &ImageRef) -> Self {
        EvaluateResponse {
            allowed: decision.allowed,
            message: (!decision.allowed).then(|| refusal_message(image.as_str())),
            policies: decision
                .verdicts
                .iter()
                .map(|v| PolicyVerdictResponse {
                    id: v.policy_id,
                    name: v.policy_name,
                    allowed: v.allowed,
                    matched_value: v.matched_value,
                })
                .collect(),
        }
    }
}

/// A matched value as the policy writes it (a prefix with its `*`).
fn as_written<S: Serializer>(value: &Option<MatchedValue<'_>>, out: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => out.collect_str(value),
        None => out.serialize_none(),
    }
}

/// The evaluate answer for `decision` about `image`, as JSON: the same document as
/// [`EvaluateResponse`] serializes to.
pub fn write_evaluate_answer(decision: &Decision<'_>, image: &ImageRef) -> Vec<u8> {
    // About 90 bytes an entry: one allocation for most answers.
    let mut out = Vec::with_capacity(64 + 96 * decision.verdicts.len());
    if decision.allowed {
        out.extend_from_slice(b"{\"allowed\":true");
    } else {
        out.extend_from_slice(b"{\"allowed\":false,\"message\":");
        write_str(&mut out, &refusal_message(image.as_str()), "");
    }
    out.extend_from_slice(b",\"policies\":[");
    for (index, verdict) in decision.verdicts.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"id\":");
        write_int(&mut out, verdict.policy_id);
        out.extend_from_slice(b",\"name\":");
        write_str(&mut out, verdict.policy_name, "");
        out.extend_from_slice(if verdict.allowed {
            b",\"allowed\":true,\"matched_value\":"
        } else {
            b",\"allowed\":false,\"matched_value\":"
        });
        match verdict.matched_value {
            Some(MatchedValue::Exact(value)) => write_str(&mut out, value, ""),
            Some(MatchedValue::Prefix(prefix)) => write_str(&mut out, prefix, "*"),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{AllowedValue, CompiledPolicySet, PolicyRules, Target};

    fn set(names: &[&str], values: &[&str]) -> CompiledPolicySet {
        let values: Vec<AllowedValue> = values
            .iter()
            .map(|v| AllowedValue::parse(v).unwrap())
            .collect();
        CompiledPolicySet::compile(
            names
                .iter()
                .enumerate()
                .map(|(i, name)| PolicyRules {
                    id: i as i64 + 1,
                    name: (*name).to_owned(),
                    target: Target::AllRepositories,
                    base_images: Some(if i == 1 { vec![] } else { values.clone() }),
                })
                .collect(),
        )
    }

    /// The written answer and the derived reference, byte for byte.
    fn assert_same(set: &CompiledPolicySet, image: &str) {
        let image = ImageRef::parse(image).unwrap();
        let decision = set.decide("octo/app", &image);
        let written = write_evaluate_answer(&decision, &image);
        let reference = serde_json::to_vec(&EvaluateResponse::new(&decision, &image)).unwrap();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(reference).unwrap()
        );
    }

    #[test]
    fn matches_the_derived_answer_for_allowed_refused_and_empty() {
        let values = ["node:18", "ghcr.io/octo/*"];
        assert_same(&set(&["one"], &values), "node:18");
        assert_same(&set(&["one"], &values), "ghcr.io/octo/dev:1");
        assert_same(
            &set(&["one", "two", "three"], &values),
            "ghcr.io/octo/dev:1",
        );
        assert_same(&set(&["one"], &values), "python:3");
        assert_same(&set(&[], &values), "python:3");
    }

    #[test]
    fn escapes_names_as_serde_json_does() {
        let every_ascii: String = (0u8..=0x7f).map(char::from).collect();
        let names = [
            every_ascii.as_str(),
            "quote \" and backslash \\",
            "controls \u{0}\u{1}\u{8}\u{9}\u{a}\u{c}\u{d}\u{1f}\u{7f}",
            "unicode: café ✓ 😀 \u{2028}",
            "",
        ];
        assert_same(&set(&names, &["node:*"]), "node:18");
        assert_same(&set(&names, &["node:*"]), "python:3");
    }
}
