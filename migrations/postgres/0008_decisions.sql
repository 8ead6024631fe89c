-- The decision log: every creation and full rebuild the policies judged, written with the
-- codespace it made (a refusal alone), kept 90 days.
CREATE TABLE decisions (
    id              BIGSERIAL PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    at              TIMESTAMPTZ NOT NULL,
    repository      TEXT NOT NULL,               -- org/repo as the answer shows it
    repo_key        TEXT NOT NULL,               -- the repository's name, lowercased, for filters
    user_login      TEXT NOT NULL,
    image           TEXT NOT NULL,               -- the image judged, as configured
    image_source    TEXT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('created', 'refused', 'recovery')),
    refused_by      TEXT NOT NULL,               -- JSON array of enforcing policy ids
    reported_by     TEXT NOT NULL,               -- JSON array of report-only policy ids
    codespace_id    TEXT
);
CREATE INDEX decisions_org_at ON decisions (org_id, at, id);
CREATE INDEX decisions_org_repo_at ON decisions (org_id, repo_key, at, id);
CREATE INDEX decisions_at ON decisions (at);
