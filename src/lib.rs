//! Base-image policy service: org owners keep policies on the container images their
//! codespaces may be built from, and the codespace orchestrator asks it on every creation
//! and full rebuild.
#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod billing;
pub mod check;
pub mod clock;
pub mod compliance;
pub mod config;
pub mod console;
pub mod devcontainer;
pub mod error;
pub mod lifecycle;
pub mod machines;
pub mod master_key;
pub mod metrics;
pub mod names;
pub mod placement;
pub mod policy;
pub mod preview;
pub mod provisioning;
pub mod registries;
pub mod retention;
pub mod rotation;
pub mod routes;
pub mod secrets;
pub mod state;
pub mod store;
pub mod sweep;
pub mod telemetry;
pub mod tokens;
