//! The application: its shared state, its router, and serving it until shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::{Layer, Service};
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::metrics::Metrics;

use crate::auth::{generate_token, hash_token};
use crate::config::Config;
use crate::store::{Store, StoreError, TokenKind};

/// Request bodies larger than this answer 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long in-flight requests may take to drain after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Shared by every handler. One `Arc`, so that a clone (several a request: each middleware
/// and extractor takes one) is a single counter increment.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares.
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    admin_token_hash: Option<[u8; 32]>,
    /// Set once shutdown begins: `/readyz` answers 503 from then on.
    draining: AtomicBool,
    /// Permits for requests in flight; when none is left, requests are shed with a 503.
    in_flight: Arc<Semaphore>,
    pub metrics: Metrics,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: Config) -> Self {
        let admin_token_hash = config.admin_token.as_deref().map(hash_token);
        let in_flight = Arc::new(Semaphore::new(config.max_concurrent_requests));
        Self(Arc::new(Shared {
            store,
            config: Arc::new(config),
            admin_token_hash,
            draining: AtomicBool::new(false),
            in_flight,
            metrics: Metrics::default(),
        }))
    }

    /// Turns `/readyz` to 503 ahead of shutdown.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// The hash of `ADMIN_TOKEN`, if one was configured.
    pub fn admin_token_hash(&self) -> Option<&[u8; 32]> {
        self.admin_token_hash.as_ref()
    }
}

/// On first start with no `ADMIN_TOKEN` and no admin token stored, generates one, stores its
/// hash and returns the token so that the caller can print it once.
pub async fn bootstrap_admin_token(
    store: &dyn Store,
    config: &Config,
) -> Result<Option<String>, StoreError> {
    if config.admin_token.is_some() || store.has_site_admin_token().await? {
        return Ok(None);
    }
    let token = generate_token();
    store
        .insert_token(
            TokenKind::SiteAdmin,
            &hash_token(&token),
            None,
            Some("bootstrap"),
            "bootstrap",
        )
        .await?;
    Ok(Some(token))
}

/// The whole HTTP API, ready to serve or to drive in-process.
pub fn build_router(state: AppState) -> Router {
    let (router, _) = crate::routes::api().split_for_parts();
    let router = router
        .fallback(crate::routes::not_found)
        .layer(GuardLayer(state.clone()));
    // A span and request/response events per request, only when debug logging is on (it is
    // chosen once, at start): at info they would log nothing, and the layer still cost every
    // request its wrapping of the future and the body. A span at info cost a creation as much
    // CPU as its decision event (14.6k instructions against 11.8k, callgrind), so the events
    // that matter at info carry their route themselves (`Guard`).
    let router = if tracing::enabled!(tracing::Level::DEBUG) {
        router.layer(
            // The span records the matched route, never headers: tokens stay out of logs.
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map(MatchedPath::as_str)
                    .unwrap_or("unmatched");
                tracing::debug_span!("request", method = %request.method(), route)
            }),
        )
    } else {
        router
    };
    router.with_state(state)
}

/// Wraps every route in a [`Guard`].
#[derive(Clone)]
struct GuardLayer(AppState);

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            state: self.0.clone(),
            body_limit: DefaultBodyLimit::max(MAX_BODY_BYTES),
        }
    }
}

/// Counts each request and its latency under its route template; sheds load past the
/// concurrency limit and bounds each request's time, both with a 503 and `Retry-After`
/// rather than an unbounded queue; and sets the body limit that the extractors read. Health
/// checks are exempt from the bounds, so that an overloaded instance still reports itself
/// alive. Written out as a service rather than with `middleware::from_fn`, and one layer
/// rather than two: each layer cost every request a boxed future and clones of the services
/// behind it, and creation is the hot path.
#[derive(Clone)]
struct Guard<S> {
    inner: S,
    state: AppState,
    body_limit: DefaultBodyLimit,
}

impl<S> Service<Request> for Guard<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let state = self.state.clone();
        // Both are cheap to clone (a shared string; a standard method is no allocation).
        let route = request.extensions().get::<MatchedPath>().cloned();
        let method = request.method().clone();
        let exempt = matches!(request.uri().path(), "/healthz" | "/readyz" | "/metrics");
        let permit = if exempt {
            None
        } else if let Ok(permit) = Arc::clone(&state.in_flight).try_acquire_owned() {
            Some(permit)
        } else {
            tracing::warn!(
                %method, route = route_name(route.as_ref()),
                "concurrency limit reached; shedding a request"
            );
            let response = ApiError::Unavailable.into_response();
            record(&state, route.as_ref(), &method, &response, started);
            return Box::pin(std::future::ready(Ok(response)));
        };
        let answer = self.body_limit.layer(&mut self.inner).call(request);
        Box::pin(async move {
            let (response, timed_out) = match permit {
                None => (answer.await, false),
                Some(_permit) => {
                    match tokio::time::timeout(state.config.request_timeout, answer).await {
                        Ok(response) => (response, false),
                        Err(_) => (Ok(ApiError::Unavailable.into_response()), true),
                    }
                }
            };
            let Ok(response) = response;
            if timed_out {
                tracing::warn!(
                    %method, route = route_name(route.as_ref()),
                    "request deadline passed"
                );
            } else if response.status().is_server_error() {
                // What failed was logged where it failed (`ApiError`); this names the request.
                tracing::warn!(
                    %method, route = route_name(route.as_ref()),
                    status = response.status().as_u16(), "request failed"
                );
            }
            record(&state, route.as_ref(), &method, &response, started);
            Ok(response)
        })
    }
}

/// The route template a request matched, for metrics and logs.
fn route_name(route: Option<&MatchedPath>) -> &str {
    route.map_or("unmatched", MatchedPath::as_str)
}

/// One request in the metrics, under its route template.
fn record(
    state: &AppState,
    route: Option<&MatchedPath>,
    method: &Method,
    response: &Response,
    started: Instant,
) {
    state.metrics.record_request(
        route_name(route),
        method.as_str(),
        response.status().as_u16(),
        started.elapsed(),
    );
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and lets
/// in-flight requests finish, for a bounded time. Clients must send a request's headers
/// within `header_read_timeout`, so that slow senders cannot hold connections open.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(err) => {
                        // Out of file descriptors and the like: back off rather than spin.
                        tracing::warn!(error = %err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let service = TowerToHyperService::new(router.clone());
                let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    if let Err(err) = connection.await {
                        tracing::debug!(error = %err, "connection closed with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("shutdown grace period over; dropping remaining connections");
        }
    }
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining");
}
