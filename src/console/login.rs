//! Logging in with a token, logging out, and the org picker after login.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use maud::html;
use subtle::ConstantTimeEq;

use super::errors::PageError;
use super::form::Fields;
use super::layout::{notice, page, Chrome};
use super::session::{
    self, cookie, id_hash, new_id, over_tls, set_cookie, Session, LOGIN_COOKIE, SESSION_COOKIE,
    SESSION_HOURS,
};
use super::Console;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::names::Name;
use crate::tokens::hash_token;

/// Orgs the picker lists.
const PICKER_LIMIT: i64 = 200;

pub async fn form(headers: HeaderMap) -> Response {
    draw(&headers, None, StatusCode::OK)
}

/// The login page, with a fresh pre-session CSRF pair: a cookie and the same value in the
/// form, so that another site cannot log a browser in with a token of its choosing.
fn draw(headers: &HeaderMap, problem: Option<&str>, status: StatusCode) -> Response {
    let nonce = new_id();
    let main = html! {
        h1 { "Log in" }
        p.lead { "Log in with the token your site administrator gave you. It is sent to this service only, and kept nowhere in your browser." }
        @if let Some(problem) = problem { (notice("error", html! { (problem) })) }
        form method="post" action="/ui/login" {
            input type="hidden" name="csrf" value=(nonce);
            div.field {
                label for="token" { "Token" }
                input #token type="password" name="token" autocomplete="off" spellcheck="false";
            }
            div.actions { button.primary type="submit" { "Log in" } }
        }
    };
    let cookie = set_cookie(LOGIN_COOKIE, &nonce, 3600, over_tls(headers));
    (
        status,
        AppendHeaders([cookie]),
        page("Log in", &Chrome::none(), main),
    )
        .into_response()
}

pub async fn login(
    State(console): State<Console>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let fields = Fields::parse(&body);
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    let sent = fields.get("csrf").unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(sent.as_bytes())) {
        return Err(PageError::Csrf);
    }
    let token = fields.text("token");
    let token_hash = hash_token(token.trim());
    let problem = match Caller::from_token_hash(&console.app, &token_hash).await {
        Ok(Caller::Service) => {
            Some("Service tokens cannot use the console: log in with your own token.")
        }
        Ok(_) => None,
        Err(ApiError::Unauthorized) => Some("This token is not valid, or it was revoked."),
        Err(other) => return Err(other.into()),
    };
    if let Some(problem) = problem {
        return Ok(draw(&headers, Some(problem), StatusCode::UNAUTHORIZED));
    }
    let now = session::now(&console);
    let store = &console.app.store;
    store.prune_sessions(now).await.map_err(ApiError::from)?;
    let id = new_id();
    let expires = now + SESSION_HOURS * 3600;
    store
        .create_session(&id_hash(&id), &token_hash, now, expires)
        .await
        .map_err(ApiError::from)?;
    let secure = over_tls(&headers);
    let cookies = [
        set_cookie(SESSION_COOKIE, &id, SESSION_HOURS * 3600, secure),
        set_cookie(LOGIN_COOKIE, "", 0, secure),
    ];
    Ok((AppendHeaders(cookies), Redirect::to("/ui/orgs")).into_response())
}

pub async fn logout(
    State(console): State<Console>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    Fields::checked(&body, &session)?;
    console
        .app
        .store
        .delete_session(&session.id_hash)
        .await
        .map_err(ApiError::from)?;
    let cookie = set_cookie(SESSION_COOKIE, "", 0, over_tls(&headers));
    Ok((AppendHeaders([cookie]), Redirect::to("/ui/login")).into_response())
}

/// The orgs the user owns, and a field to name any org (site admins see every org).
pub async fn picker(
    State(console): State<Console>,
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let typed = query.get("org").map(|org| org.trim().to_string());
    let mut problem = None;
    if let Some(typed) = typed.as_deref().filter(|t| !t.is_empty()) {
        match Name::parse(typed) {
            Ok(name) => {
                let to = format!("/ui/orgs/{}/codespaces/policies", name.as_str());
                return Ok(Redirect::to(&to).into_response());
            }
            Err(_) => {
                problem =
                    Some("An organization's name is 1 to 100 letters, digits, '.', '_' or '-'.")
            }
        }
    }
    let owned = match &session.caller {
        Caller::User(user) => console
            .app
            .store
            .owned_orgs(user.id, PICKER_LIMIT)
            .await
            .map_err(ApiError::from)?,
        _ => Vec::new(),
    };
    let main = html! {
        h1 { "Organizations" }
        @if let Some(problem) = problem { (notice("error", html! { (problem) })) }
        @if !owned.is_empty() {
            h2 { "Organizations you own" }
            ul.orgs {
                @for org in &owned { li { a href={ "/ui/orgs/" (org) "/codespaces/policies" } { (org) } } }
            }
        } @else if matches!(session.caller, Caller::User(_)) {
            p { "You own no organization. The console is for organization owners; ask one to make you an owner." }
        }
        form method="get" action="/ui/orgs" {
            div.field {
                label for="org" { "Organization" }
                input #org type="text" name="org" value=(typed.unwrap_or_default());
            }
            div.actions { button type="submit" { "Open" } }
        }
    };
    Ok(page("Organizations", &Chrome::session(&session), main).into_response())
}
