//! Names of orgs, repositories and users: 1 to 100 characters of `[A-Za-z0-9._-]`,
//! compared case-insensitively and returned as first written.

use std::fmt;

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
}
