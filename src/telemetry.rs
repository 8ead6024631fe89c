//! Logging: `RUST_LOG` filters (default `info`), `LOG_FORMAT=json` for JSON lines.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::{fmt, EnvFilter};

/// Logs to standard output, as the service does.
pub fn init(json: bool) {
    init_writing_to(json, std::io::stdout);
}

/// The service's logging, written to `writer` instead (the write-path benchmark logs to a
/// file, as `scripts/load` has the service do, so that its requests pay for their events).
pub fn init_writing_to<W>(json: bool, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Plain text, no colours, even on a terminal: built without tracing-subscriber's `ansi`
    // feature, whose styling of every field name cost each logged decision about 4k
    // instructions even with colours off (callgrind), and a dependency.
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false)
        .with_writer(writer);
    // A second init (as in tests) is harmless; ignore the error it returns.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
