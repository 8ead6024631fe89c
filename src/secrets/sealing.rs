//! Level key pairs (X25519) and opening the libsodium sealed boxes clients send.
//!
//! Clients seal a value exactly as GitHub documents it (PyNaCl
//! `SealedBox(PublicKey(key)).encrypt(value)`, libsodium-wrappers `crypto_box_seal`) and
//! send standard base64. [`open_sealed`] is the only place such a box is opened: once, at
//! PUT time, where the value is also checked for size and UTF-8.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use crypto_box::aead::rand_core::RngCore as _;
use crypto_box::aead::OsRng;
use crypto_box::{PublicKey, SecretKey, KEY_SIZE};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::SecretsError;

/// Largest opened value accepted: 48 KB, as GitHub's limit for a secret.
pub const MAX_SECRET_VALUE_BYTES: usize = 49_152;

/// What a sealed box adds to the value: the ephemeral public key and the Poly1305 tag.
const SEAL_OVERHEAD: usize = KEY_SIZE + 16;

/// Longest base64 text that can hold a value within the limit; longer input is refused
/// before it is decoded, so an oversized body costs neither memory nor X25519 work.
const MAX_SEALED_BASE64_LEN: usize = (MAX_SECRET_VALUE_BYTES + SEAL_OVERHEAD).div_ceil(3) * 4;

/// One level's X25519 key pair, with the `key_id` clients echo back.
pub struct LevelKeyPair {
    secret: SecretKey,
    public: PublicKey,
    key_id: String,
}

impl LevelKeyPair {
    /// A fresh key pair from the operating system's RNG.
    pub fn generate() -> Result<Self, SecretsError> {
        let mut bytes = Zeroizing::new([0u8; KEY_SIZE]);
        // try_fill_bytes, unlike SecretKey::generate, reports an RNG failure instead of panicking.
        OsRng
            .try_fill_bytes(bytes.as_mut())
            .map_err(|_| SecretsError::Rng)?;
        Ok(Self::from_secret(SecretKey::from_bytes(*bytes)))
    }

    /// Rebuilds a key pair from its private key, as decrypted from the store.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, SecretsError> {
        let secret = SecretKey::from_slice(bytes).map_err(|_| SecretsError::MalformedPrivateKey)?;
        Ok(Self::from_secret(secret))
    }

    fn from_secret(secret: SecretKey) -> Self {
        let public = secret.public_key();
        let key_id = key_id_for(public.as_bytes());
        Self {
            secret,
            public,
            key_id,
        }
    }

    /// The private key's bytes, to be encrypted under the master key before storing.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; KEY_SIZE]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// The private key, for [`open_sealed`].
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret
    }

    /// The 32-byte X25519 public key.
    pub fn public_key_bytes(&self) -> [u8; KEY_SIZE] {
        self.public.to_bytes()
    }

    /// The public key as served in `{"key_id": ..., "key": ...}`: standard base64.
    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(self.public.as_bytes())
    }

    /// The decimal key id derived from the public key (see [`key_id_for`]).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Opens a value sealed for this key pair; see [`open_sealed`].
    pub fn open(&self, sealed_base64: &str) -> Result<Zeroizing<String>, SecretsError> {
        open_sealed(&self.secret, sealed_base64)
    }
}

impl std::fmt::Debug for LevelKeyPair {
    // Hand-written so the private key can never reach a log line through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LevelKeyPair")
            .field("key_id", &self.key_id)
            .field("public_key", &self.public_key_base64())
            .finish_non_exhaustive()
    }
}

/// The key id of a public key: the first 8 bytes of its SHA-256 as a big-endian u64, in
/// decimal, so it looks like GitHub's numeric key ids and never changes for a key.
pub fn key_id_for(public_key: &[u8; KEY_SIZE]) -> String {
    let digest = Sha256::digest(public_key);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first).to_string()
}

/// Decodes (standard base64 only), opens, and validates a sealed value.
///
/// URL-safe base64 is rejected, with its own message: the contract and every documented
/// client use the standard alphabet, so `-`/`_` means a client bug that would otherwise
/// pass or fail by chance, depending on whether its ciphertext happened to contain them.
pub fn open_sealed(
    secret_key: &SecretKey,
    sealed_base64: &str,
) -> Result<Zeroizing<String>, SecretsError> {
    let too_large = SecretsError::ValueTooLarge {
        max: MAX_SECRET_VALUE_BYTES,
    };
    if sealed_base64.len() > MAX_SEALED_BASE64_LEN {
        return Err(too_large);
    }
    let sealed = STANDARD.decode(sealed_base64).map_err(|_| {
        if sealed_base64.bytes().any(|b| b == b'-' || b == b'_') {
            SecretsError::UrlSafeBase64
        } else {
            SecretsError::InvalidBase64
        }
    })?;
    if sealed.len() > MAX_SECRET_VALUE_BYTES + SEAL_OVERHEAD {
        return Err(too_large);
    }
    let opened = Zeroizing::new(
        secret_key
            .unseal(&sealed)
            .map_err(|_| SecretsError::SealedBoxDoesNotOpen)?,
    );
    if opened.len() > MAX_SECRET_VALUE_BYTES {
        return Err(too_large);
    }
    let text = std::str::from_utf8(&opened).map_err(|_| SecretsError::ValueNotUtf8)?;
    Ok(Zeroizing::new(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE;
    use std::process::Command;

    const CANARY: &str = "CANARY-7f3a9c-hunter2";

    fn seal(pair: &LevelKeyPair, value: &[u8]) -> String {
        STANDARD.encode(pair.public.seal(&mut OsRng, value).unwrap())
    }

    fn refusal(pair: &LevelKeyPair, sealed: &str) -> SecretsError {
        pair.open(sealed).unwrap_err()
    }

    /// Seals with PyNaCl exactly as GitHub's documentation shows, base64 in and out.
    fn seal_with_pynacl(public_key_base64: &str, value: &str) -> String {
        let script =
            "import sys\nfrom base64 import b64encode\nfrom nacl import encoding, public\n\
            key = public.PublicKey(sys.argv[1].encode('utf-8'), encoding.Base64Encoder())\n\
            print(b64encode(public.SealedBox(key).encrypt(sys.argv[2].encode('utf-8'))).decode())";
        let install = "the PyNaCl interoperability test needs: python3 -m pip install pynacl";
        let probe = Command::new("python3").args(["-c", "import nacl"]).output();
        assert!(probe.is_ok_and(|out| out.status.success()), "{install}");
        let out = Command::new("python3")
            .args(["-c", script, public_key_base64, value])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{install}: {stderr}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    #[test]
    fn a_value_sealed_by_pynacl_opens() {
        let pair = LevelKeyPair::generate().unwrap();
        let value = "p\u{e4}ss w\u{f6}rd \u{1f511} with spaces";
        let sealed = seal_with_pynacl(&pair.public_key_base64(), value);
        assert_eq!(pair.open(&sealed).unwrap().as_str(), value);
    }

    #[test]
    fn a_value_sealed_in_rust_round_trips_up_to_the_limit() {
        let pair = LevelKeyPair::generate().unwrap();
        assert_eq!(*pair.open(&seal(&pair, b"ghp_token")).unwrap(), "ghp_token");
        assert_eq!(*pair.open(&seal(&pair, b"")).unwrap(), "");
        let largest = "x".repeat(MAX_SECRET_VALUE_BYTES);
        assert_eq!(
            *pair.open(&seal(&pair, largest.as_bytes())).unwrap(),
            largest
        );
    }

    #[test]
    fn sealed_for_another_key_pair_or_tampered_does_not_open() {
        let pair = LevelKeyPair::generate().unwrap();
        let other = LevelKeyPair::generate().unwrap();
        let err = refusal(&pair, &seal(&other, CANARY.as_bytes()));
        assert!(matches!(err, SecretsError::SealedBoxDoesNotOpen));
        let mut bytes = STANDARD.decode(seal(&pair, CANARY.as_bytes())).unwrap();
        // The ephemeral public key, the tag and the ciphertext are each covered.
        for at in [0, KEY_SIZE + 3, bytes.len() - 1] {
            bytes[at] ^= 0x01;
            let err = refusal(&pair, &STANDARD.encode(&bytes));
            assert!(matches!(err, SecretsError::SealedBoxDoesNotOpen), "{err}");
            bytes[at] ^= 0x01;
        }
        assert!(matches!(
            refusal(&pair, ""),
            SecretsError::SealedBoxDoesNotOpen
        ));
    }

    #[test]
    fn only_standard_base64_is_accepted() {
        let pair = LevelKeyPair::generate().unwrap();
        assert!(matches!(
            refusal(&pair, "not base64!"),
            SecretsError::InvalidBase64
        ));
        // Seal until the URL-safe text differs from the standard one (needs a '-' or '_').
        let url_safe = (0..100)
            .map(|_| URL_SAFE.encode(pair.public.seal(&mut OsRng, b"value").unwrap()))
            .find(|text| text.contains(['-', '_']))
            .unwrap();
        assert!(matches!(
            refusal(&pair, &url_safe),
            SecretsError::UrlSafeBase64
        ));
    }

    #[test]
    fn too_large_or_not_utf8_is_refused_without_echoing_the_value() {
        let pair = LevelKeyPair::generate().unwrap();
        let mut large = CANARY.repeat(MAX_SECRET_VALUE_BYTES / CANARY.len() + 1);
        large.truncate(MAX_SECRET_VALUE_BYTES + 1);
        let mut not_utf8 = CANARY.as_bytes().to_vec();
        not_utf8.push(0xff);
        let other = LevelKeyPair::generate().unwrap();
        let errors = [
            refusal(&pair, &seal(&pair, large.as_bytes())),
            refusal(&pair, &"A".repeat(MAX_SEALED_BASE64_LEN + 4)),
            refusal(&pair, &seal(&pair, &not_utf8)),
            refusal(&pair, &seal(&other, CANARY.as_bytes())),
        ];
        assert!(matches!(
            errors[0],
            SecretsError::ValueTooLarge { max: 49_152 }
        ));
        assert!(matches!(errors[1], SecretsError::ValueTooLarge { .. }));
        assert!(matches!(errors[2], SecretsError::ValueNotUtf8));
        for err in &errors {
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("CANARY"), "{shown}");
        }
    }

    #[test]
    fn key_id_is_stable_for_a_public_key_and_differs_between_pairs() {
        // Pinned: sha256(00 01 .. 1f)[..8] as a big-endian u64, computed with Python's hashlib.
        let fixed: [u8; KEY_SIZE] = std::array::from_fn(|i| i as u8);
        assert_eq!(key_id_for(&fixed), "7137586562153591654");
        let pair = LevelKeyPair::generate().unwrap();
        let again = LevelKeyPair::from_secret_bytes(pair.secret_bytes().as_slice()).unwrap();
        assert_eq!(again.key_id(), pair.key_id());
        assert_eq!(again.public_key_base64(), pair.public_key_base64());
        assert_eq!(pair.key_id(), key_id_for(&pair.public_key_bytes()));
        assert!(pair.key_id().bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(LevelKeyPair::generate().unwrap().key_id(), pair.key_id());
        let public = STANDARD.decode(pair.public_key_base64()).unwrap();
        assert_eq!(public.len(), KEY_SIZE);
        let short = LevelKeyPair::from_secret_bytes(&[0u8; 31]);
        assert!(matches!(short, Err(SecretsError::MalformedPrivateKey)));
        let shown = format!("{pair:?}");
        assert!(!shown.contains(&STANDARD.encode(pair.secret_bytes().as_slice())));
    }

    #[test]
    fn timing_of_open_sealed_in_process() {
        let pair = LevelKeyPair::generate().unwrap();
        let sealed = seal(&pair, "v".repeat(1024).as_bytes());
        let rounds = 20;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            assert_eq!(pair.open(&sealed).unwrap().len(), 1024);
        }
        let each = start.elapsed() / rounds;
        println!("in-process: one open_sealed of a 1 KiB value takes {each:?}");
    }
}
