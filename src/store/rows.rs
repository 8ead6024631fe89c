//! Rows as the SQL reads them, and their conversion into domain records. Shared by both
//! backends: the derived `FromRow` is generic over the database.

use chrono::{DateTime, Utc};

use super::decision_store::DecisionEntry;
use super::records::*;
use super::{StoreError, StoreResult};
use crate::billing::{BillingMode, Role};
use crate::policy::{ConstraintSet, DecisionNote, DecisionOutcome, Enforcement, ImageSource};
use crate::registries::{Registry, RepoVisibility};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Internal(format!("stored {what} '{value}' is not valid"))
}

pub fn parse_role(raw: &str) -> StoreResult<Role> {
    Role::parse(raw).ok_or_else(|| corrupt("role", raw))
}

#[derive(sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub kind: String,
    pub token_hash: Vec<u8>,
    pub user_id: Option<i64>,
    pub user_login: Option<String>,
}

impl TryFrom<TokenRow> for TokenRecord {
    type Error = StoreError;
    fn try_from(row: TokenRow) -> StoreResult<Self> {
        let kind = TokenKind::parse(&row.kind).ok_or_else(|| corrupt("token kind", &row.kind))?;
        let user = match (row.user_id, row.user_login) {
            (Some(id), Some(login)) => Some(User { id, login }),
            _ => None,
        };
        Ok(Self {
            id: row.id,
            kind,
            token_hash: row.token_hash,
            user,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct OrgRow {
    pub id: i64,
    pub login: String,
    pub billing_mode: String,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<OrgRow> for Org {
    type Error = StoreError;
    fn try_from(row: OrgRow) -> StoreResult<Self> {
        let billing_mode = BillingMode::parse(&row.billing_mode)
            .ok_or_else(|| corrupt("billing mode", &row.billing_mode))?;
        Ok(Self {
            id: row.id,
            login: row.login,
            billing_mode,
            created_at: row.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct RepoRow {
    pub id: i64,
    pub name: String,
    pub visibility: String,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<RepoRow> for Repo {
    type Error = StoreError;
    fn try_from(row: RepoRow) -> StoreResult<Self> {
        let visibility = RepoVisibility::parse(&row.visibility)
            .ok_or_else(|| corrupt("repository visibility", &row.visibility))?;
        Ok(Self {
            id: row.id,
            name: row.name,
            visibility,
            created_at: row.created_at,
        })
    }
}

/// A policy with its repositories and allowed values, each aggregated by the query into one
/// JSON array: one row per policy instead of one per item, because the drivers' cost per
/// row made reading a big org slow (docs/benchmarks.md, goal 4).
#[derive(sqlx::FromRow)]
pub struct PolicyRow {
    pub id: i64,
    pub name: String,
    pub target: String,
    pub has_base_images: bool,
    pub enforcement: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// JSON array of repository names, in name order.
    pub repositories: String,
    /// JSON array of allowed values, in the order the owner gave them.
    pub allowed_values: String,
    /// JSON object of the other constraints (`ConstraintSet::to_stored`).
    pub constraints: String,
}

impl PolicyRow {
    pub fn into_policy(self) -> StoreResult<Policy> {
        let target =
            PolicyTarget::parse(&self.target).ok_or_else(|| corrupt("target", &self.target))?;
        let repositories = parse_list("repositories", &self.repositories)?;
        // A policy without the constraint holds no values; were any stored, they would not
        // make it constrain anything.
        let base_images = if self.has_base_images {
            Some(parse_list("allowed values", &self.allowed_values)?)
        } else {
            None
        };
        let enforcement = Enforcement::parse(&self.enforcement)
            .ok_or_else(|| corrupt("enforcement", &self.enforcement))?;
        let constraints = ConstraintSet::from_stored(&self.constraints)
            .map_err(|e| StoreError::Internal(format!("policy {}: constraints: {e}", self.id)))?;
        Ok(Policy {
            constraints,
            id: self.id,
            name: self.name,
            target,
            repositories,
            base_images,
            enforcement,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn parse_list(what: &str, json: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(json).map_err(|_| corrupt(what, "(not a JSON array of strings)"))
}

#[derive(sqlx::FromRow)]
pub struct CodespaceRow {
    pub id: String,
    pub org_id: i64,
    pub repo_id: i64,
    pub org_login: String,
    pub repo_name: String,
    pub user_login: String,
    pub billable_owner: String,
    pub image: String,
    pub image_source: String,
    pub recovery_mode: bool,
    pub creation_log: String,
    pub registries: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub billed_to_org: bool,
    pub machine: Option<String>,
    pub state: String,
    pub idle_timeout_minutes: i64,
    pub idle_timeout_requested: Option<i64>,
    pub idle_timeout_notice: Option<String>,
    pub retention_period_minutes: i64,
    pub retention_expires_at: Option<DateTime<Utc>>,
    /// JSON array of `{"port", "visibility"}`.
    pub ports: String,
}

/// A stored count of minutes, which was a `u32` when written.
fn minutes(what: &str, value: i64) -> StoreResult<u32> {
    u32::try_from(value).map_err(|_| corrupt(what, &value.to_string()))
}

impl TryFrom<CodespaceRow> for Codespace {
    type Error = StoreError;
    fn try_from(row: CodespaceRow) -> StoreResult<Self> {
        let image_source = ImageSource::parse(&row.image_source)
            .ok_or_else(|| corrupt("image source", &row.image_source))?;
        let creation_log = serde_json::from_str(&row.creation_log)
            .map_err(|_| corrupt("creation log", "(not a JSON array)"))?;
        let registries = serde_json::from_str(&row.registries)
            .map_err(|_| corrupt("registries", "(not a JSON array of registries)"))?;
        let ports = serde_json::from_str(&row.ports)
            .map_err(|_| corrupt("ports", "(not a JSON array of ports)"))?;
        let state =
            CodespaceState::parse(&row.state).ok_or_else(|| corrupt("state", &row.state))?;
        let limits = LifeLimits {
            idle_timeout_minutes: minutes("idle timeout", row.idle_timeout_minutes)?,
            idle_timeout_requested: row
                .idle_timeout_requested
                .map(|v| minutes("idle timeout", v))
                .transpose()?,
            idle_timeout_notice: row.idle_timeout_notice,
            retention_period_minutes: minutes("retention", row.retention_period_minutes)?,
        };
        Ok(Self {
            billed_to_org: row.billed_to_org,
            machine: row.machine,
            state,
            limits,
            retention_expires_at: row.retention_expires_at,
            ports,
            id: row.id,
            org_id: row.org_id,
            repo_id: row.repo_id,
            repository: format!("{}/{}", row.org_login, row.repo_name),
            user: row.user_login,
            billable_owner: row.billable_owner,
            image: row.image,
            image_source,
            recovery_mode: row.recovery_mode,
            creation_log,
            registries,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A creation log as the column stores it: a JSON array of its lines.
pub fn encode_log(lines: &[String]) -> String {
    // A list of strings always serializes; the empty list stands in for the impossible.
    serde_json::to_string(lines).unwrap_or_else(|_| "[]".to_string())
}

/// Policy ids as a decision's columns store them: a JSON array.
pub fn encode_ids(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_string())
}

/// The lowercased repository name of `org/repo`, by which decisions are filtered.
pub fn repo_key_of(repository: &str) -> String {
    repository
        .split_once('/')
        .map_or(repository, |(_, name)| name)
        .to_ascii_lowercase()
}

/// A decision as the log's columns hold it.
#[derive(sqlx::FromRow)]
pub struct DecisionRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub repository: String,
    pub user_login: String,
    pub image: String,
    pub image_source: String,
    pub outcome: String,
    pub refused_by: String,
    pub reported_by: String,
    pub codespace_id: Option<String>,
    pub exception_id: Option<i64>,
}

impl TryFrom<DecisionRow> for DecisionEntry {
    type Error = StoreError;
    fn try_from(row: DecisionRow) -> StoreResult<Self> {
        let ids = |what, json: &str| -> StoreResult<Vec<i64>> {
            serde_json::from_str(json).map_err(|_| corrupt(what, "(not a JSON array of ids)"))
        };
        Ok(Self {
            id: row.id,
            at: row.at,
            repository: row.repository,
            user: row.user_login,
            note: DecisionNote {
                image: row.image,
                image_source: ImageSource::parse(&row.image_source)
                    .ok_or_else(|| corrupt("image source", &row.image_source))?,
                outcome: DecisionOutcome::parse(&row.outcome)
                    .ok_or_else(|| corrupt("decision outcome", &row.outcome))?,
                refused_by: ids("refused_by", &row.refused_by)?,
                reported_by: ids("reported_by", &row.reported_by)?,
                exception: row.exception_id,
            },
            codespace_id: row.codespace_id,
        })
    }
}

/// A codespace's registries as the column stores them: a JSON array of server and prefix.
pub fn encode_registries(registries: &[Registry]) -> String {
    serde_json::to_string(registries).unwrap_or_else(|_| "[]".to_string())
}

#[derive(sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> Self {
        let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
        Self {
            id: row.id,
            actor: row.actor,
            action: row.action,
            before: json(row.before),
            after: json(row.after),
            created_at: row.created_at,
        }
    }
}

/// What the audit log keeps of a policy.
pub fn policy_snapshot(policy: &Policy) -> serde_json::Value {
    serde_json::json!({
        "id": policy.id,
        "name": policy.name,
        "target": policy.target.as_str(),
        "repositories": policy.repositories,
        "base_images": policy.base_images,
        "constraints": policy.constraints.to_input(),
        "enforcement": policy.enforcement.as_str(),
    })
}

pub fn billing_snapshot(billing: &Billing) -> serde_json::Value {
    serde_json::json!({
        "mode": billing.mode.as_str(),
        "selected_usernames": billing.selected_usernames,
    })
}

/// What the audit log keeps of a token: never the token or its hash.
pub fn token_snapshot(
    kind: TokenKind,
    user: Option<&str>,
    name: Option<&str>,
) -> serde_json::Value {
    serde_json::json!({ "kind": kind.as_str(), "user": user, "name": name })
}
