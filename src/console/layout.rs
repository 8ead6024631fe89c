//! The page every console answer is drawn in: the document, the header with the org's
//! navigation and the logout button, and the parts pages share (notices, pagination).

use axum::response::Html;
use maud::{html, Markup, DOCTYPE};

use super::session::Session;

/// Which page of an org the navigation marks as current.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Policies,
    Evaluate,
    Decisions,
    Audit,
}

/// What the header shows: nothing before login; who is logged in (and the logout form);
/// and, on an org's pages, its navigation.
pub struct Chrome {
    who: Option<(String, String)>,
    org: Option<(String, Section)>,
}

impl Chrome {
    pub fn none() -> Self {
        Self {
            who: None,
            org: None,
        }
    }

    pub fn session(session: &Session) -> Self {
        Self {
            who: Some((session.who().to_string(), session.csrf.clone())),
            org: None,
        }
    }

    pub fn org(session: &Session, org: &str, section: Section) -> Self {
        Self {
            org: Some((org.to_string(), section)),
            ..Self::session(session)
        }
    }
}

/// A whole HTML document titled `title`.
pub fn page(title: &str, chrome: &Chrome, main: Markup) -> Html<String> {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Base-image policy console" }
                link rel="stylesheet" href="/ui/static/console.css";
                script src="/ui/static/console.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    span.brand { "Base-image policy console" }
                    @if let Some((org, section)) = &chrome.org {
                        nav aria-label="Organization" {
                            span.org { (org) }
                            ul {
                                (nav_link(org, "codespaces/policies", "Codespaces policies", *section == Section::Policies))
                                (nav_link(org, "codespaces/policies/evaluate", "Test an image", *section == Section::Evaluate))
                                (nav_link(org, "codespaces/decisions", "Decision log", *section == Section::Decisions))
                                (nav_link(org, "audit-log", "Audit log", *section == Section::Audit))
                            }
                        }
                    }
                    @if let Some((who, csrf)) = &chrome.who {
                        div.who {
                            a href="/ui/orgs" { "Organizations" }
                            span { "Logged in as " strong { (who) } }
                            form method="post" action="/ui/logout" {
                                input type="hidden" name="csrf" value=(csrf);
                                button.link type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (main) }
            }
        }
    };
    Html(markup.into_string())
}

fn nav_link(org: &str, path: &str, label: &str, current: bool) -> Markup {
    html! {
        li {
            a href={ "/ui/orgs/" (org) "/" (path) } aria-current=[current.then_some("page")] { (label) }
        }
    }
}

/// A notice at the top of a page: `kind` is `ok`, `warn` or `error`.
pub fn notice(kind: &str, text: Markup) -> Markup {
    let role = if kind == "error" { "alert" } else { "status" };
    html! { div class={ "notice " (kind) } role=(role) { (text) } }
}

/// Links to the previous and next page of a list of `total` items, `per_page` a page;
/// `query` is the rest of the query string (filters), already encoded.
pub fn pagination(base: &str, query: &str, page: i64, per_page: i64, total: i64) -> Markup {
    let pages = ((total + per_page - 1) / per_page).max(1);
    let link = |to: i64| {
        let sep = if query.is_empty() { "" } else { "&" };
        format!("{base}?{query}{sep}page={to}")
    };
    html! {
        nav.pages aria-label="Pages" {
            @if page > 1 { a href=(link(page - 1)) rel="prev" { "Previous page" } }
            span { "Page " (page) " of " (pages) " (" (total) " in all)" }
            @if page < pages { a href=(link(page + 1)) rel="next" { "Next page" } }
        }
    }
}
