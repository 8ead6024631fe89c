//! "Test an image": the API's evaluate, a dry run of what the org's policies (and live
//! exceptions) say of an image in a repository, with each policy's verdict.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde_json::{json, Value};

use super::errors::PageError;
use super::form::Fields;
use super::layout::{notice, page, Chrome, Section};
use super::policy_form::FieldErrors;
use super::session::Session;
use super::{items, org_name, strings, Console};

pub async fn form(
    State(console): State<Console>,
    session: Session,
    Path(org): Path<String>,
) -> Result<Response, PageError> {
    let org = org_name(&org)?;
    let path = format!("/orgs/{org}/codespaces/policies?per_page=1");
    console.get(&session, &path).await?;
    draw(
        &console,
        &session,
        &org,
        &Fields::parse(&Bytes::new()),
        None,
        StatusCode::OK,
    )
    .await
}

pub async fn evaluate(
    State(console): State<Console>,
    session: Session,
    Path(org): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let org = org_name(&org)?;
    let fields = Fields::checked(&body, &session)?;
    let user = fields.text("user");
    let mut request =
        json!({ "repository": fields.text("repository"), "image": fields.text("image") });
    if !user.is_empty() {
        request["user"] = Value::from(user);
    }
    let path = format!("/orgs/{org}/codespaces/policies/evaluate");
    let answer = console
        .call(&session, Method::POST, &path, Some(&request), None)
        .await?;
    answer.check()?;
    let status = answer.status;
    draw(&console, &session, &org, &fields, Some(answer.body), status).await
}

async fn draw(
    console: &Console,
    session: &Session,
    org: &str,
    fields: &Fields,
    answer: Option<Value>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let repos = console.repositories(session, org).await?;
    let machines = console.machines(session).await?;
    let machine = fields.text("machine");
    let errors = match &answer {
        Some(body) if !status.is_success() => FieldErrors::of_answer(body),
        _ => FieldErrors::default(),
    };
    let chosen = fields.text("repository");
    let main = html! {
        h1 { "Test an image" }
        p.lead { "What the policies in force now, and the live exceptions, would say of an image in a repository. Nothing is created or recorded." }
        @if let Some(message) = errors.on("").first() { (notice("error", html! { (message) })) }
        form method="post" action={ "/ui/orgs/" (org) "/codespaces/policies/evaluate" } novalidate {
            input type="hidden" name="csrf" value=(session.csrf);
            div.field {
                label for="repository" { "Repository" }
                select #repository name="repository" {
                    @for repo in &repos { option value=(repo) selected[*repo == chosen] { (repo) } }
                }
                (messages("repository", &errors))
            }
            div.field {
                label for="image" { "Image" }
                input #image type="text" name="image" value=(fields.text("image")) placeholder="node:18";
                (messages("image", &errors))
            }
            div.field {
                label for="user" { "User (optional: their exceptions apply too)" }
                input #user type="text" name="user" value=(fields.text("user"));
                (messages("user", &errors))
            }
            div.field {
                label for="machine" { "Machine type (optional)" }
                select #machine name="machine" {
                    option value="" { "None" }
                    @for (name, label) in &machines { option value=(name) selected[*name == machine] { (label) } }
                }
                (messages("machine", &errors))
            }
            div.actions { button.primary type="submit" { "Test image" } }
        }
        @if let Some(body) = answer.as_ref().filter(|_| status.is_success()) { (verdict(body)) }
    };
    let chrome = Chrome::org(session, org, Section::Evaluate);
    Ok((status, page("Test an image", &chrome, main)).into_response())
}

fn messages(field: &str, errors: &FieldErrors) -> Markup {
    html! { @for message in errors.on(field) { p.field-error { (message) } } }
}

fn verdict(body: &Value) -> Markup {
    let policies = items(&body["policies"]);
    let allowed = body["allowed"].as_bool().unwrap_or(false);
    html! {
        section #result aria-live="polite" {
            h2 { "Result" }
            @if allowed { (notice("ok", html! { strong { "Allowed." } })) }
            @else { (notice("error", html! { strong { "Refused. " } (body["message"].as_str().unwrap_or_default()) })) }
            @if let Some(message) = body["machine"]["message"].as_str() { p { strong { "Machine type refused: " } (message) } }
            @else if let Some(name) = body["machine"]["name"].as_str() { p { "Machine type " code { (name) } " is allowed." } }
            (limits(&body["constraints"]))
            @if !body["exception"].is_null() {
                p { "Allowed by exception " (body["exception"]["id"].to_string()) "." }
            }
            @if policies.is_empty() { p { "No policy applies to this repository." } }
            @else {
                table {
                    caption { "Each applicable policy's verdict" }
                    thead { tr { th scope="col" { "Policy" } th scope="col" { "Enforcement" } th scope="col" { "Verdict" } th scope="col" { "Matched value" } } }
                    tbody {
                        @for policy in policies {
                            tr {
                                td { (policy["name"].as_str().unwrap_or_default()) }
                                td { (super::policies_list::enforcement(policy)) }
                                td { @if policy["allowed"] == true { "Allows it" } @else { "Refuses it" } }
                                td { code { (matched(&policy["matched_value"])) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What the enforcing policies allow together beside base images.
fn limits(constraints: &Value) -> Markup {
    let listed = |key: &str| {
        let values = strings(&constraints[key]["allowed_values"]);
        (!constraints[key].is_null()).then(|| {
            if values.is_empty() {
                "none".to_string()
            } else {
                values.join(", ")
            }
        })
    };
    let rows = [
        ("Machine types", listed("machine_types")),
        (
            "Maximum codespaces per user",
            constraints["max_codespaces_per_user"]["value"]
                .as_i64()
                .map(|v| v.to_string()),
        ),
        (
            "Maximum idle timeout (minutes)",
            constraints["max_idle_timeout_minutes"]["value"]
                .as_i64()
                .map(|v| v.to_string()),
        ),
        (
            "Retention period (days)",
            constraints["max_retention_period_days"]["value"]
                .as_i64()
                .map(|v| v.to_string()),
        ),
        ("Port visibility", listed("port_visibility")),
    ];
    html! {
        @if rows.iter().any(|(_, v)| v.is_some()) {
            h3 { "Other constraints in force for this repository" }
            dl.limits {
                @for (label, value) in &rows {
                    @if let Some(value) = value { dt { (label) } dd { (value) } }
                }
            }
        }
    }
}

fn matched(value: &Value) -> String {
    match value {
        Value::Null => "none".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
