//! Finding a repository's dev container configuration and reading the files it refers to
//! (its Dockerfile, its Docker Compose files), as the preflight wants them: keyed by their
//! paths relative to the devcontainer.json folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::CheckFailed;
use crate::devcontainer::{read_config, Missing, Sources};

/// Where a configuration is looked for when `--config` names none, in order.
const CANDIDATES: [&str; 2] = [".devcontainer/devcontainer.json", ".devcontainer.json"];

/// No file read is larger than the service's body limit would allow.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// How many files a configuration may refer to, at most.
const MAX_ROUNDS: usize = 64;

/// A configuration with everything it refers to.
#[derive(Debug)]
pub struct Configuration {
    /// The devcontainer.json path as given or found, for the report.
    pub path: String,
    pub devcontainer_text: String,
    pub dockerfile: Option<String>,
    pub compose_files: BTreeMap<String, String>,
}

/// Reads the configuration under `dir`, and every file it refers to.
pub fn read(dir: &Path, config: Option<&Path>) -> Result<Configuration, CheckFailed> {
    let path = locate(dir, config)?;
    let folder = path
        .parent()
        .map_or_else(|| dir.to_path_buf(), Path::to_path_buf);
    let devcontainer_text = read_text(&path)?;
    let devcontainer = Value::String(devcontainer_text.clone());
    let mut dockerfile = None;
    let mut compose_files = BTreeMap::new();
    // Read what the configuration reads, file by file, as the service's own reader asks
    // for it; any other error is the service's to report (the preflight answers it).
    for _ in 0..MAX_ROUNDS {
        let sources = Sources {
            devcontainer: Some(&devcontainer),
            dockerfile: dockerfile.as_deref(),
            compose_files: Some(&compose_files),
        };
        let missing = read_config(sources).err().and_then(|err| err.missing);
        match missing {
            Some(Missing::ComposeFile(key)) if !compose_files.contains_key(&key) => {
                let text = read_text(&folder.join(&key))?;
                compose_files.insert(key, text);
            }
            Some(Missing::Dockerfile(path)) if dockerfile.is_none() => {
                dockerfile = Some(read_text(&folder.join(path))?);
            }
            _ => {
                return Ok(Configuration {
                    path: relative(dir, &path),
                    devcontainer_text,
                    dockerfile,
                    compose_files,
                })
            }
        }
    }
    Err(CheckFailed(format!(
        "{}: the configuration refers to more than {MAX_ROUNDS} files",
        display(&path)
    )))
}

/// `--config` under `dir`, else the first of [`CANDIDATES`] that exists.
fn locate(dir: &Path, config: Option<&Path>) -> Result<PathBuf, CheckFailed> {
    if !dir.is_dir() {
        return Err(CheckFailed(format!("{} is not a folder", display(dir))));
    }
    if let Some(config) = config {
        let path = dir.join(config);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(CheckFailed(format!(
                "no configuration at {}",
                display(&path)
            )))
        };
    }
    CANDIDATES
        .iter()
        .map(|candidate| dir.join(candidate))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            CheckFailed(format!(
                "no dev container configuration under {} (looked for {})",
                display(dir),
                CANDIDATES.join(" and ")
            ))
        })
}

fn read_text(path: &Path) -> Result<String, CheckFailed> {
    let unreadable = |why: String| CheckFailed(format!("cannot read {}: {why}", display(path)));
    let size = std::fs::metadata(path)
        .map_err(|e| unreadable(e.to_string()))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(unreadable(format!(
            "it is larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| unreadable("it is not UTF-8 text".into()))
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .map_or_else(|_| display(path), display)
}
