-- Delivery providers an account configures (Settings → Channels, /2fa/providers): several per
-- channel in priority order, optionally restricted to destination countries. `config` holds
-- the kind's settings without secrets; `secrets` the sealed secrets (auth token, password,
-- header values), never readable back through the API.
CREATE TABLE providers (
    sid           TEXT PRIMARY KEY,
    account_sid   TEXT NOT NULL REFERENCES accounts(sid),
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    channels      TEXT NOT NULL,              -- comma-separated
    countries     TEXT NOT NULL DEFAULT '',   -- comma-separated ISO 3166 codes; empty: all
    priority      INTEGER NOT NULL DEFAULT 10,
    enabled       INTEGER NOT NULL DEFAULT 1,
    config        TEXT NOT NULL,
    secrets       TEXT NOT NULL DEFAULT '',
    date_created  BIGINT NOT NULL,
    date_updated  BIGINT NOT NULL,
    UNIQUE (account_sid, name)
);
CREATE INDEX providers_by_account ON providers (account_sid, priority);

-- A delivery through a real provider is recorded before the provider is called, so a receipt
-- that arrives before the provider's answer still finds it: by `delivery_key`, the hash of the
-- unguessable token in the callback (and voice document) URL we gave the provider.
ALTER TABLE delivery_attempts ADD COLUMN provider_ref TEXT;
ALTER TABLE delivery_attempts ADD COLUMN provider_kind TEXT;
ALTER TABLE delivery_attempts ADD COLUMN step INTEGER;
ALTER TABLE delivery_attempts ADD COLUMN delivery_key TEXT;
ALTER TABLE delivery_attempts ADD COLUMN date_updated BIGINT;
CREATE UNIQUE INDEX delivery_attempts_by_key ON delivery_attempts (delivery_key);
CREATE INDEX delivery_attempts_by_provider_sid ON delivery_attempts (provider_ref, provider_sid);

-- The sandbox outbox shows a test code only while its OTP can still be verified: the message
-- keeps the code as it appears in its text, and the moment the OTP is final the text is masked
-- and the code forgotten, whichever path moves it there. Messages written before this keep
-- their text (they are pruned after a week).
ALTER TABLE sandbox_messages ADD COLUMN code TEXT;
CREATE TRIGGER sandbox_codes_forget_when_final AFTER UPDATE OF status ON otps
    WHEN NEW.status NOT IN ('pending', 'sent', 'delivered')
BEGIN
    UPDATE sandbox_messages
       SET text = replace(text, code, '******'), subject = replace(subject, code, '******'), code = NULL
     WHERE otp_sid = NEW.sid AND code IS NOT NULL;
END;
CREATE INDEX sandbox_by_age ON sandbox_messages (date_created);
