//! The creation-log lines about registries: one per incomplete credential triplet, then
//! the line that says how the image is pulled (or, when it cannot be, why).
//!
//! The pull line holds exactly one of the phrases [`WITH_CREDENTIALS`],
//! [`THROUGH_GHCR_ACCESS`] and [`ANONYMOUSLY`], and the other lines hold none of them, so
//! the orchestrator and its tests can tell how an image was pulled by searching the log.

use crate::registries::pull::registry_label;
use crate::registries::{Pull, Registries};

/// The phrase of a pull with a triplet's credentials, followed by `P_CONTAINER_REGISTRY_*`.
pub const WITH_CREDENTIALS: &str = "with the credentials in";
/// The phrase of a pull with the codespace's GitHub Container Registry access.
pub const THROUGH_GHCR_ACCESS: &str = "through GitHub Container Registry access";
/// The phrase of a pull without credentials.
pub const ANONYMOUSLY: &str = "anonymously";

/// The creation-log lines: one per incomplete triplet (in prefix order), then the pull
/// line (for [`Pull::Unpullable`], the line that says why, which the caller puts last).
pub fn log_lines(image: &str, registries: &Registries, pull: &Pull) -> Vec<String> {
    let mut lines = incomplete_lines(registries);
    lines.push(pull_line(image, pull));
    lines
}

/// One line per incomplete triplet, in prefix order, naming the secrets it lacks.
pub fn incomplete_lines(registries: &Registries) -> Vec<String> {
    registries
        .incomplete
        .iter()
        .map(|incomplete| {
            format!(
                "The registry secrets {}_CONTAINER_REGISTRY_* are incomplete and were not used: \
                 missing {}.",
                incomplete.prefix,
                incomplete.missing.join(", ")
            )
        })
        .collect()
}

/// The one line that says how `image` is pulled.
pub fn pull_line(image: &str, pull: &Pull) -> String {
    let registry = registry_label(image);
    match pull {
        Pull::Credentials { secret_prefix } => format!(
            "Pulling the image {image} from {registry} {WITH_CREDENTIALS} \
             {secret_prefix}_CONTAINER_REGISTRY_*."
        ),
        Pull::GhcrAccess => format!("Pulling the image {image} {THROUGH_GHCR_ACCESS}."),
        Pull::Anonymous => format!("Pulling the image {image} from {registry} {ANONYMOUSLY}."),
        Pull::Unpullable { reason } => reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registries::Incomplete;

    #[test]
    fn each_pull_has_its_line() {
        let none = Registries::default();
        let line = |image: &str, pull: Pull| log_lines(image, &none, &pull).join("\n");
        assert_eq!(
            line(
                "ghcr.io/o/app:1",
                Pull::Credentials {
                    secret_prefix: "GH".into()
                }
            ),
            "Pulling the image ghcr.io/o/app:1 from ghcr.io with the credentials in \
             GH_CONTAINER_REGISTRY_*."
        );
        assert_eq!(
            line("ghcr.io/o/app:1", Pull::GhcrAccess),
            "Pulling the image ghcr.io/o/app:1 through GitHub Container Registry access."
        );
        assert_eq!(
            line("node:18", Pull::Anonymous),
            "Pulling the image node:18 from Docker Hub anonymously."
        );
        let reason = "The image x cannot be pulled: because.".to_owned();
        assert_eq!(
            line(
                "x",
                Pull::Unpullable {
                    reason: reason.clone()
                }
            ),
            reason
        );
    }

    #[test]
    fn incomplete_triplets_come_first_one_line_each() {
        let registries = Registries {
            complete: Vec::new(),
            incomplete: vec![
                Incomplete {
                    prefix: "A".into(),
                    missing: vec!["A_CONTAINER_REGISTRY_USER".into()],
                },
                Incomplete {
                    prefix: "B".into(),
                    missing: vec![
                        "B_CONTAINER_REGISTRY_SERVER".into(),
                        "B_CONTAINER_REGISTRY_PASSWORD".into(),
                    ],
                },
            ],
        };
        let lines = log_lines("node:18", &registries, &Pull::Anonymous);
        assert_eq!(
            lines,
            [
                "The registry secrets A_CONTAINER_REGISTRY_* are incomplete and were not used: \
                 missing A_CONTAINER_REGISTRY_USER.",
                "The registry secrets B_CONTAINER_REGISTRY_* are incomplete and were not used: \
                 missing B_CONTAINER_REGISTRY_SERVER, B_CONTAINER_REGISTRY_PASSWORD.",
                "Pulling the image node:18 from Docker Hub anonymously.",
            ]
        );
        let phrases = [WITH_CREDENTIALS, THROUGH_GHCR_ACCESS, ANONYMOUSLY];
        for line in &lines[..2] {
            assert!(phrases.iter().all(|p| !line.contains(p)), "{line}");
        }
    }
}
