//! Codespaces: creation and full rebuild ask the policy; the orchestrator (service tokens)
//! and site admins call these.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::billing::{billed_to_org, BillingMode};
use crate::devcontainer::{read_config, ConfiguredImage};
use crate::error::{ApiError, ErrorBody};
use crate::json::{write_str, write_str_array};
use crate::metrics::Outcome;
use crate::names::Name;
use crate::policy::{refusal_message, CompiledPolicySet, ImageRef, ImageSource, Refused};
use crate::provisioning::{new_codespace_id, plan_build, BuildRequest};
use crate::routes::idempotency::{self, IdempotencyHeaders};
use crate::routes::{json_answer, timestamp, ApiJson, ApiJsonBytes, Pagination};
use crate::store::{BuildPlan, Codespace, NewCodespace, Org, Repo, User};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCodespace {
    /// `org/repo`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}/[A-Za-z0-9._-]{1,100}$")]
    repository: String,
    /// The login of the user the codespace is for.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}$", min_length = 1, max_length = 100)]
    user: String,
    /// The repository's dev container configuration: an object, or the text of
    /// `devcontainer.json` (JSON with comments and trailing commas); absent or null when
    /// the repository has none.
    #[serde(default)]
    #[schema(value_type = Option<DevcontainerConfig>)]
    devcontainer: Option<serde_json::Value>,
    /// The text of the Dockerfile the configuration builds from, if it builds from one.
    #[serde(default)]
    dockerfile: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebuildCodespace {
    /// A full rebuild re-reads the configuration and applies the policy in force now; a
    /// plain one reuses the codespace's image and does not.
    #[serde(default)]
    full: bool,
    #[serde(default)]
    #[schema(value_type = Option<DevcontainerConfig>)]
    devcontainer: Option<serde_json::Value>,
    #[serde(default)]
    dockerfile: Option<String>,
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

#[derive(Serialize, ToSchema)]
pub struct CodespaceResponse {
    id: String,
    repository: String,
    user: String,
    /// The org's login when the org pays, the user's otherwise.
    billable_owner: String,
    image: String,
    /// `image`, `dockerfile` or `default`.
    image_source: String,
    recovery_mode: bool,
    creation_log: Vec<String>,
    created_at: String,
    updated_at: String,
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
            created_at: timestamp(codespace.created_at),
            updated_at: timestamp(codespace.updated_at),
        }
    }
}

/// The answer about one codespace: the document [`CodespaceResponse`] serializes to, written
/// directly (creation is the hot path; a test holds the two to byte equality).
fn codespace_answer(status: StatusCode, codespace: &Codespace) -> Response {
    let mut out = Vec::with_capacity(384);
    out.extend_from_slice(b"{\"id\":");
    write_str(&mut out, &codespace.id, "");
    out.extend_from_slice(b",\"repository\":");
    write_str(&mut out, &codespace.repository, "");
    out.extend_from_slice(b",\"user\":");
    write_str(&mut out, &codespace.user, "");
    out.extend_from_slice(b",\"billable_owner\":");
    write_str(&mut out, &codespace.billable_owner, "");
    out.extend_from_slice(b",\"image\":");
    write_str(&mut out, &codespace.image, "");
    out.extend_from_slice(b",\"image_source\":");
    write_str(&mut out, codespace.image_source.as_str(), "");
    out.extend_from_slice(if codespace.recovery_mode {
        b",\"recovery_mode\":true,\"creation_log\":"
    } else {
        b",\"recovery_mode\":false,\"creation_log\":"
    });
    write_str_array(&mut out, &codespace.creation_log);
    let created_at = timestamp(codespace.created_at);
    out.extend_from_slice(b",\"created_at\":");
    write_str(&mut out, &created_at, "");
    out.extend_from_slice(b",\"updated_at\":");
    // A new codespace was created and updated at the same instant: one timestamp, written twice.
    if codespace.updated_at == codespace.created_at {
        write_str(&mut out, &created_at, "");
    } else {
        write_str(&mut out, &timestamp(codespace.updated_at), "");
    }
    out.push(b'}');
    json_answer(status, out)
}

#[derive(Serialize, ToSchema)]
pub struct CodespaceList {
    total_count: i64,
    codespaces: Vec<CodespaceResponse>,
}

/// Codespace ids are `cs_` and 26 characters of Crockford base32; anything else names no
/// codespace (and never reaches the database).
fn check_id(id: &str) -> Result<&str, ApiError> {
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

/// The 400 for an image the policy refuses, with the contract's exact message.
fn refused(state: &AppState, refusal: Refused, org: &Org, repo: &Repo) -> ApiError {
    state.metrics.record_decision(Outcome::Refused);
    tracing::info!(
        org = %org.login, repository = %repo.name, image = %refusal.image,
        outcome = "refused", policy_ids = ?refusal.policy_ids, "policy decision"
    );
    ApiError::BadRequest(refusal_message(&refusal.image))
}

/// The structured event and the metric of an allowed (or recovery-mode) codespace.
fn log_decision(state: &AppState, org: &Org, codespace: &Codespace, judged: &Judged) {
    let (outcome, counted) = if codespace.recovery_mode {
        ("recovery", Outcome::Recovery)
    } else {
        ("allowed", Outcome::Allowed)
    };
    state.metrics.record_decision(counted);
    tracing::info!(
        org = %org.login, repository = %codespace.repository, image = %judged.image,
        built_from = %codespace.image, image_source = codespace.image_source.as_str(), outcome,
        policy_ids = ?judged.refused_by, "policy decision"
    );
}

/// What the plan judged, for the decision event: the configured image and, in recovery
/// mode, the policies that refused it (from the very set the transaction used).
#[derive(Default)]
struct Judged {
    image: String,
    refused_by: Vec<i64>,
}

/// The plan for the store's transaction, noting what it judged in `judged`.
fn plan_noting<'a>(input: BuildRequest, judged: &'a mut Judged) -> BuildPlan<'a> {
    Box::new(move |set: &CompiledPolicySet| {
        judged.image = input.image.as_str().to_string();
        let planned = plan_build(&input, set);
        if planned.as_ref().is_ok_and(|build| build.recovery_mode) {
            judged.refused_by = set.refused_by(&input.repo_key, &input.image);
        }
        planned
    })
}

/// Reads the configuration into the image to judge and where it came from.
fn configured_image(
    state: &AppState,
    devcontainer: Option<&serde_json::Value>,
    dockerfile: Option<&str>,
) -> Result<(ImageRef, ImageSource), ApiError> {
    let configured = read_config(devcontainer, dockerfile)
        .map_err(|e| ApiError::invalid("Codespace", e.field, e.message))?;
    let (raw, source, field) = match configured {
        ConfiguredImage::Image(image) => (image, ImageSource::Image, "devcontainer.image"),
        ConfiguredImage::Dockerfile { base_image } => {
            (base_image, ImageSource::Dockerfile, "dockerfile")
        }
        ConfiguredImage::Default => (
            state.config.default_image.clone(),
            ImageSource::Default,
            "devcontainer",
        ),
    };
    let image = ImageRef::parse(&raw).map_err(|e| {
        ApiError::invalid(
            "Codespace",
            field,
            format!("names '{raw}', which is not a valid image reference: {e}"),
        )
    })?;
    Ok((image, source))
}

/// Who pays: the org when its billing setting covers the user, the user otherwise. `known`
/// is the user's record, if the user is known.
async fn billing_for(
    state: &AppState,
    org: &Org,
    user: &Name,
    known: Option<&User>,
) -> Result<(bool, String), ApiError> {
    let role = match known {
        Some(known) => state.store.role_of(org.id, known.id).await?,
        None => None,
    };
    let selected = org.billing_mode == BillingMode::SelectedMembers
        && state.store.is_selected_for_billing(org.id, user).await?;
    let billed = billed_to_org(org.billing_mode, role, selected);
    let owner = if billed {
        org.login.clone()
    } else {
        user.to_string()
    };
    Ok((billed, owner))
}

/// Finds `org/repo`; an unknown one is a 404.
async fn find_repository(state: &AppState, full_name: &str) -> Result<(Org, Repo), ApiError> {
    let (org, repo) = full_name.split_once('/').ok_or_else(|| {
        ApiError::invalid("Codespace", "repository", "must be written as owner/name")
    })?;
    let (Ok(org), Ok(repo)) = (Name::parse(org), Name::parse(repo)) else {
        return Err(ApiError::invalid(
            "Codespace",
            "repository",
            "must be written as owner/name",
        ));
    };
    let org = state
        .store
        .find_org(&org)
        .await?
        .ok_or(ApiError::NotFound)?;
    let repo = state
        .store
        .find_repo(org.id, &repo)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((org, repo))
}

fn build_request(
    state: &AppState,
    org: &Org,
    repo: &Repo,
    image: ImageRef,
    source: ImageSource,
    (billed_to_org, billable_owner): (bool, String),
    log_so_far: Vec<String>,
) -> BuildRequest {
    BuildRequest {
        repository: format!("{}/{}", org.login, repo.name),
        repo_key: repo.name.to_ascii_lowercase(),
        image,
        source,
        billed_to_org,
        billable_owner,
        default_image: state.config.default_image.clone(),
        recovery_image: state.config.recovery_image.clone(),
        log_so_far,
    }
}

/// Creates a codespace if the org's policies allow its image.
#[utoipa::path(post, path = "/codespaces", tag = "codespaces", request_body = CreateCodespace,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "1 to 255 characters; a retry with the same key and body returns the first answer")),
    responses(
        (status = 201, description = "Created (in recovery mode when a Dockerfile base image was refused)", body = CodespaceResponse),
        (status = 400, description = "The image is not allowed by an organization policy, or the JSON is malformed", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown repository", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 409, description = "A request with this Idempotency-Key is still in progress", body = ErrorBody),
        (status = 422, description = "The configuration cannot be read, or the Idempotency-Key was used with another body", body = ErrorBody),
        (status = 503, description = "The policy store cannot be reached; retry", body = ErrorBody)))]
pub async fn create_codespace(
    State(state): State<AppState>,
    caller: Caller,
    headers: IdempotencyHeaders,
    ApiJsonBytes(request, bytes): ApiJsonBytes<CreateCodespace>,
) -> Result<Response, ApiError> {
    caller.require_codespaces_service()?;
    let key = headers.key()?;
    let work = || async { create(&state, request).await.into_response() };
    match key {
        None => Ok(work().await),
        Some(key) => {
            // The body parsed as `CreateCodespace`, so it is JSON.
            let body: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::invalid("Request", "body", e.to_string()))?;
            let canonical = idempotency::canonical(&body);
            idempotency::once(&state, &headers, &key, canonical.as_bytes(), work).await
        }
    }
}

async fn create(state: &AppState, request: CreateCodespace) -> Result<Response, ApiError> {
    let user = Name::parse(&request.user)
        .map_err(|e| ApiError::invalid("Codespace", "user", e.to_string()))?;
    let known = state.store.find_user(&user).await?;
    // A known user is shown as first written, whatever case the request used.
    let user = match &known {
        Some(known) => Name::parse(&known.login).unwrap_or(user),
        None => user,
    };
    let (org, repo) = find_repository(state, &request.repository).await?;
    let (image, source) = configured_image(
        state,
        request.devcontainer.as_ref(),
        request.dockerfile.as_deref(),
    )?;
    let billing = billing_for(state, &org, &user, known.as_ref()).await?;
    let plan_input = build_request(state, &org, &repo, image, source, billing, Vec::new());
    let new = NewCodespace {
        id: new_codespace_id(),
        org_id: org.id,
        repo_id: repo.id,
        repository: plan_input.repository.clone(),
        user: user.to_string(),
    };
    let mut judged = Judged::default();
    let plan = plan_noting(plan_input, &mut judged);
    match state.store.create_codespace(new, plan).await? {
        Ok(codespace) => {
            log_decision(state, &org, &codespace, &judged);
            Ok(codespace_answer(StatusCode::CREATED, &codespace))
        }
        Err(refusal) => Err(refused(state, refusal, &org, &repo)),
    }
}

/// Shows a codespace.
#[utoipa::path(get, path = "/codespaces/{id}", tag = "codespaces",
    params(("id" = String, Path)),
    responses((status = 200, body = CodespaceResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_codespace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require_codespaces_service()?;
    let codespace = state.store.get_codespace(check_id(&id)?).await?;
    Ok(codespace_answer(StatusCode::OK, &codespace))
}

/// Rebuilds a codespace. A full rebuild applies the policy in force now, exactly as
/// creation does (400, or recovery mode); a plain rebuild keeps the image and does not.
#[utoipa::path(post, path = "/codespaces/{id}/rebuild", tag = "codespaces",
    params(("id" = String, Path)), request_body = RebuildCodespace,
    responses((status = 200, body = CodespaceResponse),
        (status = 400, description = "The image is not allowed by an organization policy, or the JSON is malformed", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, description = "The policy store cannot be reached; retry", body = ErrorBody)))]
pub async fn rebuild_codespace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<RebuildCodespace>,
) -> Result<Response, ApiError> {
    caller.require_codespaces_service()?;
    let id = check_id(&id)?.to_string();
    if !matches!(
        request.devcontainer,
        None | Some(serde_json::Value::Object(_) | serde_json::Value::String(_))
    ) {
        return Err(ApiError::invalid(
            "Codespace",
            "devcontainer",
            "must be an object or the text of devcontainer.json",
        ));
    }
    let existing = state.store.get_codespace(&id).await?;
    if !request.full {
        let line = format!(
            "Rebuilt from the cached image '{}'; organization policies apply on creation and full rebuilds.",
            existing.image
        );
        let codespace = state.store.append_codespace_log(&id, &line).await?;
        return Ok(codespace_answer(StatusCode::OK, &codespace));
    }
    let (org, repo) = find_repository(&state, &existing.repository).await?;
    let (image, source) = configured_image(
        &state,
        request.devcontainer.as_ref(),
        request.dockerfile.as_deref(),
    )?;
    let user = Name::parse(&existing.user)
        .map_err(|_| ApiError::Internal("stored codespace user is not a valid name".into()))?;
    let known = state.store.find_user(&user).await?;
    let billing = billing_for(&state, &org, &user, known.as_ref()).await?;
    let mut log = existing.creation_log;
    log.push("Full rebuild requested.".to_string());
    let plan_input = build_request(&state, &org, &repo, image, source, billing, log);
    let mut judged = Judged::default();
    let plan = plan_noting(plan_input, &mut judged);
    match state.store.rebuild_codespace(&id, plan).await? {
        Ok(codespace) => {
            log_decision(&state, &org, &codespace, &judged);
            Ok(codespace_answer(StatusCode::OK, &codespace))
        }
        Err(refusal) => Err(refused(&state, refusal, &org, &repo)),
    }
}

/// Lists the org's codespaces, oldest first.
#[utoipa::path(get, path = "/orgs/{org}/codespaces", tag = "codespaces",
    params(("org" = String, Path), Pagination),
    responses((status = 200, body = CodespaceList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_org_codespaces(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    pagination: Pagination,
) -> Result<Json<CodespaceList>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let page = state
        .store
        .list_codespaces(org.id, pagination.page_request()?)
        .await?;
    Ok(Json(CodespaceList {
        total_count: page.total_count,
        codespaces: page.items.into_iter().map(Into::into).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;
    use chrono::TimeZone;
    use http_body_util::BodyExt;

    async fn written(codespace: &Codespace) -> String {
        let response = codespace_answer(StatusCode::CREATED, codespace);
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn codespace(text: &str, recovery_mode: bool, log: Vec<String>) -> Codespace {
        Codespace {
            id: format!("cs_{text}"),
            org_id: 7,
            repository: format!("octo-org/{text}"),
            user: text.to_string(),
            billable_owner: text.to_string(),
            image: format!("{text}:1"),
            image_source: ImageSource::Dockerfile,
            recovery_mode,
            creation_log: log,
            created_at: chrono::Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[tokio::test]
    async fn the_written_answer_is_the_derived_one() {
        let every_ascii: String = (0u8..=0x7f).map(char::from).collect();
        for text in [
            "app",
            every_ascii.as_str(),
            "unicode café ✓ 😀 \u{2028}",
            "",
        ] {
            for (recovery, log) in [
                (false, vec![]),
                (
                    true,
                    vec![
                        text.to_string(),
                        "Recovery mode.".to_string(),
                        String::new(),
                    ],
                ),
            ] {
                let updated = codespace(text, recovery, log);
                // A new codespace: created and updated at the same instant.
                let created = Codespace {
                    updated_at: updated.created_at,
                    ..updated.clone()
                };
                for codespace in [updated, created] {
                    let derived =
                        serde_json::to_string(&CodespaceResponse::from(codespace.clone())).unwrap();
                    assert_eq!(written(&codespace).await, derived);
                }
            }
        }
    }
}
