-- Identities: users are created on first mention (membership or token).
CREATE TABLE users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    login       TEXT NOT NULL,
    login_key   TEXT NOT NULL UNIQUE,           -- lowercased: names compare case-insensitively
    created_at  TEXT NOT NULL
);

-- Tokens are stored only as SHA-256 hashes of the secret.
CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash  BLOB NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('site_admin', 'user', 'service')),
    user_id     INTEGER REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT,
    CHECK ((kind = 'user') = (user_id IS NOT NULL))
);

CREATE TABLE orgs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    login           TEXT NOT NULL,
    login_key       TEXT NOT NULL UNIQUE,
    billing_mode    TEXT NOT NULL DEFAULT 'members'
                    CHECK (billing_mode IN ('disabled', 'members', 'members_and_outside_collaborators', 'selected_members')),
    -- Bumped by every policy change, in the same transaction; creations lock this row shared.
    policy_version  INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);

CREATE TABLE billing_selected_users (
    org_id      INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    login_key   TEXT NOT NULL,
    login       TEXT NOT NULL,
    PRIMARY KEY (org_id, login_key)
);

CREATE TABLE repos (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (org_id, name_key)
);

CREATE TABLE memberships (
    org_id      INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'member', 'outside_collaborator')),
    PRIMARY KEY (org_id, user_id)
);

CREATE TABLE policies (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    target          TEXT NOT NULL CHECK (target IN ('all_repositories', 'selected_repositories')),
    -- false: the policy has no base_images constraint and constrains nothing.
    has_base_images INTEGER NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1,   -- the ETag
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX policies_org ON policies (org_id, id);

CREATE TABLE policy_repos (
    policy_id   INTEGER NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    repo_id     INTEGER NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    PRIMARY KEY (policy_id, repo_id)
);

CREATE TABLE policy_allowed_values (
    policy_id   INTEGER NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (policy_id, position)
);

CREATE TABLE codespaces (
    id              TEXT PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    repo_id         INTEGER NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    user_login      TEXT NOT NULL,
    billable_owner  TEXT NOT NULL,
    image           TEXT NOT NULL,
    image_source    TEXT NOT NULL CHECK (image_source IN ('image', 'dockerfile', 'default')),
    recovery_mode   INTEGER NOT NULL,
    creation_log    TEXT NOT NULL,               -- a JSON array of lines
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX codespaces_org ON codespaces (org_id, created_at, id);
