//! The exception a POST asks for, and its validation into an `ExceptionDraft` by the
//! service's clock. Every bad field is reported at once, each by name (`allowed_values[2]`).

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::FieldError;
use crate::names::Name;
use crate::policy::{AllowedValue, MAX_ALLOWED_VALUES, MAX_EXCEPTION_DAYS};
use crate::store::ExceptionDraft;

use super::RESOURCE;

/// The longest reason, in characters.
pub const MAX_REASON_LEN: usize = 500;

/// `POST /orgs/{org}/codespaces/policy-exceptions`. A required field that is missing is a
/// 422 naming it, as every other bad field is.
// The required fields are read as optional, so that serde does not refuse the body first.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateException {
    /// A repository of the org; null or absent: every repository of the org.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}$", min_length = 1, max_length = 100)]
    repository: Option<String>,
    /// A user's login; null or absent: every user.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}$", min_length = 1, max_length = 100)]
    user: Option<String>,
    /// The images it allows, each exact or a prefix ending in `*`, as in a policy (1 to
    /// 1000 values of at most 512 characters).
    #[serde(default)]
    #[schema(value_type = Vec<String>, required = true, min_items = 1, max_items = 1000)]
    allowed_values: Option<Vec<String>>,
    /// RFC 3339; after now and at most 90 days ahead, by the service's clock.
    #[serde(default)]
    #[schema(value_type = String, format = DateTime, required = true)]
    expires_at: Option<String>,
    /// Why the exception is granted: 1 to 500 characters, no control characters.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 500,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*\S[^\x00-\x1F\x7F-\x9F]*$")]
    reason: Option<String>,
}

impl CreateException {
    /// The draft to store, with `now` (the service's clock) as its creation time.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<ExceptionDraft, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut invalid = |field: &str, message: String| {
            errors.push(FieldError::invalid(RESOURCE, field, message));
        };
        let name = |field: &str, raw: &Option<String>, invalid: &mut dyn FnMut(&str, String)| {
            raw.as_deref().and_then(|raw| {
                Name::parse(raw)
                    .map_err(|e| invalid(field, e.to_string()))
                    .ok()
            })
        };
        let repository = name("repository", &self.repository, &mut invalid);
        let user = name("user", &self.user, &mut invalid);
        let reason = match self.reason.as_deref() {
            None => {
                invalid("reason", "is required".into());
                String::new()
            }
            Some(reason) => {
                if let Err(message) = check_reason(reason) {
                    invalid("reason", message.into());
                }
                reason.to_string()
            }
        };
        let expires_at = match self.expires_at.as_deref() {
            None => {
                invalid("expires_at", "is required".into());
                now
            }
            Some(raw) => match expiry(raw, now) {
                Ok(at) => at,
                Err(message) => {
                    invalid("expires_at", message);
                    now
                }
            },
        };
        let allowed_values = values(self.allowed_values.as_deref(), &mut invalid);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ExceptionDraft {
            repository,
            user,
            allowed_values,
            expires_at,
            reason,
            created_at: now,
        })
    }
}

fn check_reason(reason: &str) -> Result<(), &'static str> {
    if reason.trim().is_empty() {
        return Err("must not be empty");
    }
    if reason.chars().count() > MAX_REASON_LEN {
        return Err("must be at most 500 characters");
    }
    if reason.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(())
}

/// The expiry `raw` names: RFC 3339, strictly after `now`, at most 90 days after it.
fn expiry(raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let at = DateTime::parse_from_rfc3339(raw)
        .map_err(|_| "must be an RFC 3339 time, as 2026-12-15T00:00:00Z".to_string())?
        .with_timezone(&Utc);
    if at <= now {
        return Err("must be in the future".into());
    }
    if at > now + Duration::days(MAX_EXCEPTION_DAYS) {
        return Err(format!("must be at most {MAX_EXCEPTION_DAYS} days ahead"));
    }
    Ok(at)
}

/// The allowed values, by the grammar and limits of a policy's.
fn values(raw: Option<&[String]>, invalid: &mut dyn FnMut(&str, String)) -> Vec<AllowedValue> {
    let Some(raw) = raw else {
        invalid("allowed_values", "is required".into());
        return Vec::new();
    };
    if raw.is_empty() {
        invalid("allowed_values", "must hold at least one value".into());
    }
    if raw.len() > MAX_ALLOWED_VALUES {
        invalid(
            "allowed_values",
            format!("may hold at most {MAX_ALLOWED_VALUES} values"),
        );
    }
    let mut parsed = Vec::with_capacity(raw.len().min(MAX_ALLOWED_VALUES));
    for (index, value) in raw.iter().enumerate().take(MAX_ALLOWED_VALUES) {
        match AllowedValue::parse(value) {
            Ok(value) => parsed.push(value),
            Err(e) => invalid(&format!("allowed_values[{index}]"), e.to_string()),
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()
    }

    fn fields(body: serde_json::Value) -> Vec<String> {
        let request: CreateException = serde_json::from_value(body).unwrap();
        match request.validate(now()) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn a_good_exception_validates_and_every_bad_field_is_named() {
        let good = json!({ "repository": "repo-a", "user": "mona", "allowed_values": ["node:18"],
            "expires_at": "2027-02-20T10:00:00Z", "reason": "Migration" });
        assert!(fields(good).is_empty(), "exactly 90 days ahead is allowed");
        assert_eq!(
            fields(json!({})),
            ["reason", "expires_at", "allowed_values"]
        );
        let bad = json!({ "repository": "a/b", "user": "", "allowed_values": ["node:18", "*x"],
            "expires_at": "2027-02-20T10:00:01Z", "reason": "  " });
        assert_eq!(
            fields(bad),
            [
                "repository",
                "user",
                "reason",
                "expires_at",
                "allowed_values[1]"
            ]
        );
    }

    #[test]
    fn the_expiry_must_be_ahead_by_at_most_ninety_days() {
        assert!(
            expiry("2026-11-22T10:00:00Z", now()).is_err(),
            "now is not ahead"
        );
        assert!(
            expiry("2026-11-22T09:00:00-02:00", now()).is_ok(),
            "offsets are read"
        );
        assert!(
            expiry("2026-11-23", now()).is_err(),
            "a date alone is not RFC 3339"
        );
        assert!(expiry("2027-02-20T10:00:00Z", now()).is_ok());
        assert!(expiry("2027-02-20T10:00:01Z", now()).is_err());
    }

    #[test]
    fn reasons_are_bounded_and_printable() {
        assert!(check_reason("Migration to node 20").is_ok());
        assert!(check_reason("").is_err());
        assert!(check_reason("line\nbreak").is_err());
        assert!(check_reason(&"x".repeat(500)).is_ok());
        assert!(check_reason(&"x".repeat(501)).is_err());
    }

    #[test]
    fn values_follow_the_policy_grammar_and_limits() {
        let mut errors = Vec::new();
        let mut note = |field: &str, _: String| errors.push(field.to_string());
        values(Some(&[][..]), &mut note);
        let many: Vec<String> = (0..=MAX_ALLOWED_VALUES)
            .map(|i| format!("node:{i}"))
            .collect();
        assert_eq!(
            values(Some(many.as_slice()), &mut note).len(),
            MAX_ALLOWED_VALUES
        );
        assert_eq!(errors, ["allowed_values", "allowed_values"]);
    }
}
