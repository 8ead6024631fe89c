//! Prometheus metrics, kept in memory and rendered as text on `GET /metrics`: requests by
//! route and status, latency histograms, policy decision outcomes, database pool use.
//! Labels are route templates and fixed words only: never an org, a user or a token.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A policy decision's outcome, for `policy_decisions_total`.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Allowed,
    Refused,
    Recovery,
}

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What one route template has seen.
#[derive(Default)]
struct RouteStats {
    /// (method, status, count): a handful per route, so a list beats a map.
    responses: Vec<(String, u16, u64)>,
    latency: Histogram,
}

#[derive(Default)]
pub struct Metrics {
    /// Route template -> its counters. One lock a request, and no allocation once a route,
    /// method and status have been seen: this runs on every request.
    routes: Mutex<BTreeMap<String, RouteStats>>,
    decisions: [AtomicU64; 3],
}

impl Metrics {
    pub fn record_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let stats = match routes.get_mut(route) {
            Some(stats) => stats,
            None => routes.entry(route.to_string()).or_default(),
        };
        match stats
            .responses
            .iter_mut()
            .find(|(m, s, _)| *s == status && m == method)
        {
            Some((_, _, count)) => *count += 1,
            None => stats.responses.push((method.to_string(), status, 1)),
        }
        let histogram = &mut stats.latency;
        for (bound, count) in BUCKETS.iter().zip(histogram.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    pub fn record_decision(&self, outcome: Outcome) {
        self.decisions[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition, with the pool's connections `(in_use, idle)`.
    pub fn render(&self, pool: (u64, u64)) -> String {
        let mut out = String::new();
        out.push_str("# HELP http_requests_total HTTP requests by route, method and status.\n");
        out.push_str("# TYPE http_requests_total counter\n");
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        for (route, stats) in routes.iter() {
            let mut responses: Vec<&(String, u16, u64)> = stats.responses.iter().collect();
            responses.sort();
            for (method, status, count) in responses {
                let _ = writeln!(
                    out,
                    "http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {count}"
                );
            }
        }
        out.push_str("# HELP http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for (route, histogram) in routes.iter().map(|(route, stats)| (route, &stats.latency)) {
            for (bound, count) in BUCKETS.iter().zip(histogram.counts.iter()) {
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                 http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                 http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count, histogram.sum, histogram.count
            );
        }
        out.push_str("# HELP policy_decisions_total Codespace policy decisions by outcome.\n");
        out.push_str("# TYPE policy_decisions_total counter\n");
        for (name, counter) in ["allowed", "refused", "recovery"]
            .iter()
            .zip(&self.decisions)
        {
            let _ = writeln!(
                out,
                "policy_decisions_total{{outcome=\"{name}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP db_pool_connections Database pool connections by state.\n");
        out.push_str("# TYPE db_pool_connections gauge\n");
        let _ = writeln!(out, "db_pool_connections{{state=\"in_use\"}} {}", pool.0);
        let _ = writeln!(out, "db_pool_connections{{state=\"idle\"}} {}", pool.1);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let metrics = Metrics::default();
        metrics.record_request("/codespaces", "POST", 201, Duration::from_millis(3));
        metrics.record_request("/codespaces", "POST", 201, Duration::from_millis(300));
        metrics.record_decision(Outcome::Refused);
        let text = metrics.render((2, 5));
        assert!(text.contains(
            "http_requests_total{route=\"/codespaces\",method=\"POST\",status=\"201\"} 2"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{route=\"/codespaces\",le=\"0.005\"} 1"
        ));
        assert!(text
            .contains("http_request_duration_seconds_bucket{route=\"/codespaces\",le=\"+Inf\"} 2"));
        assert!(text.contains("policy_decisions_total{outcome=\"refused\"} 1"));
        assert!(text.contains("db_pool_connections{state=\"in_use\"} 2"));
        assert!(text.contains("db_pool_connections{state=\"idle\"} 5"));
    }
}
