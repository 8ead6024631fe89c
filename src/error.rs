//! One error type for every handler: each variant maps to a status code and the contract's
//! JSON body `{"message", "documentation_url"}` (plus `errors` on a 422).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::StoreError;

pub const DOCUMENTATION_URL: &str = "https://docs.github.com/rest/codespaces/organizations";

/// Seconds a client should wait before retrying after a 503.
pub const RETRY_AFTER_SECONDS: u64 = 2;

/// One bad field of a 422.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub resource: String,
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn invalid(resource: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(resource, field, "invalid", message)
    }

    pub fn new(
        resource: &str,
        field: impl Into<String>,
        code: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            resource: resource.to_string(),
            field: field.into(),
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// The error body every non-2xx answer carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub message: String,
    pub documentation_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("Requires authentication")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("Not Found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("Precondition Failed: the resource changed since the ETag in If-Match")]
    PreconditionFailed,
    #[error("Payload Too Large")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{message}")]
    Validation {
        message: String,
        errors: Vec<FieldError>,
    },
    #[error("Service Unavailable: the policy store cannot be reached, retry later")]
    Unavailable,
    /// Details go to the log only; the client sees an opaque message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 422 with one bad field.
    pub fn invalid(resource: &str, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Validation {
            message: format!("Validation Failed: {field} {message}"),
            errors: vec![FieldError::invalid(resource, field, message)],
        }
    }

    /// A 422 with several bad fields.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let message = match errors.as_slice() {
            [one] => format!("Validation Failed: {} {}", one.field, one.message),
            _ => "Validation Failed".to_string(),
        };
        Self::Validation { message, errors }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(what) => Self::Conflict(what),
            StoreError::PreconditionFailed => Self::PreconditionFailed,
            StoreError::Invalid { field, message } => Self::invalid("Policy", &field, message),
            StoreError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "policy store unavailable");
                Self::Unavailable
            }
            StoreError::Internal(detail) => Self::Internal(detail),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (message, errors) = match self {
            Self::Internal(detail) => {
                // Logged once, here; the guard then names the request (its route) in a
                // "request failed" event. The body reveals nothing internal.
                tracing::error!(error = %detail, "internal error");
                ("Internal Server Error".to_string(), None)
            }
            Self::Validation { message, errors } => (message, Some(errors)),
            other => (other.to_string(), None),
        };
        let body = ErrorBody {
            message,
            documentation_url: DOCUMENTATION_URL.to_string(),
            errors,
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}
