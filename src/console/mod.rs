//! The owners' console: server-rendered pages under `/ui/`, for org owners and site
//! admins, following the seed's steps on the "Codespaces policies" page.
//!
//! The console reads and changes nothing itself. Each page calls the REST API's own router
//! in process ([`api`]) as the session's caller, passed as a request extension
//! ([`crate::auth::InProcessCaller`]) that no HTTP client can set, and draws its JSON
//! answer; so every rule, error, audit entry and `If-Match` check is the API's. Only the
//! sessions are the console's own ([`session`]).

mod api;
mod assets;
mod constraints;
mod delete;
mod errors;
mod evaluate;
mod form;
mod layout;
mod login;
mod logs;
mod policies_list;
mod policy_form;
mod policy_pages;
mod policy_view;
mod preview_view;
mod revisions;
mod session;

use std::collections::HashMap;

use axum::extract::DefaultBodyLimit;
use axum::middleware::map_response;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use axum::Router;

pub use assets::{secure, CONTENT_SECURITY_POLICY};
pub use session::{SESSION_COOKIE, SESSION_HOURS};

use serde_json::Value;

use crate::app::MAX_BODY_BYTES;
use crate::names::Name;
use crate::state::AppState;
use errors::PageError;

/// What every console handler shares: the service's state, and the API router it calls.
#[derive(Clone)]
pub struct Console {
    app: AppState,
    api: Router,
}

/// The console's routes, calling `api` (the API's router) in process.
pub fn routes(state: AppState, api: Router) -> Router<AppState> {
    let console = Console { app: state, api };
    let policy = "/ui/orgs/{org}/codespaces/policies/{id}";
    Router::new()
        .route("/ui", get(home))
        .route("/ui/", get(home))
        .route("/ui/static/console.css", get(assets::css))
        .route("/ui/static/console.js", get(assets::js))
        .route("/ui/login", get(login::form).post(login::login))
        .route("/ui/logout", post(login::logout))
        .route("/ui/orgs", get(login::picker))
        .route(
            "/ui/orgs/{org}/codespaces/policies",
            get(policies_list::list),
        )
        .route(
            "/ui/orgs/{org}/codespaces/policies/new",
            get(policy_pages::new_form).post(policy_pages::create),
        )
        .route(
            "/ui/orgs/{org}/codespaces/policies/evaluate",
            get(evaluate::form).post(evaluate::evaluate),
        )
        .route(
            policy,
            get(policy_pages::edit_form).post(policy_pages::update),
        )
        .route(
            &format!("{policy}/delete"),
            get(delete::confirm).post(delete::delete),
        )
        .route(&format!("{policy}/revisions"), get(revisions::list))
        .route(
            &format!("{policy}/revisions/{{revision}}/restore"),
            post(revisions::restore),
        )
        .route("/ui/orgs/{org}/codespaces/decisions", get(logs::decisions))
        .route("/ui/orgs/{org}/audit-log", get(logs::audit))
        .route("/ui/{*rest}", any(not_found))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(map_response(assets::secure))
        .with_state(console)
}

async fn home() -> Redirect {
    Redirect::to("/ui/orgs")
}

async fn not_found() -> Response {
    PageError::NotFound.into_response()
}

/// An org login from a console path: anything but a valid name is a 404, as in the API.
fn org_name(raw: &str) -> Result<String, PageError> {
    Name::parse(raw)
        .map(|name| name.as_str().to_string())
        .map_err(|_| PageError::NotFound)
}

/// A policy id from a console path.
fn policy_id(raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(PageError::NotFound)
}

/// The items of a JSON array in an API answer; none when it is not one.
fn items(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// The strings of a JSON array in an API answer.
fn strings(value: &Value) -> Vec<String> {
    items(value)
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// One page of a list answer: the items under `key`, and the `total_count` of all pages.
fn page_of<'a>(body: &'a Value, key: &str) -> (&'a [Value], i64) {
    let total = body["total_count"].as_i64().unwrap_or_default();
    (items(&body[key]), total)
}

/// `?page=`, from 1; anything else is the first page.
fn page_number(query: &HashMap<String, String>) -> i64 {
    query
        .get("page")
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=1_000_000).contains(p))
        .unwrap_or(1)
}
