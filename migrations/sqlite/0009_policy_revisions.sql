-- Every change to a policy, written in the transaction of the change: the policy as it was
-- after it (for a deletion, as it was when deleted), as JSON in the policy answer's shape.
-- No foreign key to policies: a deleted policy keeps its revisions, and a restore recreates
-- it under the same id (policy ids are AUTOINCREMENT, never reused).
CREATE TABLE policy_revisions (
    org_id      INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    policy_id   INTEGER NOT NULL,
    revision    INTEGER NOT NULL CHECK (revision > 0),  -- 1, 2, ... per policy
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete', 'restore')),
    version     INTEGER NOT NULL,                         -- the policy's ETag after the change
    policy      TEXT NOT NULL,                            -- JSON, the policy answer's shape
    PRIMARY KEY (policy_id, revision)
);
CREATE INDEX policy_revisions_org ON policy_revisions (org_id);

-- Every policy already there gets its state as revision 1, by actor 'unknown' at its
-- updated_at: 'create' if it was never edited, else 'update'. So its first edit can be undone.
-- Timestamps are stored as RFC 3339 text; strftime turns them into the answer's form.
INSERT INTO policy_revisions (org_id, policy_id, revision, at, actor, action, version, policy)
SELECT p.org_id, p.id, 1, p.updated_at, 'unknown',
    CASE WHEN p.created_at = p.updated_at THEN 'create' ELSE 'update' END,
    p.version,
    json_object(
        'id', p.id,
        'name', p.name,
        'target', p.target,
        'repositories', json(COALESCE(
            (SELECT json_group_array(r.name ORDER BY r.name_key) FROM policy_repos pr
             JOIN repos r ON r.id = pr.repo_id WHERE pr.policy_id = p.id),
            '[]')),
        'enforcement', p.enforcement,
        'constraints', json(CASE WHEN p.has_base_images THEN json_object(
            'base_images', json_object('allowed_values', json(COALESCE(
                (SELECT json_group_array(v.value ORDER BY v.position) FROM policy_allowed_values v
                 WHERE v.policy_id = p.id),
                '[]'))))
            ELSE json_object() END),
        'created_at', strftime('%Y-%m-%dT%H:%M:%SZ', p.created_at),
        'updated_at', strftime('%Y-%m-%dT%H:%M:%SZ', p.updated_at)
    )
FROM policies p;
