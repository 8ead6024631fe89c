//! Docker Compose configurations: which image the devcontainer.json
//! `service` runs, from the files `dockerComposeFile` names.
//!
//! The files are read in order; for the service, a later file's `image` and
//! `build` override an earlier one's (a later `build` replaces an earlier one
//! whole) and a file that does not define the service leaves it as it was.
//! Within each file `extends` is followed first, the extending service's own
//! `image`/`build` overriding its base's, as Compose does before merging.
//! Then `build` wins over `image`: its Dockerfile's base image is the answer.
//!
//! Paths: `compose_files` is keyed by path relative to the devcontainer.json
//! folder. A `dockerComposeFile` entry is looked up exactly as written. A
//! path an `extends.file` names is resolved against the folder of the compose
//! file holding the `extends` (as Compose does), normalized (`a/./b/../c`
//! becomes `a/c`; a leading `../` is kept; an absolute path stays absolute),
//! and looked up as that normalized key only: the path as written is the key
//! only when it is already the normalized one. A build's `context` is
//! resolved against the folder of the file defining the service and its
//! `dockerfile` against the context, the same way, to name the Dockerfile.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::devcontainer::compose_build::build_base;
use crate::devcontainer::interpolate::interpolate;
use crate::devcontainer::paths::{dir_of, join, normalize};
use crate::devcontainer::yaml::Yaml;
use crate::devcontainer::yaml_cache;
use crate::devcontainer::{ConfigError, ConfiguredImage, Missing};

/// The most compose files one request may hold, `extends` files included.
pub const MAX_COMPOSE_FILES: usize = 32;

/// The most `extends` one service may go through to reach its last base.
pub const MAX_EXTENDS_DEPTH: usize = 16;

/// Reads the image the Compose service `service` runs, from the compose
/// files `files` (keys of `compose_files`, in order). `dockerfile` is the
/// text of the Dockerfile the service builds from, if the caller has it.
pub(crate) fn read(
    files: &[&str],
    service: &str,
    compose_files: Option<&BTreeMap<String, String>>,
    dockerfile: Option<&str>,
) -> Result<ConfiguredImage, ConfigError> {
    let empty = BTreeMap::new();
    let sources = compose_files.unwrap_or(&empty);
    if sources.len() > MAX_COMPOSE_FILES {
        return Err(ConfigError::compose(format!(
            "compose_files holds {} files, over the bound of {MAX_COMPOSE_FILES}",
            sources.len()
        )));
    }
    let mut loaded = Files {
        sources,
        parsed: HashMap::new(),
    };
    let mut merged: Option<Resolved> = None;
    for &file in files {
        if !sources.contains_key(file) {
            return Err(ConfigError::compose(format!(
                "devcontainer.json \"dockerComposeFile\" names '{file}', which compose_files does not hold"
            ))
            .missing(Missing::ComposeFile(file.to_owned())));
        }
        let Some(layer) = resolve(&mut loaded, file, service)? else {
            continue;
        };
        let merged = merged.get_or_insert_with(Resolved::default);
        merged.image = layer.image.or(merged.image.take());
        merged.build = layer.build.or(merged.build.take());
    }
    let Some(merged) = merged else {
        return Err(ConfigError::compose(format!(
            "no compose file ({}) defines the service '{service}' that devcontainer.json \"service\" names",
            files.join(", ")
        )));
    };
    if let Some(build) = merged.build {
        let base_image = build_base(service, &build, dockerfile)?;
        return Ok(ConfiguredImage::ComposeBuild {
            service: service.to_owned(),
            base_image,
        });
    }
    let Some(image) = merged.image else {
        return Err(ConfigError::compose(format!(
            "the service '{service}' has neither \"image\" nor \"build\" in {}",
            files.join(", ")
        )));
    };
    let at = Place::new(&image.file, service);
    let Yaml::String(raw) = &image.value else {
        return Err(at.error("\"image\" must be a string"));
    };
    let image = at.interpolate(raw, "image")?;
    if image.is_empty() {
        return Err(at.error("\"image\" is empty"));
    }
    Ok(ConfiguredImage::Compose {
        service: service.to_owned(),
        image,
    })
}

/// A value and the compose file that defined it.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub value: Yaml,
    pub file: String,
}

/// A service's `image` and `build`, once `extends` (or merging) is done.
#[derive(Debug, Default)]
struct Resolved {
    image: Option<Field>,
    build: Option<Field>,
}

/// What one compose file says about one service.
#[derive(Debug, Default)]
struct ServiceDef {
    image: Option<Yaml>,
    build: Option<Yaml>,
    extends: Option<Yaml>,
}

/// The compose files of the request, parsed once each on first use.
struct Files<'a> {
    sources: &'a BTreeMap<String, String>,
    parsed: HashMap<String, Arc<Yaml>>,
}

impl Files<'_> {
    /// What the file under `key` (which must be in `sources`) says about
    /// `service`, or None if it does not define it.
    fn service(&mut self, key: &str, service: &str) -> Result<Option<ServiceDef>, ConfigError> {
        if !self.parsed.contains_key(key) {
            let text = self.sources.get(key).ok_or_else(|| {
                ConfigError::compose(format!("compose_files does not hold '{key}'"))
            })?;
            let tree = yaml_cache::parse(text).map_err(|e| {
                let at = e
                    .line
                    .map(|line| format!(" line {line}"))
                    .unwrap_or_default();
                ConfigError::compose(format!("compose file '{key}'{at}: {}", e.message))
            })?;
            self.parsed.insert(key.to_owned(), tree);
        }
        let in_file =
            |message: &str| ConfigError::compose(format!("compose file '{key}': {message}"));
        let services = match self.parsed.get(key).map(|tree| &**tree) {
            None | Some(Yaml::Null) => return Ok(None),
            Some(Yaml::Map(top)) => match top.get("services") {
                None | Some(Yaml::Null) => return Ok(None),
                Some(Yaml::Map(services)) => services,
                Some(_) => return Err(in_file("\"services\" must be a mapping")),
            },
            Some(_) => return Err(in_file("the file must hold a mapping")),
        };
        match services.get(service) {
            None => Ok(None),
            Some(Yaml::Null) => Ok(Some(ServiceDef::default())),
            Some(Yaml::Map(def)) => Ok(Some(ServiceDef {
                image: def.get("image").cloned(),
                build: def.get("build").cloned(),
                extends: def.get("extends").cloned(),
            })),
            Some(_) => Err(in_file(&format!(
                "the service '{service}' must be a mapping"
            ))),
        }
    }
}

/// The service `service` of the file under `key` with its `extends` chain
/// followed, or None if the file does not define it.
fn resolve(files: &mut Files, key: &str, service: &str) -> Result<Option<Resolved>, ConfigError> {
    let Some(def) = files.service(key, service)? else {
        return Ok(None);
    };
    // Derived first, base last; the chain is short, so a linear search for
    // a cycle costs nothing.
    let mut chain = vec![(key.to_owned(), service.to_owned(), def)];
    while let Some((
        file,
        name,
        ServiceDef {
            extends: Some(extends),
            ..
        },
    )) = chain.last()
    {
        let at = Place::new(file, name);
        let (base_file, base_name) = read_extends(&at, extends)?;
        if let Some(start) = chain
            .iter()
            .position(|(f, n, _)| *f == base_file && *n == base_name)
        {
            let cycle: Vec<String> = chain[start..]
                .iter()
                .map(|(f, n, _)| format!("'{n}' in '{f}'"))
                .chain(std::iter::once(format!("'{base_name}' in '{base_file}'")))
                .collect();
            return Err(ConfigError::compose(format!(
                "\"extends\" forms a cycle: {}",
                cycle.join(" extends ")
            )));
        }
        if chain.len() > MAX_EXTENDS_DEPTH {
            return Err(at.error(&format!(
                "\"extends\" goes through more than {MAX_EXTENDS_DEPTH} services"
            )));
        }
        if !files.sources.contains_key(&base_file) {
            let message =
                format!("\"extends\" names file '{base_file}', which compose_files does not hold");
            return Err(at.error(&message).missing(Missing::ComposeFile(base_file)));
        }
        let Some(base) = files.service(&base_file, &base_name)? else {
            return Err(at.error(&format!(
                "\"extends\" names service '{base_name}', which '{base_file}' does not define"
            )));
        };
        chain.push((base_file, base_name, base));
    }
    let mut resolved = Resolved::default();
    for (file, name, def) in chain.into_iter().rev() {
        let at = Place::new(&file, &name);
        if let Some(image) = def.image {
            resolved.image = Some(at.field(image, "image")?);
        }
        if let Some(build) = def.build {
            resolved.build = Some(at.field(build, "build")?);
        }
    }
    Ok(Some(resolved))
}

/// The file and service an `extends` leads to, from the service at `at`.
fn read_extends(at: &Place, extends: &Yaml) -> Result<(String, String), ConfigError> {
    let (service, file) = match extends {
        Yaml::String(service) => (service, None),
        Yaml::Map(fields) => {
            let Some(Yaml::String(service)) = fields.get("service") else {
                return Err(at.error("\"extends.service\" must be a string"));
            };
            let file = match fields.get("file") {
                None => None,
                Some(Yaml::String(file)) => Some(at.interpolate(file, "extends.file")?),
                Some(_) => return Err(at.error("\"extends.file\" must be a string")),
            };
            (service, file)
        }
        _ => return Err(at.error("\"extends\" must be a string or a mapping")),
    };
    let service = at.interpolate(service, "extends")?;
    if service.is_empty() {
        return Err(at.error("\"extends\" names an empty service"));
    }
    let file = match file {
        None => at.file.to_owned(),
        Some(file) => normalize(&join(dir_of(at.file), &file)),
    };
    Ok((file, service))
}

/// Where a value was read: a compose file and a service in it.
pub(crate) struct Place<'a> {
    pub file: &'a str,
    pub service: &'a str,
}

impl<'a> Place<'a> {
    pub fn new(file: &'a str, service: &'a str) -> Self {
        Self { file, service }
    }

    pub fn error(&self, message: &str) -> ConfigError {
        ConfigError::compose(format!(
            "compose file '{}', service '{}': {message}",
            self.file, self.service
        ))
    }

    /// `value` interpolated; `field` names it in an error.
    pub fn interpolate(&self, value: &str, field: &str) -> Result<String, ConfigError> {
        interpolate(value).map_err(|e| self.error(&format!("\"{field}\": {e}")))
    }

    /// `value` as a field defined here; null is refused, because Compose
    /// gives a null no single meaning that a policy could rely on.
    fn field(&self, value: Yaml, name: &str) -> Result<Field, ConfigError> {
        if value == Yaml::Null {
            return Err(self.error(&format!("\"{name}\" is null")));
        }
        Ok(Field {
            value,
            file: self.file.to_owned(),
        })
    }
}
