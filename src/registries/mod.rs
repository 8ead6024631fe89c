//! Which Codespaces secrets reach a codespace, which private registries they make
//! available to it, and how its image is pulled.
//!
//! Everything here is pure: the caller loads the candidate secrets (without values), the
//! repository, the user's role and the org's GitHub Container Registry packages, and opens
//! only the `_SERVER` values [`registries`] asks for. [`reach`] applies the visibility and
//! precedence rules, [`triplets`] groups `P_CONTAINER_REGISTRY_*` secrets, [`server`]
//! compares registry hosts, [`pull`] decides how the image is pulled, [`access`] does so
//! for the configured and the recovery image, and [`log`] words the creation-log lines. [`names`] holds the rules for secret names.

pub mod access;
pub mod log;
pub mod names;
pub mod pull;
pub mod reach;
pub mod server;
pub mod triplets;

#[cfg(test)]
mod pull_tests;
#[cfg(test)]
mod reach_tests;
#[cfg(test)]
mod server_tests;

pub use access::{access, Access, Images};
pub use log::{incomplete_lines, log_lines, pull_line};
pub use names::{check_secret_name, MAX_SECRET_NAME_LEN};
pub use pull::{ghcr_name, pull, Package, Pull};
pub use reach::{reaching, reaching_by, SecretEntry, Target};
pub use server::{image_registry, registry_of, same_registry, DOCKER_HUB};
pub use triplets::{registries, Incomplete, Registries, Registry};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Defines a wire-word enum with `as_str`, `parse` and serde in one place, so the three
/// visibilities and the level cannot drift from their wire words.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The wire word.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word),+
                }
            }

            /// The variant whose wire word is exactly `raw`.
            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == raw)
            }
        }
    };
}

wire_enum! {
    /// Where a secret is stored; declared from most to least specific.
    Level {
        /// The user's own secrets, for the repositories they select.
        User => "user",
        /// The repository's secrets.
        Repository => "repository",
        /// The organization's secrets, for the repositories their visibility allows.
        Organization => "organization",
    }
}

impl Level {
    /// Lower is more specific: a user secret overrides a repository one of the same name,
    /// which overrides an organization one.
    pub fn specificity_rank(self) -> u8 {
        match self {
            Self::User => 0,
            Self::Repository => 1,
            Self::Organization => 2,
        }
    }
}

wire_enum! {
    /// Which repositories an organization secret is available to.
    OrgSecretVisibility {
        /// Every repository of the org.
        All => "all",
        /// The org's private and internal repositories.
        Private => "private",
        /// Only the repositories listed in the secret.
        Selected => "selected",
    }
}

wire_enum! {
    /// A repository's visibility.
    RepoVisibility {
        Private => "private",
        Internal => "internal",
        Public => "public",
    }
}

wire_enum! {
    /// A GitHub Container Registry package's visibility.
    PackageVisibility {
        Public => "public",
        Internal => "internal",
        Private => "private",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_words_round_trip_and_unknown_words_are_refused() {
        let words: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
        assert_eq!(words, ["user", "repository", "organization"]);
        for v in OrgSecretVisibility::ALL {
            assert_eq!(OrgSecretVisibility::parse(v.as_str()), Some(*v));
        }
        for v in RepoVisibility::ALL {
            assert_eq!(RepoVisibility::parse(v.as_str()), Some(*v));
        }
        for v in PackageVisibility::ALL {
            assert_eq!(PackageVisibility::parse(v.as_str()), Some(*v));
        }
        assert_eq!(
            OrgSecretVisibility::parse("private"),
            Some(OrgSecretVisibility::Private)
        );
        assert_eq!(OrgSecretVisibility::parse("All"), None);
        assert_eq!(RepoVisibility::parse("secret"), None);
        assert_eq!(PackageVisibility::parse(""), None);
        assert_eq!(Level::parse("org"), None);
    }

    #[test]
    fn serde_uses_the_wire_words() {
        let json = serde_json::to_string(&PackageVisibility::Internal).unwrap_or_default();
        assert_eq!(json, "\"internal\"");
        let level: Level = serde_json::from_str("\"organization\"").unwrap();
        assert_eq!(level, Level::Organization);
    }

    #[test]
    fn user_is_more_specific_than_repository_than_organization() {
        assert!(Level::User.specificity_rank() < Level::Repository.specificity_rank());
        assert!(Level::Repository.specificity_rank() < Level::Organization.specificity_rank());
    }
}
