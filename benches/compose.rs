//! The Docker Compose reader, in process: how long a 1 MiB billion-laughs compose file
//! takes to be refused (the goal is a median under 50 ms), next to what yaml_serde alone
//! takes to parse it, and what reading an ordinary two-file Compose configuration costs
//! end to end through `read_config`.
//!
//! `cargo bench --bench compose`.

use std::collections::BTreeMap;

use base_image_policy::devcontainer::{
    read_config, ConfiguredImage, Sources, MAX_COMPOSE_FILE_BYTES,
};
use divan::{black_box, Bencher};
use serde_json::{json, Value};

fn main() {
    divan::main();
}

/// A compose file just under [`MAX_COMPOSE_FILE_BYTES`]: levels of nine aliases of the
/// level before, then plain entries, so that yaml_serde's own limit (proportional to
/// the number of events) is far away and only the reader's node budget stops it.
fn alias_bomb() -> String {
    let mut text = String::from(
        "services:\n  app:\n    image: node:18\nx-0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    let mut level = 1;
    while text.len() < MAX_COMPOSE_FILE_BYTES / 2 {
        let aliases = vec![format!("*a{}", level - 1); 9].join(", ");
        text.push_str(&format!("x-{level}: &a{level} [{aliases}]\n"));
        level += 1;
    }
    while text.len() + 32 < MAX_COMPOSE_FILE_BYTES {
        text.push_str(&format!("x-p{}: lol\n", text.len()));
    }
    text
}

/// Reads service `app` of `files` (in that order) with `dockerfile`.
fn read(
    config: &Value,
    files: &BTreeMap<String, String>,
    dockerfile: Option<&str>,
) -> Result<ConfiguredImage, base_image_policy::devcontainer::ConfigError> {
    read_config(Sources {
        devcontainer: Some(config),
        dockerfile,
        compose_files: Some(files),
    })
}

#[divan::bench(sample_count = 30, sample_size = 1)]
fn alias_bomb_refused(bencher: Bencher) {
    let bomb = alias_bomb();
    assert!(bomb.len() > 1_000_000 && bomb.len() <= MAX_COMPOSE_FILE_BYTES);
    let files = BTreeMap::from([("docker-compose.yml".to_owned(), bomb)]);
    let config = json!({ "dockerComposeFile": "docker-compose.yml", "service": "app" });
    let err = read(&config, &files, None).expect_err("the bomb is refused");
    assert!(err.message.contains("nodes"), "{}", err.message);
    bencher.bench_local(|| read(black_box(&config), black_box(&files), None));
}

/// The floor under `alias_bomb_refused`: yaml_serde parsing the same text without
/// building anything (aliases are skipped, not expanded).
#[divan::bench(sample_count = 30, sample_size = 1)]
fn alias_bomb_parse_only(bencher: Bencher) {
    let bomb = alias_bomb();
    bencher.bench_local(|| {
        yaml_serde::from_str::<serde::de::IgnoredAny>(black_box(&bomb)).expect("valid YAML")
    });
}

/// The dev container templates' shape: an `app` service built from a Dockerfile next to
/// a `db` service, and a second file that overrides the app's build target.
const COMPOSE: &str = "\
version: '3.8'
volumes:
  postgres-data:
services:
  app:
    build:
      context: ..
      dockerfile: .devcontainer/Dockerfile
      args:
        VARIANT: ${VARIANT:-3.12}
    env_file:
      - .env
    volumes:
      - ../..:/workspaces:cached
    command: sleep infinity
    network_mode: service:db
  db:
    image: postgres:16
    restart: unless-stopped
    volumes:
      - postgres-data:/var/lib/postgresql/data
    env_file:
      - .env
";

const OVERRIDE: &str = "\
services:
  app:
    build:
      context: ..
      dockerfile: .devcontainer/Dockerfile
      target: dev
      args: [VARIANT=3.13]
";

const DOCKERFILE: &str = "\
# syntax=docker/dockerfile:1
ARG VARIANT=3.11
FROM mcr.microsoft.com/devcontainers/python:1-${VARIANT}-bookworm AS base
RUN pip install --no-cache-dir poetry
FROM base AS dev
RUN apt-get update && apt-get install -y postgresql-client
FROM python:${VARIANT}-slim AS release
COPY --from=base /usr/local /usr/local
";

#[divan::bench(sample_count = 100)]
fn two_file_configuration(bencher: Bencher) {
    let files = BTreeMap::from([
        ("docker-compose.yml".to_owned(), COMPOSE.to_owned()),
        ("docker-compose.dev.yml".to_owned(), OVERRIDE.to_owned()),
    ]);
    let config = Value::String(
        r#"{
            // The template's devcontainer.json, with an override file.
            "name": "Python 3 & PostgreSQL",
            "dockerComposeFile": ["docker-compose.yml", "docker-compose.dev.yml"],
            "service": "app",
            "workspaceFolder": "/workspaces/${localWorkspaceFolderBasename}",
        }"#
        .to_owned(),
    );
    assert_eq!(
        read(&config, &files, Some(DOCKERFILE)),
        Ok(ConfiguredImage::ComposeBuild {
            service: "app".into(),
            base_image: "mcr.microsoft.com/devcontainers/python:1-3.13-bookworm".into(),
        })
    );
    bencher.bench_local(|| read(black_box(&config), black_box(&files), Some(DOCKERFILE)));
}
