-- Fraud guard: the account's mode (block | monitor | off; NULL: its parent's, else by provider:
-- block real providers' traffic, only record the sandbox's) and safe-list (numbers and prefixes,
-- comma-separated; NULL: its parent's).
ALTER TABLE account_settings ADD COLUMN fraud_mode TEXT;
ALTER TABLE account_settings ADD COLUMN fraud_safe_list TEXT;

-- Phone OTPs sent and verified per account, scope ('p' + number prefix, 'c' + country code)
-- and UTC hour of creation. Kept by triggers on otps in the same transaction as the OTP's own
-- change, so the guard's counts never disagree with the SDRs.
CREATE TABLE fraud_counts (
    account_sid TEXT NOT NULL,
    scope       TEXT NOT NULL,
    hour        BIGINT NOT NULL,      -- date_created / 3 600 000
    sent        BIGINT NOT NULL,
    verified    BIGINT NOT NULL,
    PRIMARY KEY (account_sid, scope, hour)
);

CREATE TRIGGER fraud_count_sent AFTER INSERT ON otps
WHEN NEW.to_number IS NOT NULL AND NEW.status <> 'blocked'
BEGIN
    INSERT INTO fraud_counts (account_sid, scope, hour, sent, verified)
    VALUES (NEW.account_sid, 'p' || substr(NEW.to_number, 1, max(2, length(NEW.to_number) - 4)),
            NEW.date_created / 3600000, 1, 0)
    ON CONFLICT (account_sid, scope, hour) DO UPDATE SET sent = sent + 1;
    INSERT INTO fraud_counts (account_sid, scope, hour, sent, verified)
    SELECT NEW.account_sid, 'c' || NEW.country_code, NEW.date_created / 3600000, 1, 0
    WHERE NEW.country_code IS NOT NULL
    ON CONFLICT (account_sid, scope, hour) DO UPDATE SET sent = sent + 1;
END;

CREATE TRIGGER fraud_count_verified AFTER UPDATE OF status ON otps
WHEN NEW.to_number IS NOT NULL AND NEW.status = 'verified' AND OLD.status <> 'verified'
BEGIN
    UPDATE fraud_counts SET verified = verified + 1
    WHERE account_sid = NEW.account_sid AND hour = NEW.date_created / 3600000
      AND scope IN ('p' || substr(NEW.to_number, 1, max(2, length(NEW.to_number) - 4)),
                    'c' || NEW.country_code);
END;

-- Prefixes the guard blocked, per channel. A row stays after it ends or is lifted (the guard
-- does not block a lifted prefix again for a day).
CREATE TABLE fraud_blocks (
    account_sid  TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    channel      TEXT NOT NULL,
    country_code TEXT,
    reason       TEXT NOT NULL,
    since        BIGINT NOT NULL,
    until        BIGINT NOT NULL,
    lifted_at    BIGINT,
    lifted_by    TEXT,
    PRIMARY KEY (account_sid, prefix, channel)
);
CREATE INDEX fraud_blocks_by_until ON fraud_blocks (account_sid, until);
