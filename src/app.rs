//! The application: its router with the bounds every request runs under, and serving it
//! until shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{BoxError, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::error::Overloaded;
use tower::load_shed::LoadShedLayer;
use tower::timeout::error::Elapsed;
use tower::timeout::TimeoutLayer;
use tower::{Layer, Service, ServiceBuilder};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Store, StoreError, TokenKind};
use crate::tokens::{generate_token, hash_token};

/// Request bodies larger than this answer 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long in-flight requests may take to drain after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

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

/// The whole HTTP API and the owners' console, ready to serve or to drive in-process.
pub fn build_router(state: AppState) -> Router {
    // The console calls the API in process: the same router, without the console.
    let api = assemble(state.clone(), Router::new());
    // Outermost, so that what the bounds answer on a console path (413, 503) carries the
    // console's headers too.
    assemble(state.clone(), crate::console::routes(state, api))
        .layer(axum::middleware::from_fn(console_headers))
}

/// The console's headers on every answer under `/ui`, whichever layer gave it.
async fn console_headers(
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let console = request.uri().path().starts_with("/ui");
    let response = next.run(request).await;
    if console {
        crate::console::secure(response).await
    } else {
        response
    }
}

/// The API's routes, and `extra` routes, under the bounds every request runs under.
fn assemble(state: AppState, extra: Router<AppState>) -> Router {
    let (unbounded, _) = crate::routes::unbounded().split_for_parts();
    let (bounded, _) = crate::routes::bounded().split_for_parts();
    let bounded = bounded.merge(extra);
    // Outermost first. The limit's permits are the state's, shared by every route; shed and
    // timed-out requests come back as errors, which `Observe` answers (`unavailable`).
    let observe = ObserveLayer(state.clone());
    let bounds = ServiceBuilder::new()
        .layer(observe.clone())
        .layer(LoadShedLayer::new())
        .layer(GlobalConcurrencyLimitLayer::with_semaphore(
            state.in_flight.clone(),
        ))
        .layer(TimeoutLayer::new(state.config.request_timeout))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // The limit above is the one that counts; axum's own default (2 MiB) would only
        // add a second, larger one.
        .layer(DefaultBodyLimit::disable());
    let router = bounded
        .layer(bounds)
        .merge(unbounded.layer(observe.clone()))
        .fallback_service(observe.layer(crate::routes::not_found.into_service()));
    // A span and request/response events per request, only when debug logging is on (it is
    // chosen once, at start): at info they would log nothing, and the events that matter at
    // info carry their route themselves.
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

/// A request shed past the concurrency limit, or cut off at its deadline: 503 with
/// `Retry-After` in the contract's error shape, which tower's layers do not write. The cause
/// rides along for [`Observe`] to log with the request's method and route.
fn unavailable(error: BoxError) -> Response {
    let cause = if error.is::<Overloaded>() {
        Unavailable::Shed
    } else if error.is::<Elapsed>() {
        Unavailable::Deadline
    } else {
        tracing::error!(error = %error, "request bound failed");
        Unavailable::Other
    };
    let mut response = ApiError::Unavailable.into_response();
    response.extensions_mut().insert(cause);
    response
}

/// Why a bound answered 503.
#[derive(Clone, Copy)]
enum Unavailable {
    Shed,
    Deadline,
    Other,
}

/// Wraps every route in [`Observe`].
#[derive(Clone)]
struct ObserveLayer(AppState);

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            state: self.0.clone(),
            not_ready: None,
        }
    }
}

/// Counts each request and its latency under its route template, and logs a failed one
/// (5xx) with its method and route; answers the bounds' errors (`unavailable`); gives the 413 that the body limit answers by itself
/// (on a `Content-Length` over the limit) the contract's JSON error shape. A service of
/// our own rather than `middleware::from_fn`, which boxes the route behind it on every
/// request (docs/benchmarks.md).
struct Observe<S> {
    inner: S,
    state: AppState,
    /// An error the bounds gave when asked whether they were ready.
    not_ready: Option<BoxError>,
}

// By hand: a clone starts with no pending error (and `BoxError` cannot be cloned).
impl<S: Clone> Clone for Observe<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            state: self.state.clone(),
            not_ready: None,
        }
    }
}

impl<S, B> Service<Request> for Observe<S>
where
    S: Service<Request, Response = axum::http::Response<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The bounds behind are always ready (load shedding answers rather than waits); an
        // error is kept and answered by the next call, as axum's `HandleError` would.
        match self.inner.poll_ready(cx) {
            Poll::Ready(Err(error)) => {
                self.not_ready = Some(error.into());
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let route = request.extensions().get::<MatchedPath>().cloned();
        let method = request.method().clone();
        let state = self.state.clone();
        let answer = match self.not_ready.take() {
            Some(error) => Err(error),
            None => Ok(self.inner.call(request)),
        };
        Box::pin(async move {
            let answered = match answer {
                Ok(future) => future.await.map(|r| r.map(Body::new)).map_err(Into::into),
                Err(error) => Err(error),
            };
            let mut response = answered.unwrap_or_else(unavailable);
            let route = route_name(route.as_ref());
            let status = response.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE && !is_json(&response) {
                response = ApiError::PayloadTooLarge.into_response();
            }
            match response.extensions().get::<Unavailable>() {
                Some(Unavailable::Shed) => {
                    tracing::warn!(%method, route, "concurrency limit reached; shedding a request")
                }
                Some(Unavailable::Deadline) => {
                    tracing::warn!(%method, route, "request deadline passed")
                }
                // What failed was logged where it failed (`ApiError`); this names the request.
                _ if status.is_server_error() => {
                    tracing::warn!(%method, route, status = status.as_u16(), "request failed")
                }
                _ => {}
            }
            let elapsed = started.elapsed();
            let metrics = &state.metrics;
            metrics.record_request(route, method.as_str(), status.as_str(), elapsed);
            Ok(response)
        })
    }
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"))
}

/// The route template a request matched, for metrics and logs.
fn route_name(route: Option<&MatchedPath>) -> &str {
    route.map_or("unmatched", MatchedPath::as_str)
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
