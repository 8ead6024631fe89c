-- How many codespaces billed to an org a user holds there (what max_codespaces_per_user
-- counts), counted once the advisory lock that orders that user's creations is held; the lock
-- lasts to the end of the caller's transaction. A creation calls it inside its one INSERT
-- statement. It is VOLATILE, so that its count takes a fresh snapshot after the lock wait:
-- a creation that committed while this one waited is counted (the calling statement's own
-- snapshot, taken before the wait, would miss it).
CREATE FUNCTION codespaces_held_locked(p_org BIGINT, p_user TEXT, p_lock BIGINT)
RETURNS BIGINT LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock);
    RETURN (SELECT COUNT(*) FROM codespaces
            WHERE org_id = p_org AND user_key = p_user AND billed_to_org);
END
$$;
