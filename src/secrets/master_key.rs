//! The master key that wraps every stored secret value and level private key.
//!
//! The database never holds it: [`super::key_source`] finds it in `SECRETS_KEY`, in the
//! file `SECRETS_KEY_FILE` names, or in a generated default key file. Every replica must
//! share it. Its [`MasterKey::fingerprint`] is kept by the store, so a start with another
//! key refuses to serve ([`MasterKey::verify_fingerprint`]) instead of failing row by row.
//!
//! Rotating the master key (`base-image-policy rotate-master-key`, `crate::rotation`):
//! every stored private key and value is decrypted with the old key and encrypted with the
//! new one, each under its own associated data ([`super::reencrypt`]), and the new
//! fingerprint is stored in the same transaction; then every replica gets the new key.
//!
//! Rotating the level key pairs (`rotate-level-keys`): each level's pair is retired and a
//! new one is made at its next public-key request; the old private keys stay, encrypted.
//! Values already stored are symmetric ciphertexts under the master key and do not depend
//! on any level key pair, so a level rotation re-encrypts nothing.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::rand_core::RngCore as _;
use chacha20poly1305::aead::OsRng;
use chacha20poly1305::{KeyInit as _, XChaCha20Poly1305};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::SecretsError;

/// HKDF `info` strings: separate purposes get unrelated subkeys of one master key.
const AEAD_INFO: &[u8] = b"base-image-policy/secrets/xchacha20poly1305/v1";
const FINGERPRINT_INFO: &[u8] = b"base-image-policy/secrets/fingerprint/v1";

/// The 32-byte master key, with its derived AEAD cipher; zeroized on drop.
pub struct MasterKey {
    bytes: Zeroizing<[u8; 32]>,
    pub(super) aead: XChaCha20Poly1305,
    fingerprint: String,
}

impl MasterKey {
    /// Builds the key from raw bytes and derives its AEAD subkey and fingerprint.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, SecretsError> {
        let bytes = Zeroizing::new(bytes);
        let subkey = derive(&bytes, AEAD_INFO)?;
        let fingerprint = hex::encode(&derive(&bytes, FINGERPRINT_INFO)?[..8]);
        Ok(Self {
            aead: XChaCha20Poly1305::new(subkey.as_ref().into()),
            bytes,
            fingerprint,
        })
    }

    /// A fresh random key from the operating system's RNG.
    pub fn generate() -> Result<Self, SecretsError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng
            .try_fill_bytes(bytes.as_mut())
            .map_err(|_| SecretsError::Rng)?;
        Self::from_bytes(*bytes)
    }

    /// Parses standard base64 of exactly 32 bytes; `origin` names the source in errors.
    pub fn from_base64(text: &str, origin: &str) -> Result<Self, SecretsError> {
        let invalid = |reason| SecretsError::InvalidMasterKey {
            origin: origin.to_owned(),
            reason,
        };
        let decoded = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| invalid("not valid standard base64"))?,
        );
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| invalid("it must decode to exactly 32 bytes"))?;
        Self::from_bytes(bytes)
    }

    /// A one-way keyed fingerprint (16 hex characters): safe to store and to log.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Fails with a message naming both fingerprints if `expected` is not this key's.
    pub fn verify_fingerprint(&self, expected: &str) -> Result<(), SecretsError> {
        if expected == self.fingerprint {
            return Ok(());
        }
        Err(SecretsError::WrongMasterKey {
            expected: expected.to_owned(),
            actual: self.fingerprint.clone(),
        })
    }

    /// The key as standard base64, for writing a key file.
    pub(super) fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.bytes.as_ref()))
    }
}

impl std::fmt::Debug for MasterKey {
    // Hand-written so the key can never reach a log line through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// HKDF-SHA256 of the master key for one purpose.
fn derive(master: &[u8; 32], info: &[u8]) -> Result<Zeroizing<[u8; 32]>, SecretsError> {
    let mut out = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, master)
        .expand(info, out.as_mut())
        .map_err(|_| SecretsError::InvalidMasterKey {
            origin: "key derivation".to_owned(),
            reason: "HKDF expansion failed",
        })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_32_bytes_of_standard_base64_and_nothing_else() {
        let text = STANDARD.encode([7u8; 32]);
        let key = MasterKey::from_base64(&format!(" {text}\n"), "SECRETS_KEY").unwrap();
        // Pinned with Python's hmac (HKDF-SHA256, zero salt), so stored fingerprints stay valid.
        assert_eq!(key.fingerprint(), "bf3e4a6378c29e21");
        for (bad, reason) in [
            (STANDARD.encode([7u8; 31]), "exactly 32 bytes"),
            (STANDARD.encode([7u8; 33]), "exactly 32 bytes"),
            ("not base64!".to_owned(), "not valid standard base64"),
            (String::new(), "exactly 32 bytes"),
        ] {
            let err = MasterKey::from_base64(&bad, "SECRETS_KEY").unwrap_err();
            let shown = err.to_string();
            assert!(
                shown.contains("SECRETS_KEY") && shown.contains(reason),
                "{shown}"
            );
            assert!(bad.is_empty() || !shown.contains(&bad), "{shown}");
        }
    }

    #[test]
    fn fingerprint_is_stable_and_differs_between_keys() {
        let key = MasterKey::generate().unwrap();
        let same = MasterKey::from_base64(&key.to_base64(), "test").unwrap();
        let other = MasterKey::generate().unwrap();
        assert_eq!(key.fingerprint(), same.fingerprint());
        assert_ne!(key.fingerprint(), other.fingerprint());
        assert_eq!(key.fingerprint().len(), 16);
        assert!(key.fingerprint().bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn a_wrong_master_key_is_named_clearly_at_start() {
        let stored = MasterKey::generate().unwrap();
        let given = MasterKey::generate().unwrap();
        stored.verify_fingerprint(stored.fingerprint()).unwrap();
        let err = given.verify_fingerprint(stored.fingerprint()).unwrap_err();
        let shown = err.to_string();
        assert!(matches!(err, SecretsError::WrongMasterKey { .. }));
        assert!(shown.contains(stored.fingerprint()) && shown.contains(given.fingerprint()));
        assert!(shown.contains("Refusing to serve") && shown.contains("SECRETS_KEY"));
        assert!(!shown.contains(given.to_base64().as_str()));
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let key = MasterKey::generate().unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains(key.fingerprint()));
        assert!(!shown.contains(key.to_base64().as_str()));
        assert!(!shown.contains(&hex::encode(key.bytes.as_ref())));
    }
}
