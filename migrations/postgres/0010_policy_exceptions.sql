-- Policy exceptions: until expires_at (by the service's clock), an image one of
-- allowed_values allows is allowed for the codespaces an exception covers, whatever the
-- policies say. A deleted repository takes its exceptions with it, so that none ever widens
-- to every repository.
CREATE TABLE policy_exceptions (
    id              BIGSERIAL PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    repo_id         BIGINT REFERENCES repos (id) ON DELETE CASCADE,   -- NULL: every repository
    user_login      TEXT,                                              -- as written; NULL: every user
    user_key        TEXT,                                              -- lowercased
    allowed_values  TEXT NOT NULL,                                     -- JSON array of allowed values
    expires_at      TIMESTAMPTZ NOT NULL,
    reason          TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    created_by      TEXT NOT NULL,
    CHECK ((user_login IS NULL) = (user_key IS NULL))
);
CREATE INDEX policy_exceptions_org ON policy_exceptions (org_id, id);

-- The exception that changed a decision, if one did; no foreign key, so that the log keeps
-- naming an exception after it is deleted.
ALTER TABLE decisions ADD COLUMN exception_id BIGINT;
