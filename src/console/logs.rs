//! The org's decision log (with its filters) and audit log, a page at a time, as the API
//! lists them.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde_json::Value;

use super::errors::PageError;
use super::form::query_value;
use super::layout::{notice, page, pagination, Chrome, Section};
use super::session::Session;
use super::{org_name, page_number, page_of, Console};

const PER_PAGE: i64 = 50;

fn ids(value: &Value) -> String {
    let ids: Vec<String> = value
        .as_array()
        .map(|ids| ids.iter().map(Value::to_string).collect())
        .unwrap_or_default();
    if ids.is_empty() {
        "none".to_string()
    } else {
        ids.join(", ")
    }
}

pub async fn decisions(
    State(console): State<Console>,
    session: Session,
    Path(org): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let org = org_name(&org)?;
    let page_no = page_number(&query);
    let repository = query.get("repository").cloned().unwrap_or_default();
    let outcome = query.get("outcome").cloned().unwrap_or_default();
    let mut filters = String::new();
    for (key, value) in [("repository", &repository), ("outcome", &outcome)] {
        if !value.is_empty() {
            filters.push_str(&format!(
                "{}{key}={}",
                if filters.is_empty() { "" } else { "&" },
                query_value(value)
            ));
        }
    }
    let sep = if filters.is_empty() { "" } else { "&" };
    let path = format!(
        "/orgs/{org}/codespaces/decisions?{filters}{sep}per_page={PER_PAGE}&page={page_no}"
    );
    let answer = console
        .call(&session, Method::GET, &path, None, None)
        .await?;
    answer.check()?;
    let refused = (!answer.status.is_success()).then(|| answer.message());
    let body = answer.body;
    let (entries, total) = page_of(&body, "decisions");
    let base = format!("/ui/orgs/{org}/codespaces/decisions");
    let main = html! {
        h1 { "Decision log" }
        p.lead { "Every codespace creation and full rebuild the policies judged, newest first." }
        form.filters method="get" action=(base) {
            div.field {
                label for="repository" { "Repository" }
                input #repository type="text" name="repository" value=(repository);
            }
            div.field {
                label for="outcome" { "Outcome" }
                select #outcome name="outcome" {
                    @for (value, label) in [("", "Any"), ("created", "Created"), ("refused", "Refused"), ("recovery", "Recovery mode")] {
                        option value=(value) selected[outcome == value] { (label) }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
        @if let Some(message) = refused { (notice("error", html! { (message) })) }
        table {
            caption.vh { "Decisions" }
            thead { tr {
                th scope="col" { "When" } th scope="col" { "Repository" } th scope="col" { "User" }
                th scope="col" { "Image" } th scope="col" { "Outcome" }
                th scope="col" { "Refused by" } th scope="col" { "Reported by" }
            } }
            tbody {
                @for entry in entries {
                    tr {
                        td { (entry["at"].as_str().unwrap_or_default()) }
                        td { (entry["repository"].as_str().unwrap_or_default()) }
                        td { (entry["user"].as_str().unwrap_or_default()) }
                        td { code { (entry["image"].as_str().unwrap_or_default()) } }
                        td { (entry["outcome"].as_str().unwrap_or_default()) }
                        td { (ids(&entry["refused_by"])) }
                        td { (ids(&entry["reported_by"])) }
                    }
                }
            }
        }
        @if entries.is_empty() { p { "No decisions." } }
        (pagination(&base, &filters, page_no, PER_PAGE, total))
    };
    let chrome = Chrome::org(&session, &org, Section::Decisions);
    Ok(page("Decision log", &chrome, main).into_response())
}

pub async fn audit(
    State(console): State<Console>,
    session: Session,
    Path(org): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let org = org_name(&org)?;
    let page_no = page_number(&query);
    let path = format!("/orgs/{org}/audit-log?per_page={PER_PAGE}&page={page_no}");
    let (body, _) = console.get(&session, &path).await?;
    let (entries, total) = page_of(&body, "entries");
    let base = format!("/ui/orgs/{org}/audit-log");
    let main = html! {
        h1 { "Audit log" }
        p.lead { "Every change to this organization's policies, memberships, billing, packages and exceptions, newest first." }
        table.audit {
            caption.vh { "Audit log entries" }
            thead { tr {
                th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" }
                th scope="col" { "Before" } th scope="col" { "After" }
            } }
            tbody {
                @for entry in entries {
                    @let action = entry["action"].as_str().unwrap_or_default();
                    @let policy = entry["before"]["id"].as_i64().or(entry["after"]["id"].as_i64());
                    tr {
                        td { (entry["created_at"].as_str().unwrap_or_default()) }
                        td { (entry["actor"].as_str().unwrap_or_default()) }
                        td {
                            (action)
                            @if let (true, Some(id)) = (action.starts_with("policy."), policy) {
                                br; a href={ "/ui/orgs/" (org) "/codespaces/policies/" (id) "/revisions" } { "Revisions" span.vh { " of policy " (id) } }
                            }
                        }
                        td { code.json { (snapshot(&entry["before"])) } }
                        td { code.json { (snapshot(&entry["after"])) } }
                    }
                }
            }
        }
        @if entries.is_empty() { p { "No entries." } }
        (pagination(&base, "", page_no, PER_PAGE, total))
    };
    let chrome = Chrome::org(&session, &org, Section::Audit);
    Ok(page("Audit log", &chrome, main).into_response())
}

fn snapshot(value: &Value) -> String {
    match value {
        Value::Null => "none".to_string(),
        other => other.to_string(),
    }
}
