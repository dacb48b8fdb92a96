-- The account `smart2fa demo` (or `serve --demo`) created: 1 for it, 0 for every other. The demo
-- only ever resets this account's token and admin password, never another account whose user
-- happens to be demo@example.com.
ALTER TABLE accounts ADD COLUMN created_by_demo INTEGER NOT NULL DEFAULT 0;
