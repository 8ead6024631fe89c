//! Cryptographic core of Codespaces secrets (user, repository and organization levels).
//!
//! Values arrive sealed (libsodium `crypto_box_seal`, base64) for the level's X25519
//! public key; [`sealing`] opens and validates them exactly once, at PUT time. From then
//! on a value lives as an XChaCha20-Poly1305 ciphertext under a subkey of the
//! [`MasterKey`] ([`envelope`]), which is what lets the orchestrator read hundreds of
//! values per creation without any X25519 work. The level private keys are stored
//! encrypted the same way. [`key_source`] finds the master key (environment, key file,
//! or a generated key file); [`master_key`] fingerprints it so a wrong key is caught at
//! start, and says how both kinds of key are rotated.
//!
//! Nothing in here does HTTP or SQL, and no error message carries a value or key bytes.

pub mod envelope;
pub mod key_source;
pub mod master_key;
pub mod rules;
pub mod sealing;

pub use envelope::{private_key_aad, reencrypt, value_aad};
pub use key_source::{
    resolve_master_key, MasterKeySource, ResolvedMasterKey, SECRETS_KEY, SECRETS_KEY_FILE,
};
pub use master_key::MasterKey;
pub use sealing::{key_id_for, open_sealed, LevelKeyPair, MAX_SECRET_VALUE_BYTES};

/// Why a secrets operation failed.
///
/// Every message is safe to return to a client or to log: the variants carry only
/// lengths, limits, variable names, paths, fingerprints and I/O errors, never a secret
/// value, a ciphertext, or key bytes.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The sealed value is not base64 in the standard alphabet.
    #[error("encrypted_value is not valid base64 (standard alphabet with padding, as libsodium's ORIGINAL variant)")]
    InvalidBase64,
    /// The sealed value uses `-`/`_`: told apart so a client knows what to change.
    #[error("encrypted_value uses the URL-safe base64 alphabet; encode it with the standard alphabet ('+' and '/', with padding)")]
    UrlSafeBase64,
    /// The sealed box does not open with the level's private key (other key, or tampered).
    #[error("encrypted_value does not open with the key for this key_id; fetch the public key again and re-encrypt the value")]
    SealedBoxDoesNotOpen,
    /// The `key_id` given with a value is not the level's current public key.
    #[error("key_id is not the current public key for this level; fetch the public key again and re-encrypt the value")]
    UnknownKeyId,
    /// The opened (or, judged by its length, the sealed) value is over the limit.
    #[error("secret value is too large: at most {max} bytes (48 KB) once decrypted")]
    ValueTooLarge {
        /// The limit, [`MAX_SECRET_VALUE_BYTES`].
        max: usize,
    },
    /// The opened value is not UTF-8.
    #[error("secret value is not valid UTF-8 once decrypted")]
    ValueNotUtf8,
    /// Stored private-key bytes have the wrong length.
    #[error("stored level private key is malformed (expected 32 bytes)")]
    MalformedPrivateKey,
    /// A master key given in the environment or a key file could not be used.
    #[error("master key from {origin} is unusable: {reason}")]
    InvalidMasterKey {
        /// Where the key came from: `SECRETS_KEY`, or `SECRETS_KEY_FILE (path)`.
        origin: String,
        /// What is wrong with it (never the key itself).
        reason: &'static str,
    },
    /// Both variables are set, so which key is meant is ambiguous.
    #[error("both SECRETS_KEY and SECRETS_KEY_FILE are set; set only one of them")]
    AmbiguousMasterKey,
    /// Reading or creating a key file failed.
    #[error("master key file {path}: {source}")]
    KeyFile {
        /// The key file's path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The master key's fingerprint differs from the one the store recorded.
    #[error("the master key (fingerprint {actual}) is not the key the stored secrets were encrypted with (fingerprint {expected}); set SECRETS_KEY or SECRETS_KEY_FILE to the original key. Refusing to serve; nothing was overwritten")]
    WrongMasterKey {
        /// Fingerprint recorded by the store.
        expected: String,
        /// Fingerprint of the key this process has.
        actual: String,
    },
    /// A stored ciphertext does not open: wrong master key, moved to another row, or altered.
    #[error("stored secret ciphertext does not open with this master key (wrong SECRETS_KEY, ciphertext moved to another row, or altered)")]
    DecryptFailed,
    /// A stored ciphertext is too short or has an unknown format version.
    #[error("stored secret ciphertext is malformed (truncated or unknown format version)")]
    MalformedCiphertext,
    /// Encryption refused the input (only possible for absurdly large plaintexts).
    #[error("encrypting a secret failed")]
    EncryptFailed,
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Rng,
}
