//! Reads a repository's dev container configuration into the image a
//! codespace will be built from.
//!
//! Everything read here is untrusted repository content, and the answer feeds
//! a policy decision, so the module fails closed: whatever it cannot read with
//! confidence is an error rather than a guess. It does no I/O; the caller
//! passes in the devcontainer.json value or text, the Dockerfile text and the
//! Docker Compose files' text ([`Sources`]). Nothing recurses to a depth the
//! input controls, and every Compose bound is a `pub const` re-exported here.

mod compose;
mod compose_build;
mod dockerfile;
mod expand;
mod interpolate;
mod jsonc;
mod lines;
mod paths;
mod yaml;
mod yaml_cache;
mod yaml_scan;
mod yaml_visit;

#[cfg(test)]
mod compose_build_tests;
#[cfg(test)]
mod compose_errors_tests;
#[cfg(test)]
mod compose_extends_tests;
#[cfg(test)]
mod compose_limits_tests;
#[cfg(test)]
mod compose_tests;
#[cfg(test)]
mod config_tests;
#[cfg(test)]
mod dockerfile_tests;
#[cfg(test)]
mod syntax_tests;
#[cfg(test)]
mod yaml_tests;

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

pub use compose::{MAX_COMPOSE_FILES, MAX_EXTENDS_DEPTH};
pub use interpolate::MAX_INTERPOLATION_DEPTH;
pub use yaml::{MAX_COMPOSE_FILE_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES, MAX_YAML_SCALAR_BYTES};

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
    /// A Docker Compose service's `image`, with interpolation applied.
    Compose {
        /// The service devcontainer.json "service" names.
        service: String,
        image: String,
    },
    /// A Docker Compose service's `build`: the base image of its Dockerfile.
    ComposeBuild {
        /// The service devcontainer.json "service" names.
        service: String,
        /// As for [`ConfiguredImage::Dockerfile`], with the service's
        /// `build.args` and `build.target`.
        base_image: String,
    },
    /// No configuration, or a configuration that names neither an image, a
    /// Compose file nor a Dockerfile.
    Default,
}

/// The inputs of a configuration: what the request carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sources<'a> {
    /// `None` or JSON null when there is no configuration, a JSON object when
    /// the caller has already parsed it, or a JSON string holding the raw
    /// text of devcontainer.json (JSON with comments).
    pub devcontainer: Option<&'a Value>,
    /// The text of the Dockerfile the configuration (or its Compose service)
    /// builds from; only read when the configuration builds one.
    pub dockerfile: Option<&'a str>,
    /// Each compose file's text, keyed by its path relative to the
    /// devcontainer.json folder: every `dockerComposeFile` entry as written,
    /// and every file an `extends` names, normalized (see `compose`).
    pub compose_files: Option<&'a BTreeMap<String, String>>,
}

/// A file the configuration needs that the sources do not hold, named so
/// that a caller with the repository can read it and ask again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// A compose file: the `compose_files` key it belongs under (as
    /// `dockerComposeFile` writes it, or normalized for an `extends.file`).
    ComposeFile(String),
    /// The Dockerfile, by its path relative to the devcontainer.json folder.
    Dockerfile(String),
}

/// Why a dev container configuration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    /// The input at fault: `"devcontainer"`, `"dockerfile"` or
    /// `"compose_files"` (a compose file, or finding the service in them).
    pub field: &'static str,
    /// What is wrong, for a person; Dockerfile errors start with
    /// `Dockerfile line N:` naming the physical line the instruction starts on.
    pub message: String,
    /// Set when the error is only that a file is missing from the sources.
    pub missing: Option<Missing>,
}

impl ConfigError {
    /// An error in devcontainer.json or in the value standing for it.
    pub(crate) fn devcontainer(message: impl Into<String>) -> Self {
        Self {
            field: "devcontainer",
            message: message.into(),
            missing: None,
        }
    }

    /// An error in a compose file, or in finding the service in them.
    pub(crate) fn compose(message: impl Into<String>) -> Self {
        Self {
            field: "compose_files",
            message: message.into(),
            missing: None,
        }
    }

    /// An error in the Dockerfile as a whole.
    pub(crate) fn dockerfile(message: impl Into<String>) -> Self {
        Self {
            field: "dockerfile",
            message: message.into(),
            missing: None,
        }
    }

    /// `self`, saying that it is only that `missing` is missing.
    pub(crate) fn missing(self, missing: Missing) -> Self {
        Self {
            missing: Some(missing),
            ..self
        }
    }

    /// An error in the Dockerfile instruction starting on 1-based `line`.
    pub(crate) fn at_line(line: usize, message: impl std::fmt::Display) -> Self {
        Self::dockerfile(format!("Dockerfile line {line}: {message}"))
    }
}

/// Reads the image a codespace will be built from.
///
/// Precedence: "image" wins over everything; then "dockerComposeFile" with
/// "service" (the service's `build`, else its `image`); then
/// "build.dockerfile" (or the older "dockerFile"); else the default image. A
/// Dockerfile's base image is the FROM of its final stage (or of the build
/// target) with global ARGs substituted, using the build args for declared
/// ARGs, and followed through earlier stage names.
///
/// # Errors
///
/// A [`ConfigError`] when the configuration, the Dockerfile or a compose file
/// cannot be read with confidence: malformed JSON with comments, a field of
/// the wrong type, a Dockerfile without a usable FROM, an ARG in FROM without
/// a value, an unknown build target, a stage that refers to itself or a later
/// stage, a compose file that is missing, not valid YAML, past a bound or
/// using tags, an unknown service, an `extends` cycle, or an unset variable.
/// `field` says which input is at fault.
pub fn read_config(sources: Sources<'_>) -> Result<ConfiguredImage, ConfigError> {
    read_config_and_host(sources).map(|(image, _)| image)
}

/// [`read_config`], with the configuration's `hostRequirements` as written (for
/// `machines::HostRequirements` to read), so that a text configuration is parsed once.
pub fn read_config_and_host(
    sources: Sources<'_>,
) -> Result<(ConfiguredImage, Option<Value>), ConfigError> {
    let parsed;
    let config =
        match sources.devcontainer {
            None | Some(Value::Null) => return Ok((ConfiguredImage::Default, None)),
            Some(Value::Object(map)) => map,
            Some(Value::String(text)) => {
                parsed = jsonc::parse_object(text)?;
                &parsed
            }
            Some(_) => return Err(ConfigError::devcontainer(
                "the devcontainer configuration must be an object or the text of devcontainer.json",
            )),
        };
    let host = config.get(crate::machines::HOST_REQUIREMENTS).cloned();
    Ok((from_object(config, sources)?, host))
}

/// Applies the precedence rules to a parsed configuration object.
fn from_object(
    config: &Map<String, Value>,
    sources: Sources<'_>,
) -> Result<ConfiguredImage, ConfigError> {
    let dockerfile = sources.dockerfile;
    // "image" wins even when "build" is also present, as in the dev container
    // CLI; "build" is then never built, so it is not checked either.
    if let Some(image) = config.get("image") {
        return non_empty_string(image, "image")
            .map(|image| ConfiguredImage::Image(image.to_owned()));
    }
    if let Some(files) = config.get("dockerComposeFile") {
        let files = compose_file_list(files)?;
        let Some(service) = config.get("service") else {
            return Err(ConfigError::devcontainer(
                "devcontainer.json \"dockerComposeFile\" needs \"service\", the service the codespace runs in",
            ));
        };
        let service = non_empty_string(service, "service")?;
        return compose::read(&files, service, sources.compose_files, dockerfile);
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
        ))
        .missing(Missing::Dockerfile(path.to_owned())));
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

/// `dockerComposeFile`: one path, or a non-empty list of at most
/// [`MAX_COMPOSE_FILES`] paths, each a non-empty string.
fn compose_file_list(value: &Value) -> Result<Vec<&str>, ConfigError> {
    let wrong = || {
        ConfigError::devcontainer(
            "devcontainer.json \"dockerComposeFile\" must be a non-empty string or a non-empty array of them",
        )
    };
    match value {
        Value::String(file) if !file.is_empty() => Ok(vec![file.as_str()]),
        Value::Array(files) if files.len() > MAX_COMPOSE_FILES => {
            Err(ConfigError::devcontainer(format!(
                "devcontainer.json \"dockerComposeFile\" names {} files, over the bound of {MAX_COMPOSE_FILES}",
                files.len()
            )))
        }
        Value::Array(files) if !files.is_empty() => files
            .iter()
            .map(|file| match file {
                Value::String(file) if !file.is_empty() => Ok(file.as_str()),
                _ => Err(wrong()),
            })
            .collect(),
        _ => Err(wrong()),
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
