-- The community a replicated listing came from (federation); NULL for local entries.
ALTER TABLE listings ADD COLUMN origin TEXT;
