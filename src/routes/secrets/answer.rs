//! What the secrets routes take and answer, in GitHub's REST shapes. No type here holds
//! an opened value: the sealed one in a PUT body is opened by the flow and dropped.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::registries::OrgSecretVisibility;
use crate::routes::orgs::RepoResponse;
use crate::routes::timestamp;
use crate::store::SecretRecord;

#[derive(Serialize, ToSchema)]
pub struct PublicKeyResponse {
    /// Echo it back with a value sealed for this key.
    key_id: String,
    /// Standard base64 of the 32-byte X25519 public key.
    key: String,
}

impl PublicKeyResponse {
    pub fn new(key_id: String, key: String) -> Self {
        Self { key_id, key }
    }
}

/// A secret, never its value.
#[derive(Serialize, ToSchema)]
pub struct SecretResponse {
    /// Upper-cased.
    name: String,
    created_at: String,
    updated_at: String,
    /// Org and user secrets only (a user secret's is `selected`).
    #[serde(skip_serializing_if = "Option::is_none")]
    visibility: Option<OrgSecretVisibility>,
    /// Org and user secrets only: the path of its `/repositories` resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    selected_repositories_url: Option<String>,
}

impl SecretResponse {
    /// `base` is the path of the level's secrets, `None` for repository secrets.
    pub fn new(secret: SecretRecord, base: Option<&str>, user_level: bool) -> Self {
        let visibility = if user_level {
            Some(OrgSecretVisibility::Selected)
        } else {
            secret.visibility
        };
        Self {
            selected_repositories_url: base.map(|b| format!("{b}/{}/repositories", secret.name)),
            name: secret.name,
            created_at: timestamp(secret.created_at),
            updated_at: timestamp(secret.updated_at),
            visibility,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SecretList {
    pub total_count: i64,
    pub secrets: Vec<SecretResponse>,
}

#[derive(Serialize, ToSchema)]
pub struct SecretRepoList {
    pub total_count: i64,
    pub repositories: Vec<RepoResponse>,
}

/// PUT of an org secret.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgSecretRequest {
    /// The value sealed (libsodium `crypto_box_seal`) for the level's public key, standard base64.
    pub encrypted_value: String,
    /// The `key_id` of the public key it was sealed for.
    pub key_id: String,
    pub visibility: OrgSecretVisibility,
    /// Only with visibility `selected`: ids of the org's repositories.
    #[serde(default, deserialize_with = "optional_ids")]
    pub selected_repository_ids: Option<Vec<i64>>,
}

/// PUT of a repository secret.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoSecretRequest {
    /// The value sealed (libsodium `crypto_box_seal`) for the level's public key, standard base64.
    pub encrypted_value: String,
    /// The `key_id` of the public key it was sealed for.
    pub key_id: String,
}

/// PUT of a user secret.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserSecretRequest {
    /// The value sealed (libsodium `crypto_box_seal`) for the level's public key, standard base64.
    pub encrypted_value: String,
    /// The `key_id` of the public key it was sealed for.
    pub key_id: String,
    /// Ids of repositories of orgs the user has a role in; omitted on an update, the
    /// repositories stay as they are.
    #[serde(default, deserialize_with = "optional_ids")]
    pub selected_repository_ids: Option<Vec<i64>>,
}

/// PUT of a secret's repositories: replaces the list.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectedRepositories {
    #[serde(deserialize_with = "ids")]
    pub selected_repository_ids: Vec<i64>,
}

/// A PUT body, whatever its level: what the flow needs of it.
pub struct PutBody {
    pub encrypted_value: String,
    pub key_id: String,
    pub visibility: Option<OrgSecretVisibility>,
    pub selected_repository_ids: Option<Vec<i64>>,
}

impl From<OrgSecretRequest> for PutBody {
    fn from(r: OrgSecretRequest) -> Self {
        Self {
            encrypted_value: r.encrypted_value,
            key_id: r.key_id,
            visibility: Some(r.visibility),
            selected_repository_ids: r.selected_repository_ids,
        }
    }
}

impl From<RepoSecretRequest> for PutBody {
    fn from(r: RepoSecretRequest) -> Self {
        Self {
            encrypted_value: r.encrypted_value,
            key_id: r.key_id,
            visibility: None,
            selected_repository_ids: None,
        }
    }
}

impl From<UserSecretRequest> for PutBody {
    fn from(r: UserSecretRequest) -> Self {
        Self {
            encrypted_value: r.encrypted_value,
            key_id: r.key_id,
            visibility: None,
            selected_repository_ids: r.selected_repository_ids,
        }
    }
}

/// A repository id. JSON Schema's integers include `174.0`, which serde's `i64` refuses, so
/// an id is read as a number and kept when it is whole.
struct RepositoryId(i64);

impl<'de> Deserialize<'de> for RepositoryId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)?;
        let whole = |f: f64| f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64;
        number
            .as_i64()
            .or_else(|| number.as_f64().filter(|f| whole(*f)).map(|f| f as i64))
            .map(Self)
            .ok_or_else(|| D::Error::custom("a repository id is a whole number"))
    }
}

fn ids<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<i64>, D::Error> {
    let ids = Vec::<RepositoryId>::deserialize(deserializer)?;
    Ok(ids.into_iter().map(|id| id.0).collect())
}

fn optional_ids<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<i64>>, D::Error> {
    let ids = Option::<Vec<RepositoryId>>::deserialize(deserializer)?;
    Ok(ids.map(|ids| ids.into_iter().map(|id| id.0).collect()))
}
