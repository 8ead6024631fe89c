//! One entry of a policy's allowed base images: an exact reference, or a
//! prefix ending in `*`.

use thiserror::Error;

use crate::policy::image_ref::{ImageRef, ImageRefError};

/// Longest accepted allowed value, including a trailing `*`.
pub const MAX_ALLOWED_VALUE_LEN: usize = 512;

/// Most allowed values one policy may hold; enforced by the caller, which
/// knows where the values come from.
pub const MAX_ALLOWED_VALUES: usize = 1000;

/// Why a string is not a valid allowed value. Messages are meant for end users.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AllowedValueError {
    /// The value was empty.
    #[error("the allowed value must not be empty")]
    Empty,
    /// The value exceeded [`MAX_ALLOWED_VALUE_LEN`].
    #[error("the allowed value is longer than {MAX_ALLOWED_VALUE_LEN} characters")]
    TooLong,
    /// The value contained whitespace or a control character.
    #[error("the allowed value must not contain whitespace or control characters")]
    WhitespaceOrControl,
    /// The value contained a non-ASCII character (for example a look-alike letter).
    #[error("the allowed value must contain only ASCII characters")]
    NonAscii,
    /// A `*` appeared somewhere other than the end.
    #[error("in an allowed value, '*' may only be the last character")]
    MisplacedWildcard,
    /// An exact value (no `*`) was not a valid image reference, so it could never match.
    #[error("the allowed value is not a valid image reference: {0}")]
    InvalidImageRef(#[from] ImageRefError),
}

/// An allowed base image: exact (`node:18`) or prefix (`ghcr.io/octo-org/*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedValue {
    /// The value exactly as written, including any trailing `*`.
    value: String,
    is_prefix: bool,
}

impl AllowedValue {
    /// Validates `s` as an allowed value.
    ///
    /// # Errors
    ///
    /// Returns the first rule `s` breaks, as an [`AllowedValueError`].
    pub fn parse(s: &str) -> Result<AllowedValue, AllowedValueError> {
        // Length first: every later step is linear in the input.
        if s.len() > MAX_ALLOWED_VALUE_LEN {
            return Err(AllowedValueError::TooLong);
        }
        if s.is_empty() {
            return Err(AllowedValueError::Empty);
        }
        for c in s.chars() {
            if c.is_whitespace() || c.is_control() {
                return Err(AllowedValueError::WhitespaceOrControl);
            }
            if !c.is_ascii() {
                return Err(AllowedValueError::NonAscii);
            }
        }
        match s.find('*') {
            Some(pos) if pos + 1 != s.len() => Err(AllowedValueError::MisplacedWildcard),
            // A prefix is a partial reference (`ghcr.io/octo-org/` or
            // `node:1`), so only the character rules above apply to it.
            Some(_) => Ok(AllowedValue {
                value: s.to_owned(),
                is_prefix: true,
            }),
            None => {
                // An exact value that is not a reference could never match,
                // so reject it now rather than let it silently allow nothing.
                ImageRef::parse(s)?;
                Ok(AllowedValue {
                    value: s.to_owned(),
                    is_prefix: false,
                })
            }
        }
    }

    /// The value as written, including a trailing `*`.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// Whether this value ends in `*` and so matches by prefix.
    pub fn is_prefix(&self) -> bool {
        self.is_prefix
    }

    /// The part before `*` for a prefix value, or the whole value when exact.
    pub fn prefix(&self) -> &str {
        if self.is_prefix {
            // `parse` guarantees the `*` is the last character.
            self.value.strip_suffix('*').unwrap_or(&self.value)
        } else {
            &self.value
        }
    }

    /// Whether `image` is allowed by this value. Comparison is byte for byte and
    /// case-sensitive, with no normalization (`node:18` does not match
    /// `docker.io/library/node:18`).
    pub fn matches(&self, image: &ImageRef) -> bool {
        if self.is_prefix {
            image.as_str().starts_with(self.prefix())
        } else {
            image.as_str() == self.value
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &str) -> AllowedValue {
        AllowedValue::parse(s).unwrap()
    }

    fn image(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap()
    }

    #[test]
    fn parses_exact_and_prefix_values() {
        let exact = value("node:18");
        assert!(!exact.is_prefix());
        assert_eq!(exact.as_str(), "node:18");
        assert_eq!(exact.prefix(), "node:18");

        let prefix = value("ghcr.io/octo-org/*");
        assert!(prefix.is_prefix());
        assert_eq!(prefix.as_str(), "ghcr.io/octo-org/*");
        assert_eq!(prefix.prefix(), "ghcr.io/octo-org/");

        let all = value("*");
        assert!(all.is_prefix());
        assert_eq!(all.prefix(), "");
    }

    #[test]
    fn prefix_part_is_not_grammar_checked() {
        // Partial references that are not themselves valid references.
        for s in ["node:*", "ghcr.io/*", "Docker.IO/*", "a..*", "x@sha256:ab*"] {
            assert!(value(s).is_prefix(), "{s}");
        }
    }

    #[test]
    fn rejects_bad_values() {
        use AllowedValueError as E;
        let cases: &[(&str, AllowedValueError)] = &[
            ("", E::Empty),
            (" node", E::WhitespaceOrControl),
            ("node:18 ", E::WhitespaceOrControl),
            ("no\tde*", E::WhitespaceOrControl),
            ("node:18\n", E::WhitespaceOrControl),
            ("node\0*", E::WhitespaceOrControl),
            ("nöde*", E::NonAscii),
            ("*node", E::MisplacedWildcard),
            ("no*de", E::MisplacedWildcard),
            ("**", E::MisplacedWildcard),
            ("Node:18", E::InvalidImageRef(ImageRefError::UppercasePath)),
            ("a:", E::InvalidImageRef(ImageRefError::EmptyTag)),
        ];
        for (input, expected) in cases {
            assert_eq!(
                AllowedValue::parse(input).as_ref(),
                Err(expected),
                "{input:?}"
            );
        }
    }

    #[test]
    fn enforces_length_limit() {
        let at_limit = format!("{}*", "a".repeat(MAX_ALLOWED_VALUE_LEN - 1));
        assert!(AllowedValue::parse(&at_limit).is_ok());
        let over = format!("{}*", "a".repeat(MAX_ALLOWED_VALUE_LEN));
        assert_eq!(AllowedValue::parse(&over), Err(AllowedValueError::TooLong));
    }

    #[test]
    fn error_messages_are_readable() {
        let err = AllowedValue::parse("a*b").unwrap_err();
        assert_eq!(
            err.to_string(),
            "in an allowed value, '*' may only be the last character"
        );
        let err = AllowedValue::parse("ubuntu/Foo").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the allowed value is not a valid image reference: the repository path must be lowercase"
        );
    }

    #[test]
    fn exact_match_is_byte_equal_without_normalization() {
        let v = value("node:18");
        assert!(v.matches(&image("node:18")));
        assert!(!v.matches(&image("docker.io/library/node:18")));
        assert!(!v.matches(&image("node:18.1")));
        assert!(!v.matches(&image("node")));
        let upper = value("Docker.io/node:18");
        assert!(upper.matches(&image("Docker.io/node:18")));
        assert!(!upper.matches(&image("docker.io/node:18")));
    }

    #[test]
    fn prefix_matches_longer_not_shorter() {
        let v = value("ghcr.io/octo-org/*");
        assert!(v.matches(&image("ghcr.io/octo-org/dev:1.2")));
        assert!(!v.matches(&image("ghcr.io/octo-org")));
        assert!(!v.matches(&image("ghcr.io/other/dev")));
        assert!(!v.matches(&image("GHCR.io/octo-org/dev")));
        // `*` may match nothing at all.
        assert!(value("node:18*").matches(&image("node:18")));
        assert!(value("node:18*").matches(&image("node:18-alpine")));
    }

    #[test]
    fn star_alone_matches_everything() {
        let v = value("*");
        for s in [
            "a",
            "node:18",
            "[::1]:5000/x@sha256:0123456789abcdef0123456789abcdef",
        ] {
            assert!(v.matches(&image(s)), "{s}");
        }
    }
}
