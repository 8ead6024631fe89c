//! Codespaces: creation and full rebuild ask the policy; the orchestrator (service tokens)
//! and site admins call these.

mod answer;
pub(crate) mod machines;
mod plan;
pub(crate) mod preflight;
mod reach;
pub(crate) mod secrets;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use answer::{check_id, codespace_answer};

pub use answer::{CodespaceList, CodespaceResponse, CreateCodespace, RebuildCodespace};
use plan::{
    billing_for, build_request, configured_image, find_repository, log_decision, plan_noting,
    refused, Judged,
};

use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::error::{ApiError, ErrorBody};
use crate::names::Name;
use crate::provisioning::new_codespace_id;
use crate::routes::idempotency::{self, AnswerStored, IdempotencyHeaders};
use crate::routes::{ApiJson, ApiJsonBytes, Pagination};
use crate::state::AppState;
use crate::store::{Codespace, IdempotentAnswer, NewCodespace};

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
    let Some(key) = headers.key()? else {
        return Ok(create(&state, request, None).await.into_response());
    };
    // The body parsed as `CreateCodespace`, so it is JSON.
    let body: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid("Request", "body", e.to_string()))?;
    let canonical = idempotency::canonical(&body);
    let scope = headers.scope();
    let work = || async {
        let answer = IdempotentAnswer {
            scope: &scope,
            key: &key,
            render: Box::new(|codespace: &Codespace| {
                serde_json::to_string(&CodespaceResponse::from(codespace.clone()))
                    .unwrap_or_default()
            }),
        };
        create(&state, request, Some(answer)).await.into_response()
    };
    idempotency::once(&state, &headers, &key, canonical.as_bytes(), work).await
}

/// Creates the codespace; with `answer`, its 201 is stored under the idempotency key in the
/// codespace's own transaction.
async fn create(
    state: &AppState,
    request: CreateCodespace,
    answer: Option<IdempotentAnswer<'_>>,
) -> Result<Response, ApiError> {
    let user = Name::parse(&request.user)
        .map_err(|e| ApiError::invalid("Codespace", "user", e.to_string()))?;
    let known = state.store.find_user(&user).await?;
    // A known user is shown as first written, whatever case the request used.
    let user = match &known {
        Some(known) => Name::parse(&known.login).unwrap_or(user),
        None => user,
    };
    let (org, repo) = find_repository(state, &request.repository).await?;
    let configured = configured_image(state, request.sources())?;
    let billing = billing_for(state, &org, &user, known.as_ref()).await?;
    let life = (request.requested(), Vec::new());
    let plan_input = build_request(state, &org, &repo, configured, billing, life).await?;
    let new = NewCodespace {
        id: new_codespace_id(),
        org_id: org.id,
        repo_id: repo.id,
        repository: plan_input.repository.clone(),
        user: user.to_string(),
    };
    let mut judged = Judged::default();
    let plan = plan_noting(plan_input, &mut judged);
    let stored = answer.is_some();
    match state.store.create_codespace(new, plan, answer).await? {
        Ok(codespace) => {
            log_decision(state, &org, &codespace, &judged);
            let mut response = codespace_answer(StatusCode::CREATED, codespace);
            if stored {
                response.extensions_mut().insert(AnswerStored);
            }
            Ok(response)
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
    Ok(codespace_answer(StatusCode::OK, codespace))
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
        // Checked as a full rebuild checks them, though only a full rebuild applies them.
        plan::choices(&state, request.requested(), Default::default())?;
        let line = format!(
            "Rebuilt from the cached image '{}'; organization policies apply on creation and full rebuilds.",
            existing.image
        );
        let codespace = state.store.append_codespace_log(&id, &line).await?;
        return Ok(codespace_answer(StatusCode::OK, codespace));
    }
    let (org, repo) = find_repository(&state, &existing.repository).await?;
    let configured = configured_image(&state, request.sources())?;
    let user = Name::parse(&existing.user)
        .map_err(|_| ApiError::Internal("stored codespace user is not a valid name".into()))?;
    let known = state.store.find_user(&user).await?;
    let billing = billing_for(&state, &org, &user, known.as_ref()).await?;
    let mut log = existing.creation_log;
    log.push("Full rebuild requested.".to_string());
    let mut requested = request.requested();
    // The user's own idle timeout carries over unless the rebuild names another.
    requested.idle_timeout_minutes = requested
        .idle_timeout_minutes
        .or(existing.limits.idle_timeout_requested.map(i64::from));
    let plan_input =
        build_request(&state, &org, &repo, configured, billing, (requested, log)).await?;
    let mut judged = Judged::default();
    let plan = plan_noting(plan_input, &mut judged);
    match state.store.rebuild_codespace(&id, plan).await? {
        Ok(codespace) => {
            log_decision(&state, &org, &codespace, &judged);
            Ok(codespace_answer(StatusCode::OK, codespace))
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
