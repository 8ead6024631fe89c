//! A browser's share of the console for the tests: its cookies, the CSRF token of the page
//! it last drew, and forms posted as browsers post them.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use tower::ServiceExt;

use crate::helpers::TestApp;

/// One console answer.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub html: String,
}

impl Page {
    /// Where a redirect points.
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of the first hidden field `name` (attribute-unescaped).
    pub fn field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.html.find(&marker)? + marker.len();
        let end = self.html[start..].find('"')? + start;
        Some(
            self.html[start..end]
                .replace("&quot;", "\"")
                .replace("&amp;", "&"),
        )
    }

    /// The `Set-Cookie` header for `name`, whole.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_string)
    }
}

/// A browser holding the console's session cookie.
pub struct Client<'a> {
    pub app: &'a TestApp,
    /// The session id, as the cookie holds it.
    pub session: String,
}

/// Sends one request to the app's router, with `cookie` and a form `body` when given.
pub async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    cookie: &str,
    body: Option<String>,
    extra: &[(&str, &str)],
) -> Page {
    let mut request = Request::builder().method(method).uri(path);
    if !cookie.is_empty() {
        request = request.header(header::COOKIE, cookie);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body)),
        None => request.body(Body::empty()),
    }
    .expect("request");
    let response = app.router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    Page {
        status,
        headers,
        html: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// `fields` as a form body.
pub fn encode(fields: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        out.append_pair(name, value);
    }
    out.finish()
}

/// The id in a `Set-Cookie` header.
pub fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

/// Logs in with `token` as a browser does: the login page, then its form. Answers the
/// login's answer, and the session id when one was set.
pub async fn log_in(app: &TestApp, token: &str) -> (Page, Option<String>) {
    let form = send(app, "GET", "/ui/login", "", None, &[]).await;
    let nonce = form.field("csrf").expect("the login form's CSRF field");
    let cookie = format!("bip_login={nonce}");
    let body = encode(&[("csrf", &nonce), ("token", token)]);
    let answer = send(app, "POST", "/ui/login", &cookie, Some(body), &[]).await;
    let session = answer
        .set_cookie("bip_session")
        .map(|c| cookie_value(&c))
        .filter(|v| !v.is_empty());
    (answer, session)
}

impl<'a> Client<'a> {
    /// A logged-in browser; the login must succeed.
    pub async fn login(app: &'a TestApp, token: &str) -> Client<'a> {
        let (answer, session) = log_in(app, token).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.html);
        Client {
            app,
            session: session.expect("a session cookie"),
        }
    }

    fn cookie(&self) -> String {
        format!("bip_session={}", self.session)
    }

    pub async fn get(&self, path: &str) -> Page {
        send(self.app, "GET", path, &self.cookie(), None, &[]).await
    }

    /// Posts `fields` as they are (a test of a missing or wrong CSRF token sends its own).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        send(
            self.app,
            "POST",
            path,
            &self.cookie(),
            Some(encode(fields)),
            &[],
        )
        .await
    }

    /// Posts `fields` with the session's CSRF token, read off the page at `from`.
    pub async fn post(&self, from: &str, path: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(from).await;
        assert_eq!(page.status, StatusCode::OK, "{from}: {}", page.html);
        let csrf = page.field("csrf").expect("a CSRF field");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }
}

/// The org's policies as the API lists them.
pub async fn api_policies(app: &TestApp, org: &str) -> serde_json::Value {
    let answer = app
        .get(&format!("/orgs/{org}/codespaces/policies"), &app.admin)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.body
}
