-- A policy enforces (refuses what it does not allow) or only reports what it would refuse.
-- Every policy written before this enforces.
ALTER TABLE policies ADD COLUMN enforcement TEXT NOT NULL DEFAULT 'enforce'
    CHECK (enforcement IN ('enforce', 'report'));
