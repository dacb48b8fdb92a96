-- An account's own message templates, one per channel and language (a canonical BCP 47 tag
-- like es or es-MX). Without one, a sub-account uses its parent's, else the built-in text.
CREATE TABLE message_templates (
    account_sid  TEXT NOT NULL REFERENCES accounts(sid),
    -- sms | call | email
    channel      TEXT NOT NULL,
    language     TEXT NOT NULL,
    -- Email only.
    subject      TEXT,
    text         TEXT NOT NULL,
    -- Email only; NULL: the HTML part is made from the text.
    html         TEXT,
    date_updated BIGINT NOT NULL,
    PRIMARY KEY (account_sid, channel, language)
);
