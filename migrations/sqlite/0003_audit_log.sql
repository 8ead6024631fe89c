-- Every change to policies, memberships, billing and tokens, written in the transaction of
-- the change itself. Token events have no org. Never holds a token.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER REFERENCES orgs (id) ON DELETE CASCADE,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    before      TEXT,                        -- JSON of the state before, if any
    after       TEXT,                        -- JSON of the state after, if any
    created_at  TEXT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log (org_id, id);
