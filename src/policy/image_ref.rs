//! Validated container image references, kept exactly as written.
//!
//! The grammar is the OCI distribution reference grammar
//! (`github.com/distribution/reference`), checked by a hand-written parser so
//! that validation is linear in the input and bounded by [`MAX_IMAGE_REF_LEN`].
//! Nothing is normalized: `node:18` and `docker.io/library/node:18` are
//! different references, because policies compare references byte for byte.

use std::fmt;

use thiserror::Error;

use crate::policy::grammar::{check_characters, check_digest, check_name, check_tag};

/// Longest accepted reference, checked before anything else so that parsing
/// work is bounded regardless of what a client sends.
pub const MAX_IMAGE_REF_LEN: usize = 1024;

/// Longest name (registry plus repository path), as in the distribution spec.
const MAX_NAME_LEN: usize = 255;

/// Longest tag, as in the distribution spec.
pub(super) const MAX_TAG_LEN: usize = 128;

/// Fewest hexadecimal characters a digest may have.
pub(super) const MIN_DIGEST_HEX_LEN: usize = 32;

/// Why a string is not a valid image reference. Messages are meant for end users.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ImageRefError {
    /// The input was empty.
    #[error("the image reference must not be empty")]
    Empty,
    /// The input exceeded [`MAX_IMAGE_REF_LEN`].
    #[error("the image reference is longer than {MAX_IMAGE_REF_LEN} characters")]
    TooLong,
    /// The input contained a space, tab, newline or other whitespace.
    #[error("the image reference must not contain whitespace")]
    Whitespace,
    /// The input contained a control character such as NUL.
    #[error("the image reference must not contain control characters")]
    ControlCharacter,
    /// The input contained a non-ASCII character (for example a look-alike letter).
    #[error("the image reference must contain only ASCII characters")]
    NonAscii,
    /// The input contained a printable ASCII character outside the grammar.
    #[error("contains a character that is not allowed in an image reference: '{0}'")]
    InvalidCharacter(char),
    /// Nothing came before the tag or digest.
    #[error("the image reference has no repository name")]
    MissingName,
    /// Registry plus repository path exceeded 255 characters.
    #[error("the repository name is longer than {MAX_NAME_LEN} characters")]
    NameTooLong,
    /// The registry host or port is malformed.
    #[error("the registry '{0}' is not a valid host name, IPv6 address or host:port")]
    InvalidDomain(String),
    /// The repository path had an empty part, as in `a//b` or a trailing `/`.
    #[error("the repository path must not contain empty parts (such as '//' or a leading or trailing '/')")]
    EmptyPathComponent,
    /// The repository path contained an uppercase letter.
    #[error("the repository path must be lowercase")]
    UppercasePath,
    /// A repository path part broke the separator rules.
    #[error("the repository path part '{0}' is not valid: it must start and end with a letter or digit and use only '.', '_', '__' or '-' between them")]
    InvalidPathComponent(String),
    /// A `:` was not followed by a tag.
    #[error("the tag after ':' must not be empty")]
    EmptyTag,
    /// The tag exceeded 128 characters.
    #[error("the tag is longer than {MAX_TAG_LEN} characters")]
    TagTooLong,
    /// The tag contained disallowed characters or started with `.` or `-`.
    #[error("the tag must start with a letter, digit or '_' and contain only letters, digits, '_', '.' and '-'")]
    InvalidTag,
    /// The digest was not `algorithm:hex` with at least 32 hex characters.
    #[error("the digest must be of the form 'algorithm:hex' with at least {MIN_DIGEST_HEX_LEN} hexadecimal characters")]
    InvalidDigest,
}

/// A syntactically valid image reference, stored exactly as the user wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageRef(String);

impl ImageRef {
    /// Parses `s` against the distribution reference grammar without normalizing it.
    ///
    /// # Errors
    ///
    /// Returns the first rule `s` breaks, as an [`ImageRefError`].
    pub fn parse(s: &str) -> Result<ImageRef, ImageRefError> {
        // Length first: every later step is linear in the input.
        if s.len() > MAX_IMAGE_REF_LEN {
            return Err(ImageRefError::TooLong);
        }
        if s.is_empty() {
            return Err(ImageRefError::Empty);
        }
        check_characters(s)?;

        // Neither the name nor the tag may contain '@', so the first one
        // starts the digest.
        let (name_and_tag, digest) = match s.split_once('@') {
            Some((before, after)) => (before, Some(after)),
            None => (s, None),
        };
        // A ':' after the last '/' starts the tag; one before it belongs to a
        // registry port (as in `localhost:5000/app`).
        let last_slash = name_and_tag.rfind('/');
        let (name, tag) = match name_and_tag.rfind(':') {
            Some(colon) if last_slash.is_none_or(|slash| colon > slash) => {
                (&name_and_tag[..colon], Some(&name_and_tag[colon + 1..]))
            }
            _ => (name_and_tag, None),
        };

        if name.is_empty() {
            return Err(ImageRefError::MissingName);
        }
        if name.len() > MAX_NAME_LEN {
            return Err(ImageRefError::NameTooLong);
        }
        check_name(name)?;
        if let Some(tag) = tag {
            check_tag(tag)?;
        }
        if let Some(digest) = digest {
            check_digest(digest)?;
        }
        Ok(ImageRef(s.to_owned()))
    }

    /// The reference exactly as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX64: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn accepts_valid_references_unchanged() {
        let digest = format!("a@sha256:{HEX64}");
        let tag128 = format!("a:{}", "t".repeat(128));
        let long_name = format!("a/{}", "b".repeat(253));
        let valid = [
            "node",
            "node:18",
            "docker.io/library/node:18",
            "mcr.microsoft.com/devcontainers/universal:2",
            "localhost:5000/a/b:tag",
            "localhost/a",
            "ghcr.io/octo-org/dev:1.2",
            "[::1]:5000/x",
            "[fe80::1]/x:latest",
            "Foo/bar",
            "docker.io",
            "a_b/c__d/e.f/g-h/i---j",
            "a:_Tag.With-Chars",
            "my-registry.example.com:443/team/app:v1@sha256:0123456789abcdef0123456789abcdef",
            "app@sha256+b64u.v2_x-y:0123456789ABCDEF0123456789abcdef",
            digest.as_str(),
            tag128.as_str(),
            long_name.as_str(),
        ];
        for s in valid {
            let parsed = ImageRef::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(parsed.as_str(), s);
            assert_eq!(parsed.to_string(), s);
        }
    }

    #[test]
    fn rejects_invalid_references() {
        use ImageRefError as E;
        let dom = |s: &str| E::InvalidDomain(s.to_owned());
        let comp = |s: &str| E::InvalidPathComponent(s.to_owned());
        let cases: Vec<(String, ImageRefError)> = vec![
            ("".into(), E::Empty),
            (" node".into(), E::Whitespace),
            ("node:18\n".into(), E::Whitespace),
            ("no\0de".into(), E::ControlCharacter),
            ("node\u{7f}".into(), E::ControlCharacter),
            ("nöde".into(), E::NonAscii),
            ("n\u{43e}de".into(), E::NonAscii), // Cyrillic 'о'
            ("node!".into(), E::InvalidCharacter('!')),
            ("a*".into(), E::InvalidCharacter('*')),
            ("Node:18".into(), E::UppercasePath),
            ("ubuntu/Foo".into(), E::UppercasePath),
            ("docker.io/Library/node".into(), E::UppercasePath),
            ("a..b".into(), comp("a..b")),
            ("a._b".into(), comp("a._b")),
            ("a___b".into(), comp("a___b")),
            ("-a".into(), comp("-a")),
            ("a-".into(), comp("a-")),
            ("a//b".into(), E::EmptyPathComponent),
            ("/a".into(), E::EmptyPathComponent),
            ("a/".into(), E::EmptyPathComponent),
            ("docker.io/".into(), E::EmptyPathComponent),
            ("a:".into(), E::EmptyTag),
            (":tag".into(), E::MissingName),
            (format!("@sha256:{HEX64}"), E::MissingName),
            (format!("a:{}", "t".repeat(129)), E::TagTooLong),
            ("a:.tag".into(), E::InvalidTag),
            ("a:-tag".into(), E::InvalidTag),
            ("a:b:c".into(), comp("a:b")),
            ("a@sha256:abc".into(), E::InvalidDigest),
            ("a@sha256".into(), E::InvalidDigest),
            ("a@:".into(), E::InvalidDigest),
            (format!("a@1sha:{HEX64}"), E::InvalidDigest),
            (format!("a@sha256:{}g", &HEX64[..40]), E::InvalidDigest),
            (format!("a@sha256:{HEX64}@x"), E::InvalidDigest),
            ("-bad.io/a".into(), dom("-bad.io")),
            ("a_b.io/c".into(), dom("a_b.io")),
            ("a..io/c".into(), dom("a..io")),
            ("localhost:/a".into(), dom("localhost:")),
            ("localhost:50a/a".into(), dom("localhost:50a")),
            ("[]/a".into(), comp("[]")),
            ("[::1/a".into(), dom("[::1")),
            ("[::g]/a".into(), dom("[::g]")),
            ("[::1]5000/a".into(), dom("[::1]5000")),
            (format!("a/{}", "b".repeat(254)), E::NameTooLong),
            ("a".repeat(MAX_IMAGE_REF_LEN + 1), E::TooLong),
        ];
        for (input, expected) in &cases {
            assert_eq!(ImageRef::parse(input).as_ref(), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn error_messages_are_readable() {
        let msg = |s: &str| ImageRef::parse(s).unwrap_err().to_string();
        assert_eq!(msg("ubuntu/Foo"), "the repository path must be lowercase");
        assert_eq!(
            msg(&format!("a:{}", "t".repeat(129))),
            "the tag is longer than 128 characters"
        );
        assert_eq!(
            msg("a#b"),
            "contains a character that is not allowed in an image reference: '#'"
        );
        assert_eq!(msg(""), "the image reference must not be empty");
    }
}
