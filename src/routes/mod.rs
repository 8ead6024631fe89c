//! The HTTP API, one module per resource. Each handler carries its OpenAPI annotation, and
//! `api()` registers handler and documentation together, so that they cannot drift.

mod admin;
mod audit;
mod codespaces;
mod extract;
mod health;
mod idempotency;
mod metrics;
mod openapi;
mod orgs;
mod policies;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::ApiError;

pub use extract::{ApiJson, ApiJsonBytes, Pagination};
pub use idempotency::canonical as canonical_json;
/// The evaluate answer's writer and its reference form, public for the benchmarks.
pub use policies::{write_evaluate_answer, EvaluateResponse};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Base-image policy service",
        version = "0.1.0",
        description = "Organization owners decide which container images their codespaces may \
            be built from; the codespace orchestrator asks this service on every creation and \
            full rebuild."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(crate::error::ErrorBody, crate::error::FieldError))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every route with its documentation.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(metrics::metrics))
        .routes(routes!(admin::create_user_token))
        .routes(routes!(admin::create_service_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(orgs::create_org))
        .routes(routes!(orgs::get_org))
        .routes(routes!(orgs::put_repo))
        .routes(routes!(orgs::list_repos))
        .routes(routes!(orgs::set_membership, orgs::remove_membership))
        .routes(routes!(orgs::get_billing, orgs::set_billing))
        .routes(routes!(policies::list_policies, policies::create_policy))
        .routes(routes!(
            policies::get_policy,
            policies::update_policy,
            policies::delete_policy
        ))
        .routes(routes!(policies::evaluate))
        .routes(routes!(codespaces::create_codespace))
        .routes(routes!(codespaces::get_codespace))
        .routes(routes!(codespaces::rebuild_codespace))
        .routes(routes!(codespaces::list_org_codespaces))
        .routes(routes!(audit::audit_log))
}

/// The OpenAPI document the code describes; `openapi.yaml` must equal it.
pub fn openapi_yaml() -> Result<String, String> {
    let mut openapi = api().into_openapi();
    openapi::finish(&mut openapi);
    openapi.to_yaml().map_err(|e| e.to_string())
}

/// Unknown paths answer the contract's JSON error shape too.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// An answer whose JSON is already written: the hand-written answers of the hot paths, and
/// stored answers replayed.
pub fn json_answer(status: StatusCode, json: impl Into<Body>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json.into(),
    )
        .into_response()
}

/// RFC 3339 in UTC, to the second: `2026-11-22T10:00:00Z`. Written digit by digit, since
/// every codespace answer carries two and chrono's formatter is general; chrono's own form
/// (the reference, held equal by a test) covers years of other than four digits and leap
/// seconds.
pub fn timestamp(at: DateTime<Utc>) -> String {
    let (date, time) = (at.date_naive(), at.time());
    let year = date.year();
    if !(0..=9999).contains(&year) || time.nanosecond() >= 1_000_000_000 {
        return at.to_rfc3339_opts(SecondsFormat::Secs, true);
    }
    let mut out = String::with_capacity(20);
    for (n, width, then) in [
        (year.unsigned_abs(), 4, '-'),
        (date.month(), 2, '-'),
        (date.day(), 2, 'T'),
        (time.hour(), 2, ':'),
        (time.minute(), 2, ':'),
        (time.second(), 2, 'Z'),
    ] {
        for place in (0..width).rev() {
            out.push(char::from(b'0' + (n / 10u32.pow(place) % 10) as u8));
        }
        out.push(then);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn reference(at: DateTime<Utc>) -> String {
        at.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    #[test]
    fn timestamps_are_written_as_chrono_writes_them() {
        // From year 0 to 9999 in steps that visit every month, day, hour, minute and second
        // digit, and the years chrono writes differently (before 0, after 9999).
        let start = Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap().timestamp();
        let end = Utc
            .with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
            .unwrap()
            .timestamp();
        let mut seconds = start;
        while seconds <= end {
            let at = Utc.timestamp_opt(seconds, 123_456_789).unwrap();
            assert_eq!(timestamp(at), reference(at));
            seconds += 3_155_759; // about 36.5 days, and not a whole number of minutes
        }
        for at in [
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 30, 9, 5, 7).unwrap(),
        ] {
            assert_eq!(timestamp(at), reference(at));
        }
        // A leap second, as chrono represents it.
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap()
            .and_utc();
        assert_eq!(timestamp(leap), reference(leap));
        assert_eq!(
            timestamp(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()),
            "2026-01-02T03:04:05Z"
        );
    }
}
