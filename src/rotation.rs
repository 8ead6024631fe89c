//! The key rotations an operator runs with the service's own binary, with every replica
//! stopped (a replica still holding the old master key could not open what it reads):
//!
//! - `rotate-master-key`: every stored value and level private key is decrypted with the
//!   current master key (`SECRETS_KEY` / `SECRETS_KEY_FILE`) and encrypted with the new one
//!   (`NEW_SECRETS_KEY` / `NEW_SECRETS_KEY_FILE`), each under its own associated data, and
//!   the new key's fingerprint is recorded, all in one transaction. Then start every replica
//!   with the new key; a replica started with the old one refuses to serve.
//! - `rotate-level-keys`: every level's key pair is retired; each level gets a new pair at
//!   its next public-key request. Stored values do not depend on level keys, so nothing is
//!   re-encrypted and every stored value stays readable; a PUT sealed for a retired key is a
//!   422 telling the client to fetch the public key again, as GitHub answers.

use crate::secrets::{private_key_aad, reencrypt, value_aad, MasterKey, SecretsError};
use crate::store::{Rewrapped, Store, StoreError, Wrapped};

/// The new master key's variable, and the variable naming a file that holds it.
pub const NEW_SECRETS_KEY: &str = "NEW_SECRETS_KEY";
pub const NEW_SECRETS_KEY_FILE: &str = "NEW_SECRETS_KEY_FILE";

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("{0}")]
    Secrets(#[from] SecretsError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("set {NEW_SECRETS_KEY} or {NEW_SECRETS_KEY_FILE} (one of them) to the new master key")]
    NoNewKey,
    #[error("the new master key is the current one; nothing to rotate")]
    SameKey,
}

/// The new master key from `env` (standard base64 of 32 bytes, or a file holding it).
pub fn new_master_key(env: impl Fn(&str) -> Option<String>) -> Result<MasterKey, RotationError> {
    let set = |name| env(name).filter(|v| !v.trim().is_empty());
    match (set(NEW_SECRETS_KEY), set(NEW_SECRETS_KEY_FILE)) {
        (Some(text), None) => Ok(MasterKey::from_base64(&text, NEW_SECRETS_KEY)?),
        (None, Some(path)) => {
            let text =
                zeroize::Zeroizing::new(std::fs::read_to_string(&path).map_err(|source| {
                    SecretsError::KeyFile {
                        path: path.clone(),
                        source,
                    }
                })?);
            Ok(MasterKey::from_base64(
                &text,
                &format!("{NEW_SECRETS_KEY_FILE} ({path})"),
            )?)
        }
        _ => Err(RotationError::NoNewKey),
    }
}

/// Moves every stored ciphertext from `current` to `new`, in one transaction.
pub async fn rotate_master_key(
    store: &dyn Store,
    current: &MasterKey,
    new: &MasterKey,
) -> Result<Rewrapped, RotationError> {
    if current.fingerprint() == new.fingerprint() {
        return Err(RotationError::SameKey);
    }
    let rewrap = |wrapped: Wrapped<'_>, ciphertext: &[u8]| {
        let aad = match wrapped {
            Wrapped::Value {
                level,
                owner_id,
                name,
            } => value_aad(level, owner_id, name),
            Wrapped::PrivateKey {
                level,
                owner_id,
                key_id,
            } => private_key_aad(level, owner_id, key_id),
        };
        reencrypt(current, new, &aad, ciphertext).map_err(|e| StoreError::Internal(e.to_string()))
    };
    Ok(store
        .rewrap_secrets(current.fingerprint(), new.fingerprint(), &rewrap)
        .await?)
}

/// Retires every level's key pair; answers how many.
pub async fn rotate_level_keys(store: &dyn Store) -> Result<u64, RotationError> {
    Ok(store.retire_level_keys().await?)
}
