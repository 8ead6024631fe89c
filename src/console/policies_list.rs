//! The org's "Codespaces policies" page: each policy's name, target, values, enforcement
//! and warnings, a page of 100 at a time, with "Create policy".

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde_json::Value;

use super::constraints::of_policy;
use super::errors::PageError;
use super::layout::{notice, page, pagination, Chrome, Section};
use super::session::Session;
use super::{items, org_name, page_number, page_of, strings, Console};

/// Policies a page: the API's largest page.
const PER_PAGE: i64 = 100;

pub async fn list(
    State(console): State<Console>,
    session: Session,
    Path(org): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let org = org_name(&org)?;
    let page_no = page_number(&query);
    let path = format!("/orgs/{org}/codespaces/policies?per_page={PER_PAGE}&page={page_no}");
    let (body, _) = console.get(&session, &path).await?;
    let (policies, total) = page_of(&body, "policies");
    let saved = query.get("saved").and_then(|id| id.parse::<i64>().ok());
    let base = format!("/ui/orgs/{org}/codespaces/policies");
    let main = html! {
        h1 { "Codespaces policies" }
        @if let Some(id) = saved {
            (notice("ok", html! { "Policy saved. " a href={ (base) "/" (id) } { "Open it" } }))
        }
        @if query.contains_key("deleted") { (notice("ok", html! { "Policy deleted." })) }
        p.lead {
            "The images, and other settings, that this organization's codespaces may use. "
            "An image must be allowed by every policy that applies to its repository."
        }
        p.actions {
            a.button.primary href={ (base) "/new" } { "Create policy" }
            a.button href={ (base) "/evaluate" } { "Test an image" }
        }
        @if policies.is_empty() {
            p { "No policies yet: every image is allowed." }
        } @else {
            table.policies {
                caption.vh { "Policies" }
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Applies to" }
                    th scope="col" { "Constraints" } th scope="col" { "Enforcement" }
                    th scope="col" { "Warnings" }
                } }
                tbody { @for policy in policies { (row(&base, policy)) } }
            }
            (pagination(&base, "", page_no, PER_PAGE, total))
        }
    };
    let chrome = Chrome::org(&session, &org, Section::Policies);
    Ok(page("Codespaces policies", &chrome, main).into_response())
}

fn row(base: &str, policy: &Value) -> Markup {
    let id = policy["id"].as_i64().unwrap_or_default();
    let name = policy["name"].as_str().unwrap_or_default();
    let constraints = of_policy(&policy["constraints"]);
    html! {
        tr {
            th scope="row" { a href={ (base) "/" (id) } { (name) } }
            td { (target(policy)) }
            td {
                @if constraints.is_empty() { "No constraint" }
                @for constraint in &constraints {
                    div.constraint-summary {
                        span.kind { (constraint.kind.label) ": " }
                        @if constraint.values.is_empty() && constraint.number.is_empty() { "none" }
                        @else if !constraint.number.is_empty() { (constraint.number) }
                        @else {
                            ul.inline { @for value in &constraint.values { li { code { (value) } } } }
                        }
                    }
                }
            }
            td { (enforcement(policy)) }
            td { (warnings(&policy["warnings"])) }
        }
    }
}

/// "All repositories", or the selected ones by name.
pub fn target(policy: &Value) -> Markup {
    let repositories = strings(&policy["repositories"]);
    html! {
        @if policy["target"] == "selected_repositories" {
            "Selected repositories: "
            @if repositories.is_empty() { "none" } @else { (repositories.join(", ")) }
        } @else { "All repositories" }
    }
}

pub fn enforcement(policy: &Value) -> &'static str {
    if policy["enforcement"] == "report" {
        "Report only"
    } else {
        "Enforced"
    }
}

/// A policy's warnings, as the API words them.
pub fn warnings(list: &Value) -> Markup {
    let warnings = items(list);
    html! {
        @if !warnings.is_empty() {
            ul.warnings {
                @for warning in warnings {
                    li { (warning["message"].as_str().unwrap_or_default()) }
                }
            }
        }
    }
}
