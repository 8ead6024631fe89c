//! What a console request that cannot go on answers: a page saying so in words, with the
//! status the API would give. A 5xx page says nothing of what failed; the log says it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::layout::{page, Chrome};
use crate::error::{ApiError, RETRY_AFTER_SECONDS};

#[derive(Debug)]
pub enum PageError {
    /// The caller may not do this (the API's 403), with its reason.
    Forbidden(String),
    /// Nothing here, or nothing the caller may see (the API's 404).
    NotFound,
    /// A form sent without this session's CSRF token, or with another one.
    Csrf,
    /// The database cannot be reached, or the service is overloaded: try again.
    Unavailable,
    /// Anything else the console did not expect; details are logged, never shown.
    Internal(String),
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Forbidden(reason) => Self::Forbidden(reason.to_string()),
            ApiError::NotFound => Self::NotFound,
            ApiError::Unavailable => Self::Unavailable,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, text) = match self {
            Self::Forbidden(reason) => (
                StatusCode::FORBIDDEN,
                "You cannot do this",
                format!(
                    "{reason}. The console is for the organization's owners and site administrators."
                ),
            ),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing here, or nothing you may see.".to_string(),
            ),
            Self::Csrf => (
                StatusCode::FORBIDDEN,
                "This form was refused",
                "It was not sent from a page of this session: nothing was changed. Go back, \
                 reload the page and try again."
                    .to_string(),
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again in a moment",
                "The service cannot reach its database, or is too busy: nothing was changed."
                    .to_string(),
            ),
            Self::Internal(detail) => {
                tracing::error!(error = %detail, "console request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The console could not answer this request.".to_string(),
                )
            }
        };
        let body = page(
            title,
            &Chrome::none(),
            html! {
                h1 { (title) }
                p { (text) }
                p { a href="/ui/orgs" { "Back to the console" } }
            },
        );
        let mut response = (status, body).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}
