//! The `build` of a Compose service: its Dockerfile's base image, with the
//! service's `args` and `target`, from the Dockerfile the request carries or
//! from `dockerfile_inline`.

use std::collections::HashMap;

use crate::devcontainer::compose::{Field, Place};
use crate::devcontainer::interpolate::excerpt;
use crate::devcontainer::paths::{dir_of, join, normalize};
use crate::devcontainer::yaml::Yaml;
use crate::devcontainer::{dockerfile, ConfigError, Missing};

/// The base image of the service's `build`.
pub(crate) fn build_base(
    service: &str,
    build: &Field,
    dockerfile: Option<&str>,
) -> Result<String, ConfigError> {
    let at = Place::new(&build.file, service);
    let spec = BuildSpec::read(&at, &build.value)?;
    let unknown_target = |target: &str| {
        at.error(&format!(
            "\"build.target\" names stage '{target}', which the Dockerfile does not define"
        ))
    };
    let target = spec.target.as_deref();
    if let Some(inline) = &spec.inline {
        // The Dockerfile is part of the compose file, so its faults are too.
        return dockerfile::base_image_with(inline, &spec.args, target, unknown_target).map_err(
            |e| match e.field {
                "dockerfile" => at.error(&format!("\"build.dockerfile_inline\": {}", e.message)),
                _ => e,
            },
        );
    }
    let (path, local) = dockerfile_path(&build.file, &spec.context, &spec.dockerfile);
    let Some(text) = dockerfile else {
        let error = ConfigError::dockerfile(format!(
            "the service '{service}' builds from Dockerfile {path} but no Dockerfile text was provided"
        ));
        return Err(match local {
            Some(local) => error.missing(Missing::Dockerfile(local)),
            None => error,
        });
    };
    dockerfile::base_image_with(text, &spec.args, target, unknown_target)
}

/// The parts of a `build` that decide its base image.
struct BuildSpec {
    context: String,
    dockerfile: String,
    inline: Option<String>,
    args: HashMap<String, String>,
    target: Option<String>,
}

impl BuildSpec {
    /// Reads `build`: a context string, or a mapping.
    fn read(at: &Place, build: &Yaml) -> Result<Self, ConfigError> {
        let fields = match build {
            Yaml::String(context) => {
                return Ok(Self {
                    context: at.interpolate(context, "build")?,
                    dockerfile: "Dockerfile".to_owned(),
                    inline: None,
                    args: HashMap::new(),
                    target: None,
                })
            }
            Yaml::Map(fields) => fields,
            _ => return Err(at.error("\"build\" must be a string or a mapping")),
        };
        let string = |name: &str| -> Result<Option<String>, ConfigError> {
            match fields.get(name) {
                None => Ok(None),
                Some(Yaml::String(value)) => {
                    at.interpolate(value, &format!("build.{name}")).map(Some)
                }
                Some(_) => Err(at.error(&format!("\"build.{name}\" must be a string"))),
            }
        };
        // Named contexts can stand in for the image a FROM names, so the
        // Dockerfile alone would no longer say what the build starts from.
        if !matches!(fields.get("additional_contexts"), None | Some(Yaml::Null)) {
            return Err(at.error(
                "\"build.additional_contexts\" is not supported: a named context can replace the image a Dockerfile's FROM names",
            ));
        }
        let dockerfile = string("dockerfile")?;
        let inline = string("dockerfile_inline")?;
        if dockerfile.is_some() && inline.is_some() {
            return Err(
                at.error("\"build.dockerfile\" and \"build.dockerfile_inline\" cannot both be set")
            );
        }
        Ok(Self {
            context: string("context")?.unwrap_or_else(|| ".".to_owned()),
            dockerfile: dockerfile.unwrap_or_else(|| "Dockerfile".to_owned()),
            inline,
            args: build_args(at, fields.get("args"))?,
            // An empty target builds the final stage, as with no target.
            target: string("target")?.filter(|target| !target.is_empty()),
        })
    }
}

/// `build.args`, as a mapping or a list of `NAME=value`; an argument with no
/// value (`NAME` alone, or `NAME:` with nothing) would come from the
/// environment, so it is left out and the Dockerfile's default applies.
fn build_args(at: &Place, args: Option<&Yaml>) -> Result<HashMap<String, String>, ConfigError> {
    let mut out = HashMap::new();
    match args {
        None | Some(Yaml::Null) => {}
        Some(Yaml::Map(args)) => {
            for (name, value) in args {
                let field = format!("build.args.{name}");
                let value = match value {
                    Yaml::Null => continue,
                    Yaml::String(value) => at.interpolate(value, &field)?,
                    Yaml::Int(value) => value.clone(),
                    Yaml::Bool(value) => value.to_string(),
                    Yaml::Float(value) => float_arg(*value).ok_or_else(|| {
                        at.error(&format!(
                            "\"{field}\" is a number that is ambiguous as text; quote it"
                        ))
                    })?,
                    Yaml::Seq(_) | Yaml::Map(_) => {
                        return Err(at.error(&format!("\"{field}\" must be a string or a number")))
                    }
                };
                out.insert(name.clone(), value);
            }
        }
        Some(Yaml::Seq(args)) => {
            for arg in args {
                let Yaml::String(arg) = arg else {
                    return Err(
                        at.error("\"build.args\" list entries must be strings 'NAME=value'")
                    );
                };
                let arg = at.interpolate(arg, "build.args")?;
                let Some((name, value)) = arg.split_once('=') else {
                    continue;
                };
                if name.is_empty() {
                    return Err(at.error(&format!(
                        "\"build.args\" entry '{}' has no name",
                        excerpt(&arg)
                    )));
                }
                out.insert(name.to_owned(), value.to_owned());
            }
        }
        Some(_) => return Err(at.error("\"build.args\" must be a mapping or a list")),
    }
    Ok(out)
}

/// A float build argument as Compose writes it (Go's `%v`), where that is
/// the same as Rust's shortest form: away from the exponent notation Go
/// switches to.
fn float_arg(value: f64) -> Option<String> {
    let plain = value == 0.0 || (1e-4..1e21).contains(&value.abs());
    (value.is_finite() && plain).then(|| value.to_string())
}

/// The Dockerfile a build uses, quoted, for messages: relative to the
/// devcontainer.json folder, or within its remote context; and the former
/// path alone, when it is one.
fn dockerfile_path(file: &str, context: &str, dockerfile: &str) -> (String, Option<String>) {
    if context.contains("://") || context.starts_with("git@") {
        let shown = format!("'{dockerfile}' of the remote context '{context}'");
        return (shown, None);
    }
    let path = normalize(&join(&join(dir_of(file), context), dockerfile));
    (format!("'{path}'"), Some(path))
}
