-- Accounts (tenants, optionally sub-accounts of a parent), their API credentials and console users.
-- Times are Unix epoch milliseconds (UTC).
CREATE TABLE accounts (
    sid            TEXT PRIMARY KEY,
    parent_sid     TEXT REFERENCES accounts(sid),
    friendly_name  TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'closed')),
    date_created   BIGINT NOT NULL,
    date_updated   BIGINT NOT NULL
);
CREATE INDEX accounts_by_parent ON accounts (parent_sid, date_created);

-- One row per secret that authenticates as an account: its AuthToken (sid = the AccountSid)
-- or an API key (sid = SK…). Only a SHA-256 of the secret is stored.
CREATE TABLE api_credentials (
    sid            TEXT PRIMARY KEY,
    account_sid    TEXT NOT NULL REFERENCES accounts(sid),
    kind           TEXT NOT NULL CHECK (kind IN ('auth_token', 'api_key')),
    friendly_name  TEXT NOT NULL DEFAULT '',
    secret_hash    TEXT NOT NULL,
    date_created   BIGINT NOT NULL,
    revoked_at     BIGINT
);
CREATE INDEX api_credentials_by_account ON api_credentials (account_sid);

CREATE TABLE users (
    sid            TEXT PRIMARY KEY,
    account_sid    TEXT NOT NULL REFERENCES accounts(sid),
    email          TEXT NOT NULL,
    email_key      TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'support')),
    disabled_at    BIGINT,
    last_login_at  BIGINT,
    date_created   BIGINT NOT NULL,
    date_updated   BIGINT NOT NULL
);
CREATE INDEX users_by_account ON users (account_sid, date_created);
