//! Envelope encryption at rest: XChaCha20-Poly1305 under the master key's derived subkey.
//!
//! A stored value or level private key is `version (1) || nonce (24) || ciphertext ||
//! tag (16)`. The random 24-byte nonce needs no counter shared between replicas, and the
//! associated data binds each ciphertext to its row, so one copied elsewhere fails to open.
//! Decrypting is a few microseconds, which is what keeps the orchestrator's read of
//! hundreds of values per creation far below its budget.

use chacha20poly1305::aead::rand_core::RngCore as _;
use chacha20poly1305::aead::{AeadInPlace as _, OsRng};
use chacha20poly1305::{Tag, XNonce};
use zeroize::Zeroizing;

use super::{MasterKey, SecretsError};

/// First byte of every ciphertext, so a future format can be told apart.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;

impl MasterKey {
    /// Encrypts `plaintext` under a fresh random nonce, bound to `aad`.
    pub fn encrypt(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SecretsError> {
        let mut nonce = XNonce::default();
        OsRng
            .try_fill_bytes(nonce.as_mut_slice())
            .map_err(|_| SecretsError::Rng)?;
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        // In place, so the plaintext copied into `out` is overwritten by its ciphertext.
        let tag = self
            .aead
            .encrypt_in_place_detached(&nonce, aad, &mut out[HEADER_LEN..])
            .map_err(|_| SecretsError::EncryptFailed)?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Decrypts what [`MasterKey::encrypt`] produced under the same `aad`.
    pub fn decrypt(
        &self,
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
        if ciphertext.len() < HEADER_LEN + TAG_LEN || ciphertext[0] != FORMAT_V1 {
            return Err(SecretsError::MalformedCiphertext);
        }
        let (nonce, rest) = ciphertext[1..].split_at(NONCE_LEN);
        let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
        let mut out = Zeroizing::new(body.to_vec());
        self.aead
            .decrypt_in_place_detached(
                XNonce::from_slice(nonce),
                aad,
                &mut out,
                Tag::from_slice(tag),
            )
            .map_err(|_| SecretsError::DecryptFailed)?;
        Ok(out)
    }

    /// Decrypts a stored secret value, which was UTF-8 when it was opened at PUT time.
    pub fn decrypt_string(
        &self,
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<String>, SecretsError> {
        let bytes = self.decrypt(aad, ciphertext)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| SecretsError::ValueNotUtf8)?;
        Ok(Zeroizing::new(text.to_owned()))
    }
}

/// Moves one ciphertext from the `old` master key to the `new` one, under the same `aad`:
/// the step a master-key rotation runs over every stored private key and value.
pub fn reencrypt(
    old: &MasterKey,
    new: &MasterKey,
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, SecretsError> {
    let plaintext = old.decrypt(aad, ciphertext)?;
    new.encrypt(aad, &plaintext)
}

/// Associated data of a stored secret value: its level (`user`, `repository`,
/// `organization`), the owner's id, and the secret's name as stored (upper-cased).
pub fn value_aad(level: &str, owner_id: i64, name: &str) -> Vec<u8> {
    aad(b"value", level, owner_id, name)
}

/// Associated data of a stored level private key: its level, owner id and `key_id`.
pub fn private_key_aad(level: &str, owner_id: i64, key_id: &str) -> Vec<u8> {
    aad(b"private-key", level, owner_id, key_id)
}

/// Length-prefixed fields, so no two different places encode to the same bytes, and the
/// purpose comes first, so a private key's ciphertext cannot stand in for a value's.
fn aad(purpose: &[u8], level: &str, owner_id: i64, item: &str) -> Vec<u8> {
    let mut out = b"base-image-policy/secrets/v1".to_vec();
    for field in [
        purpose,
        level.as_bytes(),
        &owner_id.to_be_bytes(),
        item.as_bytes(),
    ] {
        out.extend_from_slice(&(field.len() as u64).to_be_bytes());
        out.extend_from_slice(field);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::generate().unwrap()
    }

    #[test]
    fn round_trips_with_a_fresh_nonce_each_time() {
        let key = key();
        let aad = value_aad("organization", 42, "NPM_TOKEN");
        let first = key.encrypt(&aad, b"s3cret").unwrap();
        let second = key.encrypt(&aad, b"s3cret").unwrap();
        assert_ne!(first, second);
        assert_eq!(first.len(), HEADER_LEN + 6 + TAG_LEN);
        assert_eq!(key.decrypt(&aad, &first).unwrap().as_slice(), b"s3cret");
        assert_eq!(
            key.decrypt_string(&aad, &second).unwrap().as_str(),
            "s3cret"
        );
        assert!(!first.windows(6).any(|w| w == b"s3cret"));
    }

    #[test]
    fn opens_a_ciphertext_made_independently_with_pynacl() {
        // Pinned: HKDF-SHA256 via Python's hmac and PyNaCl's XChaCha20-Poly1305 (nonce 00..17),
        // so a change of derivation or format that strands stored data fails here.
        let key = MasterKey::from_bytes([7u8; 32]).unwrap();
        let stored = hex::decode(
            "01000102030405060708090a0b0c0d0e0f1011121314151617\
             d8e069a9aab2ff3536438fa108895037210926205582bd1bde695c1f",
        )
        .unwrap();
        let aad = value_aad("organization", 42, "NPM_TOKEN");
        assert_eq!(
            key.decrypt_string(&aad, &stored).unwrap().as_str(),
            "pinned value"
        );
    }

    #[test]
    fn a_wrong_master_key_fails_with_a_clear_message() {
        let aad = value_aad("user", 7, "TOKEN");
        let stored = key().encrypt(&aad, b"CANARY-value").unwrap();
        let err = key().decrypt(&aad, &stored).unwrap_err();
        assert!(matches!(err, SecretsError::DecryptFailed));
        let shown = err.to_string();
        assert!(
            shown.contains("wrong SECRETS_KEY") && !shown.contains("CANARY"),
            "{shown}"
        );
    }

    #[test]
    fn a_ciphertext_moved_to_another_place_or_altered_fails() {
        let key = key();
        let aad = value_aad("repository", 9, "TOKEN");
        let stored = key.encrypt(&aad, b"value").unwrap();
        for elsewhere in [
            value_aad("repository", 9, "OTHER"),
            value_aad("repository", 10, "TOKEN"),
            value_aad("organization", 9, "TOKEN"),
            private_key_aad("repository", 9, "TOKEN"),
            Vec::new(),
        ] {
            assert!(matches!(
                key.decrypt(&elsewhere, &stored),
                Err(SecretsError::DecryptFailed)
            ));
        }
        for at in [1, HEADER_LEN, stored.len() - 1] {
            let mut altered = stored.clone();
            altered[at] ^= 0x80;
            assert!(matches!(
                key.decrypt(&aad, &altered),
                Err(SecretsError::DecryptFailed)
            ));
        }
        let mut other_version = stored.clone();
        other_version[0] = 2;
        for bad in [&other_version[..], &stored[..HEADER_LEN + TAG_LEN - 1], &[]] {
            assert!(matches!(
                key.decrypt(&aad, bad),
                Err(SecretsError::MalformedCiphertext)
            ));
        }
    }

    #[test]
    fn aad_fields_cannot_run_into_each_other() {
        assert_ne!(value_aad("a", 1, "bc"), value_aad("ab", 1, "c"));
        assert_ne!(value_aad("user", 1, "X"), private_key_aad("user", 1, "X"));
        assert_eq!(value_aad("user", 1, "X"), value_aad("user", 1, "X"));
    }

    #[test]
    fn reencrypt_moves_a_ciphertext_to_the_new_master_key() {
        let (old, new) = (key(), key());
        let aad = private_key_aad("organization", 3, "1234");
        let stored = old.encrypt(&aad, b"private key").unwrap();
        let moved = reencrypt(&old, &new, &aad, &stored).unwrap();
        assert_eq!(
            new.decrypt(&aad, &moved).unwrap().as_slice(),
            b"private key"
        );
        assert!(old.decrypt(&aad, &moved).is_err());
        assert!(reencrypt(&new, &old, &aad, &stored).is_err());
    }

    #[test]
    fn timing_of_decrypt_in_process() {
        let key = key();
        let values: Vec<(Vec<u8>, Vec<u8>)> = (0..300)
            .map(|i| {
                let aad = value_aad("organization", 1, &format!("SECRET_{i}"));
                let stored = key.encrypt(&aad, &[b'v'; 1024]).unwrap();
                (aad, stored)
            })
            .collect();
        let start = std::time::Instant::now();
        for (aad, stored) in &values {
            assert_eq!(key.decrypt_string(aad, stored).unwrap().len(), 1024);
        }
        let all = start.elapsed();
        println!(
            "in-process: 300 decrypts of 1 KiB values take {all:?} ({:?} each)",
            all / 300
        );
        // Only optimized builds are held to the orchestrator's 5 ms budget.
        #[cfg(not(debug_assertions))]
        assert!(all < std::time::Duration::from_millis(5), "{all:?}");
    }
}
