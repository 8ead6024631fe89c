//! Queries the secrets part shares: the lock that serializes one owner's secret writes,
//! and a secret's repositories (reading, checking what it may name, writing).

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
        impl $store {
            /// Locks the owner's current key row and answers its `key_id`.
            async fn lock_level(
                conn: &mut $conn,
                owner: &SecretOwner,
            ) -> StoreResult<Option<String>> {
                let sql = format!(
                    "SELECT key_id FROM secret_keys \
                     WHERE level = $1 AND owner_id = $2 AND is_current = $3{}",
                    $update
                );
                Ok(sqlx::query_scalar(&sql)
                    .bind(owner.level.as_str())
                    .bind(owner.id)
                    .bind(true)
                    .fetch_optional(&mut *conn)
                    .await?)
            }

            /// The id and visibility of the owner's secret `name`, if there is one.
            async fn stored_secret(
                conn: &mut $conn,
                owner: &SecretOwner,
                name: &str,
            ) -> StoreResult<Option<(i64, Option<OrgSecretVisibility>)>> {
                let row: Option<(i64, Option<String>)> = sqlx::query_as(
                    "SELECT id, visibility FROM secrets \
                     WHERE level = $1 AND owner_id = $2 AND name = $3",
                )
                .bind(owner.level.as_str())
                .bind(owner.id)
                .bind(name)
                .fetch_optional(&mut *conn)
                .await?;
                Ok(row.map(|(id, visibility)| {
                    (
                        id,
                        visibility.as_deref().and_then(OrgSecretVisibility::parse),
                    )
                }))
            }

            async fn secret_repo_ids(conn: &mut $conn, secret_id: i64) -> StoreResult<Vec<i64>> {
                Ok(sqlx::query_scalar(
                    "SELECT repo_id FROM secret_repos WHERE secret_id = $1 ORDER BY repo_id",
                )
                .bind(secret_id)
                .fetch_all(&mut *conn)
                .await?)
            }

            /// `Invalid` on the first id that is not a repository the owner's secrets may
            /// name: the org's own (org level), one of an org the user has a role in (user).
            async fn check_repo_ids(
                conn: &mut $conn,
                owner: &SecretOwner,
                ids: &[i64],
                field: &str,
            ) -> StoreResult<()> {
                let sql = match owner.level {
                    Level::Organization => {
                        "SELECT COUNT(*) FROM repos WHERE id = $1 AND org_id = $2"
                    }
                    Level::User => {
                        "SELECT COUNT(*) FROM repos r JOIN memberships m \
                        ON m.org_id = r.org_id WHERE r.id = $1 AND m.user_id = $2"
                    }
                    Level::Repository => "SELECT 0 WHERE $1 = $2",
                };
                for (index, id) in ids.iter().enumerate() {
                    let found: i64 = sqlx::query_scalar(sql)
                        .bind(*id)
                        .bind(owner.id)
                        .fetch_one(&mut *conn)
                        .await?;
                    if found == 0 {
                        return Err(StoreError::Invalid {
                            // A list names the entry; one id from the path names the parameter.
                            field: match field {
                                "repository_id" => field.to_string(),
                                list => format!("{list}[{index}]"),
                            },
                            message: format!("{id} is not a repository this secret may name"),
                        });
                    }
                }
                Ok(())
            }

            async fn write_secret_repos(
                conn: &mut $conn,
                secret_id: i64,
                ids: &[i64],
            ) -> StoreResult<()> {
                sqlx::query("DELETE FROM secret_repos WHERE secret_id = $1")
                    .bind(secret_id)
                    .execute(&mut *conn)
                    .await?;
                for id in ids {
                    sqlx::query(
                        "INSERT INTO secret_repos (secret_id, repo_id) VALUES ($1, $2) \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(secret_id)
                    .bind(*id)
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            }
        }
    };
}

pub(crate) use impl_part;
