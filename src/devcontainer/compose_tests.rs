//! Tests of Docker Compose configurations that resolve: the shapes of the
//! official dev container templates, precedence, and merging files in order;
//! and the helpers the other Compose tests share.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::devcontainer::{read_config, ConfigError, ConfiguredImage, Missing, Sources};

/// Reads `devcontainer` with the compose files `files` (path, text) and
/// `dockerfile`.
pub(crate) fn read_compose(
    devcontainer: Value,
    files: &[(&str, &str)],
    dockerfile: Option<&str>,
) -> Result<ConfiguredImage, ConfigError> {
    let compose_files: BTreeMap<String, String> = files
        .iter()
        .map(|(path, text)| ((*path).to_owned(), (*text).to_owned()))
        .collect();
    read_config(Sources {
        devcontainer: Some(&devcontainer),
        dockerfile,
        compose_files: Some(&compose_files),
    })
}

/// Reads service `service` of the single compose file `text`.
pub(crate) fn read_service(
    service: &str,
    text: &str,
    dockerfile: Option<&str>,
) -> Result<ConfiguredImage, ConfigError> {
    let config = json!({"dockerComposeFile": "docker-compose.yml", "service": service});
    read_compose(config, &[("docker-compose.yml", text)], dockerfile)
}

pub(crate) fn image(service: &str, image: &str) -> ConfiguredImage {
    ConfiguredImage::Compose {
        service: service.to_owned(),
        image: image.to_owned(),
    }
}

pub(crate) fn built(service: &str, base: &str) -> ConfiguredImage {
    ConfiguredImage::ComposeBuild {
        service: service.to_owned(),
        base_image: base.to_owned(),
    }
}

/// The template's compose file, as in devcontainers/templates
/// (e.g. `rust-postgres`), in `.devcontainer/` next to devcontainer.json.
const TEMPLATE: &str = r#"
version: '3.8'

volumes:
  postgres-data:

services:
  app:
    build:
      context: ..
      dockerfile: .devcontainer/Dockerfile
    env_file:
        # Ensure that the variables in .env match the same variables in devcontainer.json
        - .env

    volumes:
      - ../..:/workspaces:cached

    # Overrides default command so things don't shut down after the process ends.
    command: sleep infinity

    # Runs app on the same network as the database container, allows "forwardPorts" in devcontainer.json function.
    network_mode: service:db

  db:
    image: postgres:16
    restart: unless-stopped
    volumes:
      - postgres-data:/var/lib/postgresql/data
    env_file:
      - .env
"#;

const TEMPLATE_DOCKERFILE: &str =
    "FROM mcr.microsoft.com/devcontainers/rust:1-1-bullseye\n\nRUN apt-get update\n";

#[test]
fn template_app_builds_from_its_dockerfile() {
    let config = json!({
        "name": "Rust and PostgreSQL",
        "dockerComposeFile": "docker-compose.yml",
        "service": "app",
        "workspaceFolder": "/workspaces/${localWorkspaceFolderBasename}",
    });
    assert_eq!(
        read_compose(
            config,
            &[("docker-compose.yml", TEMPLATE)],
            Some(TEMPLATE_DOCKERFILE)
        ),
        Ok(built(
            "app",
            "mcr.microsoft.com/devcontainers/rust:1-1-bullseye"
        ))
    );
    // The Dockerfile is named relative to the devcontainer.json folder.
    let err = read_service("app", TEMPLATE, None).unwrap_err();
    assert_eq!(
        err,
        ConfigError {
            field: "dockerfile",
            message: "the service 'app' builds from Dockerfile '../.devcontainer/Dockerfile' but no Dockerfile text was provided".into(),
            missing: Some(Missing::Dockerfile("../.devcontainer/Dockerfile".into())),
        }
    );
}

#[test]
fn template_db_runs_its_image() {
    assert_eq!(
        read_service("db", TEMPLATE, None),
        Ok(image("db", "postgres:16"))
    );
    // The Dockerfile, if given, is not looked at.
    assert_eq!(
        read_service("db", TEMPLATE, Some("not a Dockerfile")),
        Ok(image("db", "postgres:16"))
    );
}

#[test]
fn devcontainer_json_text_and_an_array_of_one() {
    let text =
        "// comment\n{\"dockerComposeFile\": [\"docker-compose.yml\"], \"service\": \"db\",}";
    assert_eq!(
        read_compose(
            Value::String(text.into()),
            &[("docker-compose.yml", TEMPLATE)],
            None
        ),
        Ok(image("db", "postgres:16"))
    );
}

#[test]
fn precedence() {
    let files = [("c.yml", "services: {app: {image: 'node:20'}}")];
    // "image" wins over "dockerComposeFile", which is then not read at all.
    let config = json!({"image": "alpine", "dockerComposeFile": "missing.yml"});
    assert_eq!(
        read_compose(config, &files, None),
        Ok(ConfiguredImage::Image("alpine".into()))
    );
    // "dockerComposeFile" wins over "build".
    let config =
        json!({"dockerComposeFile": "c.yml", "service": "app", "build": {"dockerfile": "D"}});
    assert_eq!(
        read_compose(config, &files, Some("FROM ubuntu")),
        Ok(image("app", "node:20"))
    );
    // "service" alone means nothing.
    let config = json!({"service": "app", "build": {"dockerfile": "D"}});
    assert_eq!(
        read_compose(config, &files, Some("FROM ubuntu")),
        Ok(ConfiguredImage::Dockerfile {
            base_image: "ubuntu".into()
        })
    );
}

#[test]
fn later_files_override_earlier_ones() {
    let base = "services:\n  app:\n    image: node:18\n  db:\n    image: postgres:15\n";
    let over = "services:\n  app:\n    image: node:20\n    ports: ['3000:3000']\n";
    let config =
        |service: &str| json!({"dockerComposeFile": ["base.yml", "over.yml"], "service": service});
    let files = [("base.yml", base), ("over.yml", over)];
    assert_eq!(
        read_compose(config("app"), &files, None),
        Ok(image("app", "node:20"))
    );
    // A service the later file leaves out keeps what it had.
    assert_eq!(
        read_compose(config("db"), &files, None),
        Ok(image("db", "postgres:15"))
    );
    // A later file that names the service without image or build keeps it.
    let ports = "services:\n  app:\n    ports: ['80:80']\n";
    let files = [("base.yml", base), ("over.yml", ports)];
    assert_eq!(
        read_compose(config("app"), &files, None),
        Ok(image("app", "node:18"))
    );
    // The order is the array's: reversed, the other image wins.
    let config = json!({"dockerComposeFile": ["over.yml", "base.yml"], "service": "app"});
    let files = [("base.yml", base), ("over.yml", over)];
    assert_eq!(
        read_compose(config, &files, None),
        Ok(image("app", "node:18"))
    );
}

#[test]
fn a_later_build_wins_and_replaces_an_earlier_build_whole() {
    let base = "services:\n  app:\n    image: node:18\n";
    let dev = "services:\n  app:\n    build:\n      context: .\n      target: dev\n";
    let config = json!({"dockerComposeFile": ["base.yml", "dev.yml"], "service": "app"});
    let dockerfile = "FROM rust:1 AS dev\nFROM debian AS release\n";
    assert_eq!(
        read_compose(
            config.clone(),
            &[("base.yml", base), ("dev.yml", dev)],
            Some(dockerfile)
        ),
        Ok(built("app", "rust:1"))
    );
    // An earlier build with a target, replaced by one without: the final
    // stage, because the whole build section is replaced.
    let last = "services:\n  app:\n    build: .\n";
    let config = json!({"dockerComposeFile": ["dev.yml", "last.yml"], "service": "app"});
    assert_eq!(
        read_compose(
            config,
            &[("dev.yml", dev), ("last.yml", last)],
            Some(dockerfile)
        ),
        Ok(built("app", "debian"))
    );
    // A build in an earlier file still wins over an image in a later one.
    let config = json!({"dockerComposeFile": ["dev.yml", "base.yml"], "service": "app"});
    assert_eq!(
        read_compose(
            config,
            &[("base.yml", base), ("dev.yml", dev)],
            Some(dockerfile)
        ),
        Ok(built("app", "rust:1"))
    );
}

#[test]
fn build_wins_over_an_image_beside_it() {
    let text = "services:\n  app:\n    image: my-app:latest\n    build: .\n";
    assert_eq!(
        read_service("app", text, Some("FROM python:3.12")),
        Ok(built("app", "python:3.12"))
    );
}
