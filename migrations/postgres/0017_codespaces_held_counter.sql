-- How many codespaces billed to an org each user holds there (what max_codespaces_per_user
-- limits), kept as one row a user while an enforcing policy of the org sets that limit
-- (`orgs.counts_held`), so that a creation checks and takes its place with one upsert on that
-- row instead of counting the user's codespaces under a lock. Orgs without the limit keep no
-- rows, so that their creations never wait on one another for a user's row.
--
-- A creation's INSERT bumps the row itself, in the same statement (`ON CONFLICT DO UPDATE
-- ... WHERE held < limit`): the upsert locks the row and judges its newest version, so two
-- creations racing for the last place are ordered and the second finds it taken. Deletions
-- (the route, the retention sweep, an org's or repository's cascade) and a rebuild that
-- changes who pays are followed by the triggers below, so that no other writer can forget.
-- A policy edit, which holds codespace writes off, counts an org's rows afresh when the limit
-- comes into force and drops them when it goes (`codespaces_held_reconcile`).
ALTER TABLE orgs ADD COLUMN counts_held BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE codespaces_held (
    org_id   BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_key TEXT NOT NULL,
    held     BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_key)
);

CREATE FUNCTION codespaces_held_reconcile(p_org BIGINT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    wanted BOOLEAN := EXISTS (
        SELECT 1 FROM policies WHERE org_id = p_org AND enforcement = 'enforce'
        AND jsonb_typeof(CAST(constraints AS jsonb) -> 'max_codespaces_per_user') = 'object');
BEGIN
    IF wanted IS DISTINCT FROM (SELECT counts_held FROM orgs WHERE id = p_org) THEN
        UPDATE orgs SET counts_held = wanted WHERE id = p_org;
        DELETE FROM codespaces_held WHERE org_id = p_org;
        IF wanted THEN
            INSERT INTO codespaces_held (org_id, user_key, held)
                SELECT org_id, user_key, COUNT(*) FROM codespaces
                WHERE org_id = p_org AND billed_to_org GROUP BY org_id, user_key;
        END IF;
    END IF;
END
$$;

-- A statement's deletions, one update a user, taken in (org, user) order: two sweeps on two
-- replicas lock the rows they share in the same order, so they never deadlock.
CREATE FUNCTION codespaces_held_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone RECORD;
BEGIN
    FOR gone IN
        SELECT d.org_id, d.user_key, COUNT(*) AS n FROM deleted_codespaces d
        JOIN orgs o ON o.id = d.org_id AND o.counts_held
        WHERE d.billed_to_org GROUP BY d.org_id, d.user_key ORDER BY d.org_id, d.user_key
    LOOP
        UPDATE codespaces_held SET held = held - gone.n
            WHERE org_id = gone.org_id AND user_key = gone.user_key;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER codespaces_held_after_delete AFTER DELETE ON codespaces
    REFERENCING OLD TABLE AS deleted_codespaces
    FOR EACH STATEMENT EXECUTE FUNCTION codespaces_held_after_delete();

-- A rebuild that moves a codespace's bill to or from the org (rare, one row at a time).
CREATE FUNCTION codespaces_held_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.billed_to_org AND (SELECT counts_held FROM orgs WHERE id = OLD.org_id) THEN
        UPDATE codespaces_held SET held = held - 1
            WHERE org_id = OLD.org_id AND user_key = OLD.user_key;
    END IF;
    IF NEW.billed_to_org AND (SELECT counts_held FROM orgs WHERE id = NEW.org_id) THEN
        INSERT INTO codespaces_held (org_id, user_key, held) VALUES (NEW.org_id, NEW.user_key, 1)
            ON CONFLICT (org_id, user_key) DO UPDATE SET held = codespaces_held.held + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER codespaces_held_after_update AFTER UPDATE OF org_id, user_key, billed_to_org
    ON codespaces FOR EACH ROW
    WHEN (OLD.billed_to_org IS DISTINCT FROM NEW.billed_to_org
          OR OLD.org_id IS DISTINCT FROM NEW.org_id
          OR OLD.user_key IS DISTINCT FROM NEW.user_key)
    EXECUTE FUNCTION codespaces_held_after_update();

-- No codespace may be written between the counts below and their first use.
LOCK TABLE codespaces IN SHARE MODE;
SELECT codespaces_held_reconcile(id) FROM orgs;

DROP FUNCTION codespaces_held_locked(BIGINT, TEXT, BIGINT);
