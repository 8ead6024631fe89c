//! What a decision says: whether the image is allowed, each applicable policy's verdict and
//! the value that matched, and the exception that overrode them, if one did.

use std::fmt::{self, Write as _};

use crate::policy::exceptions::PolicyException;
use crate::policy::policy_set::Enforcement;

/// The outcome for one repository and image. It borrows from the compiled set and the
/// image, so that deciding copies no names or values: evaluate answers one verdict per
/// applicable policy, and with 64 policies the copies were most of its cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision<'a> {
    /// True when every applicable enforcing policy allows the image (or none applies), or
    /// when `exception` does.
    pub allowed: bool,
    /// One verdict per applicable policy, ordered by policy id: each policy's own, even
    /// where an exception overrides it.
    pub verdicts: Vec<PolicyVerdict<'a>>,
    /// The live exception that allows the image although an applicable policy does not
    /// (only [`CompiledPolicySet::decide_for`](crate::policy::CompiledPolicySet::decide_for)
    /// looks for one).
    pub exception: Option<&'a PolicyException>,
}

impl Decision<'_> {
    /// Ids of the enforcing policies that refused the image, in ascending order.
    pub fn refusing_policy_ids(&self) -> Vec<i64> {
        self.ids_refusing(Enforcement::Enforce)
    }

    /// Ids of the report-only policies that would have refused the image, ascending.
    pub fn reporting_policy_ids(&self) -> Vec<i64> {
        self.ids_refusing(Enforcement::Report)
    }

    fn ids_refusing(&self, enforcement: Enforcement) -> Vec<i64> {
        self.verdicts
            .iter()
            .filter(|v| !v.allowed && v.enforcement == enforcement)
            .map(|v| v.policy_id)
            .collect()
    }
}

/// The applicable policies that do not allow an image, by enforcement, each ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refusals {
    /// Enforcing policies: the image is refused if any.
    pub enforced: Vec<i64>,
    /// Report-only policies that would have refused it.
    pub reported: Vec<i64>,
}

/// What one applicable policy said about the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyVerdict<'a> {
    /// The policy's id.
    pub policy_id: i64,
    /// The policy's name.
    pub policy_name: &'a str,
    /// Whether it refuses or only reports.
    pub enforcement: Enforcement,
    /// Whether this policy allows the image.
    pub allowed: bool,
    /// The allowed value that matched: an exact match if any, otherwise the longest
    /// matching prefix.
    pub matched_value: Option<MatchedValue<'a>>,
}

/// An allowed value that matched an image, borrowed from the image: an exact value equals
/// the image, and a prefix value is the start of it. Displayed as written, with the `*` of
/// a prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchedValue<'a> {
    /// An exact value, equal to the image.
    Exact(&'a str),
    /// A prefix value, without its trailing `*`.
    Prefix(&'a str),
}

impl fmt::Display for MatchedValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatchedValue::Exact(value) => f.write_str(value),
            MatchedValue::Prefix(prefix) => {
                f.write_str(prefix)?;
                f.write_char('*')
            }
        }
    }
}
