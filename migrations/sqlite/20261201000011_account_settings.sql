-- Account settings that are not fields of a send. NULL: as the parent account (a sub-account
-- inherits until it sets its own), else the built-in default. Grows with Settings.
CREATE TABLE account_settings (
    account_sid     TEXT PRIMARY KEY REFERENCES accounts(sid),
    -- Calls ask the callee to press a key before the code is read (so voicemail does not
    -- record it): 1 yes, 0 no.
    voice_press_key INTEGER,
    date_updated    BIGINT NOT NULL
);
