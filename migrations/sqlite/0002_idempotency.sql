-- Answers of POST /codespaces by Idempotency-Key, scoped to the calling token.
CREATE TABLE idempotency_keys (
    scope           TEXT NOT NULL,               -- hex SHA-256 of the caller's token
    key             TEXT NOT NULL,
    request_hash    BLOB NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
    status          INTEGER,
    response        TEXT,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
