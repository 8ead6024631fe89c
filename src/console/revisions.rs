//! A policy's revisions, newest first, each with a Restore button: the API's restore,
//! with the `If-Match` of the policy as the page showed it (none once it was deleted).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde_json::Value;

use super::constraints::of_policy;
use super::errors::PageError;
use super::form::Fields;
use super::layout::{notice, page, pagination, Chrome, Section};
use super::policies_list::{enforcement, target};
use super::session::Session;
use super::{org_name, page_number, page_of, policy_id, Console};

const PER_PAGE: i64 = 30;

pub async fn list(
    State(console): State<Console>,
    session: Session,
    Path((org, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let org = org_name(&org)?;
    let id = policy_id(&id)?;
    draw(
        &console,
        &session,
        &org,
        id,
        page_number(&query),
        None,
        StatusCode::OK,
    )
    .await
}

pub async fn restore(
    State(console): State<Console>,
    session: Session,
    Path((org, id, revision)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let org = org_name(&org)?;
    let id = policy_id(&id)?;
    let revision: i64 = revision.parse().map_err(|_| PageError::NotFound)?;
    let fields = Fields::checked(&body, &session)?;
    let path = format!("/orgs/{org}/codespaces/policies/{id}/revisions/{revision}/restore");
    let answer = console
        .call(&session, Method::POST, &path, None, fields.get("version"))
        .await?;
    answer.check()?;
    if answer.status.is_success() {
        return Ok(
            Redirect::to(&format!("/ui/orgs/{org}/codespaces/policies?saved={id}")).into_response(),
        );
    }
    let text = if answer.status == StatusCode::PRECONDITION_FAILED {
        html! { strong { "This policy changed since you opened this page." } " Nothing was restored; its revisions are shown again below." }
    } else {
        html! { "Nothing was restored: " (answer.message()) }
    };
    draw(
        &console,
        &session,
        &org,
        id,
        1,
        Some(notice("error", text)),
        answer.status,
    )
    .await
}

async fn draw(
    console: &Console,
    session: &Session,
    org: &str,
    id: i64,
    page_no: i64,
    problem: Option<Markup>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let path = format!(
        "/orgs/{org}/codespaces/policies/{id}/revisions?per_page={PER_PAGE}&page={page_no}"
    );
    let (body, _) = console.get(session, &path).await?;
    // The policy as it is now: its version for If-Match, or nothing once deleted.
    let current = console
        .call(
            session,
            Method::GET,
            &format!("/orgs/{org}/codespaces/policies/{id}"),
            None,
            None,
        )
        .await?;
    let etag = current
        .status
        .is_success()
        .then_some(current.etag)
        .flatten();
    let (revisions, total) = page_of(&body, "revisions");
    let base = format!("/ui/orgs/{org}/codespaces/policies/{id}");
    let main = html! {
        p.crumbs { a href={ "/ui/orgs/" (org) "/codespaces/policies" } { "Codespaces policies" } }
        h1 { "Revisions of policy " (id) }
        @if let Some(problem) = problem { (problem) }
        @if etag.is_some() { p { a href=(base) { "Edit the policy as it is now" } } }
        @else { p { "This policy is deleted; restoring a revision recreates it under the same id." } }
        table {
            caption.vh { "Revisions, newest first" }
            thead { tr {
                th scope="col" { "Revision" } th scope="col" { "When" } th scope="col" { "Who" }
                th scope="col" { "Change" } th scope="col" { "The policy as it was" } th scope="col" { "Restore" }
            } }
            tbody {
                @for revision in revisions { (row(session, &base, etag.as_deref(), revision)) }
            }
        }
        (pagination(&format!("{base}/revisions"), "", page_no, PER_PAGE, total))
    };
    let chrome = Chrome::org(session, org, Section::Policies);
    Ok((
        status,
        page(&format!("Revisions of policy {id}"), &chrome, main),
    )
        .into_response())
}

fn row(session: &Session, base: &str, etag: Option<&str>, revision: &Value) -> Markup {
    let n = revision["revision"].as_i64().unwrap_or_default();
    let action = revision["action"].as_str().unwrap_or_default();
    let policy = &revision["policy"];
    html! {
        tr {
            td { (n) }
            td { (revision["at"].as_str().unwrap_or_default()) }
            td { (revision["actor"].as_str().unwrap_or_default()) }
            td { (action) }
            td {
                strong { (policy["name"].as_str().unwrap_or_default()) } br;
                (target(policy)) "; " (enforcement(policy)) br;
                @for constraint in of_policy(&policy["constraints"]) {
                    (constraint.kind.label) ": " code { (constraint.summary()) } br;
                }
            }
            td {
                @if action != "delete" {
                    form method="post" action={ (base) "/revisions/" (n) "/restore" } {
                        input type="hidden" name="csrf" value=(session.csrf);
                        @if let Some(etag) = etag { input type="hidden" name="version" value=(etag); }
                        button type="submit" { "Restore" span.vh { " revision " (n) } }
                    }
                }
            }
        }
    }
}
