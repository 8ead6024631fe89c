//! `base-image-policy check [DIR]`: the CI step. It reads a repository's dev container
//! configuration and the files it refers to, asks the service's preflight what creating a
//! codespace would do now, prints the answer for a person reading a CI log, and exits
//! 0 (would be created as configured), 1 (refused, or recovery mode) or 2 (the check
//! itself could not be made).

mod files;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{json, Value};

/// How long the whole preflight request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest preflight answer read; the service's are far smaller.
const MAX_ANSWER_BYTES: u64 = 4 * 1024 * 1024;

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The repository's folder.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The dev container configuration, relative to DIR [default:
    /// .devcontainer/devcontainer.json, else .devcontainer.json].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The service's base URL.
    #[arg(long, env = "BIP_URL")]
    pub url: String,
    /// The repository as OWNER/REPO [default: $GITHUB_REPOSITORY].
    #[arg(long, env = "GITHUB_REPOSITORY")]
    pub repository: String,
    /// Judge the codespace of this user (as its billing decides); without it, the
    /// codespace is judged as billed to the organization.
    #[arg(long)]
    pub user: Option<String>,
    /// `text` for a person, `json` for the preflight answer as the service gave it.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Why the check could not be made: printed as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CheckFailed(String);

/// Runs the check; the token comes from `BIP_TOKEN` (never a flag, so that it stays out of
/// process listings and shell history).
pub fn run(args: &CheckArgs, token: Option<String>) -> ExitCode {
    match check(args, token) {
        Ok(code) => code,
        Err(CheckFailed(reason)) => {
            eprintln!("base-image-policy check: {reason}");
            ExitCode::from(2)
        }
    }
}

fn check(args: &CheckArgs, token: Option<String>) -> Result<ExitCode, CheckFailed> {
    let token = token.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
        CheckFailed("BIP_TOKEN is not set: give it a token that may call the preflight".into())
    })?;
    let (owner, repo) = args
        .repository
        .split_once('/')
        .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
        .ok_or_else(|| {
            CheckFailed(format!(
                "--repository must be OWNER/REPO, not '{}'",
                args.repository
            ))
        })?;
    let configuration = files::read(&args.dir, args.config.as_deref())?;
    let mut body = json!({ "devcontainer": configuration.devcontainer_text });
    if let Some(dockerfile) = &configuration.dockerfile {
        body["dockerfile"] = json!(dockerfile);
    }
    if !configuration.compose_files.is_empty() {
        body["compose_files"] = json!(configuration.compose_files);
    }
    if let Some(user) = &args.user {
        body["user"] = json!(user);
    }
    let url = format!(
        "{}/repos/{owner}/{repo}/codespaces/preflight",
        args.url.trim_end_matches('/')
    );
    let (status, text) = post(&url, &token, &body.to_string())?;
    let answer: Value = serde_json::from_str(&text).map_err(|_| {
        CheckFailed(format!(
            "the service answered {status} with a body that is not JSON"
        ))
    })?;
    if status != 200 {
        return Err(CheckFailed(report::error_line(status, &answer)));
    }
    let outcome = answer["outcome"].as_str().unwrap_or_default();
    let code = match outcome {
        "create" => 0,
        "refuse" | "recovery" => 1,
        other => {
            return Err(CheckFailed(format!(
                "the service answered an unknown outcome '{other}'"
            )))
        }
    };
    match args.format {
        Format::Json => println!("{text}"),
        Format::Text => print!(
            "{}",
            report::text(&args.repository, &configuration.path, &answer)
        ),
    }
    Ok(ExitCode::from(code))
}

/// POSTs `body` and returns the status and the answer's text, whatever the status.
fn post(url: &str, token: &str, body: &str) -> Result<(u16, String), CheckFailed> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(REQUEST_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .send(body)
        .map_err(|err| CheckFailed(format!("could not reach {url}: {err}")))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_string()
        .map_err(|err| CheckFailed(format!("could not read the answer of {url}: {err}")))?;
    Ok((status, text))
}
