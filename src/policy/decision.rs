//! What the policies decided of one creation or full rebuild, as the decision log keeps it:
//! the image judged, the outcome, the enforcing policies that refused it, the report-only
//! ones that would have, and the exception that allowed it over them.

use crate::policy::ImageSource;

/// What came of a judged creation or full rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecisionOutcome {
    /// Built as configured.
    Created,
    /// Refused: no codespace (a 400).
    Refused,
    /// Built on the recovery image.
    Recovery,
}

impl DecisionOutcome {
    pub const ALL: [Self; 3] = [Self::Created, Self::Refused, Self::Recovery];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Refused => "refused",
            Self::Recovery => "recovery",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == raw)
    }
}

/// One judged decision, before the store adds where, who and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionNote {
    /// The image judged, as configured (not the recovery image).
    pub image: String,
    pub image_source: ImageSource,
    pub outcome: DecisionOutcome,
    /// Enforcing policies that refused it, ascending.
    pub refused_by: Vec<i64>,
    /// Report-only policies that would have refused it, ascending.
    pub reported_by: Vec<i64>,
    /// The exception that allowed it although a policy did not (then both lists are empty).
    pub exception: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip_their_wire_words() {
        for outcome in DecisionOutcome::ALL {
            assert_eq!(DecisionOutcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(DecisionOutcome::parse("allowed"), None);
    }
}
