-- The owners' console's logins. A session is found by the SHA-256 of the random id in its
-- cookie (the id itself is never stored) and acts with the token it was opened with, named
-- by that token's hash: revoking the token ends the session at its next request. Times are
-- Unix seconds, so that expiry compares as numbers on both stores.
CREATE TABLE console_sessions (
    id_hash     BYTEA PRIMARY KEY,
    token_hash  BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
