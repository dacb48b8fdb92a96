-- Status callbacks: jobs carry the status they report and when it changed; each account signs
-- its callbacks with its own secret.
ALTER TABLE jobs ADD COLUMN payload TEXT;
ALTER TABLE jobs ADD COLUMN created_at BIGINT;
ALTER TABLE accounts ADD COLUMN callback_secret TEXT NOT NULL DEFAULT '';
