//! What the exceptions routes answer, and how evaluate and preflight name the exception that
//! allowed an image.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::policy::{AppliedException, PolicyException};
use crate::routes::timestamp;
use crate::store::ExceptionRecord;

/// A policy exception.
#[derive(Serialize, ToSchema)]
pub struct ExceptionResponse {
    id: i64,
    /// The repository it covers; null: every repository of the org.
    repository: Option<String>,
    /// The user it covers; null: every user.
    user: Option<String>,
    allowed_values: Vec<String>,
    #[schema(format = DateTime)]
    expires_at: String,
    reason: String,
    #[schema(format = DateTime)]
    created_at: String,
    /// Who created it.
    created_by: String,
    /// True once the service's clock reached `expires_at`: it applies no more.
    expired: bool,
}

impl ExceptionResponse {
    /// The exception as it stands at `now` (the service's clock).
    pub fn new(record: ExceptionRecord, now: DateTime<Utc>) -> Self {
        Self {
            id: record.id,
            repository: record.repository,
            user: record.user,
            allowed_values: record.allowed_values,
            expired: record.expires_at <= now,
            expires_at: timestamp(record.expires_at),
            reason: record.reason,
            created_at: timestamp(record.created_at),
            created_by: record.created_by,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ExceptionList {
    total_count: i64,
    /// By id, expired ones included.
    exceptions: Vec<ExceptionResponse>,
}

impl ExceptionList {
    pub fn new(total_count: i64, records: Vec<ExceptionRecord>, now: DateTime<Utc>) -> Self {
        Self {
            total_count,
            exceptions: records
                .into_iter()
                .map(|record| ExceptionResponse::new(record, now))
                .collect(),
        }
    }
}

/// The exception that allowed an image although a policy did not.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppliedExceptionResponse {
    id: i64,
    reason: String,
    #[schema(format = DateTime)]
    expires_at: String,
}

impl From<&PolicyException> for AppliedExceptionResponse {
    fn from(exception: &PolicyException) -> Self {
        Self {
            id: exception.id,
            reason: exception.reason.clone(),
            expires_at: timestamp(exception.expires_at),
        }
    }
}

impl From<&AppliedException> for AppliedExceptionResponse {
    fn from(exception: &AppliedException) -> Self {
        Self {
            id: exception.id,
            reason: exception.reason.clone(),
            expires_at: timestamp(exception.expires_at),
        }
    }
}
