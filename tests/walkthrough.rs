//! The README's "Walk-through: a private registry", run as written: its script seals an
//! Azure Container Registry triplet with PyNaCl, stores it over the REST API of the real
//! binary, creates a codespace on that registry and checks where the password shows, on
//! SQLite and on PostgreSQL.

mod process;

use std::net::SocketAddr;
use std::process::Command;

use process::{free_port, fresh_postgres_url, start_on, wait_until_ready, CANARY_ADMIN};

fn run_walkthrough(database_url: &str) {
    let port = free_port();
    let mut server = start_on(database_url, port, "info");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_until_ready(addr);
    let output = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/examples/private_registry.py"
        ))
        .arg(format!("http://{addr}"))
        .arg(CANARY_ADMIN)
        .output()
        .expect("python3 runs (./scripts/test installs PyNaCl)");
    let _ = server.kill();
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout
            .contains(r#"registries: [{"server": "octoacr.azurecr.io", "secret_prefix": "ACR"}]"#),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "log: Pulling the image octoacr.azurecr.io/devcontainers/python:3.12 from \
             octoacr.azurecr.io with the credentials in ACR_CONTAINER_REGISTRY_*."
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("the password is in no other answer"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("acr-password"),
        "the script prints no value: {stdout}"
    );
}

#[test]
fn the_private_registry_walkthrough_runs_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    run_walkthrough(&format!("sqlite://{}/walk.db", dir.path().display()));
}

#[test]
fn the_private_registry_walkthrough_runs_on_postgresql() {
    run_walkthrough(&fresh_postgres_url());
}
