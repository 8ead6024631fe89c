-- Identities: users are created on first mention (membership or token).
CREATE TABLE users (
    id          BIGSERIAL PRIMARY KEY,
    login       TEXT NOT NULL,
    login_key   TEXT NOT NULL UNIQUE,           -- lowercased: names compare case-insensitively
    created_at  TIMESTAMPTZ NOT NULL
);

-- Tokens are stored only as SHA-256 hashes of the secret.
CREATE TABLE tokens (
    id          BIGSERIAL PRIMARY KEY,
    token_hash  BYTEA NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('site_admin', 'user', 'service')),
    user_id     BIGINT REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ,
    CHECK ((kind = 'user') = (user_id IS NOT NULL))
);

CREATE TABLE orgs (
    id              BIGSERIAL PRIMARY KEY,
    login           TEXT NOT NULL,
    login_key       TEXT NOT NULL UNIQUE,
    billing_mode    TEXT NOT NULL DEFAULT 'members'
                    CHECK (billing_mode IN ('disabled', 'members', 'members_and_outside_collaborators', 'selected_members')),
    -- Bumped by every policy change, in the same transaction; creations lock this row shared.
    policy_version  BIGINT NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE billing_selected_users (
    org_id      BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    login_key   TEXT NOT NULL,
    login       TEXT NOT NULL,
    PRIMARY KEY (org_id, login_key)
);

CREATE TABLE repos (
    id          BIGSERIAL PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, name_key)
);

CREATE TABLE memberships (
    org_id      BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'member', 'outside_collaborator')),
    PRIMARY KEY (org_id, user_id)
);

CREATE TABLE policies (
    id              BIGSERIAL PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    target          TEXT NOT NULL CHECK (target IN ('all_repositories', 'selected_repositories')),
    -- false: the policy has no base_images constraint and constrains nothing.
    has_base_images BOOLEAN NOT NULL,
    version         BIGINT NOT NULL DEFAULT 1,   -- the ETag
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX policies_org ON policies (org_id, id);

CREATE TABLE policy_repos (
    policy_id   BIGINT NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    repo_id     BIGINT NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    PRIMARY KEY (policy_id, repo_id)
);

CREATE TABLE policy_allowed_values (
    policy_id   BIGINT NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (policy_id, position)
);

CREATE TABLE codespaces (
    id              TEXT PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    repo_id         BIGINT NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    user_login      TEXT NOT NULL,
    billable_owner  TEXT NOT NULL,
    image           TEXT NOT NULL,
    image_source    TEXT NOT NULL CHECK (image_source IN ('image', 'dockerfile', 'default')),
    recovery_mode   BOOLEAN NOT NULL,
    creation_log    TEXT NOT NULL,               -- a JSON array of lines
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX codespaces_org ON codespaces (org_id, created_at, id);
