//! Organizations, their repositories, memberships and codespaces billing.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{authorize_org, Caller, OrgAccess};
use crate::billing::{BillingMode, Role};
use crate::error::{ApiError, ErrorBody, FieldError};
use crate::names::Name;
use crate::registries::RepoVisibility;
use crate::routes::{timestamp, ApiJson, OptionalApiJson, Pagination};
use crate::state::AppState;
use crate::store::{Billing, Org, Repo};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgRequest {
    /// 1 to 100 characters of `[A-Za-z0-9._-]`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}$", min_length = 1, max_length = 100)]
    login: String,
}

#[derive(Serialize, ToSchema)]
pub struct OrgResponse {
    id: i64,
    login: String,
    created_at: String,
}

impl From<Org> for OrgResponse {
    fn from(org: Org) -> Self {
        Self {
            id: org.id,
            login: org.login,
            created_at: timestamp(org.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoRequest {
    /// `private` when a repository is created without it; left as it is when omitted on
    /// an existing one.
    visibility: Option<RepoVisibility>,
}

#[derive(Serialize, ToSchema)]
pub struct RepoResponse {
    id: i64,
    name: String,
    /// `org/repo`.
    full_name: String,
    visibility: RepoVisibility,
    created_at: String,
}

/// A repository as every answer shows it; `org_login` is its org's login.
pub fn repo_response(org_login: &str, repo: Repo) -> RepoResponse {
    RepoResponse {
        id: repo.id,
        full_name: format!("{}/{}", org_login, repo.name),
        name: repo.name,
        visibility: repo.visibility,
        created_at: timestamp(repo.created_at),
    }
}

#[derive(Serialize, ToSchema)]
pub struct RepoList {
    total_count: i64,
    repositories: Vec<RepoResponse>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipRequest {
    role: Role,
}

#[derive(Serialize, ToSchema)]
pub struct MembershipResponse {
    organization: String,
    username: String,
    role: Role,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingRequest {
    mode: BillingMode,
    /// Only with `selected_members`: the users whose codespaces the org pays for.
    #[serde(default)]
    selected_usernames: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BillingResponse {
    mode: BillingMode,
    selected_usernames: Vec<String>,
}

impl From<Billing> for BillingResponse {
    fn from(billing: Billing) -> Self {
        Self {
            mode: billing.mode,
            selected_usernames: billing.selected_usernames,
        }
    }
}

fn parse_name(resource: &str, field: &str, raw: &str) -> Result<Name, ApiError> {
    Name::parse(raw).map_err(|e| ApiError::invalid(resource, field, e.to_string()))
}

/// Creates an organization.
#[utoipa::path(post, path = "/orgs", tag = "orgs", request_body = CreateOrgRequest,
    responses(
        (status = 201, body = OrgResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "An org with this login exists", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create_org(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateOrgRequest>,
) -> Result<(StatusCode, Json<OrgResponse>), ApiError> {
    caller.require_site_admin()?;
    let login = parse_name("Organization", "login", &request.login)?;
    let org = state.store.create_org(&login).await?;
    Ok((StatusCode::CREATED, Json(org.into())))
}

/// Shows an organization.
#[utoipa::path(get, path = "/orgs/{org}", tag = "orgs",
    params(("org" = String, Path)),
    responses((status = 200, body = OrgResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_org(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> Result<Json<OrgResponse>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::View).await?;
    Ok(Json(org.into()))
}

/// Adds a repository to the organization (201), or confirms it is there (200); a body
/// sets its visibility.
#[utoipa::path(put, path = "/orgs/{org}/repos/{repo}", tag = "orgs",
    params(("org" = String, Path), ("repo" = String, Path)),
    request_body(content = Option<RepoRequest>, description = "Optional"),
    responses((status = 201, body = RepoResponse), (status = 200, body = RepoResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_repo(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, repo)): Path<(String, String)>,
    OptionalApiJson(request): OptionalApiJson<RepoRequest>,
) -> Result<(StatusCode, Json<RepoResponse>), ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let name = parse_name("Repository", "repo", &repo)?;
    let visibility = request.and_then(|r| r.visibility);
    let (repo, created) = state.store.put_repo(org.id, &name, visibility).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(repo_response(&org.login, repo))))
}

/// Lists the organization's repositories, by name.
#[utoipa::path(get, path = "/orgs/{org}/repos", tag = "orgs",
    params(("org" = String, Path), Pagination),
    responses((status = 200, body = RepoList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_repos(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    pagination: Pagination,
) -> Result<Json<RepoList>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::View).await?;
    let page = state
        .store
        .list_repos(org.id, pagination.page_request()?)
        .await?;
    Ok(Json(RepoList {
        total_count: page.total_count,
        repositories: page
            .items
            .into_iter()
            .map(|r| repo_response(&org.login, r))
            .collect(),
    }))
}

/// Gives a user a role in the organization; the user is created if unknown.
#[utoipa::path(put, path = "/orgs/{org}/memberships/{username}", tag = "orgs",
    params(("org" = String, Path), ("username" = String, Path)),
    request_body = MembershipRequest,
    responses((status = 200, body = MembershipResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_membership(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, username)): Path<(String, String)>,
    ApiJson(request): ApiJson<MembershipRequest>,
) -> Result<Json<MembershipResponse>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let user = parse_name("Membership", "username", &username)?;
    let membership = state
        .store
        .set_membership(org.id, &user, request.role, caller.actor())
        .await?;
    Ok(Json(MembershipResponse {
        organization: org.login,
        username: membership.username,
        role: membership.role,
    }))
}

/// Removes a user's role in the organization.
#[utoipa::path(delete, path = "/orgs/{org}/memberships/{username}", tag = "orgs",
    params(("org" = String, Path), ("username" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such org, or the user has no role in it", body = ErrorBody)))]
pub async fn remove_membership(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, username)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    let user = Name::parse(&username).map_err(|_| ApiError::NotFound)?;
    state
        .store
        .remove_membership(org.id, &user, caller.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Shows who the organization pays codespaces for.
#[utoipa::path(get, path = "/orgs/{org}/codespaces/billing", tag = "orgs",
    params(("org" = String, Path)),
    responses((status = 200, body = BillingResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_billing(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> Result<Json<BillingResponse>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    Ok(Json(state.store.billing(org.id).await?.into()))
}

/// Sets who the organization pays codespaces for; its policies apply only to those.
#[utoipa::path(put, path = "/orgs/{org}/codespaces/billing", tag = "orgs",
    params(("org" = String, Path)), request_body = BillingRequest,
    responses((status = 200, body = BillingResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_billing(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiJson(request): ApiJson<BillingRequest>,
) -> Result<Json<BillingResponse>, ApiError> {
    let org = authorize_org(&state, &caller, &org, OrgAccess::Manage).await?;
    if request.mode != BillingMode::SelectedMembers && !request.selected_usernames.is_empty() {
        return Err(ApiError::invalid(
            "Billing",
            "selected_usernames",
            "may be given only with mode selected_members",
        ));
    }
    let mut selected = Vec::with_capacity(request.selected_usernames.len());
    let mut errors = Vec::new();
    for (index, raw) in request.selected_usernames.iter().enumerate() {
        match Name::parse(raw) {
            Ok(name) => selected.push(name),
            Err(e) => errors.push(FieldError::invalid(
                "Billing",
                format!("selected_usernames[{index}]"),
                e.to_string(),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let billing = state
        .store
        .set_billing(org.id, request.mode, &selected, caller.actor())
        .await?;
    Ok(Json(billing.into()))
}
