//! A revision as its row holds it: the policy as JSON in the policy answer's shape (the
//! migration's backfill writes the same shape in SQL), read back into a `Policy`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::revision_store::{PolicyRevision, RevisionAction};
use super::{Policy, PolicyTarget, StoreError, StoreResult};
use crate::policy::constraints::{AllowedInput, ValueInput};
use crate::policy::{ConstraintSet, ConstraintsInput, Enforcement};

/// The policy answer's shape; unknown fields are ignored, so that what a later version adds
/// does not make older revisions unreadable.
#[derive(Serialize, Deserialize)]
struct Snapshot {
    id: i64,
    name: String,
    target: String,
    repositories: Vec<String>,
    enforcement: String,
    constraints: SnapshotConstraints,
    created_at: String,
    updated_at: String,
}

#[derive(Serialize, Deserialize)]
struct SnapshotConstraints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    base_images: Option<SnapshotBaseImages>,
    /// The other constraints, absent from revisions written before they existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    machine_types: Option<AllowedInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_codespaces_per_user: Option<ValueInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_idle_timeout_minutes: Option<ValueInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_retention_period_days: Option<ValueInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port_visibility: Option<AllowedInput>,
}

impl SnapshotConstraints {
    fn new(policy: &Policy) -> Self {
        let others = policy.constraints.to_input();
        Self {
            base_images: policy
                .base_images
                .clone()
                .map(|allowed_values| SnapshotBaseImages { allowed_values }),
            machine_types: others.machine_types,
            max_codespaces_per_user: others.max_codespaces_per_user,
            max_idle_timeout_minutes: others.max_idle_timeout_minutes,
            max_retention_period_days: others.max_retention_period_days,
            port_visibility: others.port_visibility,
        }
    }

    /// The constraints beside base images, as they were validated when written.
    fn others(self) -> StoreResult<ConstraintSet> {
        let input = ConstraintsInput {
            machine_types: self.machine_types,
            max_codespaces_per_user: self.max_codespaces_per_user,
            max_idle_timeout_minutes: self.max_idle_timeout_minutes,
            max_retention_period_days: self.max_retention_period_days,
            port_visibility: self.port_visibility,
        };
        let text = serde_json::to_string(&input).map_err(|_| corrupt("constraints"))?;
        ConstraintSet::from_stored(&text).map_err(|_| corrupt("constraints"))
    }
}

#[derive(Serialize, Deserialize)]
struct SnapshotBaseImages {
    allowed_values: Vec<String>,
}

/// RFC 3339 in UTC to the second, as the answers write it.
fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The policy as a revision keeps it.
pub fn encode_snapshot(policy: &Policy) -> String {
    let snapshot = Snapshot {
        id: policy.id,
        name: policy.name.clone(),
        target: policy.target.as_str().to_string(),
        repositories: policy.repositories.clone(),
        enforcement: policy.enforcement.as_str().to_string(),
        constraints: SnapshotConstraints::new(policy),
        created_at: stamp(policy.created_at),
        updated_at: stamp(policy.updated_at),
    };
    // Strings, numbers and lists of strings always serialize.
    serde_json::to_string(&snapshot).unwrap_or_else(|_| "{}".to_string())
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Internal(format!("stored policy revision: {what} is not valid"))
}

fn parse_stamp(raw: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| corrupt("a timestamp"))
}

/// The policy a revision kept, at the version it had then.
pub fn decode_snapshot(json: &str, version: i64) -> StoreResult<Policy> {
    let mut snapshot: Snapshot = serde_json::from_str(json).map_err(|_| corrupt("the policy"))?;
    let base_images = snapshot
        .constraints
        .base_images
        .take()
        .map(|b| b.allowed_values);
    Ok(Policy {
        constraints: snapshot.constraints.others()?,
        id: snapshot.id,
        name: snapshot.name,
        target: PolicyTarget::parse(&snapshot.target).ok_or_else(|| corrupt("target"))?,
        repositories: snapshot.repositories,
        base_images,
        enforcement: Enforcement::parse(&snapshot.enforcement)
            .ok_or_else(|| corrupt("enforcement"))?,
        version,
        created_at: parse_stamp(&snapshot.created_at)?,
        updated_at: parse_stamp(&snapshot.updated_at)?,
    })
}

#[derive(sqlx::FromRow)]
pub struct RevisionRow {
    pub revision: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub version: i64,
    pub policy: String,
}

impl TryFrom<RevisionRow> for PolicyRevision {
    type Error = StoreError;
    fn try_from(row: RevisionRow) -> StoreResult<Self> {
        Ok(Self {
            revision: row.revision,
            at: row.at,
            actor: row.actor,
            action: RevisionAction::parse(&row.action).ok_or_else(|| corrupt("action"))?,
            policy: decode_snapshot(&row.policy, row.version)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(base_images: Option<Vec<String>>) -> Policy {
        let at = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Policy {
            id: 7,
            name: "Approved \"images\"".to_string(),
            target: PolicyTarget::SelectedRepositories,
            repositories: vec!["repo-a".to_string(), "Repo-B".to_string()],
            base_images,
            constraints: ConstraintSet {
                max_idle_timeout_minutes: Some(60),
                ..ConstraintSet::default()
            },
            enforcement: Enforcement::Report,
            version: 3,
            created_at: at,
            updated_at: at + chrono::Duration::minutes(5),
        }
    }

    #[test]
    fn a_snapshot_reads_back_as_the_policy_it_was() {
        for base_images in [None, Some(vec![]), Some(vec!["node:*".to_string()])] {
            let before = policy(base_images);
            let after = decode_snapshot(&encode_snapshot(&before), 3).unwrap();
            assert_eq!(format!("{after:?}"), format!("{before:?}"));
        }
    }

    #[test]
    fn a_snapshot_is_in_the_policy_answer_shape() {
        let json: serde_json::Value =
            serde_json::from_str(&encode_snapshot(&policy(None))).unwrap();
        assert_eq!(
            json["constraints"],
            serde_json::json!({"max_idle_timeout_minutes": {"value": 60}})
        );
        assert_eq!(json["target"], "selected_repositories");
        assert_eq!(json["updated_at"], "2026-11-22T10:05:00Z");
        assert!(json.get("version").is_none());
    }

    #[test]
    fn a_corrupt_snapshot_is_an_internal_error() {
        let broken = encode_snapshot(&policy(None)).replace("selected_repositories", "x");
        assert!(matches!(
            decode_snapshot(&broken, 1),
            Err(StoreError::Internal(_))
        ));
    }
}
