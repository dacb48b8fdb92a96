-- A console user's email is unique within its account, not across all accounts: one tenant can
-- no longer learn that an address is another tenant's user by failing to add it. Sign-in finds
-- every user with the email and opens the account whose password matched (asking which when
-- several did).
ALTER TABLE users DROP CONSTRAINT users_email_key_key;
ALTER TABLE users ADD CONSTRAINT users_account_email_key UNIQUE (account_sid, email_key);
CREATE INDEX users_by_email_key ON users (email_key);
