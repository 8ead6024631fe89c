//! Extractors whose rejections answer in the contract's JSON error shape.

use axum::body::{Body, Bytes};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::store::PageRequest;

/// `Json<T>` whose rejections are JSON errors: malformed JSON is a 400, a body of the wrong
/// shape (or not an object) a 422, a body over the limit a 413, a missing content type a 415.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let ApiJsonBytes(value, _) = ApiJsonBytes::<T>::from_request(request, state).await?;
        Ok(Self(value))
    }
}

/// `ApiJson<T>` that also keeps the body's bytes (for hashing an idempotent request).
pub struct ApiJsonBytes<T>(pub T, pub Bytes);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJsonBytes<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        // The body limit travels in the extensions, and the JSON check afterwards reads only
        // the headers: the parts are moved rather than copied, since creation is the hot path.
        let (mut parts, body) = request.into_parts();
        let mut for_body = Request::new(body);
        *for_body.extensions_mut() = std::mem::take(&mut parts.extensions);
        let bytes = Bytes::from_request(for_body, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::BadRequest(rejection.body_text())
                }
            })?;
        // The common request (the plain JSON content type, a well-formed object) is read
        // directly; anything else takes axum's `Json`, whose rejections carry the content
        // type check and the path of a field in error.
        if let Some(value) = read_plain_json(&parts.headers, &bytes) {
            return Ok(Self(value, bytes));
        }
        let value = read_json(parts, bytes.clone(), state).await?;
        Ok(Self(value, bytes))
    }
}

/// Every body of this API is a JSON object; serde would also read a struct from an array of
/// its fields, which no client means.
fn is_object(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// The body read without axum's `Json`, when that is sure to give the same value: the
/// content type is exactly `application/json` (which `Json` accepts), the body is an object,
/// and it deserializes; `Json` reads with the same serde_json deserializer. `None` for
/// anything else, which [`read_json`] then reads and, if need be, rejects.
fn read_plain_json<T: DeserializeOwned>(headers: &HeaderMap, bytes: &[u8]) -> Option<T> {
    let plain = headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| v == "application/json");
    if !(plain && is_object(bytes)) {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}

/// The body read through axum's `Json`: its content type check, and rejections that name
/// the field in error.
async fn read_json<S: Send + Sync, T: DeserializeOwned>(
    parts: Parts,
    bytes: Bytes,
    state: &S,
) -> Result<T, ApiError> {
    let object = is_object(&bytes);
    let request = Request::from_parts(parts, Body::from(bytes));
    let axum::Json(value) = axum::Json::<T>::from_request(request, state)
        .await
        .map_err(json_rejection)?;
    if !object {
        return Err(ApiError::invalid(
            "Request",
            "body",
            "must be a JSON object",
        ));
    }
    Ok(value)
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(err) => {
            ApiError::invalid("Request", "body", data_error_text(&err.body_text()))
        }
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::BadRequest("Problems parsing JSON".to_string())
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "Expected request with `Content-Type: application/json`".to_string(),
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        other => ApiError::BadRequest(other.body_text()),
    }
}

/// serde's message without axum's prefix ("Failed to deserialize the JSON body into the
/// target type: ").
fn data_error_text(text: &str) -> String {
    text.split_once(": ")
        .map_or(text, |(_, rest)| rest)
        .to_string()
}

/// `?page=&per_page=` on every list.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Pagination {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 2147483647)]
    pub page: Option<i64>,
    /// Results per page, 1 to 100 (default 30).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

pub const DEFAULT_PER_PAGE: i64 = 30;
pub const MAX_PER_PAGE: i64 = 100;

impl<S: Send + Sync> FromRequestParts<S> for Pagination {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(pagination) = Query::<Pagination>::from_request_parts(parts, state)
            .await
            .map_err(|rejection: QueryRejection| {
                ApiError::invalid("Request", "query", data_error_text(&rejection.body_text()))
            })?;
        Ok(pagination)
    }
}

impl Pagination {
    pub fn page_request(self) -> Result<PageRequest, ApiError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        if page < 1 || page > i64::from(i32::MAX) {
            return Err(ApiError::invalid(
                "Request",
                "page",
                "must be a positive page number",
            ));
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(ApiError::invalid(
                "Request",
                "per_page",
                "must be between 1 and 100",
            ));
        }
        Ok(PageRequest { page, per_page })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        name: String,
        #[serde(default)]
        config: Option<serde_json::Value>,
    }

    fn parts(content_type: Option<&str>) -> Parts {
        let mut builder = Request::builder();
        if let Some(content_type) = content_type {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        builder.body(()).unwrap().into_parts().0
    }

    /// The direct read answers only where axum's `Json` succeeds, and with the same value.
    #[tokio::test]
    async fn the_direct_read_agrees_with_axum_json() {
        let bodies = [
            r#"{"name": "a"}"#,
            r#"  {"name": "a", "config": {"image": "x", "n": [1, 2.5, null]}}"#,
            r#"{"name": "a", "name": "b"}"#,
            r#"{"name": "a", "other": 1}"#,
            r#"{"name": 1}"#,
            r#"{"name": "a"} trailing"#,
            r#"{"name": "a""#,
            r#"["a", null]"#,
            r#""a""#,
            r#"{"name": "\u0000 \ud83d\ude00"}"#,
            "",
        ];
        let types = [
            Some("application/json"),
            Some("application/json; charset=utf-8"),
            Some("application/vnd.api+json"),
            Some("APPLICATION/JSON"),
            Some("text/plain"),
            None,
        ];
        let mut direct_reads = 0;
        for body in bodies {
            for content_type in types {
                let bytes = Bytes::from(body);
                let direct: Option<Sample> = read_plain_json(&parts(content_type).headers, &bytes);
                let through_axum: Result<Sample, ApiError> =
                    read_json(parts(content_type), bytes, &()).await;
                match (direct, through_axum) {
                    (Some(direct), Ok(value)) => {
                        assert_eq!(direct, value, "{body} as {content_type:?}");
                        direct_reads += 1;
                    }
                    (Some(direct), Err(err)) => {
                        panic!("{body} as {content_type:?}: read {direct:?}, axum: {err:?}")
                    }
                    (None, _) => {}
                }
            }
        }
        // The plain content type with the two well-formed objects.
        assert_eq!(direct_reads, 3);
    }
}
