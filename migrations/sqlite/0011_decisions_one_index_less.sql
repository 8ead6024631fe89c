-- Every creation writes a decision, and each index is paid for on that write: the hourly
-- prune now walks each org's (org_id, at, id) index instead of an index of its own.
DROP INDEX decisions_at;
