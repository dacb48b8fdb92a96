-- A console user's email is unique within its account, not across all accounts: one tenant can
-- no longer learn that an address is another tenant's user by failing to add it. Sign-in finds
-- every user with the email and opens the account whose password matched (asking which when
-- several did). SQLite cannot drop a UNIQUE column constraint: the table is rebuilt (nothing
-- references users).
CREATE TABLE users_new (
    sid            TEXT PRIMARY KEY,
    account_sid    TEXT NOT NULL REFERENCES accounts(sid),
    email          TEXT NOT NULL,
    email_key      TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'support')),
    disabled_at    BIGINT,
    last_login_at  BIGINT,
    date_created   BIGINT NOT NULL,
    date_updated   BIGINT NOT NULL,
    UNIQUE (account_sid, email_key)
);
INSERT INTO users_new (sid, account_sid, email, email_key, password_hash, role, disabled_at,
                       last_login_at, date_created, date_updated)
SELECT sid, account_sid, email, email_key, password_hash, role, disabled_at, last_login_at,
       date_created, date_updated
FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_by_account ON users (account_sid, date_created);
CREATE INDEX users_by_email_key ON users (email_key);
