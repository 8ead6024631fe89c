//! Logging: `RUST_LOG` filters (default `info`), `LOG_FORMAT=json` for JSON lines.

use tracing_subscriber::{fmt, EnvFilter};

/// Logs to standard output.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Plain text, no colours, even on a terminal: log collectors read these lines, and
    // tracing-subscriber is built without its `ansi` feature.
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false)
        .with_writer(std::io::stdout);
    // A second init (as in tests) is harmless; ignore the error it returns.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
