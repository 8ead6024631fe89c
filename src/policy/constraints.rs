//! The constraints a policy may hold beside `base_images`: machine types, codespaces per
//! user, idle timeout, retention and port visibility, as validated values; the request
//! shape and its validation are in `input`, how several policies combine in `combined`.

mod combined;
mod input;
mod messages;

use std::fmt;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use combined::{Applicable, Capped, CombinedLimits, Limit, PolicyRef};
pub use input::{optional_whole_number, whole_number, AllowedInput, ConstraintsInput, ValueInput};
pub use messages::{
    codespace_limit_message, machine_refusal_message, no_machine_message,
    port_visibility_refusal_message,
};

/// `max_codespaces_per_user.value`.
pub const CODESPACES_PER_USER: RangeInclusive<u32> = 1..=100;
/// `max_idle_timeout_minutes.value`, and a user's own `idle_timeout_minutes`.
pub const IDLE_TIMEOUT_MINUTES: RangeInclusive<u32> = 5..=240;
/// `max_retention_period_days.value`.
pub const RETENTION_PERIOD_DAYS: RangeInclusive<u32> = 0..=30;
/// A user's own `retention_period_minutes`: up to 30 days, as GitHub allows.
pub const RETENTION_PERIOD_MINUTES: RangeInclusive<u32> = 0..=43_200;
/// A user's idle timeout when they choose none (GitHub's default).
pub const DEFAULT_IDLE_TIMEOUT_MINUTES: u32 = 30;
/// A user's retention when they choose none (GitHub's default, the longest).
pub const DEFAULT_RETENTION_PERIOD_MINUTES: u32 = 43_200;
/// Most values an `allowed_values` list may hold; more than any catalog has names.
pub const MAX_LISTED_VALUES: usize = 100;

/// Who may reach a forwarded port.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum PortVisibility {
    /// Only the codespace's user; always allowed, and what a refused port falls back to.
    Private,
    /// Members of the organization.
    Org,
    /// Anyone with the URL.
    Public,
}

impl PortVisibility {
    pub const ALL: [Self; 3] = [Self::Private, Self::Org, Self::Public];

    /// The wire word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Org => "org",
            Self::Public => "public",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == raw)
    }
}

impl fmt::Display for PortVisibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One policy's constraints beyond base images, validated; `None` does not constrain.
/// Machine names are spelled as the catalog spells them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConstraintSet {
    pub machine_types: Option<Vec<String>>,
    pub max_codespaces_per_user: Option<u32>,
    pub max_idle_timeout_minutes: Option<u32>,
    pub max_retention_period_days: Option<u32>,
    /// As written; `private` is allowed whether listed or not.
    pub port_visibility: Option<Vec<PortVisibility>>,
}

impl ConstraintSet {
    /// Whether it constrains nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The request shape, for answering a policy.
    pub fn to_input(&self) -> ConstraintsInput {
        let value = |v: Option<u32>| {
            v.map(|value| ValueInput {
                value: value.into(),
            })
        };
        ConstraintsInput {
            machine_types: self
                .machine_types
                .clone()
                .map(|allowed_values| AllowedInput { allowed_values }),
            max_codespaces_per_user: value(self.max_codespaces_per_user),
            max_idle_timeout_minutes: value(self.max_idle_timeout_minutes),
            max_retention_period_days: value(self.max_retention_period_days),
            port_visibility: self.port_visibility.as_ref().map(|list| AllowedInput {
                allowed_values: list.iter().map(|v| v.as_str().to_owned()).collect(),
            }),
        }
    }
}

impl ConstraintSet {
    /// As the policies' `constraints` column keeps it: the request shape, as JSON.
    pub fn to_stored(&self) -> String {
        // Strings and numbers always serialize.
        serde_json::to_string(&self.to_input()).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Reads the column back. Machine names were checked against the catalog when written;
    /// a catalog changed since does not unmake them (an unknown name just matches nothing).
    ///
    /// # Errors
    ///
    /// What is wrong with the text, for an internal error: stored constraints are never
    /// silently dropped (fail closed).
    pub fn from_stored(text: &str) -> Result<Self, String> {
        let input: ConstraintsInput = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let names: Vec<&str> = input
            .machine_types
            .iter()
            .flat_map(|list| list.allowed_values.iter().map(String::as_str))
            .collect();
        input.validate(&names).map_err(|errors| {
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

/// A bad constraint (or choice); `field` is e.g. `constraints.machine_types.allowed_values[1]`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct ConstraintError {
    pub field: String,
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ConstraintError {
    ConstraintError {
        field: field.into(),
        message: message.into(),
    }
}

fn in_range(field: &str, value: i64, range: &RangeInclusive<u32>) -> Result<u32, ConstraintError> {
    u32::try_from(value)
        .ok()
        .filter(|v| range.contains(v))
        .ok_or_else(|| {
            invalid(
                field,
                format!("must be between {} and {}", range.start(), range.end()),
            )
        })
}

/// A policy holding `max_codespaces_per_user` must apply to every repository: the limit
/// counts a user's codespaces across the org.
///
/// # Errors
///
/// A [`ConstraintError`] naming `target` when such a policy targets selected repositories.
pub fn check_target(
    targets_all_repositories: bool,
    constraints: &ConstraintSet,
) -> Result<(), ConstraintError> {
    if constraints.max_codespaces_per_user.is_some() && !targets_all_repositories {
        return Err(invalid(
            "target",
            "must be all_repositories, with no repositories, for a policy holding max_codespaces_per_user",
        ));
    }
    Ok(())
}

/// A user's own `idle_timeout_minutes`, 5 to 240.
///
/// # Errors
///
/// A [`ConstraintError`] naming `idle_timeout_minutes` when out of range.
pub fn idle_timeout_choice(value: i64) -> Result<u32, ConstraintError> {
    in_range("idle_timeout_minutes", value, &IDLE_TIMEOUT_MINUTES)
}

/// A user's own `retention_period_minutes`, 0 to 43200.
///
/// # Errors
///
/// A [`ConstraintError`] naming `retention_period_minutes` when out of range.
pub fn retention_period_choice(value: i64) -> Result<u32, ConstraintError> {
    in_range("retention_period_minutes", value, &RETENTION_PERIOD_MINUTES)
}

/// The contract's `idle_timeout_notice`, for a timeout a policy capped.
pub fn idle_timeout_notice(minutes: u32) -> String {
    format!(
        "Idle timeout for this codespace is set to {minutes} minutes in compliance with your organization's policy."
    )
}

#[cfg(test)]
#[path = "constraints_tests.rs"]
mod tests;
