//! Black-box tests of the whole API, each run against SQLite and PostgreSQL.

mod helpers;

mod audit;
mod auth;
mod authoring;
mod authorization;
mod codespace_secrets;
mod codespaces;
mod compliance;
mod decisions;
mod faults;
mod health;
mod held;
mod hostile;
mod idempotency;
mod instances;
mod metrics;
mod openapi;
mod orgs;
mod packages;
mod packages_faults;
mod policies;
mod preview;
mod races;
mod registries_ghcr;
mod registries_reach;
mod report_only;
mod secrets_faults;
mod secrets_flow;
mod secrets_master_key;
mod secrets_repo_visibility;
mod secrets_rotation;
mod secrets_rules;
mod secrets_storage;
mod secrets_support;
mod throwaway;
