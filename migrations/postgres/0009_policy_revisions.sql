-- Every change to a policy, written in the transaction of the change: the policy as it was
-- after it (for a deletion, as it was when deleted), as JSON in the policy answer's shape.
-- No foreign key to policies: a deleted policy keeps its revisions, and a restore recreates
-- it under the same id.
CREATE TABLE policy_revisions (
    org_id      BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    policy_id   BIGINT NOT NULL,
    revision    BIGINT NOT NULL CHECK (revision > 0),   -- 1, 2, ... per policy
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete', 'restore')),
    version     BIGINT NOT NULL,                          -- the policy's ETag after the change
    policy      TEXT NOT NULL,                            -- JSON, the policy answer's shape
    PRIMARY KEY (policy_id, revision)
);
CREATE INDEX policy_revisions_org ON policy_revisions (org_id);

-- Every policy already there gets its state as revision 1, by actor 'unknown' at its
-- updated_at: 'create' if it was never edited, else 'update'. So its first edit can be undone.
INSERT INTO policy_revisions (org_id, policy_id, revision, at, actor, action, version, policy)
SELECT p.org_id, p.id, 1, p.updated_at, 'unknown',
    CASE WHEN p.created_at = p.updated_at THEN 'create' ELSE 'update' END,
    p.version,
    CAST(json_build_object(
        'id', p.id,
        'name', p.name,
        'target', p.target,
        'repositories', COALESCE(
            (SELECT json_agg(r.name ORDER BY r.name_key) FROM policy_repos pr
             JOIN repos r ON r.id = pr.repo_id WHERE pr.policy_id = p.id),
            CAST('[]' AS json)),
        'enforcement', p.enforcement,
        'constraints', CASE WHEN p.has_base_images THEN json_build_object(
            'base_images', json_build_object('allowed_values', COALESCE(
                (SELECT json_agg(v.value ORDER BY v.position) FROM policy_allowed_values v
                 WHERE v.policy_id = p.id),
                CAST('[]' AS json))))
            ELSE CAST('{}' AS json) END,
        'created_at', to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'updated_at', to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    ) AS TEXT)
FROM policies p;
