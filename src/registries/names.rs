//! The rules a Codespaces secret name must follow, at every level.

/// Longest accepted secret name, as GitHub allows.
pub const MAX_SECRET_NAME_LEN: usize = 255;

/// The reserved prefix: such names would shadow the variables GitHub itself sets.
const RESERVED_PREFIX: &str = "GITHUB_";

/// Checks a secret name and returns it upper-cased, the form it is stored and compared in.
///
/// # Errors
///
/// Returns why the name is refused, as a message for end users.
pub fn check_secret_name(name: &str) -> Result<String, &'static str> {
    if name.is_empty() {
        return Err("the secret name must not be empty");
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err("the secret name may contain only letters, digits and '_'");
    }
    // Checked after the characters so that the length counted is also the character count.
    if name.len() > MAX_SECRET_NAME_LEN {
        return Err("the secret name must not be longer than 255 characters");
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("the secret name must not start with a digit");
    }
    let upper = name.to_ascii_uppercase();
    if upper.starts_with(RESERVED_PREFIX) {
        return Err("the secret name must not start with GITHUB_");
    }
    Ok(upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_are_upper_cased() {
        assert_eq!(check_secret_name("my_token").as_deref(), Ok("MY_TOKEN"));
        assert_eq!(check_secret_name("_A1").as_deref(), Ok("_A1"));
        assert_eq!(check_secret_name("A").as_deref(), Ok("A"));
        assert_eq!(check_secret_name("GITHUB").as_deref(), Ok("GITHUB"));
        assert_eq!(
            check_secret_name("MY_GITHUB_X").as_deref(),
            Ok("MY_GITHUB_X")
        );
        let longest = "a".repeat(MAX_SECRET_NAME_LEN);
        assert_eq!(
            check_secret_name(&longest),
            Ok(longest.to_ascii_uppercase())
        );
    }

    #[test]
    fn invalid_names_say_why() {
        let cases = [
            ("", "the secret name must not be empty"),
            (
                "A-B",
                "the secret name may contain only letters, digits and '_'",
            ),
            (
                "A B",
                "the secret name may contain only letters, digits and '_'",
            ),
            (
                "É",
                "the secret name may contain only letters, digits and '_'",
            ),
            ("1ABC", "the secret name must not start with a digit"),
            (
                "GITHUB_TOKEN",
                "the secret name must not start with GITHUB_",
            ),
            ("github_x", "the secret name must not start with GITHUB_"),
            ("GitHub_", "the secret name must not start with GITHUB_"),
        ];
        for (name, why) in cases {
            assert_eq!(check_secret_name(name), Err(why), "{name:?}");
        }
        assert_eq!(
            check_secret_name(&"a".repeat(MAX_SECRET_NAME_LEN + 1)),
            Err("the secret name must not be longer than 255 characters")
        );
    }
}
