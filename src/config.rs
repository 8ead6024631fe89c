//! Typed configuration, read from the environment once at start-up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::machines::MachineCatalog;

/// The embedded store used when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://base-image-policy.db";
pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_IMAGE: &str = "mcr.microsoft.com/devcontainers/universal:2";
pub const RECOVERY_IMAGE: &str = "mcr.microsoft.com/devcontainers/base:ubuntu";
/// The variable holding a machine catalog of one's own.
pub const MACHINE_CATALOG: &str = "MACHINE_CATALOG";

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub listen_addr: SocketAddr,
    /// A site-admin token accepted from start-up on. Never logged.
    pub admin_token: Option<String>,
    pub default_image: String,
    pub recovery_image: String,
    pub log_json: bool,
    /// How long a database call may wait for a connection, a lock or a statement before the
    /// request fails closed with a 503 (`DATABASE_TIMEOUT_MS`).
    pub database_timeout: Duration,
    /// The whole request's deadline (`REQUEST_TIMEOUT_MS`).
    pub request_timeout: Duration,
    /// Requests served at once; more are shed with a 503 (`MAX_CONCURRENT_REQUESTS`).
    pub max_concurrent_requests: usize,
    /// After a shutdown signal, how long `/readyz` answers 503 while the listener still
    /// serves, so that load balancers stop sending traffic first (`SHUTDOWN_DRAIN_MS`).
    pub drain_delay: Duration,
    /// A client must send a request's headers within this time (slowloris;
    /// `HEADER_READ_TIMEOUT_MS`).
    pub header_read_timeout: Duration,
    /// The master key's base64 (`SECRETS_KEY`). Never logged.
    pub secrets_key: Option<Zeroizing<String>>,
    /// A file holding it (`SECRETS_KEY_FILE`).
    pub secrets_key_file: Option<PathBuf>,
    /// Where a master key is generated when neither is set: beside the SQLite file, or in
    /// the working directory on PostgreSQL.
    pub default_secrets_key_file: PathBuf,
    /// The machine types on offer (`MACHINE_CATALOG`, a JSON array; GitHub's five Linux
    /// machines by default).
    pub machine_catalog: Arc<MachineCatalog>,
}

// Hand-written so that the admin token can never reach a log line through `{:?}`.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("listen_addr", &self.listen_addr)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .field("default_image", &self.default_image)
            .field("recovery_image", &self.recovery_image)
            .field("database_timeout", &self.database_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_concurrent_requests", &self.max_concurrent_requests)
            .field("drain_delay", &self.drain_delay)
            .field("header_read_timeout", &self.header_read_timeout)
            .field(
                "secrets_key",
                &self.secrets_key.as_ref().map(|_| "<redacted>"),
            )
            .field("secrets_key_file", &self.secrets_key_file)
            .field("default_secrets_key_file", &self.default_secrets_key_file)
            .field("machine_catalog", &self.machine_catalog.names())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("LISTEN_ADDR '{0}' is not a socket address such as 127.0.0.1:8080")]
    ListenAddr(String),
    #[error("DATABASE_URL must start with postgres://, postgresql:// or sqlite://")]
    DatabaseScheme,
    #[error("ADMIN_TOKEN must be at least 32 characters")]
    AdminTokenTooShort,
    #[error("{0} must be a whole number between {1} and {2}")]
    Number(&'static str, u64, u64),
    #[error("{0} '{1}' is not a valid image reference: {2}")]
    Image(&'static str, String, crate::policy::ImageRefError),
    #[error(transparent)]
    MachineCatalog(#[from] crate::machines::CatalogError),
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.is_empty()))
    }

    /// Reads the configuration through `lookup`, so tests need not touch the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let database_url =
            lookup("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        if !["postgres://", "postgresql://", "sqlite:"]
            .iter()
            .any(|scheme| database_url.starts_with(scheme))
        {
            return Err(ConfigError::DatabaseScheme);
        }
        let listen = lookup("LISTEN_ADDR").unwrap_or_else(|| DEFAULT_LISTEN_ADDR.to_string());
        let listen_addr = listen
            .parse()
            .map_err(|_| ConfigError::ListenAddr(listen))?;
        let admin_token = lookup("ADMIN_TOKEN");
        if admin_token.as_ref().is_some_and(|t| t.len() < 32) {
            return Err(ConfigError::AdminTokenTooShort);
        }
        let image = |key: &'static str, default: &str| {
            let raw = lookup(key).unwrap_or_else(|| default.to_string());
            crate::policy::ImageRef::parse(&raw)
                .map(|_| raw.clone())
                .map_err(|e| ConfigError::Image(key, raw, e))
        };
        let default_secrets_key_file = default_secrets_key_file(&database_url);
        let machine_catalog = Arc::new(match lookup(MACHINE_CATALOG) {
            None => MachineCatalog::github_linux(),
            Some(text) => MachineCatalog::from_json(MACHINE_CATALOG, &text)?,
        });
        Ok(Self {
            machine_catalog,
            secrets_key: lookup(crate::secrets::SECRETS_KEY).map(Zeroizing::new),
            secrets_key_file: lookup(crate::secrets::SECRETS_KEY_FILE).map(PathBuf::from),
            default_secrets_key_file,
            database_url,
            listen_addr,
            admin_token,
            default_image: image("DEFAULT_IMAGE", DEFAULT_IMAGE)?,
            recovery_image: image("RECOVERY_IMAGE", RECOVERY_IMAGE)?,
            log_json: lookup("LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json")),
            database_timeout: millis(&lookup, "DATABASE_TIMEOUT_MS", 2_000, 50, 600_000)?,
            request_timeout: millis(&lookup, "REQUEST_TIMEOUT_MS", 15_000, 100, 3_600_000)?,
            max_concurrent_requests: number(&lookup, "MAX_CONCURRENT_REQUESTS", 256, 1, 100_000)?
                as usize,
            drain_delay: millis(&lookup, "SHUTDOWN_DRAIN_MS", 0, 0, 600_000)?,
            header_read_timeout: millis(&lookup, "HEADER_READ_TIMEOUT_MS", 10_000, 10, 600_000)?,
        })
    }
}

fn number(
    lookup: &impl Fn(&str) -> Option<String>,
    key: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    match lookup(key) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or(ConfigError::Number(key, min, max)),
    }
}

fn millis(
    lookup: &impl Fn(&str) -> Option<String>,
    key: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<Duration, ConfigError> {
    number(lookup, key, default, min, max).map(Duration::from_millis)
}

/// File name of a generated master key.
pub const SECRETS_KEY_FILE_NAME: &str = "secrets.key";

/// Beside the SQLite file (its folder), or the working directory on PostgreSQL and for an
/// in-memory SQLite database.
fn default_secrets_key_file(database_url: &str) -> PathBuf {
    let sqlite_path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or_default())
        .filter(|path| !path.is_empty() && !path.starts_with(":memory:"));
    let folder = sqlite_path
        .and_then(|path| Path::new(path).parent())
        .filter(|folder| !folder.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    folder.join(SECRETS_KEY_FILE_NAME)
}

/// Drops the password from a database URL so the URL can be logged.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!(
                "{}{}:<redacted>{}",
                &url[..scheme_end + 3],
                user,
                &url[at..]
            )
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.listen_addr.to_string(), DEFAULT_LISTEN_ADDR);
        assert_eq!(config.default_image, DEFAULT_IMAGE);
        assert_eq!(config.recovery_image, RECOVERY_IMAGE);
        assert!(config.admin_token.is_none());
    }

    #[test]
    fn timeouts_and_limits_are_read_and_bounded() {
        let config = Config::from_lookup(|k| match k {
            "DATABASE_TIMEOUT_MS" => Some("500".into()),
            "MAX_CONCURRENT_REQUESTS" => Some("8".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.database_timeout, Duration::from_millis(500));
        assert_eq!(config.max_concurrent_requests, 8);
        let zero = Config::from_lookup(|k| (k == "MAX_CONCURRENT_REQUESTS").then(|| "0".into()));
        assert!(matches!(zero, Err(ConfigError::Number(..))));
        let junk = Config::from_lookup(|k| (k == "DATABASE_TIMEOUT_MS").then(|| "2s".into()));
        assert!(matches!(junk, Err(ConfigError::Number(..))));
    }

    #[test]
    fn a_generated_master_key_lives_beside_the_sqlite_file() {
        let at = |url: &str| {
            Config::from_lookup(|k| (k == "DATABASE_URL").then(|| url.to_string()))
                .unwrap()
                .default_secrets_key_file
        };
        assert_eq!(
            at("sqlite:///var/lib/bip/data.db?mode=rwc"),
            PathBuf::from("/var/lib/bip/secrets.key")
        );
        assert_eq!(
            at("sqlite://base-image-policy.db"),
            PathBuf::from("./secrets.key")
        );
        assert_eq!(at("sqlite::memory:"), PathBuf::from("./secrets.key"));
        assert_eq!(at("postgres://db/app"), PathBuf::from("./secrets.key"));
    }

    #[test]
    fn an_unknown_database_scheme_is_refused() {
        let err = Config::from_lookup(|k| (k == "DATABASE_URL").then(|| "mysql://x".into()));
        assert!(matches!(err, Err(ConfigError::DatabaseScheme)));
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let config = Config::from_lookup(|k| match k {
            "ADMIN_TOKEN" => Some("canary-canary-canary-canary-canary-1".into()),
            "DATABASE_URL" => Some("postgres://app:hunter2@db/app".into()),
            "SECRETS_KEY" => Some("canaryKEYcanaryKEYcanaryKEYcanaryKEYcanary=".into()),
            _ => None,
        })
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("canary"));
        assert!(!shown.contains("hunter2"));
    }
}
