//! Prometheus metrics, kept in a `prometheus` registry and rendered in its text format on
//! `GET /metrics`: requests by route and status, latency histograms, policy decision
//! outcomes, database pool use, build information and the process's own figures.
//! Labels are route templates and fixed words only: never an org, a user or a token.

#[cfg(target_os = "linux")]
mod process;

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A policy decision's outcome, for `policy_decisions_total`.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Allowed,
    Refused,
    Recovery,
    /// Created as configured, but a report-only policy would have refused it.
    WouldRefuse,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Refused => "refused",
            Outcome::Recovery => "recovery",
            Outcome::WouldRefuse => "would_refuse",
        }
    }
}

/// The service's metrics. Each instance has a registry of its own, so that services in one
/// process (as in the tests) count apart.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    decisions: IntCounterVec,
    pool: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status.",
            ),
            &["route", "method", "status"],
        )
        .expect("a valid metric definition");
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Request latency by route.")
                .buckets(BUCKETS.to_vec()),
            &["route"],
        )
        .expect("a valid metric definition");
        let decisions = IntCounterVec::new(
            Opts::new(
                "policy_decisions_total",
                "Codespace policy decisions by outcome.",
            ),
            &["outcome"],
        )
        .expect("a valid metric definition");
        let pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state."),
            &["state"],
        )
        .expect("a valid metric definition");
        let build = IntGauge::with_opts(
            Opts::new(
                "base_image_policy_build_info",
                "The running build: always 1, its version as a label.",
            )
            .const_label("version", env!("CARGO_PKG_VERSION")),
        )
        .expect("a valid metric definition");
        build.set(1);
        // Every outcome is shown from the start, at zero, so that a rate over it is defined.
        for outcome in [
            Outcome::Allowed,
            Outcome::Refused,
            Outcome::Recovery,
            Outcome::WouldRefuse,
        ] {
            decisions.with_label_values(&[outcome.label()]);
        }

        let registry = Registry::new();
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(decisions.clone()),
            Box::new(pool.clone()),
            Box::new(build),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(process::ProcessCollector::new()))
            .expect("metric names are unique");
        Self {
            registry,
            requests,
            latency,
            decisions,
            pool,
        }
    }

    /// One answered request: `status` as its three digits.
    pub fn record_request(&self, route: &str, method: &str, status: &str, elapsed: Duration) {
        self.requests
            .with_label_values(&[route, method, status])
            .inc();
        self.latency
            .with_label_values(&[route])
            .observe(elapsed.as_secs_f64());
    }

    pub fn record_decision(&self, outcome: Outcome) {
        self.decisions.with_label_values(&[outcome.label()]).inc();
    }

    /// The Prometheus text exposition, with the pool's connections `(in_use, idle)`.
    pub fn render(&self, pool: (u64, u64)) -> String {
        for (state, count) in [("in_use", pool.0), ("idle", pool.1)] {
            let count = i64::try_from(count).unwrap_or(i64::MAX);
            self.pool.with_label_values(&[state]).set(count);
        }
        let mut out = Vec::new();
        // Encoding into memory fails only on a metric family without metrics, which the
        // registry never gathers.
        if let Err(err) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %err, "metrics could not be rendered");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_gauges_and_build_info() {
        let metrics = Metrics::new();
        metrics.record_request("/codespaces", "POST", "201", Duration::from_millis(3));
        metrics.record_request("/codespaces", "POST", "201", Duration::from_millis(300));
        metrics.record_decision(Outcome::Refused);
        let text = metrics.render((2, 5));
        for line in [
            "http_requests_total{method=\"POST\",route=\"/codespaces\",status=\"201\"} 2",
            "http_request_duration_seconds_bucket{route=\"/codespaces\",le=\"0.005\"} 1",
            "http_request_duration_seconds_bucket{route=\"/codespaces\",le=\"+Inf\"} 2",
            "policy_decisions_total{outcome=\"refused\"} 1",
            "policy_decisions_total{outcome=\"allowed\"} 0",
            "db_pool_connections{state=\"in_use\"} 2",
            "db_pool_connections{state=\"idle\"} 5",
            "base_image_policy_build_info{version=\"0.1.0\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
    }
}
