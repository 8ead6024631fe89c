//! The idempotency keys of codespace creation, scoped to the calling token: claimed, answered
//! (a creation's 201 is stored by the creation itself), released.

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
        impl IdempotencyStore for $store {
            async fn begin_idempotent(
                &self,
                scope: &str,
                key: &str,
                request_hash: &[u8],
                lease: std::time::Duration,
                keep: std::time::Duration,
            ) -> StoreResult<IdempotencyStart> {
                let now = Utc::now();
                let ago = |d: std::time::Duration| {
                    now - chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
                };
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                    .bind(ago(keep))
                    .execute(&mut *tx)
                    .await?;
                let claimed = sqlx::query(
                    "INSERT INTO idempotency_keys (scope, key, request_hash, state, created_at) \
                     VALUES ($1, $2, $3, 'in_flight', $4) ON CONFLICT (scope, key) DO NOTHING",
                )
                .bind(scope)
                .bind(key)
                .bind(request_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let start = if claimed == 1 {
                    IdempotencyStart::Started
                } else {
                    let row: (Vec<u8>, String, Option<i64>, Option<String>, chrono::DateTime<Utc>) =
                        sqlx::query_as(concat!(
                            "SELECT request_hash, state, status, response, created_at \
                             FROM idempotency_keys WHERE scope = $1 AND key = $2",
                            $update
                        ))
                        .bind(scope)
                        .bind(key)
                        .fetch_one(&mut *tx)
                        .await?;
                    let (hash, state, status, response, created_at) = row;
                    if hash != request_hash {
                        IdempotencyStart::Mismatch
                    } else if state == "done" {
                        IdempotencyStart::Replay {
                            status: status.and_then(|s| u16::try_from(s).ok()).unwrap_or(500),
                            body: response.unwrap_or_default(),
                        }
                    } else if created_at > ago(lease) {
                        IdempotencyStart::InFlight
                    } else {
                        sqlx::query(
                            "UPDATE idempotency_keys SET created_at = $1 \
                             WHERE scope = $2 AND key = $3",
                        )
                        .bind(now)
                        .bind(scope)
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                        IdempotencyStart::Started
                    }
                };
                tx.commit().await?;
                Ok(start)
            }

            async fn finish_idempotent(
                &self,
                scope: &str,
                key: &str,
                status: u16,
                body: &str,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE idempotency_keys SET state = 'done', status = $1, response = $2 \
                     WHERE scope = $3 AND key = $4",
                )
                .bind(i64::from(status))
                .bind(body)
                .bind(scope)
                .bind(key)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn abandon_idempotent(&self, scope: &str, key: &str) -> StoreResult<()> {
                sqlx::query(
                    "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND state = 'in_flight'",
                )
                .bind(scope)
                .bind(key)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_part;
