//! The master key at start-up: found (or generated) through `secrets::resolve_master_key`
//! from the configuration, then checked against the fingerprint the store keeps, so that a
//! start with another key refuses to serve instead of failing secret by secret.

use std::sync::Arc;

use crate::config::Config;
use crate::secrets::{
    resolve_master_key, MasterKey, MasterKeySource, SecretsError, SECRETS_KEY, SECRETS_KEY_FILE,
};
use crate::store::{SecretStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("{0}")]
    Secrets(#[from] SecretsError),
    #[error("reading the master key's fingerprint from the store: {0}")]
    Store(#[from] StoreError),
}

/// The master key, and what to say once about where it came from (`None`: nothing new).
pub struct LoadedMasterKey {
    pub key: Arc<MasterKey>,
    pub notice: Option<String>,
}

/// Resolves the master key and checks it against the store's fingerprint, recording it
/// when the store has none. A mismatch fails with both fingerprints, overwriting nothing.
pub async fn load_master_key(
    config: &Config,
    store: &dyn SecretStore,
) -> Result<LoadedMasterKey, MasterKeyError> {
    let env = |name: &str| match name {
        SECRETS_KEY => config.secrets_key.as_ref().map(|key| key.to_string()),
        SECRETS_KEY_FILE => config
            .secrets_key_file
            .as_ref()
            .map(|path| path.display().to_string()),
        _ => None,
    };
    let resolved = resolve_master_key(env, &config.default_secrets_key_file)?;
    let recorded = store
        .claim_master_key_fingerprint(resolved.key.fingerprint())
        .await?;
    resolved.key.verify_fingerprint(&recorded)?;
    let notice = match &resolved.source {
        MasterKeySource::Generated(path) => {
            let mut notice = format!(
                "Generated the secrets master key into {} (mode 0600); keep it safe: the stored \
                 secrets cannot be read without it",
                path.display()
            );
            if !config.database_url.starts_with("sqlite:") {
                notice.push_str(
                    ". WARNING: on PostgreSQL every replica must share this key: give each the \
                     same SECRETS_KEY or SECRETS_KEY_FILE",
                );
            }
            Some(notice)
        }
        _ => None,
    };
    Ok(LoadedMasterKey {
        key: Arc::new(resolved.key),
        notice,
    })
}
