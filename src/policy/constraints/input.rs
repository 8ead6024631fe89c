//! The constraints beyond `base_images` as a request writes them, and their validation
//! into a [`ConstraintSet`]. Every bad field is reported at once, named with its index.

use std::collections::HashSet;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    in_range, invalid, ConstraintError, ConstraintSet, PortVisibility, CODESPACES_PER_USER,
    IDLE_TIMEOUT_MINUTES, MAX_LISTED_VALUES, RETENTION_PERIOD_DAYS,
};

/// The constraints beyond `base_images` as a request writes them; the policy request's
/// `constraints` object holds these fields beside `base_images`. A key given twice is
/// refused by serde ("duplicate field"), naming it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConstraintsInput {
    /// Catalog machine names (`GET /machines`); several policies allow their intersection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_types: Option<AllowedInput>,
    /// 1 to 100; several policies: the smallest. Only in an `all_repositories` policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_codespaces_per_user: Option<ValueInput>,
    /// 5 to 240; several policies, and the user's own choice: the smallest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_idle_timeout_minutes: Option<ValueInput>,
    /// 0 to 30; several policies, and the user's own choice: the smallest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retention_period_days: Option<ValueInput>,
    /// Any of `private`, `org`, `public` (`private` is always allowed); several
    /// policies allow their intersection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_visibility: Option<AllowedInput>,
}

/// `{"allowed_values": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowedInput {
    #[schema(max_items = 100)]
    pub allowed_values: Vec<String>,
}

/// `{"value": N}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueInput {
    #[serde(deserialize_with = "whole_number")]
    pub value: i64,
}

/// An integer as JSON Schema's `integer` takes it: `30` or `30.0`, never `30.5`.
///
/// # Errors
///
/// A value that is not a number, or has a fraction, or is out of `i64`'s range.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    use serde::de::Error;
    let number = serde_json::Number::deserialize(deserializer)?;
    number
        .as_i64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
        .ok_or_else(|| D::Error::custom(format!("{number} is not a whole number")))
}

/// [`whole_number`] for an optional field (absent or `null`: `None`).
///
/// # Errors
///
/// As [`whole_number`].
pub fn optional_whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] i64);
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|Whole(n)| n))
}

impl ConstraintsInput {
    /// Validates every constraint, reporting every bad field at once. `known_machines`
    /// are the catalog's names; a listed name matches one regardless of case and is kept
    /// as the catalog spells it.
    ///
    /// # Errors
    ///
    /// An empty, over-long or repeating `machine_types` list or an unknown machine; a
    /// value out of its range; a `port_visibility` list over-long, repeating or holding
    /// other than `private`, `org`, `public`.
    pub fn validate(&self, known_machines: &[&str]) -> Result<ConstraintSet, Vec<ConstraintError>> {
        let mut errors = Vec::new();
        let machine_types = self.machine_types.as_ref().map(|list| {
            let field = "constraints.machine_types.allowed_values";
            if list.allowed_values.is_empty() {
                errors.push(invalid(field, "must name at least one machine type"));
            }
            listed(field, &list.allowed_values, &mut errors, |raw| {
                known_machines
                    .iter()
                    .find(|known| known.eq_ignore_ascii_case(raw))
                    .map(|known| (*known).to_owned())
                    .ok_or_else(|| {
                        format!(
                            "'{raw}' is not a machine type; known: {}",
                            known_machines.join(", ")
                        )
                    })
            })
        });
        let mut value = |name: &str, input: &Option<ValueInput>, range: RangeInclusive<u32>| {
            input.as_ref().and_then(|input| {
                in_range(&format!("constraints.{name}.value"), input.value, &range)
                    .map_err(|e| errors.push(e))
                    .ok()
            })
        };
        let max_codespaces_per_user = value(
            "max_codespaces_per_user",
            &self.max_codespaces_per_user,
            CODESPACES_PER_USER,
        );
        let max_idle_timeout_minutes = value(
            "max_idle_timeout_minutes",
            &self.max_idle_timeout_minutes,
            IDLE_TIMEOUT_MINUTES,
        );
        let max_retention_period_days = value(
            "max_retention_period_days",
            &self.max_retention_period_days,
            RETENTION_PERIOD_DAYS,
        );
        let port_visibility = self.port_visibility.as_ref().map(|list| {
            let field = "constraints.port_visibility.allowed_values";
            listed(field, &list.allowed_values, &mut errors, |raw| {
                PortVisibility::parse(raw)
                    .ok_or_else(|| format!("'{raw}' must be one of private, org, public"))
            })
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ConstraintSet {
            machine_types,
            max_codespaces_per_user,
            max_idle_timeout_minutes,
            max_retention_period_days,
            port_visibility,
        })
    }
}

/// Parses each value of an `allowed_values` list, refusing a list over
/// [`MAX_LISTED_VALUES`] and a value given twice; errors name the value's index.
fn listed<T: PartialEq + Eq + std::hash::Hash + Clone>(
    field: &str,
    raw: &[String],
    errors: &mut Vec<ConstraintError>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Vec<T> {
    if raw.len() > MAX_LISTED_VALUES {
        errors.push(invalid(
            field,
            format!("may hold at most {MAX_LISTED_VALUES} values"),
        ));
    }
    let mut seen = HashSet::new();
    let mut parsed = Vec::with_capacity(raw.len().min(MAX_LISTED_VALUES));
    for (index, value) in raw.iter().enumerate().take(MAX_LISTED_VALUES) {
        match parse(value) {
            Ok(item) if !seen.insert(item.clone()) => {
                errors.push(invalid(
                    format!("{field}[{index}]"),
                    format!("'{value}' is listed twice"),
                ));
            }
            Ok(item) => parsed.push(item),
            Err(message) => errors.push(invalid(format!("{field}[{index}]"), message)),
        }
    }
    parsed
}
