-- The private registries a codespace was given at its creation or last full rebuild: a JSON
-- array of {"server", "secret_prefix"}, never a user name or password.
ALTER TABLE codespaces ADD COLUMN registries TEXT NOT NULL DEFAULT '[]';
