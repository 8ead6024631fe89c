//! What the fail-closed tests share: holding the database's locks so that a part of the
//! store cannot answer within its timeout, and the 503 they then expect.

use axum::http::StatusCode;
use sqlx::{Connection, Executor, PgConnection, SqliteConnection};

use crate::helpers::{TestApp, TestDatabase, TestResponse};

/// A 503 with `Retry-After` whose body reveals nothing internal.
pub fn assert_unavailable(response: &TestResponse, what: &str) {
    assert_eq!(
        response.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {:?}",
        response.body
    );
    assert!(response.headers.contains_key("retry-after"), "{what}");
    assert!(
        !String::from_utf8_lossy(&response.raw).contains("sqlx"),
        "{what}: reveals nothing"
    );
}

/// A connection holding locks until [`release`].
pub enum Held {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// On PostgreSQL, `tables` locked against reads too; on SQLite the database's write lock.
pub async fn hold(app: &TestApp, tables: &str) -> Held {
    match &app.database {
        TestDatabase::Postgres(options) => {
            let mut conn = PgConnection::connect_with(options).await.unwrap();
            conn.execute("BEGIN").await.unwrap();
            conn.execute(format!("LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE").as_str())
                .await
                .unwrap();
            Held::Postgres(conn)
        }
        TestDatabase::Sqlite(url) => {
            let mut conn = SqliteConnection::connect(url).await.unwrap();
            conn.execute("BEGIN IMMEDIATE").await.unwrap();
            Held::Sqlite(conn)
        }
    }
}

pub async fn release(held: Held) {
    match held {
        Held::Postgres(mut conn) => conn.execute("ROLLBACK").await.map(drop).unwrap(),
        Held::Sqlite(mut conn) => conn.execute("ROLLBACK").await.map(drop).unwrap(),
    }
}
