//! `Idempotency-Key` on `POST /codespaces`: a retry with the same key and body gets the first
//! answer byte for byte and creates nothing; the same key with another body is a 422; a
//! retry while the first is still running is a 409. Keys are scoped to the calling token.

use std::future::Future;
use std::time::Duration;

use std::convert::Infallible;

use axum::body::{to_bytes, Body};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::routes::json_answer;
use crate::state::AppState;
use crate::store::IdempotencyStart;
use crate::tokens::hash_token;

pub const HEADER: &str = "idempotency-key";
/// Keys are remembered at least this long.
const KEEP: Duration = Duration::from_secs(25 * 60 * 60);
const MAX_KEY_LEN: usize = 255;
/// Bodies this service answers are small; this only bounds what a replay stores.
const MAX_STORED_BODY: usize = 1024 * 1024;

/// The two headers idempotency reads, taken from the request rather than a copy of its whole
/// header map (creation is the hot path). Checked by the handler, after the caller's
/// permission, so that a caller without it learns nothing from a 422 about the key.
pub struct IdempotencyHeaders {
    key: Option<HeaderValue>,
    authorization: Option<HeaderValue>,
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyHeaders {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let key = parts.headers.get(HEADER).cloned();
        // The scope is needed only with a key.
        let authorization = key
            .as_ref()
            .and_then(|_| parts.headers.get(header::AUTHORIZATION).cloned());
        Ok(Self { key, authorization })
    }
}

impl IdempotencyHeaders {
    /// The key, if the request has one; a malformed one is a 422.
    pub fn key(&self) -> Result<Option<String>, ApiError> {
        let Some(raw) = &self.key else {
            return Ok(None);
        };
        let bad = || {
            ApiError::invalid(
                "Request",
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )
        };
        let key = raw.to_str().map_err(|_| bad())?;
        if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad());
        }
        Ok(Some(key.to_string()))
    }

    /// Whose keys these are: the calling token, by its hash.
    pub fn scope(&self) -> String {
        let token = self
            .authorization
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .map_or("", |(_, token)| token.trim());
        hex::encode(hash_token(token))
    }
}

/// Marks a response whose answer `work` already stored under its key, in the same
/// transaction as what it created, so that [`once`] does not store it again.
#[derive(Debug, Clone, Copy)]
pub struct AnswerStored;

/// Runs `work` at most once per (token, key): the first answer is stored and replayed. A
/// 5xx (an outage, say) is not stored, so that a retry after it does the work.
pub async fn once<Fut>(
    state: &AppState,
    headers: &IdempotencyHeaders,
    key: &str,
    canonical_body: &[u8],
    work: impl FnOnce() -> Fut,
) -> Result<Response, ApiError>
where
    Fut: Future<Output = Response>,
{
    let scope = headers.scope();
    let request_hash = Sha256::digest(canonical_body);
    // A claim older than the request deadline (plus margin) belongs to a request that died.
    let lease = state.config.request_timeout * 2;
    match state
        .store
        .begin_idempotent(&scope, key, &request_hash, lease, KEEP)
        .await?
    {
        IdempotencyStart::Started => {}
        IdempotencyStart::Replay { status, body } => return Ok(json_response(status, body)),
        IdempotencyStart::InFlight => {
            return Err(ApiError::Conflict(
                "A request with this Idempotency-Key is still in progress".into(),
            ))
        }
        IdempotencyStart::Mismatch => {
            return Err(ApiError::invalid(
                "Request",
                "Idempotency-Key",
                "was already used with a different request body",
            ))
        }
    }
    let response = work().await;
    if response.extensions().get::<AnswerStored>().is_some() {
        return Ok(response);
    }
    let status = response.status();
    if status.is_server_error() {
        if let Err(err) = state.store.abandon_idempotent(&scope, key).await {
            // The claim expires after its lease; retries get 409 until then.
            tracing::warn!(error = %err, "could not release an idempotency key");
        }
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, MAX_STORED_BODY)
        .await
        .map_err(|e| ApiError::Internal(format!("reading the answer to store: {e}")))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if let Err(err) = state
        .store
        .finish_idempotent(&scope, key, status.as_u16(), &text)
        .await
    {
        // The work is done and answered; a retry after the lease would redo it, so say so.
        tracing::error!(error = %err, "could not store an idempotent answer");
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

fn json_response(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_answer(status, body)
}

/// The body in a form where equal JSON is equal text: object keys sorted at every level,
/// whatever order the client wrote them in. (Depth is bounded by the JSON parser's limit.)
pub fn canonical(value: &serde_json::Value) -> String {
    use serde_json::Value;
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (i, (key, value)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    write(value, out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_json_is_equal_text_whatever_the_key_order() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b":1,"a":{"y":[1,{"d":2,"c":3}],"x":null}}"#).unwrap();
        let b = json!({ "a": { "x": null, "y": [1, { "c": 3, "d": 2 }] }, "b": 1 });
        assert_eq!(canonical(&a), canonical(&b));
        assert_ne!(canonical(&a), canonical(&json!({ "b": 2 })));
    }

    #[test]
    fn keys_must_be_short_visible_ascii() {
        let key = |value: Option<&str>| {
            IdempotencyHeaders {
                key: value.map(|v| HeaderValue::from_str(v).unwrap()),
                authorization: None,
            }
            .key()
        };
        assert_eq!(key(Some("abc-123")).unwrap().as_deref(), Some("abc-123"));
        assert!(key(Some("")).is_err());
        assert!(key(Some(&"k".repeat(256))).is_err());
        assert!(key(Some("a b")).is_err());
        assert!(key(None).unwrap().is_none());
    }
}
