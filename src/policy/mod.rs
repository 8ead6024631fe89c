//! Base-image policy: parsing image references and allowed values, and
//! deciding whether a repository may use a base image.
//!
//! Everything here is pure (no I/O) so that decisions are deterministic and
//! cheap to test; storage and transport live elsewhere.

mod allowed_value;
mod constraint_index;
mod constraint_warnings;
pub mod constraints;
mod decision;
mod effective;
mod enforcement;
mod exceptions;
mod grammar;
mod image_ref;
mod policy_index;
mod policy_set;
mod prefix_trie;
mod target_index;
mod verdict;
mod warnings;

pub use allowed_value::{
    AllowedValue, AllowedValueError, MAX_ALLOWED_VALUES, MAX_ALLOWED_VALUE_LEN,
};
pub use constraints::{CombinedLimits, ConstraintSet, ConstraintsInput, PortVisibility};
pub use decision::{DecisionNote, DecisionOutcome};
pub use effective::{AllowedList, Effective};
pub use enforcement::{judge, ExemptImages, ImageSource, Judgement, Refused, ReportedBy, Subject};
pub use exceptions::{AppliedException, Exceptions, PolicyException, MAX_EXCEPTION_DAYS};
pub use grammar::check_repository_path;
pub use image_ref::{ImageRef, ImageRefError, MAX_IMAGE_REF_LEN};
pub use policy_set::{
    CompiledPolicySet, Decision, Enforcement, MatchedValue, PolicyRules, PolicyVerdict, Refusals,
    Target,
};
pub use prefix_trie::PrefixTrie;
pub use warnings::{warnings, Warning, WarningCode};

/// The exact refusal message of the contract.
pub fn refusal_message(image: &str) -> String {
    format!(
        "Base image '{image}' is not allowed based on an organization policy set by your organization administrator."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_message_is_the_contract_text() {
        assert_eq!(
            refusal_message("python:3"),
            "Base image 'python:3' is not allowed based on an organization policy set by your organization administrator."
        );
    }

    #[test]
    fn public_items_work_together_through_the_re_exports() {
        let set = CompiledPolicySet::compile(vec![PolicyRules {
            constraints: Default::default(),
            id: 1,
            name: "org".to_owned(),
            target: Target::AllRepositories,
            enforcement: Default::default(),
            base_images: Some(vec![AllowedValue::parse("ghcr.io/octo-org/*").unwrap()]),
        }]);
        let image = ImageRef::parse("ghcr.io/octo-org/dev:1.2").unwrap();
        assert!(set.decide("octo-org/app", &image).allowed);
        let limits = (MAX_ALLOWED_VALUES, MAX_ALLOWED_VALUE_LEN, MAX_IMAGE_REF_LEN);
        assert_eq!(limits, (1000, 512, 1024));
        let err: ImageRefError = ImageRef::parse("").unwrap_err();
        let wrapped = AllowedValueError::from(err);
        assert!(wrapped.to_string().contains("must not be empty"));
    }
}
