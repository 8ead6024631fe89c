//! The application: its shared state, its router, and serving it until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::Request;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::auth::{generate_token, hash_token};
use crate::config::Config;
use crate::store::{Store, StoreError, TokenKind};

/// Request bodies larger than this answer 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long in-flight requests may take to drain after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    admin_token_hash: Option<[u8; 32]>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: Config) -> Self {
        let admin_token_hash = config.admin_token.as_deref().map(hash_token);
        Self {
            store,
            config: Arc::new(config),
            admin_token_hash,
        }
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
        )
        .await?;
    Ok(Some(token))
}

/// The whole HTTP API, ready to serve or to drive in-process.
pub fn build_router(state: AppState) -> Router {
    let (router, _) = crate::routes::api().split_for_parts();
    router
        .fallback(crate::routes::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(
            // The span records the matched route, never headers: tokens stay out of logs.
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map(MatchedPath::as_str)
                    .unwrap_or("unmatched");
                tracing::info_span!("request", method = %request.method(), route)
            }),
        )
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains in-flight requests
/// for a bounded time.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (drain_tx, drain_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        let _ = drain_tx.send(());
    };
    let server = axum::serve(listener, router).with_graceful_shutdown(signal);
    let server = tokio::spawn(async move { server.await });
    // Once the signal fired, give the drain a deadline so that shutdown cannot hang.
    let deadline = async {
        let _ = drain_rx.await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        joined = server => joined.map_err(std::io::Error::other)?,
        () = deadline => {
            tracing::warn!("shutdown grace period over; dropping remaining connections");
            Ok(())
        }
    }
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
