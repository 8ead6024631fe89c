//! The create and edit pages: drawing the form, its buttons that change it, the preview
//! of the change, and Save, which is the API's POST or PATCH (with `If-Match`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde_json::Value;

use super::constraints::Shape;
use super::errors::PageError;
use super::form::Fields;
use super::layout::{notice, page, Chrome, Section};
use super::policy_form::{FieldErrors, Intent, PolicyForm};
use super::policy_view::{policy_form, FormView};
use super::preview_view::preview;
use super::session::Session;
use super::{org_name, policy_id, Console};

/// What a form page shows besides the form.
#[derive(Default)]
struct Extras {
    errors: FieldErrors,
    notice: Option<Markup>,
    preview: Option<Markup>,
    /// The stored policy, on the edit page: its warnings and links.
    policy: Option<Value>,
    /// The control to focus when the page is drawn again.
    focus: Option<String>,
}

async fn draw(
    console: &Console,
    session: &Session,
    org: &str,
    id: Option<i64>,
    form: &PolicyForm,
    extras: Extras,
    status: StatusCode,
) -> Result<Response, PageError> {
    let repos = console.repositories(session, org).await?;
    let machines = if form
        .constraints
        .iter()
        .any(|c| c.kind.shape == Shape::Machines)
    {
        console.machines(session).await?
    } else {
        Vec::new()
    };
    let (title, action) = match id {
        Some(id) => (
            format!("Edit policy {}", form.name),
            format!("/ui/orgs/{org}/codespaces/policies/{id}"),
        ),
        None => (
            "Create policy".to_string(),
            format!("/ui/orgs/{org}/codespaces/policies/new"),
        ),
    };
    let view = FormView {
        form,
        errors: &extras.errors,
        repos: &repos,
        csrf: &session.csrf,
        action: &action,
        focus: extras.focus.as_deref(),
        machines: &machines,
    };
    let body = html! {
        p.crumbs { a href={ "/ui/orgs/" (org) "/codespaces/policies" } { "Codespaces policies" } }
        h1 { (title) }
        @if let Some(notice) = &extras.notice { (notice) }
        @if let (Some(policy), Some(id)) = (&extras.policy, id) {
            (super::policies_list::warnings(&policy["warnings"]))
            p.links {
                a href={ "/ui/orgs/" (org) "/codespaces/policies/" (id) "/revisions" } { "Revisions" }
                " · "
                a href={ "/ui/orgs/" (org) "/codespaces/policies/" (id) "/delete" } { "Delete policy" }
            }
        }
        @if let Some(preview) = &extras.preview { (preview) }
        (policy_form(&view))
    };
    let chrome = Chrome::org(session, org, Section::Policies);
    Ok((status, page(&title, &chrome, body)).into_response())
}

/// The owner check the API makes, before a page that only owners can use is drawn.
async fn require_owner(console: &Console, session: &Session, org: &str) -> Result<(), PageError> {
    let path = format!("/orgs/{org}/codespaces/policies?per_page=1");
    console.get(session, &path).await.map(|_| ())
}

pub async fn new_form(
    State(console): State<Console>,
    session: Session,
    Path(org): Path<String>,
) -> Result<Response, PageError> {
    let org = org_name(&org)?;
    require_owner(&console, &session, &org).await?;
    let form = PolicyForm::empty();
    draw(
        &console,
        &session,
        &org,
        None,
        &form,
        Extras::default(),
        StatusCode::OK,
    )
    .await
}

pub async fn edit_form(
    State(console): State<Console>,
    session: Session,
    Path((org, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let org = org_name(&org)?;
    let id = policy_id(&id)?;
    let path = format!("/orgs/{org}/codespaces/policies/{id}");
    let (policy, etag) = console.get(&session, &path).await?;
    let form = PolicyForm::from_policy(&policy, etag);
    let extras = Extras {
        policy: Some(policy),
        ..Extras::default()
    };
    draw(
        &console,
        &session,
        &org,
        Some(id),
        &form,
        extras,
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    State(console): State<Console>,
    session: Session,
    Path(org): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let org = org_name(&org)?;
    submit(
        &console,
        &session,
        &org,
        None,
        &Fields::checked(&body, &session)?,
    )
    .await
}

pub async fn update(
    State(console): State<Console>,
    session: Session,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let org = org_name(&org)?;
    let id = policy_id(&id)?;
    submit(
        &console,
        &session,
        &org,
        Some(id),
        &Fields::checked(&body, &session)?,
    )
    .await
}

/// A submitted form: a button that changes the form draws it again; Preview asks the API
/// what the change would do; Save sends it. Nothing is stored unless the API takes it.
async fn submit(
    console: &Console,
    session: &Session,
    org: &str,
    id: Option<i64>,
    fields: &Fields,
) -> Result<Response, PageError> {
    let mut form = PolicyForm::from_fields(fields);
    let intent = Intent::parse(fields.get("intent"));
    let mut extras = Extras {
        focus: form.apply(&intent),
        ..Extras::default()
    };
    if let Some(id) = id {
        // The policy's warnings and links; a policy deleted meanwhile is a 404 page.
        let (policy, _) = console
            .get(session, &format!("/orgs/{org}/codespaces/policies/{id}"))
            .await?;
        extras.policy = Some(policy);
    }
    if !matches!(intent, Intent::Save | Intent::Preview) {
        return draw(console, session, org, id, &form, extras, StatusCode::OK).await;
    }
    let body = match form.body() {
        Ok(body) => body,
        Err(errors) => {
            extras.errors = errors;
            return draw(
                console,
                session,
                org,
                id,
                &form,
                extras,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let answer = if intent == Intent::Preview {
        let mut policy = body;
        if let Some(id) = id {
            policy["id"] = Value::from(id);
        }
        let request = serde_json::json!({ "policy": policy });
        let path = format!("/orgs/{org}/codespaces/policies/preview");
        console
            .call(session, Method::POST, &path, Some(&request), None)
            .await?
    } else if let Some(id) = id {
        let path = format!("/orgs/{org}/codespaces/policies/{id}");
        let version = form.version.as_deref();
        console
            .call(session, Method::PATCH, &path, Some(&body), version)
            .await?
    } else {
        let path = format!("/orgs/{org}/codespaces/policies");
        console
            .call(session, Method::POST, &path, Some(&body), None)
            .await?
    };
    answer.check()?;
    match answer.status {
        status if status.is_success() && intent == Intent::Preview => {
            extras.preview = Some(preview(&answer.body, "Preview of this change"));
            draw(console, session, org, id, &form, extras, StatusCode::OK).await
        }
        status if status.is_success() => {
            let saved = answer.body["id"].as_i64().unwrap_or_default();
            Ok(
                Redirect::to(&format!("/ui/orgs/{org}/codespaces/policies?saved={saved}"))
                    .into_response(),
            )
        }
        StatusCode::PRECONDITION_FAILED => {
            extras.notice = Some(notice(
                "error",
                html! {
                    strong { "This policy changed since you opened it." }
                    " Someone saved it after this page was drawn, so nothing was saved. "
                    a href={ "/ui/orgs/" (org) "/codespaces/policies/" (id.unwrap_or_default()) } { "Open it again" }
                    " to see the change, then make yours on it."
                },
            ));
            draw(
                console,
                session,
                org,
                id,
                &form,
                extras,
                StatusCode::PRECONDITION_FAILED,
            )
            .await
        }
        status => {
            extras.errors = FieldErrors::of_answer(&answer.body);
            draw(console, session, org, id, &form, extras, status).await
        }
    }
}
