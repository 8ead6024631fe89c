//! The two key rotations in the store: every stored value and level private key moved from
//! one master key to another in one transaction, and every level's key pair retired so that
//! the next public-key request makes a new one.

use async_trait::async_trait;

use super::StoreResult;

/// A stored ciphertext being re-encrypted, with what its associated data is made of.
#[derive(Debug, Clone, Copy)]
pub enum Wrapped<'a> {
    /// A secret's value.
    Value {
        level: &'a str,
        owner_id: i64,
        name: &'a str,
    },
    /// A level's private key.
    PrivateKey {
        level: &'a str,
        owner_id: i64,
        key_id: &'a str,
    },
}

/// How many ciphertexts a master-key rotation re-encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rewrapped {
    pub values: u64,
    pub private_keys: u64,
}

/// Re-encrypts one ciphertext under the new master key.
pub type Rewrap<'a> = dyn Fn(Wrapped<'_>, &[u8]) -> StoreResult<Vec<u8>> + Send + Sync + 'a;

#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Re-encrypts every stored value and level private key with `rewrap`, and records
    /// `new_fingerprint` as the master key's, in one transaction; `Conflict` (nothing
    /// changed) when the recorded fingerprint is not `old_fingerprint`.
    async fn rewrap_secrets(
        &self,
        old_fingerprint: &str,
        new_fingerprint: &str,
        rewrap: &Rewrap<'_>,
    ) -> StoreResult<Rewrapped>;
    /// Retires every level's current key pair (the old private keys stay, encrypted);
    /// answers how many were retired.
    async fn retire_level_keys(&self) -> StoreResult<u64>;
}
