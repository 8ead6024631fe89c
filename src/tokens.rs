//! The service's secret tokens: how they are made and the only form in which they are kept.
//!
//! Tokens are 32 random bytes, shown once, stored only as SHA-256 hashes, compared in
//! constant time and never logged.

use rand::RngExt;
use sha2::{Digest, Sha256};

/// Marks this service's tokens, so that a leaked one is recognisable in a secret scan.
pub const TOKEN_PREFIX: &str = "bip_";

/// A new secret token: 32 random bytes, hex-encoded.
pub fn generate_token() -> String {
    // rand's thread generator is a CSPRNG seeded, and periodically reseeded, from the OS.
    let bytes: [u8; 32] = rand::rng().random();
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// The only form in which a token is stored.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_32_random_bytes_and_differ() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert!(a[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn the_hash_is_sha256_of_the_token() {
        assert_eq!(
            hex::encode(hash_token("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
