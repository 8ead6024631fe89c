//! Names of orgs, repositories and users: 1 to 100 characters of `[A-Za-z0-9._-]`,
//! compared case-insensitively and returned as first written. Also the names of GitHub
//! Container Registry packages, which follow the OCI repository path grammar instead.

use std::fmt;

use crate::policy::{check_repository_path, ImageRefError};

pub const MAX_NAME_LEN: usize = 100;

/// A validated name. Past the HTTP edge, code never re-validates name strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most 100 characters")]
    TooLong,
    #[error("may contain only letters, digits, '.', '_' and '-'")]
    BadCharacter,
}

impl Name {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        if raw.is_empty() {
            return Err(NameError::Empty);
        }
        if raw.len() > MAX_NAME_LEN {
            return Err(NameError::TooLong);
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(NameError::BadCharacter);
        }
        Ok(Self(raw.to_string()))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form names are compared and indexed by.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest package name, as the distribution spec bounds a repository name.
pub const MAX_PACKAGE_NAME_LEN: usize = 255;

/// A GitHub Container Registry package name: an OCI repository path, lowercase components
/// joined by `/` (`app`, `team/app`). Lowercase by its grammar, so it is its own key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PackageName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageNameError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_PACKAGE_NAME_LEN} characters")]
    TooLong,
    #[error("must be lowercase")]
    Uppercase,
    #[error("may contain only lowercase letters, digits, '.', '_', '-' and '/'")]
    BadCharacter,
    #[error("must not have an empty part (as in '//', or a leading or trailing '/')")]
    EmptyPart,
    #[error(
        "has the part '{0}', which must start and end with a letter or digit and join them \
         only with '.', '_', '__' or dashes"
    )]
    BadPart(String),
}

impl PackageName {
    pub fn parse(raw: &str) -> Result<Self, PackageNameError> {
        if raw.is_empty() {
            return Err(PackageNameError::Empty);
        }
        if raw.len() > MAX_PACKAGE_NAME_LEN {
            return Err(PackageNameError::TooLong);
        }
        if raw.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(PackageNameError::Uppercase);
        }
        // The alphabet first, so that a part echoed in a message holds nothing odd.
        let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/".contains(&b);
        if !raw.bytes().all(allowed) {
            return Err(PackageNameError::BadCharacter);
        }
        check_repository_path(raw).map_err(|err| match err {
            ImageRefError::EmptyPathComponent => PackageNameError::EmptyPart,
            ImageRefError::InvalidPathComponent(part) => PackageNameError::BadPart(part),
            ImageRefError::UppercasePath => PackageNameError::Uppercase,
            _ => PackageNameError::BadCharacter,
        })?;
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A free-text label (a policy's or a service token's name): 1 to 100 characters, none of
/// them a control character.
pub fn is_label(text: &str) -> bool {
    !text.is_empty() && text.chars().count() <= MAX_NAME_LEN && !text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_short_and_free_of_control_characters() {
        assert!(is_label("Approved images ✓"));
        assert!(!is_label(""));
        assert!(!is_label(&"x".repeat(101)));
        assert!(!is_label("a\nb"));
        assert!(!is_label("a\u{85}b"));
    }

    #[test]
    fn accepts_the_allowed_alphabet_and_keeps_the_case() {
        let name = Name::parse("Octo-Org_1.x").unwrap();
        assert_eq!(name.as_str(), "Octo-Org_1.x");
        assert_eq!(name.key(), "octo-org_1.x");
    }

    #[test]
    fn refuses_empty_long_and_odd_names() {
        assert_eq!(Name::parse(""), Err(NameError::Empty));
        assert_eq!(Name::parse(&"a".repeat(101)), Err(NameError::TooLong));
        assert!(Name::parse(&"a".repeat(100)).is_ok());
        for bad in ["a b", "a/b", "ä", "a\0", "a*"] {
            assert_eq!(Name::parse(bad), Err(NameError::BadCharacter), "{bad:?}");
        }
    }

    #[test]
    fn package_names_follow_the_repository_path_grammar() {
        let (longest, too_long) = ("a".repeat(255), "a".repeat(256));
        for ok in ["app", "team/app", "a.b_c__d---e/0", longest.as_str()] {
            assert_eq!(
                PackageName::parse(ok).map(|n| n.0),
                Ok(ok.to_string()),
                "{ok}"
            );
        }
        let cases = [
            ("", PackageNameError::Empty),
            (too_long.as_str(), PackageNameError::TooLong),
            ("Team/app", PackageNameError::Uppercase),
            ("team app", PackageNameError::BadCharacter),
            ("tëam", PackageNameError::BadCharacter),
            ("a\0", PackageNameError::BadCharacter),
            ("team:1", PackageNameError::BadCharacter),
            ("team//app", PackageNameError::EmptyPart),
            ("/app", PackageNameError::EmptyPart),
            ("app/", PackageNameError::EmptyPart),
            ("..", PackageNameError::BadPart("..".into())),
            ("team/a..b", PackageNameError::BadPart("a..b".into())),
            ("_app", PackageNameError::BadPart("_app".into())),
            ("a___b", PackageNameError::BadPart("a___b".into())),
        ];
        for (bad, error) in cases {
            assert_eq!(PackageName::parse(bad), Err(error), "{bad:?}");
        }
    }
}
