//! Thin entry point: with no subcommand (or `serve`), configuration, telemetry, store,
//! router, serve; `check` is the CI step (`base_image_policy::check`); the two `rotate-*`
//! commands are the operator's key rotations (`base_image_policy::rotation`).

use std::process::ExitCode;

use base_image_policy::app;
use base_image_policy::check::{self, CheckArgs};
use base_image_policy::config::{redact_url, Config};
use base_image_policy::master_key::load_master_key;
use base_image_policy::state::AppState;
use base_image_policy::sweep;
use base_image_policy::{retention, rotation, store, telemetry};
use clap::{Parser, Subcommand};

/// mimalloc (its version 3) rather than glibc's malloc: every request allocates many small
/// blocks, which mimalloc serves faster (docs/benchmarks.md has the measurements).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "base-image-policy",
    version,
    about = "Base-image policy service for cloud development environments"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (what the binary does with no subcommand); configured by the
    /// environment (DATABASE_URL, LISTEN_ADDR, ...).
    Serve,
    /// Ask the service whether a codespace created from the dev container configuration
    /// under DIR would be allowed: exits 0 if it would be created as configured, 1 if it
    /// would be refused or land in recovery mode, 2 if the check could not be made. The
    /// token comes from BIP_TOKEN.
    Check(CheckArgs),
    /// Re-encrypt every stored secret value and level private key from the current master
    /// key (SECRETS_KEY or SECRETS_KEY_FILE) to a new one (NEW_SECRETS_KEY or
    /// NEW_SECRETS_KEY_FILE), in one transaction. Stop every replica first; start them
    /// again with the new key.
    RotateMasterKey,
    /// Retire every level's secrets key pair: each level gets a new pair at its next
    /// public-key request, and stored values stay readable.
    RotateLevelKeys,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check(args)) => check::run(&args, std::env::var("BIP_TOKEN").ok()),
        Some(Command::RotateMasterKey) => rotate(Rotation::MasterKey),
        Some(Command::RotateLevelKeys) => rotate(Rotation::LevelKeys),
        None | Some(Command::Serve) => serve(),
    }
}

enum Rotation {
    MasterKey,
    LevelKeys,
}

#[tokio::main]
async fn rotate(which: Rotation) -> ExitCode {
    match rotate_keys(which).await {
        Ok(done) => {
            println!("{done}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("key rotation failed, nothing changed: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn rotate_keys(which: Rotation) -> Result<String, Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    let store = store::connect(&config.database_url, config.database_timeout).await?;
    match which {
        Rotation::MasterKey => {
            let new = rotation::new_master_key(|name| std::env::var(name).ok())?;
            let current = load_master_key(&config, store.as_ref()).await?;
            let done = rotation::rotate_master_key(store.as_ref(), &current.key, &new).await?;
            Ok(format!(
                "Re-encrypted {} secret values and {} level private keys; the master key is now \
                 {} (fingerprint). Start every replica with the new key.",
                done.values,
                done.private_keys,
                new.fingerprint()
            ))
        }
        Rotation::LevelKeys => {
            let retired = rotation::rotate_level_keys(store.as_ref()).await?;
            Ok(format!(
                "Retired {retired} level key pairs; each level gets a new one at its next \
                 public-key request."
            ))
        }
    }
}

#[tokio::main]
async fn serve() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("configuration error: {err}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(config.log_json);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "service stopped");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    tracing::info!(database = %redact_url(&config.database_url), "opening the policy store");
    let store = store::connect(&config.database_url, config.database_timeout).await?;
    // Before anything is written: a wrong master key refuses to start with the store untouched.
    let master_key = load_master_key(&config, store.as_ref()).await?;
    if let Some(notice) = &master_key.notice {
        // Said once, on stdout and not through the logger; the key itself is never printed.
        println!("{notice}");
    }
    if let Some(token) = app::bootstrap_admin_token(store.as_ref(), &config).await? {
        // Printed once, straight to stdout and never through the logger.
        println!("Generated site-admin token (shown only now, store it safely): {token}");
    }
    let listener = tokio::net::TcpListener::bind(config.listen_addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "serving");
    let (drain_delay, header_read_timeout) = (config.drain_delay, config.header_read_timeout);
    let pruning = retention::spawn_pruning(store.clone());
    let state = AppState::with_master_key(store, config, master_key.key);
    let sweeping = sweep::spawn_sweeping(state.store.clone(), state.clock.clone());
    let router = app::build_router(state.clone());
    let shutdown = async move {
        app::shutdown_signal().await;
        // Readiness fails first, so that load balancers stop sending before we stop accepting.
        state.start_draining();
        tokio::time::sleep(drain_delay).await;
    };
    app::serve(listener, router, header_read_timeout, shutdown).await?;
    pruning.abort();
    sweeping.abort();
    Ok(())
}
