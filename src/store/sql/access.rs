//! Tokens and users, and the pool's own health.

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
        impl AccessStore for $store {
            fn pool_connections(&self) -> (u64, u64) {
                let size = u64::from(self.pool.size());
                let idle = self.pool.num_idle() as u64;
                (size.saturating_sub(idle), idle)
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn find_token(&self, token_hash: &[u8]) -> StoreResult<Option<TokenRecord>> {
                self.reads
                    .read_through(
                        |m| m.tokens.get(token_hash).cloned().map(Some),
                        async {
                            let row: Option<TokenRow> = sqlx::query_as(
                                "SELECT t.id, t.kind, t.token_hash, u.id AS user_id, \
                                 u.login AS user_login \
                                 FROM tokens t LEFT JOIN users u ON u.id = t.user_id \
                                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
                            )
                            .bind(token_hash)
                            .fetch_optional(&self.pool)
                            .await?;
                            row.map(TokenRecord::try_from).transpose()
                        },
                        |m, record| {
                            if let Some(record) = record {
                                m.tokens.insert(token_hash.to_vec(), record);
                            }
                        },
                    )
                    .await
            }

            async fn has_site_admin_token(&self) -> StoreResult<bool> {
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM tokens WHERE kind = 'site_admin' AND revoked_at IS NULL",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok(count > 0)
            }

            async fn find_user(&self, login: &Name) -> StoreResult<Option<User>> {
                let key = login.key();
                self.reads
                    .read_through(
                        |m| m.users.get(&key).cloned().map(Some),
                        async {
                            let row: Option<(i64, String)> =
                                sqlx::query_as("SELECT id, login FROM users WHERE login_key = $1")
                                    .bind(&key)
                                    .fetch_optional(&self.pool)
                                    .await?;
                            Ok(row.map(|(id, login)| User { id, login }))
                        },
                        |m, user| {
                            if let Some(user) = user {
                                m.users.insert(key.clone(), user);
                            }
                        },
                    )
                    .await
            }

            async fn insert_token(
                &self,
                kind: TokenKind,
                token_hash: &[u8],
                user: Option<&Name>,
                name: Option<&str>,
                actor: &str,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let user_id = match user {
                    Some(login) => Some(Self::upsert_user(&mut tx, login).await?),
                    None => None,
                };
                sqlx::query(
                    "INSERT INTO tokens (token_hash, kind, user_id, name, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_hash) DO NOTHING",
                )
                .bind(token_hash)
                .bind(kind.as_str())
                .bind(user_id)
                .bind(name)
                .bind(Utc::now())
                .execute(&mut *tx)
                .await?;
                let after = token_snapshot(kind, user.map(Name::as_str), name);
                Self::audit(&mut tx, None, actor, "token.create", None, Some(after)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn revoke_token(&self, token_hash: &[u8], actor: &str) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let revoked: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
                    "UPDATE tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL \
                     RETURNING kind, name, (SELECT login FROM users WHERE users.id = tokens.user_id)",
                )
                .bind(Utc::now())
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?;
                let (kind, name, user) = revoked.ok_or(StoreError::NotFound)?;
                let kind = TokenKind::parse(&kind).unwrap_or(TokenKind::User);
                let before = token_snapshot(kind, user.as_deref(), name.as_deref());
                Self::audit(&mut tx, None, actor, "token.revoke", Some(before), None).await?;
                self.commit_change(tx).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_part;
