//! Deleting a policy: a page that asks first (with what the deletion would change), and
//! the deletion itself, the API's DELETE with the `If-Match` of the page it was asked on.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde_json::json;

use super::errors::PageError;
use super::form::Fields;
use super::layout::{notice, page, Chrome, Section};
use super::policies_list::target;
use super::preview_view::preview;
use super::session::Session;
use super::{org_name, policy_id, Console};

pub async fn confirm(
    State(console): State<Console>,
    session: Session,
    Path((org, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let org = org_name(&org)?;
    let id = policy_id(&id)?;
    draw(&console, &session, &org, id, None, StatusCode::OK).await
}

pub async fn delete(
    State(console): State<Console>,
    session: Session,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let org = org_name(&org)?;
    let id = policy_id(&id)?;
    let fields = Fields::checked(&body, &session)?;
    let path = format!("/orgs/{org}/codespaces/policies/{id}");
    let version = fields.get("version");
    let answer = console
        .call(&session, Method::DELETE, &path, None, version)
        .await?;
    answer.check()?;
    if answer.status.is_success() {
        return Ok(
            Redirect::to(&format!("/ui/orgs/{org}/codespaces/policies?deleted=1")).into_response(),
        );
    }
    let stale = answer.status == StatusCode::PRECONDITION_FAILED;
    let text = if stale {
        html! { strong { "This policy changed since you opened it." } " Nothing was deleted; look at it again below before deleting it." }
    } else {
        html! { (answer.message()) }
    };
    draw(
        &console,
        &session,
        &org,
        id,
        Some(notice("error", text)),
        answer.status,
    )
    .await
}

/// The question, drawn from the policy as it is now (its `ETag` goes into the form).
async fn draw(
    console: &Console,
    session: &Session,
    org: &str,
    id: i64,
    problem: Option<Markup>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let path = format!("/orgs/{org}/codespaces/policies/{id}");
    let (policy, etag) = console.get(session, &path).await?;
    let request = json!({ "delete": id });
    let preview_path = format!("/orgs/{org}/codespaces/policies/preview");
    let effect = console
        .call(session, Method::POST, &preview_path, Some(&request), None)
        .await?;
    effect.check()?;
    let name = policy["name"].as_str().unwrap_or_default();
    let back = format!("/ui/orgs/{org}/codespaces/policies/{id}");
    let main = html! {
        p.crumbs { a href={ "/ui/orgs/" (org) "/codespaces/policies" } { "Codespaces policies" } }
        h1 { "Delete policy " (name) "?" }
        @if let Some(problem) = problem { (problem) }
        p { "It applies to: " (target(&policy)) ". Deleting it applies from the next codespace creation or full rebuild on; its revisions are kept, so it can be restored." }
        @if effect.status.is_success() { (preview(&effect.body, "What deleting it would change")) }
        form method="post" action={ (back) "/delete" } {
            input type="hidden" name="csrf" value=(session.csrf);
            @if let Some(etag) = &etag { input type="hidden" name="version" value=(etag); }
            div.actions {
                button.danger type="submit" { "Delete policy" }
                a.button href=(back) { "Cancel" }
            }
        }
    };
    let chrome = Chrome::org(session, org, Section::Policies);
    Ok((
        status,
        page(&format!("Delete policy {name}"), &chrome, main),
    )
        .into_response())
}
