-- A codespace built from a Docker Compose service's image records `compose` as its source.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt with the same
-- columns and index (no table refers to it).
CREATE TABLE codespaces_new (
    id              TEXT PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    repo_id         INTEGER NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    user_login      TEXT NOT NULL,
    billable_owner  TEXT NOT NULL,
    image           TEXT NOT NULL,
    image_source    TEXT NOT NULL
        CHECK (image_source IN ('image', 'dockerfile', 'compose', 'default')),
    recovery_mode   INTEGER NOT NULL,
    creation_log    TEXT NOT NULL,               -- a JSON array of lines
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
INSERT INTO codespaces_new SELECT * FROM codespaces;
DROP TABLE codespaces;
ALTER TABLE codespaces_new RENAME TO codespaces;
CREATE INDEX codespaces_org ON codespaces (org_id, created_at, id);
