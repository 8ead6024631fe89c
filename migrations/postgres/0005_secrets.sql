-- Repositories have a visibility; it decides which org secrets with visibility `private`
-- reach their codespaces.
ALTER TABLE repos ADD COLUMN visibility TEXT NOT NULL DEFAULT 'private'
    CHECK (visibility IN ('private', 'internal', 'public'));

-- What the service keeps about its master key: only a fingerprint, so that a start with
-- another key is refused before it could store anything the first key cannot open.
CREATE TABLE service_settings (
    name    TEXT PRIMARY KEY,
    value   TEXT NOT NULL
);

-- Each level (a user, a repository, an org) has X25519 key pairs; clients seal values for
-- the current one. The private key is stored encrypted under the master key.
CREATE TABLE secret_keys (
    id              BIGSERIAL PRIMARY KEY,
    level           TEXT NOT NULL CHECK (level IN ('user', 'repository', 'organization')),
    owner_id        BIGINT NOT NULL,            -- users.id, repos.id or orgs.id
    key_id          TEXT NOT NULL,
    public_key      BYTEA NOT NULL,
    private_key     BYTEA NOT NULL,               -- encrypted under the master key
    is_current      BOOLEAN NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (level, owner_id, key_id)
);
CREATE UNIQUE INDEX secret_keys_current ON secret_keys (level, owner_id) WHERE is_current;

-- Codespaces secrets. A value is opened once, when it is put, and kept encrypted under the
-- master key, bound to its level, owner and name.
CREATE TABLE secrets (
    id              BIGSERIAL PRIMARY KEY,
    level           TEXT NOT NULL CHECK (level IN ('user', 'repository', 'organization')),
    owner_id        BIGINT NOT NULL,
    org_id          BIGINT REFERENCES orgs (id) ON DELETE CASCADE,  -- org and repository levels
    name            TEXT NOT NULL,               -- upper-cased: names are case-insensitive
    value           BYTEA NOT NULL,               -- encrypted under the master key
    visibility      TEXT CHECK (visibility IN ('all', 'private', 'selected')),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (level, owner_id, name)
);

-- The repositories a `selected` org secret or a user secret names.
CREATE TABLE secret_repos (
    secret_id   BIGINT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    repo_id     BIGINT NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    PRIMARY KEY (secret_id, repo_id)
);
CREATE INDEX secret_repos_repo ON secret_repos (repo_id);

-- GitHub Container Registry packages of an org, and the repositories granted Codespaces
-- access to each.
CREATE TABLE packages (
    id              BIGSERIAL PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    visibility      TEXT NOT NULL CHECK (visibility IN ('public', 'internal', 'private')),
    repo_id         BIGINT REFERENCES repos (id) ON DELETE SET NULL,
    inherit_access  BOOLEAN NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, name_key)
);

CREATE TABLE package_access (
    package_id  BIGINT NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    repo_id     BIGINT NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    PRIMARY KEY (package_id, repo_id)
);
