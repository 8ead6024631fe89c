-- A codespace's life: who it counts against (the user, when the org pays), the machine it
-- runs on, whether it runs, its idle timeout (the user's own choice and the value the
-- policies left, re-applied at every start), its retention (capped at creation; the
-- deadline is set when it stops and the service deletes it after), and its forwarded ports.
ALTER TABLE codespaces ADD COLUMN user_key TEXT NOT NULL DEFAULT '';
ALTER TABLE codespaces ADD COLUMN billed_to_org BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE codespaces ADD COLUMN machine TEXT;
ALTER TABLE codespaces ADD COLUMN state TEXT NOT NULL DEFAULT 'Available'
    CHECK (state IN ('Available', 'Shutdown'));
ALTER TABLE codespaces ADD COLUMN idle_timeout_minutes INTEGER NOT NULL DEFAULT 30;
ALTER TABLE codespaces ADD COLUMN idle_timeout_requested INTEGER;
ALTER TABLE codespaces ADD COLUMN idle_timeout_notice TEXT;
ALTER TABLE codespaces ADD COLUMN retention_period_minutes INTEGER NOT NULL DEFAULT 43200;
ALTER TABLE codespaces ADD COLUMN retention_expires_at TEXT;
ALTER TABLE codespaces ADD COLUMN ports TEXT NOT NULL DEFAULT '[]';
UPDATE codespaces SET user_key = lower(user_login),
    billed_to_org = (billable_owner = (SELECT o.login FROM orgs o WHERE o.id = codespaces.org_id));
-- max_codespaces_per_user counts a user's org-billed codespaces; the sweep finds the expired.
CREATE INDEX codespaces_org_user ON codespaces (org_id, user_key) WHERE billed_to_org;
CREATE INDEX codespaces_retention ON codespaces (retention_expires_at)
    WHERE retention_expires_at IS NOT NULL;
