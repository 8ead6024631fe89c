//! Key rotation: every ciphertext re-encrypted under row locks in one transaction, with the
//! fingerprint swapped last; and every level's current key pair retired.

macro_rules! impl_part {
    (
        store = $store:ident,
        connection = $conn:ty,
        begin_write = $begin:literal,
        hold_writes = $hold:literal,
        join_writes = $join:literal,
        for_update = $update:literal,
        notify = $notify:literal $(,)?
    ) => {
        #[async_trait]
        impl KeyStore for $store {
            async fn rewrap_secrets(
                &self,
                old_fingerprint: &str,
                new_fingerprint: &str,
                rewrap: &Rewrap<'_>,
            ) -> StoreResult<Rewrapped> {
                let mut tx = self.begin_write().await?;
                let recorded: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT value FROM service_settings WHERE name = 'master_key_fingerprint'",
                    $update
                ))
                .fetch_optional(&mut *tx)
                .await?;
                if recorded.as_deref() != Some(old_fingerprint) {
                    return Err(StoreError::Conflict(format!(
                        "the store's master key fingerprint is {}, not the current key's {old_fingerprint}",
                        recorded.as_deref().unwrap_or("(none)")
                    )));
                }
                let values: Vec<(i64, String, i64, String, Vec<u8>)> = sqlx::query_as(concat!(
                    "SELECT id, level, owner_id, name, value FROM secrets ORDER BY id",
                    $update
                ))
                .fetch_all(&mut *tx)
                .await?;
                for (id, level, owner_id, name, value) in &values {
                    let wrapped = Wrapped::Value { level, owner_id: *owner_id, name };
                    sqlx::query("UPDATE secrets SET value = $1 WHERE id = $2")
                        .bind(rewrap(wrapped, value)?)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                let keys: Vec<(i64, String, i64, String, Vec<u8>)> = sqlx::query_as(concat!(
                    "SELECT id, level, owner_id, key_id, private_key FROM secret_keys ORDER BY id",
                    $update
                ))
                .fetch_all(&mut *tx)
                .await?;
                for (id, level, owner_id, key_id, private_key) in &keys {
                    let wrapped = Wrapped::PrivateKey { level, owner_id: *owner_id, key_id };
                    sqlx::query("UPDATE secret_keys SET private_key = $1 WHERE id = $2")
                        .bind(rewrap(wrapped, private_key)?)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(
                    "UPDATE service_settings SET value = $1 WHERE name = 'master_key_fingerprint'",
                )
                .bind(new_fingerprint)
                .execute(&mut *tx)
                .await?;
                self.commit_change(tx).await?;
                let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
                Ok(Rewrapped { values: count(values.len()), private_keys: count(keys.len()) })
            }

            async fn retire_level_keys(&self) -> StoreResult<u64> {
                let retired = sqlx::query(
                    "UPDATE secret_keys SET is_current = $1 WHERE is_current = $2",
                )
                .bind(false)
                .bind(true)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(retired)
            }
        }
    };
}

pub(crate) use impl_part;
