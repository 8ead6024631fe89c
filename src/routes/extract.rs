//! Extractors whose rejections answer in the contract's JSON error shape.

use axum::body::{Body, Bytes};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::HeaderValue;
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
        // Read the bytes first, keeping them, then parse them with axum's `Json`, whose
        // rejections carry the content type check and the path of a field in error.
        let content_type = request.headers().get(CONTENT_TYPE).cloned();
        let bytes = read_bytes(request, state).await?;
        let value = read_json(content_type, bytes.clone(), state).await?;
        Ok(Self(value, bytes))
    }
}

async fn read_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest(rejection.body_text())
            }
        })
}

/// An optional JSON body: none at all (no bytes, or JSON `null`, as the documented
/// schema allows) is `None`; anything else must be what [`ApiJson`] accepts.
pub struct OptionalApiJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = request.headers().get(CONTENT_TYPE).cloned();
        let bytes = read_bytes(request, state).await?;
        if bytes.is_empty() || bytes.trim_ascii() == b"null" {
            return Ok(Self(None));
        }
        Ok(Self(Some(read_json(content_type, bytes, state).await?)))
    }
}

/// Every body of this API is a JSON object; serde would also read a struct from an array of
/// its fields, which no client means.
fn is_object(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// The body read through axum's `Json`: its content type check (the one header it reads),
/// and rejections that name the field in error.
async fn read_json<S: Send + Sync, T: DeserializeOwned>(
    content_type: Option<HeaderValue>,
    bytes: Bytes,
    state: &S,
) -> Result<T, ApiError> {
    let object = is_object(&bytes);
    let mut request = Request::new(Body::from(bytes));
    if let Some(content_type) = content_type {
        request.headers_mut().insert(CONTENT_TYPE, content_type);
    }
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

    async fn read(body: &'static str, content_type: Option<&str>) -> Result<Sample, ApiError> {
        let content_type = content_type.map(|value| HeaderValue::from_str(value).unwrap());
        read_json(content_type, Bytes::from(body), &()).await
    }

    #[tokio::test]
    async fn each_bad_body_gets_its_own_error() {
        let json = Some("application/json");
        let expected = Sample {
            name: "a".into(),
            config: None,
        };
        assert_eq!(read(r#" {"name": "a"}"#, json).await.unwrap(), expected);
        assert_eq!(
            read(r#"{"name": "a"}"#, Some("application/json; charset=utf-8"))
                .await
                .unwrap(),
            expected
        );
        let status = |result: Result<Sample, ApiError>| result.unwrap_err().status();
        assert_eq!(
            status(read(r#"{"name": "a""#, json).await),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(read(r#"{"name": "a"} x"#, json).await),
            StatusCode::BAD_REQUEST
        );
        for shape in [
            r#"{"name": 1}"#,
            r#"{"name": "a", "other": 1}"#,
            r#"["a", null]"#,
        ] {
            assert_eq!(
                status(read(shape, json).await),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{shape}"
            );
        }
        for content_type in [Some("text/plain"), None] {
            assert_eq!(
                status(read(r#"{"name": "a"}"#, content_type).await),
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            );
        }
    }
}
