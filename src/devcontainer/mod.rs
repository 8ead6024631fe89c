//! Reads a repository's dev container configuration into the image a
//! codespace will be built from.
//!
//! Everything read here is untrusted repository content, and the answer feeds
//! a policy decision, so the module fails closed: whatever it cannot read with
//! confidence is an error rather than a guess. It does no I/O; the caller
//! passes in the devcontainer.json value or text and the Dockerfile text.
//! Nothing recurses to a depth the input controls.

mod dockerfile;
mod expand;
mod jsonc;
mod lines;

#[cfg(test)]
mod config_tests;
#[cfg(test)]
mod dockerfile_tests;
#[cfg(test)]
mod syntax_tests;

use std::collections::HashMap;

use serde_json::{Map, Value};

/// Where the image a codespace is built from comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfiguredImage {
    /// devcontainer.json "image", as written.
    Image(String),
    /// The configuration builds from a Dockerfile.
    Dockerfile {
        /// The FROM of the final stage (or of `build.target`), with ARGs
        /// substituted and stage names followed to a real image.
        base_image: String,
    },
    /// No configuration, or a configuration that names neither an image nor
    /// a Dockerfile.
    Default,
}

/// Why a dev container configuration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    /// The input at fault: `"devcontainer"` or `"dockerfile"`.
    pub field: &'static str,
    /// What is wrong, for a person; Dockerfile errors start with
    /// `Dockerfile line N:` naming the physical line the instruction starts on.
    pub message: String,
}

impl ConfigError {
    /// An error in devcontainer.json or in the value standing for it.
    pub(crate) fn devcontainer(message: impl Into<String>) -> Self {
        Self {
            field: "devcontainer",
            message: message.into(),
        }
    }

    /// An error in the Dockerfile as a whole.
    pub(crate) fn dockerfile(message: impl Into<String>) -> Self {
        Self {
            field: "dockerfile",
            message: message.into(),
        }
    }

    /// An error in the Dockerfile instruction starting on 1-based `line`.
    pub(crate) fn at_line(line: usize, message: impl std::fmt::Display) -> Self {
        Self::dockerfile(format!("Dockerfile line {line}: {message}"))
    }
}

/// Reads the image a codespace will be built from.
///
/// `devcontainer` is the configuration: `None` or JSON null when there is
/// none, a JSON object when the caller has already parsed it, or a JSON string
/// holding the raw text of devcontainer.json (JSON with comments).
/// `dockerfile` is the text of the Dockerfile the configuration builds from,
/// if the caller has it; it is only read when the configuration names one.
///
/// "image" wins over "build"; a Dockerfile's base image is the FROM of its
/// final stage (or of `build.target`) with global ARGs substituted, using
/// `build.args` for declared ARGs, and followed through earlier stage names.
///
/// # Errors
///
/// A [`ConfigError`] when the configuration or the Dockerfile cannot be read
/// with confidence: malformed JSON with comments, a field of the wrong type,
/// a Dockerfile without a usable FROM, an ARG in FROM without a value, an
/// unknown `build.target`, or a stage that refers to itself or a later stage.
/// `field` says which input is at fault.
pub fn read_config(
    devcontainer: Option<&Value>,
    dockerfile: Option<&str>,
) -> Result<ConfiguredImage, ConfigError> {
    let parsed;
    let config =
        match devcontainer {
            None | Some(Value::Null) => return Ok(ConfiguredImage::Default),
            Some(Value::Object(map)) => map,
            Some(Value::String(text)) => {
                parsed = jsonc::parse_object(text)?;
                &parsed
            }
            Some(_) => return Err(ConfigError::devcontainer(
                "the devcontainer configuration must be an object or the text of devcontainer.json",
            )),
        };
    from_object(config, dockerfile)
}

/// Applies the precedence rules to a parsed configuration object.
fn from_object(
    config: &Map<String, Value>,
    dockerfile: Option<&str>,
) -> Result<ConfiguredImage, ConfigError> {
    // "image" wins even when "build" is also present, as in the dev container
    // CLI; "build" is then never built, so it is not checked either.
    if let Some(image) = config.get("image") {
        return non_empty_string(image, "image")
            .map(|image| ConfiguredImage::Image(image.to_owned()));
    }
    let build = match config.get("build") {
        None => None,
        Some(Value::Object(build)) => Some(build),
        Some(_) => {
            return Err(ConfigError::devcontainer(
                "devcontainer.json \"build\" must be an object",
            ))
        }
    };
    // "build.dockerfile" is the current form; top-level "dockerFile" is the
    // older one, still honoured by the tools, so a repository can use either.
    let path = match (
        build.and_then(|b| b.get("dockerfile")),
        config.get("dockerFile"),
    ) {
        (Some(path), _) => non_empty_string(path, "build.dockerfile")?,
        (None, Some(path)) => non_empty_string(path, "dockerFile")?,
        (None, None) => return Ok(ConfiguredImage::Default),
    };
    let args = build_args(build)?;
    let target = build_target(build)?;
    let Some(text) = dockerfile else {
        return Err(ConfigError::dockerfile(format!(
            "the configuration builds from Dockerfile '{path}' but no Dockerfile text was provided"
        )));
    };
    let base_image = dockerfile::base_image(text, &args, target)?;
    Ok(ConfiguredImage::Dockerfile { base_image })
}

/// The string `value` holds, or an error naming `field` if it is anything
/// else or empty.
fn non_empty_string<'v>(value: &'v Value, field: &str) -> Result<&'v str, ConfigError> {
    match value {
        Value::String(text) if !text.is_empty() => Ok(text),
        _ => Err(ConfigError::devcontainer(format!(
            "devcontainer.json \"{field}\" must be a non-empty string"
        ))),
    }
}

/// `build.args`: ARG name to value; every value must be a string, because
/// that is what the build passes as `--build-arg`.
fn build_args(build: Option<&Map<String, Value>>) -> Result<HashMap<String, String>, ConfigError> {
    let Some(args) = build.and_then(|b| b.get("args")) else {
        return Ok(HashMap::new());
    };
    let Value::Object(args) = args else {
        return Err(ConfigError::devcontainer(
            "devcontainer.json \"build.args\" must be an object",
        ));
    };
    args.iter()
        .map(|(name, value)| match value {
            Value::String(value) => Ok((name.clone(), value.clone())),
            _ => Err(ConfigError::devcontainer(format!(
                "devcontainer.json \"build.args\" value for '{name}' must be a string"
            ))),
        })
        .collect()
}

/// `build.target`: the stage to build instead of the last one. An empty
/// string means no target, as the dev container CLI only passes `--target`
/// for a non-empty one.
fn build_target(build: Option<&Map<String, Value>>) -> Result<Option<&str>, ConfigError> {
    match build.and_then(|b| b.get("target")) {
        None => Ok(None),
        Some(Value::String(target)) if target.is_empty() => Ok(None),
        Some(Value::String(target)) => Ok(Some(target)),
        Some(_) => Err(ConfigError::devcontainer(
            "devcontainer.json \"build.target\" must be a string",
        )),
    }
}
