-- The constraints a policy holds beside base_images (machine_types, max_codespaces_per_user,
-- max_idle_timeout_minutes, max_retention_period_days, port_visibility), as the policy answer
-- writes them: a JSON object, validated before it is written. Every policy before this holds none.
ALTER TABLE policies ADD COLUMN constraints TEXT NOT NULL DEFAULT '{}';
