//! What every handler shares: the store, the configuration, the metrics and the service's
//! own condition (draining, requests in flight). Its own module, so that authentication,
//! the routes and the application all depend on it and not on each other.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::secrets::MasterKey;
use crate::store::Store;
use crate::tokens::hash_token;

/// Shared by every handler. One `Arc`, so that the clones each layer and extractor takes
/// are a counter increment.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares.
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    admin_token_hash: Option<[u8; 32]>,
    /// Set once shutdown begins: `/readyz` answers 503 from then on.
    draining: AtomicBool,
    /// Permits for requests in flight, shared by every bounded route; when none is left,
    /// requests are shed with a 503.
    pub in_flight: Arc<Semaphore>,
    pub metrics: Metrics,
    /// Wraps every stored secret value and level private key (`crate::master_key`).
    pub master_key: Arc<MasterKey>,
    /// The time by which exceptions are created and expire (a test's own clock in tests).
    pub clock: Arc<dyn Clock>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// A state with a freshly generated master key, for tests and tools; the service itself
    /// starts with [`AppState::with_master_key`] and the key `crate::master_key` loaded.
    ///
    /// # Panics
    ///
    /// Only if the operating system's random number generator fails.
    pub fn new(store: Arc<dyn Store>, config: Config) -> Self {
        Self::with_clock(store, config, Arc::new(SystemClock))
    }

    /// [`AppState::new`] on the clock `clock`: tests set and advance it to see exceptions expire.
    ///
    /// # Panics
    ///
    /// Only if the operating system's random number generator fails.
    pub fn with_clock(store: Arc<dyn Store>, config: Config, clock: Arc<dyn Clock>) -> Self {
        let key = MasterKey::generate().expect("the operating system's RNG failed");
        Self::build(store, config, Arc::new(key), clock)
    }

    pub fn with_master_key(
        store: Arc<dyn Store>,
        config: Config,
        master_key: Arc<MasterKey>,
    ) -> Self {
        Self::build(store, config, master_key, Arc::new(SystemClock))
    }

    fn build(
        store: Arc<dyn Store>,
        config: Config,
        master_key: Arc<MasterKey>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let admin_token_hash = config.admin_token.as_deref().map(hash_token);
        let in_flight = Arc::new(Semaphore::new(config.max_concurrent_requests));
        Self(Arc::new(Shared {
            store,
            config: Arc::new(config),
            admin_token_hash,
            draining: AtomicBool::new(false),
            in_flight,
            metrics: Metrics::new(),
            master_key,
            clock,
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
