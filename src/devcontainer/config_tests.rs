//! Tests of how devcontainer.json is read: its forms, precedence and fields.

use serde_json::{json, Value};

use crate::devcontainer::{read_config, ConfigError, ConfiguredImage, Missing, Sources};

fn image(name: &str) -> ConfiguredImage {
    ConfiguredImage::Image(name.to_owned())
}

fn built(base: &str) -> ConfiguredImage {
    ConfiguredImage::Dockerfile {
        base_image: base.to_owned(),
    }
}

/// Reads `config` (a JSON object) with `dockerfile`.
fn read(config: Value, dockerfile: Option<&str>) -> Result<ConfiguredImage, ConfigError> {
    read_with(Some(&config), dockerfile)
}

/// Reads `devcontainer` with `dockerfile` and no compose files.
fn read_with(
    devcontainer: Option<&Value>,
    dockerfile: Option<&str>,
) -> Result<ConfiguredImage, ConfigError> {
    read_config(Sources {
        devcontainer,
        dockerfile,
        compose_files: None,
    })
}

/// Reads the devcontainer.json text `text` with `dockerfile`.
fn read_text(text: &str, dockerfile: Option<&str>) -> Result<ConfiguredImage, ConfigError> {
    read_with(Some(&Value::String(text.to_owned())), dockerfile)
}

/// Asserts `result` is a devcontainer.json error mentioning `needle`.
fn assert_config_error(result: Result<ConfiguredImage, ConfigError>, needle: &str) {
    let err = result.unwrap_err();
    assert_eq!(err.field, "devcontainer", "{err:?}");
    assert!(
        err.message.contains(needle),
        "{:?} does not mention {needle:?}",
        err.message
    );
}

#[test]
fn no_configuration_is_default() {
    assert_eq!(read_with(None, None), Ok(ConfiguredImage::Default));
    assert_eq!(
        read_with(Some(&Value::Null), Some("FROM x")),
        Ok(ConfiguredImage::Default)
    );
    assert_eq!(read(json!({}), None), Ok(ConfiguredImage::Default));
    assert_eq!(
        read(json!({"name": "x", "build": {"args": {"A": "1"}}}), None),
        Ok(ConfiguredImage::Default)
    );
    // A Compose configuration is no longer the default: it needs its files.
    assert_eq!(
        read(
            json!({"dockerComposeFile": "compose.yml", "service": "app"}),
            None
        )
        .map_err(|e| e.field),
        Err("compose_files")
    );
}

#[test]
fn other_json_types_are_errors() {
    for value in [json!(1), json!([]), json!(true)] {
        assert_config_error(
            read_with(Some(&value), None),
            "must be an object or the text of devcontainer.json",
        );
    }
}

#[test]
fn image_is_returned_as_written() {
    assert_eq!(
        read(json!({"image": " Ubuntu:22.04 "}), None),
        Ok(image(" Ubuntu:22.04 "))
    );
    assert_eq!(
        read(
            json!({"image": "mcr.microsoft.com/devcontainers/base@sha256:abc"}),
            None
        ),
        Ok(image("mcr.microsoft.com/devcontainers/base@sha256:abc"))
    );
}

#[test]
fn image_must_be_a_non_empty_string() {
    for bad in [json!(""), json!(null), json!(1), json!({"name": "x"})] {
        assert_config_error(
            read(json!({"image": bad}), None),
            "\"image\" must be a non-empty string",
        );
    }
}

#[test]
fn image_wins_over_build() {
    let config =
        json!({"image": "alpine", "build": {"dockerfile": "Dockerfile"}, "dockerFile": "x"});
    assert_eq!(read(config, Some("FROM ubuntu")), Ok(image("alpine")));
    // The build section is not even looked at.
    assert_eq!(
        read(json!({"image": "alpine", "build": 3}), None),
        Ok(image("alpine"))
    );
}

#[test]
fn build_dockerfile_and_legacy_dockerfile() {
    let config = json!({"build": {"dockerfile": "Dockerfile", "context": ".."}});
    assert_eq!(
        read(config, Some("FROM ubuntu:22.04")),
        Ok(built("ubuntu:22.04"))
    );
    assert_eq!(
        read(json!({"dockerFile": "Dockerfile"}), Some("FROM debian")),
        Ok(built("debian"))
    );
    // The legacy path still takes args from "build".
    let legacy = json!({"dockerFile": "Dockerfile", "build": {"args": {"V": "12"}}});
    assert_eq!(
        read(legacy, Some("ARG V=11\nFROM debian:$V")),
        Ok(built("debian:12"))
    );
    // "build.dockerfile" wins over the older key.
    let both = json!({"dockerFile": "old", "build": {"dockerfile": "new"}});
    assert_eq!(read(both, Some("FROM a")), Ok(built("a")));
    // Only the two spellings the tools read count.
    assert_eq!(
        read(
            json!({"build": {"dockerFile": "Dockerfile"}}),
            Some("FROM a")
        ),
        Ok(ConfiguredImage::Default)
    );
}

#[test]
fn bad_build_fields_are_errors() {
    assert_config_error(
        read(json!({"build": "Dockerfile"}), None),
        "\"build\" must be an object",
    );
    assert_config_error(
        read(json!({"build": {"dockerfile": ""}}), None),
        "\"build.dockerfile\" must be a non-empty string",
    );
    assert_config_error(
        read(json!({"dockerFile": 1}), None),
        "\"dockerFile\" must be a non-empty string",
    );
    let args = json!({"build": {"dockerfile": "D", "args": {"A": 1}}});
    assert_config_error(read(args, Some("FROM a")), "value for 'A' must be a string");
    let args = json!({"build": {"dockerfile": "D", "args": ["A=1"]}});
    assert_config_error(
        read(args, Some("FROM a")),
        "\"build.args\" must be an object",
    );
    let target = json!({"build": {"dockerfile": "D", "target": 1}});
    assert_config_error(
        read(target, Some("FROM a")),
        "\"build.target\" must be a string",
    );
}

#[test]
fn missing_dockerfile_text() {
    let err = read(json!({"build": {"dockerfile": "../Dockerfile"}}), None).unwrap_err();
    assert_eq!(
        err,
        ConfigError {
            field: "dockerfile",
            message: "the configuration builds from Dockerfile '../Dockerfile' but no Dockerfile text was provided".into(),
            missing: Some(Missing::Dockerfile("../Dockerfile".into())),
        }
    );
}

#[test]
fn jsonc_text_with_comments_and_trailing_commas() {
    let text = r#"
        // For format details, see https://aka.ms/devcontainer.json.
        {
            "name": "Rust // not a comment /* nor this */",
            /* "image": "commented-out", */
            "image": "mcr.microsoft.com/devcontainers/rust:1-bookworm", // trailing
            "features": {
                "ghcr.io/devcontainers/features/node:1": {},
            },
            "forwardPorts": [3000, 8080,],
        }
    "#;
    assert_eq!(
        read_text(text, None),
        Ok(image("mcr.microsoft.com/devcontainers/rust:1-bookworm"))
    );
}

#[test]
fn jsonc_text_with_build() {
    let text = "{\r\n  \"build\": {\r\n    // the dev image\r\n    \"dockerfile\": \"Dockerfile\",\r\n    \"target\": \"dev\",\r\n  },\r\n}\r\n";
    let dockerfile = "FROM rust:1 AS dev\nFROM dev AS release\n";
    assert_eq!(read_text(text, Some(dockerfile)), Ok(built("rust:1")));
    // Escaped quotes do not end a string early.
    assert_eq!(
        read_text(r#"{"image": "a\"//b"}"#, None),
        Ok(image("a\"//b"))
    );
}

#[test]
fn jsonc_text_errors() {
    let err = read_text("{\n  \"image\": \"x\"\n  \"name\": 1\n}", None).unwrap_err();
    assert_eq!(err.field, "devcontainer");
    assert!(
        err.message
            .starts_with("devcontainer.json is not valid JSON with comments: ")
            && err.message.contains("line 3 column"),
        "{}",
        err.message
    );
    assert_config_error(
        read_text("{\"image\": \"x\"} /* open", None),
        "unterminated block comment",
    );
    assert_config_error(read_text("[\"image\"]", None), "must hold a JSON object");
    assert_config_error(read_text("null", None), "must hold a JSON object");
    assert_config_error(read_text("", None), "not valid JSON with comments");
}
