//! `GET /metrics` for Prometheus. Unauthenticated like the health checks: it holds route
//! templates and counts, never org, user or token data.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;

/// Prometheus text format: requests, latency, decision outcomes, pool use, build and
/// process figures.
#[utoipa::path(get, path = "/metrics", tag = "health", security(()),
    responses((status = 200, description = "Prometheus text exposition format", body = String,
        content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state.metrics.render(state.store.pool_connections());
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text)
}
