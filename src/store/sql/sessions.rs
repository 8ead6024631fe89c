//! The owners' console's sessions, and the orgs a user owns (the console's org picker).

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
        impl SessionStore for $store {
            async fn create_session(
                &self,
                id_hash: &[u8],
                token_hash: &[u8],
                created_at: i64,
                expires_at: i64,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO console_sessions (id_hash, token_hash, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(id_hash)
                .bind(token_hash)
                .bind(created_at)
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn find_session(
                &self,
                id_hash: &[u8],
                now: i64,
            ) -> StoreResult<Option<SessionRecord>> {
                let row: Option<(Vec<u8>, i64)> = sqlx::query_as(
                    "SELECT token_hash, expires_at FROM console_sessions \
                     WHERE id_hash = $1 AND expires_at > $2",
                )
                .bind(id_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(token_hash, expires_at)| SessionRecord {
                    token_hash,
                    expires_at,
                }))
            }

            async fn delete_session(&self, id_hash: &[u8]) -> StoreResult<()> {
                sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
                    .bind(id_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn prune_sessions(&self, now: i64) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn owned_orgs(&self, user_id: i64, limit: i64) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT o.login FROM memberships m JOIN orgs o ON o.id = m.org_id \
                     WHERE m.user_id = $1 AND m.role = 'owner' ORDER BY o.login_key LIMIT $2",
                )
                .bind(user_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}

pub(crate) use impl_part;
