//! The HTTP API, one module per resource. Each handler carries its OpenAPI annotation, and
//! `api()` registers handler and documentation together, so that they cannot drift.

mod admin;
mod audit;
mod codespaces;
mod compliance;
mod decisions;
pub(crate) mod exceptions;
mod extract;
mod health;
mod idempotency;
mod machines;
mod metrics;
mod openapi;
mod orgs;
mod packages;
mod policies;
mod secrets;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

pub use extract::{ApiJson, ApiJsonBytes, OptionalApiJson, Pagination};
pub use idempotency::canonical as canonical_json;
/// The evaluate answer, public for the benchmarks.
pub use policies::{EvaluateResponse, LimitsResponse};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Base-image policy service",
        version = "0.1.0",
        description = "Organization owners decide which container images their codespaces may \
            be built from; the codespace orchestrator asks this service on every creation and \
            full rebuild."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(crate::error::ErrorBody, crate::error::FieldError))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every route with its documentation.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(unbounded())
        .merge(bounded())
}

/// The health and metrics routes: never shed, never cut short, so that an overloaded
/// instance still reports on itself.
pub fn unbounded() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(metrics::metrics))
}

/// Every other route: these run under the request deadline, the concurrency limit and the
/// body limit (`app::build_router`).
pub fn bounded() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin::create_user_token))
        .routes(routes!(admin::create_service_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(orgs::create_org))
        .routes(routes!(orgs::get_org))
        .routes(routes!(orgs::put_repo))
        .routes(routes!(orgs::list_repos))
        .routes(routes!(orgs::set_membership, orgs::remove_membership))
        .routes(routes!(orgs::get_billing, orgs::set_billing))
        .routes(routes!(policies::list_policies, policies::create_policy))
        .routes(routes!(
            policies::get_policy,
            policies::update_policy,
            policies::delete_policy
        ))
        .routes(routes!(policies::revisions::list_revisions))
        .routes(routes!(policies::revisions::restore_revision))
        .routes(routes!(policies::evaluate::evaluate))
        .routes(routes!(policies::preview::preview_policy))
        .routes(routes!(policies::effective::effective_policy))
        .routes(routes!(machines::list_machines))
        .routes(routes!(codespaces::machines::repository_machines))
        .routes(routes!(codespaces::create_codespace))
        .routes(routes!(codespaces::get_codespace))
        .routes(routes!(codespaces::rebuild_codespace))
        .routes(routes!(codespaces::secrets::codespace_secrets))
        .routes(routes!(codespaces::list_org_codespaces))
        .routes(routes!(compliance::codespaces_compliance))
        .routes(routes!(codespaces::preflight::preflight))
        .routes(routes!(audit::audit_log))
        .routes(routes!(decisions::list_decisions))
        .merge(secrets::routes())
        .merge(packages::routes())
        .merge(exceptions::routes())
}

/// The OpenAPI document the code describes; `openapi.yaml` must equal it.
pub fn openapi_yaml() -> Result<String, String> {
    let mut openapi = api().into_openapi();
    openapi::finish(&mut openapi);
    openapi.to_yaml().map_err(|e| e.to_string())
}

/// The repository `name` of `org`, as a path names it: an invalid or unknown name is a 404.
pub(crate) async fn repo_in(
    state: &AppState,
    org: &crate::store::Org,
    name: &str,
) -> Result<crate::store::Repo, ApiError> {
    let name = crate::names::Name::parse(name).map_err(|_| ApiError::NotFound)?;
    state
        .store
        .find_repo(org.id, &name)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Unknown paths answer the contract's JSON error shape too.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// An answer whose JSON is already written: a stored answer replayed.
pub fn json_answer(status: StatusCode, json: impl Into<Body>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json.into(),
    )
        .into_response()
}

/// RFC 3339 in UTC, to the second: `2026-11-22T10:00:00Z`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}
