//! The console's one way to read or change anything: a request to the REST API's own
//! router, in process, as the session's caller. So every action goes through the API's
//! code, rules, errors, audit and `If-Match` checks; the console only draws the answers.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use super::errors::PageError;
use super::session::Session;
use super::Console;

/// The API's largest answer the console reads (a page of 100 policies of 1,000 values).
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// What the API answered.
pub struct Answer {
    pub status: StatusCode,
    /// The `ETag` header, as sent (`"3"`).
    pub etag: Option<String>,
    pub body: Value,
}

impl Answer {
    /// The body of a 2xx; the errors a page cannot go on from (401, 403, 404, 5xx, and
    /// anything unexpected) as their pages. Others (422, 412, 409) are the caller's to show.
    pub fn success(self) -> Result<Value, PageError> {
        self.check()?;
        Ok(self.body)
    }

    /// `Err` for what no page shows in place: see [`Answer::success`].
    pub fn check(&self) -> Result<(), PageError> {
        match self.status {
            s if s.is_success() => Ok(()),
            StatusCode::FORBIDDEN => Err(PageError::Forbidden(self.message())),
            StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED => Err(PageError::NotFound),
            StatusCode::SERVICE_UNAVAILABLE => Err(PageError::Unavailable),
            StatusCode::UNPROCESSABLE_ENTITY
            | StatusCode::PRECONDITION_FAILED
            | StatusCode::CONFLICT
            | StatusCode::BAD_REQUEST => Ok(()),
            other => Err(PageError::Internal(format!(
                "the API answered {other}: {}",
                self.message()
            ))),
        }
    }

    /// The error's `message`.
    pub fn message(&self) -> String {
        self.body["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

impl Console {
    /// `method path` on the API as `session`'s caller, with `body` as JSON and `if_match`
    /// as `If-Match`. Paths are built by the console from parsed names and numbers only.
    pub async fn call(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<Answer, PageError> {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(version) = if_match {
            request = request.header(header::IF_MATCH, version);
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        let mut request =
            request.map_err(|e| PageError::Internal(format!("building {path}: {e}")))?;
        request.extensions_mut().insert(session.credential.clone());
        let response = self
            .api
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| PageError::Internal(format!("calling {path}: {e}")))?;
        let status = response.status();
        let etag = response
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER_BYTES)
            .await
            .map_err(|e| PageError::Internal(format!("reading {path}: {e}")))?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| PageError::Internal(format!("{path} answered no JSON: {e}")))?
        };
        Ok(Answer { status, etag, body })
    }

    /// `GET path`, which must succeed.
    pub async fn get(
        &self,
        session: &Session,
        path: &str,
    ) -> Result<(Value, Option<String>), PageError> {
        let answer = self.call(session, Method::GET, path, None, None).await?;
        answer.check()?;
        if !answer.status.is_success() {
            return Err(PageError::Internal(format!(
                "GET {path} answered {}: {}",
                answer.status,
                answer.message()
            )));
        }
        Ok((answer.body, answer.etag))
    }

    /// Every repository of `org` (by name), at most 1,000: the most a policy may name.
    pub async fn repositories(
        &self,
        session: &Session,
        org: &str,
    ) -> Result<Vec<String>, PageError> {
        let mut names = Vec::new();
        for page in 1..=10 {
            let path = format!("/orgs/{org}/repos?per_page=100&page={page}");
            let (body, _) = self.get(session, &path).await?;
            let repositories = super::items(&body["repositories"]);
            let done = repositories.len() < 100;
            names.extend(
                repositories
                    .iter()
                    .filter_map(|r| r["name"].as_str().map(str::to_string)),
            );
            if done {
                break;
            }
        }
        Ok(names)
    }

    /// The service's machine catalog, `(name, label)`, in its order.
    pub async fn machines(&self, session: &Session) -> Result<Vec<(String, String)>, PageError> {
        let (body, _) = self.get(session, "/machines").await?;
        Ok(super::items(&body["machines"])
            .iter()
            .filter_map(|m| {
                let name = m["name"].as_str()?;
                let label = format!("{} ({name})", m["display_name"].as_str().unwrap_or(name));
                Some((name.to_string(), label))
            })
            .collect())
    }
}
