//! What the store hands back and takes in: plain domain records, no SQL types.

use chrono::{DateTime, Utc};

use crate::billing::{BillingMode, Role};
use crate::names::Name;
use crate::policy::constraints::{Limit, PortVisibility};
use crate::policy::{AllowedValue, ConstraintSet, DecisionNote, Enforcement, ImageSource};
use crate::registries::{Registry, RepoVisibility};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    SiteAdmin,
    User,
    Service,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SiteAdmin => "site_admin",
            Self::User => "user",
            Self::Service => "service",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::SiteAdmin, Self::User, Self::Service]
            .into_iter()
            .find(|kind| kind.as_str() == raw)
    }
}

/// A live (not revoked) token found by its hash.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: i64,
    pub kind: TokenKind,
    pub token_hash: Vec<u8>,
    pub user: Option<User>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub login: String,
}

#[derive(Debug, Clone)]
pub struct Org {
    pub id: i64,
    pub login: String,
    pub billing_mode: BillingMode,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Repo {
    pub id: i64,
    pub name: String,
    pub visibility: RepoVisibility,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Membership {
    pub username: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Billing {
    pub mode: BillingMode,
    pub selected_usernames: Vec<String>,
}

/// Which repositories a policy applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyTarget {
    AllRepositories,
    SelectedRepositories,
}

impl PolicyTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllRepositories => "all_repositories",
            Self::SelectedRepositories => "selected_repositories",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::AllRepositories, Self::SelectedRepositories]
            .into_iter()
            .find(|target| target.as_str() == raw)
    }
}

/// A stored policy, as the API shows it.
#[derive(Debug, Clone)]
pub struct Policy {
    pub id: i64,
    pub name: String,
    pub target: PolicyTarget,
    /// Repository names as first written, sorted case-insensitively.
    pub repositories: Vec<String>,
    /// `None`: the policy has no `base_images` constraint.
    pub base_images: Option<Vec<String>>,
    /// The constraints beside base images.
    pub constraints: ConstraintSet,
    pub enforcement: Enforcement,
    /// Bumped on every change; the ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A whole, validated policy to write (a creation, or an edit after merging the patch).
#[derive(Debug, Clone)]
pub struct PolicyDraft {
    pub name: String,
    pub target: PolicyTarget,
    pub repositories: Vec<Name>,
    pub base_images: Option<Vec<AllowedValue>>,
    pub constraints: ConstraintSet,
    pub enforcement: Enforcement,
}

/// A stored codespace, as the API shows it.
#[derive(Debug, Clone)]
pub struct Codespace {
    pub id: String,
    pub org_id: i64,
    pub repo_id: i64,
    /// `org/repo`.
    pub repository: String,
    pub user: String,
    pub billable_owner: String,
    pub image: String,
    pub image_source: ImageSource,
    pub recovery_mode: bool,
    pub creation_log: Vec<String>,
    /// The registries its complete credential triplets made available when it was built.
    pub registries: Vec<Registry>,
    /// Whether the org pays for it, so that its policies apply and it counts against
    /// `max_codespaces_per_user`.
    pub billed_to_org: bool,
    /// Its machine type (a catalog name); `None` for a codespace created before machines.
    pub machine: Option<String>,
    pub state: CodespaceState,
    pub limits: LifeLimits,
    /// When a stopped codespace is deleted by the service; `None` while it runs.
    pub retention_expires_at: Option<DateTime<Utc>>,
    /// Its forwarded ports, by port number.
    pub ports: Vec<ForwardedPort>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Whether a codespace runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodespaceState {
    Available,
    Shutdown,
}

impl CodespaceState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "Available",
            Self::Shutdown => "Shutdown",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Available, Self::Shutdown]
            .into_iter()
            .find(|state| state.as_str() == raw)
    }
}

/// A codespace's idle timeout and retention, as the policies left them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifeLimits {
    pub idle_timeout_minutes: u32,
    /// The user's own choice, which every start caps again by the policies then in force.
    pub idle_timeout_requested: Option<u32>,
    /// Set when a policy lowered the idle timeout (the contract's text).
    pub idle_timeout_notice: Option<String>,
    pub retention_period_minutes: u32,
}

/// A forwarded port and who may reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ForwardedPort {
    pub port: u16,
    pub visibility: PortVisibility,
}

/// What a creation or a rebuild writes once the policy allowed it (or sent it to recovery).
#[derive(Debug, Clone)]
pub struct CodespaceBuild {
    pub billable_owner: String,
    pub image: String,
    pub image_source: ImageSource,
    pub recovery_mode: bool,
    pub creation_log: Vec<String>,
    pub registries: Vec<Registry>,
    /// For the decision log, written with the codespace; `None` when the policies did not
    /// judge it (the default image, not billed to the org).
    pub decision: Option<DecisionNote>,
    pub billed_to_org: bool,
    /// The machine chosen (a catalog name).
    pub machine: String,
    pub limits: LifeLimits,
    /// The `max_codespaces_per_user` the write must check against the user's org-billed
    /// codespaces, atomically with its insert; `None` when no policy sets one or the org
    /// does not pay.
    pub per_user_limit: Option<Limit>,
}

/// Page of a list: `per_page` rows starting after `(page - 1) * per_page`.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub page: i64,
    pub per_page: i64,
}

impl PageRequest {
    pub fn offset(self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

/// One page of a list and the total count across all pages.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub total_count: i64,
    pub items: Vec<T>,
}

/// What the store says of an `Idempotency-Key` when a request arrives with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyStart {
    /// First use (or an abandoned one taken over): the caller does the work.
    Started,
    /// Done before with the same body: answer exactly this.
    Replay { status: u16, body: String },
    /// The first request with this key is still running.
    InFlight,
    /// The key was used with another body.
    Mismatch,
}

/// One recorded change: who, what, and the state before and after (JSON).
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}
