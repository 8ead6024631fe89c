//! What the secrets that reach a codespace give it for pulling: its registries, and how
//! the configured image and the recovery image would each be pulled. Worked out before
//! the policy speaks, so that creation, full rebuild and preflight log the same lines.

use crate::registries::{pull, Package, Pull, Registries, Target};

/// How a codespace can pull the images it might be built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The registry triplets among its secrets.
    pub registries: Registries,
    /// How the configured image would be pulled.
    pub configured: Pull,
    /// How the recovery image would be pulled.
    pub recovery: Pull,
}

impl Access {
    /// No secrets and no packages: both images are pulled anonymously.
    pub fn anonymous() -> Self {
        Self {
            registries: Registries::default(),
            configured: Pull::Anonymous,
            recovery: Pull::Anonymous,
        }
    }
}

/// The images a codespace might be built from.
#[derive(Debug, Clone, Copy)]
pub struct Images<'a> {
    pub configured: &'a str,
    pub recovery: &'a str,
}

/// How `images` are pulled by a codespace of `target` in the org `org_login`, given its
/// registries and the org's packages those images name (`packages`, any order).
pub fn access(
    images: Images<'_>,
    org_login: &str,
    target: &Target,
    registries: Registries,
    packages: &[Package],
) -> Access {
    let find = |name: &str| {
        packages
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .cloned()
    };
    Access {
        configured: pull(images.configured, org_login, target, &registries, find),
        recovery: pull(images.recovery, org_login, target, &registries, find),
        registries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::Role;
    use crate::registries::{PackageVisibility, Registry, RepoVisibility};

    fn target() -> Target {
        Target {
            repo_id: 7,
            repo_visibility: RepoVisibility::Private,
            user_role: Some(Role::Member),
        }
    }

    #[test]
    fn each_image_is_pulled_by_its_own_rule() {
        let registries = Registries {
            complete: vec![Registry {
                server: "https://Example.azurecr.io/v1/".into(),
                secret_prefix: "ACR".into(),
            }],
            incomplete: Vec::new(),
        };
        let private = Package {
            name: "tools".into(),
            visibility: PackageVisibility::Private,
            repo_id: Some(9),
            inherit_access: true,
            granted_repo_ids: Vec::new(),
        };
        let images = Images {
            configured: "example.azurecr.io/team/app:1",
            recovery: "mcr.microsoft.com/devcontainers/base:ubuntu",
        };
        let got = access(images, "octo-org", &target(), registries.clone(), &[]);
        assert_eq!(
            got.configured,
            Pull::Credentials {
                secret_prefix: "ACR".into()
            }
        );
        assert_eq!(got.recovery, Pull::Anonymous);
        assert_eq!(got.registries, registries);

        let images = Images {
            configured: "ghcr.io/octo-org/TOOLS:1",
            ..images
        };
        let got = access(
            images,
            "octo-org",
            &target(),
            Registries::default(),
            &[private],
        );
        assert!(matches!(got.configured, Pull::Unpullable { .. }), "{got:?}");
        assert_eq!(got.recovery, Pull::Anonymous);
    }
}
