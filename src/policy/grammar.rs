//! The pieces of the distribution reference grammar, one checker per rule.
//!
//! Kept apart from [`ImageRef`](crate::policy::ImageRef) so that each rule can be read
//! (and tested) next to the regular expression it replaces.

use crate::policy::image_ref::{ImageRefError, MAX_TAG_LEN, MIN_DIGEST_HEX_LEN};

/// Rejects anything outside the grammar's alphabet up front, so that look-alike
/// Unicode letters and invisible characters get a precise message.
pub(super) fn check_characters(s: &str) -> Result<(), ImageRefError> {
    for c in s.chars() {
        if c.is_whitespace() {
            return Err(ImageRefError::Whitespace);
        }
        if c.is_control() {
            return Err(ImageRefError::ControlCharacter);
        }
        if !c.is_ascii() {
            return Err(ImageRefError::NonAscii);
        }
        if !(c.is_ascii_alphanumeric() || "._-/:@[]+".contains(c)) {
            return Err(ImageRefError::InvalidCharacter(c));
        }
    }
    Ok(())
}

/// Checks `[domain "/"] path-component ("/" path-component)*`.
pub(super) fn check_name(name: &str) -> Result<(), ImageRefError> {
    let path = match name.split_once('/') {
        // The same heuristic as distribution's splitDockerDomain: only a first
        // part that looks like a host is one; `library/node` is all path.
        Some((first, rest)) if looks_like_domain(first) => {
            check_domain(first)?;
            rest
        }
        _ => name,
    };
    check_repository_path(path)
}

/// Checks a repository path with no domain, `path-component ("/" path-component)*`: also
/// the grammar of a GitHub Container Registry package name (`team/app`).
pub fn check_repository_path(path: &str) -> Result<(), ImageRefError> {
    path.split('/').try_for_each(check_path_component)
}

fn looks_like_domain(first: &str) -> bool {
    first.contains(['.', ':'])
        || first == "localhost"
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

/// Checks `host [":" port]` where host is a dotted name or a bracketed IPv6 address.
fn check_domain(domain: &str) -> Result<(), ImageRefError> {
    let invalid = || ImageRefError::InvalidDomain(domain.to_owned());
    let (host_ok, port) = if let Some(bracketed) = domain.strip_prefix('[') {
        let (inside, after) = bracketed.split_once(']').ok_or_else(invalid)?;
        let ipv6_ok =
            !inside.is_empty() && inside.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or_else(invalid)?),
        };
        (ipv6_ok, port)
    } else {
        let (host, port) = match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        };
        (host.split('.').all(is_domain_component), port)
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(invalid())
    }
}

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`
fn is_domain_component(part: &str) -> bool {
    !part.is_empty()
        && !part.starts_with('-')
        && !part.ends_with('-')
        && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `[a-z0-9]+ (separator [a-z0-9]+)*` with separator `_ | __ | . | -+`.
fn check_path_component(part: &str) -> Result<(), ImageRefError> {
    if part.is_empty() {
        return Err(ImageRefError::EmptyPathComponent);
    }
    if part.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ImageRefError::UppercasePath);
    }
    let is_alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    // The component must start and end with an alphanumeric run; what lies
    // between consecutive alphanumeric runs must be exactly one separator.
    let ends_ok = part.starts_with(is_alnum) && part.ends_with(is_alnum);
    let separators_ok = part
        .split(is_alnum)
        .filter(|sep| !sep.is_empty())
        .all(|sep| matches!(sep, "." | "_" | "__") || sep.bytes().all(|b| b == b'-'));
    if !(ends_ok && separators_ok) {
        return Err(ImageRefError::InvalidPathComponent(part.to_owned()));
    }
    Ok(())
}

/// `[\w][\w.-]{0,127}`
pub(super) fn check_tag(tag: &str) -> Result<(), ImageRefError> {
    if tag.is_empty() {
        return Err(ImageRefError::EmptyTag);
    }
    if tag.len() > MAX_TAG_LEN {
        return Err(ImageRefError::TagTooLong);
    }
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut bytes = tag.bytes();
    let first_ok = bytes.next().is_some_and(is_word);
    if first_ok && bytes.all(|b| is_word(b) || b == b'.' || b == b'-') {
        Ok(())
    } else {
        Err(ImageRefError::InvalidTag)
    }
}

/// `algorithm ":" hex` with algorithm
/// `[A-Za-z][A-Za-z0-9]*([+._-][A-Za-z][A-Za-z0-9]*)*` and hex `[0-9a-fA-F]{32,}`.
pub(super) fn check_digest(digest: &str) -> Result<(), ImageRefError> {
    let (algorithm, hex) = digest.split_once(':').ok_or(ImageRefError::InvalidDigest)?;
    let algorithm_ok = algorithm.split(['+', '.', '_', '-']).all(|part| {
        let mut bytes = part.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && bytes.all(|b| b.is_ascii_alphanumeric())
    });
    let hex_ok = hex.len() >= MIN_DIGEST_HEX_LEN && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if algorithm_ok && hex_ok {
        Ok(())
    } else {
        Err(ImageRefError::InvalidDigest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_part_is_a_domain_only_when_it_looks_like_one() {
        assert!(looks_like_domain("docker.io"));
        assert!(looks_like_domain("localhost"));
        assert!(looks_like_domain("host:5000"));
        assert!(looks_like_domain("Foo"));
        assert!(!looks_like_domain("library"));
        assert!(!looks_like_domain("my_org"));
        // `my_org` is therefore judged as a path component, where '_' is fine,
        // while `my_org.io` must be a valid host, where it is not.
        assert!(check_name("my_org/app").is_ok());
        assert!(check_name("my_org.io/app").is_err());
    }

    #[test]
    fn domain_components_follow_hostname_rules() {
        for ok in ["a", "a1", "a-b", "A--9", "localhost"] {
            assert!(is_domain_component(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a_b", "a.b"] {
            assert!(!is_domain_component(bad), "{bad}");
        }
        assert!(check_domain("Registry.Example.COM:65535").is_ok());
        assert!(check_domain("[2001:db8::1]").is_ok());
        assert!(check_domain("host:").is_err());
        assert!(check_domain("host:1:2").is_err());
        assert!(check_domain("[::1]:").is_err());
    }

    #[test]
    fn path_component_separators() {
        for ok in ["a", "a.b", "a_b", "a__b", "a-b", "a---b", "a.b_c__d-e", "0"] {
            assert_eq!(check_path_component(ok), Ok(()), "{ok}");
        }
        for bad in ["a..b", "a.-b", "a-.b", "a___b", "a_-b", "_a", "a.", "a:b"] {
            assert_eq!(
                check_path_component(bad),
                Err(ImageRefError::InvalidPathComponent(bad.to_owned())),
                "{bad}"
            );
        }
        assert_eq!(
            check_path_component("aB"),
            Err(ImageRefError::UppercasePath)
        );
        assert_eq!(
            check_path_component(""),
            Err(ImageRefError::EmptyPathComponent)
        );
    }

    #[test]
    fn a_repository_path_is_components_joined_by_slashes() {
        assert_eq!(check_repository_path("team/app_1/x"), Ok(()));
        assert_eq!(
            check_repository_path("team//app"),
            Err(ImageRefError::EmptyPathComponent)
        );
        assert_eq!(
            check_repository_path("team/../app"),
            Err(ImageRefError::InvalidPathComponent("..".to_owned()))
        );
    }

    #[test]
    fn tags_and_digests() {
        assert!(check_tag("_").is_ok());
        assert!(check_tag(&"x".repeat(MAX_TAG_LEN)).is_ok());
        assert_eq!(
            check_tag(&"x".repeat(MAX_TAG_LEN + 1)),
            Err(ImageRefError::TagTooLong)
        );
        assert_eq!(check_tag("a+b"), Err(ImageRefError::InvalidTag));
        let hex32 = "0123456789abcdefABCDEF0123456789";
        assert!(check_digest(&format!("sha256:{hex32}")).is_ok());
        assert!(check_digest(&format!("a+b.c_d-e1:{hex32}")).is_ok());
        assert!(check_digest(&format!("sha256:{}", &hex32[1..])).is_err());
        assert!(check_digest(&format!("sha256+:{hex32}")).is_err());
        assert!(check_digest(&format!("a+1b:{hex32}")).is_err());
        assert!(check_digest(&format!(":{hex32}")).is_err());
    }
}
