//! What the codespace routes read and answer: the request bodies, the codespace as a
//! client sees it, and the shape of a codespace id.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::policy::constraints::optional_whole_number;
use utoipa::ToSchema;

use crate::devcontainer::Sources;
use crate::error::ApiError;
use crate::policy::PortVisibility;
use crate::registries::Registry;
use crate::routes::timestamp;
use crate::store::Codespace;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCodespace {
    /// `org/repo`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}/[A-Za-z0-9._-]{1,100}$")]
    pub repository: String,
    /// The login of the user the codespace is for.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}$", min_length = 1, max_length = 100)]
    pub user: String,
    /// The repository's dev container configuration: an object, or the text of
    /// `devcontainer.json` (JSON with comments and trailing commas); absent or null when
    /// the repository has none.
    #[serde(default)]
    #[schema(value_type = Option<DevcontainerConfig>)]
    pub devcontainer: Option<serde_json::Value>,
    /// The text of the Dockerfile the configuration builds from, if it builds from one
    /// (through `build.dockerfile`, or a Docker Compose service's `build`).
    #[serde(default)]
    pub dockerfile: Option<String>,
    /// With `dockerComposeFile`: each Compose file's YAML text, by its path as
    /// devcontainer.json writes it (and each file an `extends` names, by its path from the
    /// devcontainer.json folder).
    #[serde(default)]
    pub compose_files: Option<BTreeMap<String, String>>,
    /// A machine type of the catalog (`GET /machines`); absent: the smallest one the
    /// policies allow that meets the configuration's `hostRequirements`.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub machine: Option<String>,
    /// The user's idle timeout, 5 to 240 (default 30); a policy's smaller maximum wins.
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(minimum = 5, maximum = 240)]
    pub idle_timeout_minutes: Option<i64>,
    /// How long the codespace is kept once stopped, 0 to 43200 (default 43200, 30 days);
    /// a policy's smaller maximum wins.
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(minimum = 0, maximum = 43200)]
    pub retention_period_minutes: Option<i64>,
}

impl CreateCodespace {
    pub fn sources(&self) -> Sources<'_> {
        Sources {
            devcontainer: self.devcontainer.as_ref(),
            dockerfile: self.dockerfile.as_deref(),
            compose_files: self.compose_files.as_ref(),
        }
    }

    pub fn requested(&self) -> Requested<'_> {
        Requested {
            machine: self.machine.as_deref(),
            idle_timeout_minutes: self.idle_timeout_minutes,
            retention_period_minutes: self.retention_period_minutes,
        }
    }
}

/// What a creation, full rebuild or preflight asks of the codespace's life, unchecked.
#[derive(Clone, Copy, Default)]
pub struct Requested<'a> {
    pub machine: Option<&'a str>,
    pub idle_timeout_minutes: Option<i64>,
    pub retention_period_minutes: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebuildCodespace {
    /// A full rebuild re-reads the configuration and applies the policy in force now; a
    /// plain one reuses the codespace's image and does not.
    #[serde(default)]
    pub full: bool,
    #[serde(default)]
    #[schema(value_type = Option<DevcontainerConfig>)]
    pub devcontainer: Option<serde_json::Value>,
    #[serde(default)]
    pub dockerfile: Option<String>,
    #[serde(default)]
    pub compose_files: Option<BTreeMap<String, String>>,
    /// A machine type of the catalog (`GET /machines`); absent: the smallest one the
    /// policies allow that meets the configuration's `hostRequirements`.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub machine: Option<String>,
    /// The user's idle timeout, 5 to 240 (default 30); a policy's smaller maximum wins.
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(minimum = 5, maximum = 240)]
    pub idle_timeout_minutes: Option<i64>,
    /// How long the codespace is kept once stopped, 0 to 43200 (default 43200, 30 days);
    /// a policy's smaller maximum wins.
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(minimum = 0, maximum = 43200)]
    pub retention_period_minutes: Option<i64>,
}

impl RebuildCodespace {
    pub fn sources(&self) -> Sources<'_> {
        Sources {
            devcontainer: self.devcontainer.as_ref(),
            dockerfile: self.dockerfile.as_deref(),
            compose_files: self.compose_files.as_ref(),
        }
    }

    pub fn requested(&self) -> Requested<'_> {
        Requested {
            machine: self.machine.as_deref(),
            idle_timeout_minutes: self.idle_timeout_minutes,
            retention_period_minutes: self.retention_period_minutes,
        }
    }
}

/// A dev container configuration: an object, or the text of `devcontainer.json`.
/// (Documentation only: requests carry it as a JSON value, read by `devcontainer`.)
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum DevcontainerConfig {
    #[schema(value_type = Object)]
    Object(serde_json::Value),
    Text(String),
}

/// A private registry made available to the codespace by a complete triplet of secrets:
/// its server as stored and the triplet's prefix, never the user or password.
#[derive(Serialize, ToSchema, Clone)]
pub struct RegistryResponse {
    server: String,
    secret_prefix: String,
}

impl From<&Registry> for RegistryResponse {
    fn from(registry: &Registry) -> Self {
        Self {
            server: registry.server.clone(),
            secret_prefix: registry.secret_prefix.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CodespaceResponse {
    id: String,
    repository: String,
    user: String,
    /// The org's login when the org pays, the user's otherwise.
    billable_owner: String,
    image: String,
    /// `image`, `dockerfile`, `compose` or `default`.
    image_source: String,
    recovery_mode: bool,
    creation_log: Vec<String>,
    /// The private registries its secrets made available when it was built.
    registries: Vec<RegistryResponse>,
    /// Its machine type (`GET /machines`); null for a codespace created before machine
    /// types were kept.
    machine: Option<String>,
    /// `Available` (running) or `Shutdown` (stopped).
    state: &'static str,
    /// Minutes of inactivity after which it stops, as the policies capped the user's choice.
    idle_timeout_minutes: u32,
    /// Says that a policy lowered the idle timeout; null when nothing was capped.
    idle_timeout_notice: Option<String>,
    /// Minutes it is kept once stopped before the service deletes it.
    retention_period_minutes: u32,
    /// When the service deletes it; set while it is stopped, null while it runs.
    retention_expires_at: Option<String>,
    /// Its forwarded ports.
    ports: Vec<PortResponse>,
    created_at: String,
    updated_at: String,
}

/// A forwarded port and who may reach it.
#[derive(Serialize, ToSchema)]
pub struct PortResponse {
    port: u16,
    visibility: PortVisibility,
}

impl From<Codespace> for CodespaceResponse {
    fn from(codespace: Codespace) -> Self {
        Self {
            id: codespace.id,
            repository: codespace.repository,
            user: codespace.user,
            billable_owner: codespace.billable_owner,
            image: codespace.image,
            image_source: codespace.image_source.as_str().to_string(),
            recovery_mode: codespace.recovery_mode,
            creation_log: codespace.creation_log,
            registries: codespace.registries.iter().map(Into::into).collect(),
            machine: codespace.machine,
            state: codespace.state.as_str(),
            idle_timeout_minutes: codespace.limits.idle_timeout_minutes,
            idle_timeout_notice: codespace.limits.idle_timeout_notice,
            retention_period_minutes: codespace.limits.retention_period_minutes,
            retention_expires_at: codespace.retention_expires_at.map(timestamp),
            ports: codespace
                .ports
                .iter()
                .map(|p| PortResponse {
                    port: p.port,
                    visibility: p.visibility,
                })
                .collect(),
            created_at: timestamp(codespace.created_at),
            updated_at: timestamp(codespace.updated_at),
        }
    }
}

/// The answer about one codespace.
pub(super) fn codespace_answer(status: StatusCode, codespace: Codespace) -> Response {
    (status, Json(CodespaceResponse::from(codespace))).into_response()
}

#[derive(Serialize, ToSchema)]
pub struct CodespaceList {
    pub total_count: i64,
    pub codespaces: Vec<CodespaceResponse>,
}

/// Codespace ids are `cs_` and 26 characters of Crockford base32; anything else names no
/// codespace (and never reaches the database).
pub(super) fn check_id(id: &str) -> Result<&str, ApiError> {
    let valid = id.len() == 29
        && id.starts_with("cs_")
        && id[3..]
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
    if valid {
        Ok(id)
    } else {
        Err(ApiError::NotFound)
    }
}
