//! How a codespace's image is pulled: anonymously, through GitHub Container Registry
//! access for the org's own packages, with the credentials of a registry triplet, or not
//! at all (the codespace then starts in recovery mode).

use crate::registries::{
    image_registry, PackageVisibility, Registries, RepoVisibility, Target, DOCKER_HUB,
};

/// The GitHub Container Registry host.
pub const GHCR: &str = "ghcr.io";

/// A GitHub Container Registry package of the codespace's org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The package name, which may contain `/` (as in `team/app`).
    pub name: String,
    /// Who may pull it.
    pub visibility: PackageVisibility,
    /// The repository it was published from, if linked.
    pub repo_id: Option<i64>,
    /// Whether its source repository's access carries over to the package.
    pub inherit_access: bool,
    /// The repositories granted Codespaces access to it.
    pub granted_repo_ids: Vec<i64>,
}

/// How the image is pulled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pull {
    /// With the credentials in `{secret_prefix}_CONTAINER_REGISTRY_*`.
    Credentials { secret_prefix: String },
    /// With the codespace's own GitHub Container Registry access to an org package.
    GhcrAccess,
    /// Without credentials.
    Anonymous,
    /// It cannot be pulled; `reason` is the whole creation-log line that says why.
    Unpullable { reason: String },
}

/// An image named as a package of GitHub Container Registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GhcrName<'a> {
    /// The owner, as written in the image.
    pub org: &'a str,
    /// Everything after the owner up to the tag or digest.
    pub package: &'a str,
}

/// The owner and package of a `ghcr.io/{org}/{package}[:tag|@digest]` image; `None` for
/// an image on another registry or without a package part.
pub fn ghcr_name(image: &str) -> Option<GhcrName<'_>> {
    if image_registry(image) != GHCR {
        return None;
    }
    let name = image.split('@').next().unwrap_or(image);
    // A ':' after the last '/' starts the tag; the host part holds no port here.
    let last_slash = name.rfind('/')?;
    let name = match name.rfind(':') {
        Some(colon) if colon > last_slash => &name[..colon],
        _ => name,
    };
    let (_host, path) = name.split_once('/')?;
    let (org, package) = path.split_once('/')?;
    (!org.is_empty() && !package.is_empty()).then_some(GhcrName { org, package })
}

/// How the codespace's `image` is pulled; `package(name)` finds a package of the
/// codespace's org (`org_login`) by name, case-insensitively.
pub fn pull(
    image: &str,
    org_login: &str,
    target: &Target,
    registries: &Registries,
    package: impl Fn(&str) -> Option<Package>,
) -> Pull {
    let org_package = ghcr_name(image)
        .filter(|name| name.org.eq_ignore_ascii_case(org_login))
        .and_then(|name| package(name.package).map(|found| (name, found)));
    let Some((name, package)) = org_package else {
        // Not one of the org's packages: a matching triplet if there is one, else anonymous.
        let host = image_registry(image);
        return match registries.for_host(&host) {
            Some(registry) => credentials(&registry.secret_prefix),
            None => Pull::Anonymous,
        };
    };

    if package.visibility == PackageVisibility::Public {
        return Pull::Anonymous;
    }
    if has_ghcr_access(&package, target) {
        return Pull::GhcrAccess;
    }
    if let Some(registry) = registries.for_host(GHCR) {
        return credentials(&registry.secret_prefix);
    }
    Pull::Unpullable {
        reason: unpullable_reason(image, &name, &package, target),
    }
}

/// Whether the codespace's repository may pull a non-public package without credentials.
fn has_ghcr_access(package: &Package, target: &Target) -> bool {
    let inherited = package.inherit_access && package.repo_id == Some(target.repo_id);
    // Internal packages are for the org's private and internal repositories, not public ones.
    let internal = package.visibility == PackageVisibility::Internal
        && target.repo_visibility != RepoVisibility::Public;
    inherited || internal || package.granted_repo_ids.contains(&target.repo_id)
}

fn credentials(prefix: &str) -> Pull {
    Pull::Credentials {
        secret_prefix: prefix.to_owned(),
    }
}

/// The creation-log line for an image that cannot be pulled, naming the rule that failed.
fn unpullable_reason(
    image: &str,
    name: &GhcrName<'_>,
    package: &Package,
    target: &Target,
) -> String {
    let why = match (package.visibility, package.repo_id == Some(target.repo_id)) {
        (PackageVisibility::Internal, _) => {
            "it is internal, which a public repository can use only if granted access".to_owned()
        }
        (_, true) => "this repository is its source repository, but the package does not \
            inherit access from it, and this repository has not been granted access"
            .to_owned(),
        (visibility, false) => format!(
            "it is {} and this repository has not been granted access to it",
            visibility.as_str()
        ),
    };
    format!(
        "The image {image} cannot be pulled: the package {}/{} is not available to this \
         codespace ({why}) and no {GHCR} registry credentials reach it; the codespace was \
         created in recovery mode.",
        name.org, name.package
    )
}

/// The registry named in the pull line: Docker Hub under its usual name.
pub fn registry_label(image: &str) -> String {
    let host = image_registry(image);
    if host == DOCKER_HUB {
        "Docker Hub".to_owned()
    } else {
        host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_package_name_runs_from_the_org_to_the_tag_or_digest() {
        let digest = format!("ghcr.io/octo-org/team/app@{DIGEST}");
        let both = format!("ghcr.io/octo-org/team/app:1@{DIGEST}");
        let expected = Some(GhcrName {
            org: "octo-org",
            package: "team/app",
        });
        for image in [
            "ghcr.io/octo-org/team/app:1",
            "ghcr.io/octo-org/team/app",
            &digest,
            &both,
        ] {
            assert_eq!(ghcr_name(image), expected, "{image}");
        }
        assert_eq!(
            ghcr_name("ghcr.io/Octo-Org/app:1").map(|n| n.package),
            Some("app")
        );
        assert_eq!(
            ghcr_name("GHCR.IO/octo-org/app").map(|n| n.org),
            Some("octo-org")
        );
        assert_eq!(ghcr_name("ghcr.io/octo-org"), None);
        assert_eq!(ghcr_name("ghcr.io/octo-org:1"), None);
        assert_eq!(ghcr_name("docker.io/octo-org/app"), None);
        assert_eq!(ghcr_name("octo-org/app"), None);
    }
}
