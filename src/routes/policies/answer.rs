//! The evaluate answer: one verdict per applicable policy, borrowed from the decision.

use serde::{Serialize, Serializer};
use utoipa::ToSchema;

use super::limits::LimitsResponse;
use crate::policy::{refusal_message, Decision, Enforcement, ImageRef, MatchedValue};
use crate::routes::exceptions::AppliedExceptionResponse;

#[derive(Serialize, ToSchema)]
pub struct EvaluateResponse<'a> {
    allowed: bool,
    /// The refusal message; absent when `allowed` is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// One entry per applicable policy, by id.
    policies: Vec<PolicyVerdictResponse<'a>>,
    /// The policy exception that allows the image although a policy does not; absent when
    /// none does.
    #[serde(skip_serializing_if = "Option::is_none")]
    exception: Option<AppliedExceptionResponse>,
    /// The machine type asked about; absent when none was.
    #[serde(skip_serializing_if = "Option::is_none")]
    machine: Option<MachineVerdict>,
    /// What the applicable enforcing policies allow together beside base images.
    constraints: LimitsResponse,
}

/// Whether the policies allow a machine type for the repository.
#[derive(Serialize, ToSchema)]
pub struct MachineVerdict {
    pub name: String,
    pub allowed: bool,
    /// The enforcing policies whose `machine_types` do not list it, ascending.
    pub refused_by: Vec<i64>,
    /// The message creation would answer; absent when allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PolicyVerdictResponse<'a> {
    id: i64,
    name: &'a str,
    /// A `report` policy never refuses: `allowed` at the top counts `enforce` ones only.
    enforcement: Enforcement,
    allowed: bool,
    /// The allowed value that matched, as written.
    #[serde(serialize_with = "as_written")]
    #[schema(value_type = Option<String>)]
    matched_value: Option<MatchedValue<'a>>,
}

impl<'a> EvaluateResponse<'a> {
    /// `allowed` needs the image and, when asked about, the machine; the message is the
    /// image's refusal first, as creation answers.
    pub fn new(
        decision: &Decision<'a>,
        image: &ImageRef,
        machine: Option<MachineVerdict>,
        constraints: LimitsResponse,
    ) -> Self {
        let machine_message = machine.as_ref().and_then(|m| m.message.clone());
        let message = if decision.allowed {
            machine_message
        } else {
            Some(refusal_message(image.as_str()))
        };
        EvaluateResponse {
            allowed: message.is_none(),
            message,
            policies: PolicyVerdictResponse::all(decision),
            exception: decision.exception.map(AppliedExceptionResponse::from),
            machine,
            constraints,
        }
    }
}

impl<'a> PolicyVerdictResponse<'a> {
    /// One entry per applicable policy of `decision`, as evaluate and preflight list them.
    pub fn all(decision: &Decision<'a>) -> Vec<Self> {
        decision
            .verdicts
            .iter()
            .map(|v| PolicyVerdictResponse {
                id: v.policy_id,
                name: v.policy_name,
                enforcement: v.enforcement,
                allowed: v.allowed,
                matched_value: v.matched_value,
            })
            .collect()
    }
}

/// A matched value as the policy writes it (a prefix with its `*`).
fn as_written<S: Serializer>(value: &Option<MatchedValue<'_>>, out: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => out.collect_str(value),
        None => out.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{AllowedValue, CompiledPolicySet, Enforcement, PolicyRules, Target};
    use serde_json::json;

    fn set(values: &[&str]) -> CompiledPolicySet {
        let values = values.iter().map(|v| AllowedValue::parse(v).unwrap());
        CompiledPolicySet::compile(vec![
            PolicyRules {
                constraints: Default::default(),
                id: 1,
                name: "Approved \"images\"".to_owned(),
                target: Target::AllRepositories,
                enforcement: Enforcement::Enforce,
                base_images: Some(values.collect()),
            },
            PolicyRules {
                constraints: Default::default(),
                id: 2,
                name: "Nothing".to_owned(),
                target: Target::AllRepositories,
                enforcement: Enforcement::Enforce,
                base_images: Some(vec![]),
            },
        ])
    }

    fn answer(set: &CompiledPolicySet, image: &str) -> serde_json::Value {
        let image = ImageRef::parse(image).unwrap();
        let decision = set.decide("octo/app", &image);
        let limits = LimitsResponse::new(
            &set.limits("octo/app"),
            &crate::machines::MachineCatalog::github_linux(),
        );
        serde_json::to_value(EvaluateResponse::new(&decision, &image, None, limits)).unwrap()
    }

    #[test]
    fn a_refusal_has_the_message_and_every_verdict_with_the_value_as_written() {
        let set = set(&["node:18", "ghcr.io/octo/*"]);
        assert_eq!(
            answer(&set, "ghcr.io/octo/dev:1"),
            json!({
                "allowed": false,
                "message": refusal_message("ghcr.io/octo/dev:1"),
                "policies": [
                    {"id": 1, "name": "Approved \"images\"", "enforcement": "enforce", "allowed": true, "matched_value": "ghcr.io/octo/*"},
                    {"id": 2, "name": "Nothing", "enforcement": "enforce", "allowed": false, "matched_value": null},
                ],
                "constraints": unconstrained(),
            })
        );
    }

    #[test]
    fn an_allowed_image_has_no_message() {
        let set = CompiledPolicySet::compile(vec![]);
        assert_eq!(
            answer(&set, "node:18"),
            json!({ "allowed": true, "policies": [], "constraints": unconstrained() })
        );
    }

    fn unconstrained() -> serde_json::Value {
        json!({ "machine_types": null, "max_codespaces_per_user": null,
            "max_idle_timeout_minutes": null, "max_retention_period_days": null,
            "port_visibility": null })
    }
}
