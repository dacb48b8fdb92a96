-- Hourly counters for the console's Home (the last 24 hours per channel and status), so Home
-- no longer counts the OTP table: OTPs per account, UTC hour of creation, channel and current
-- status. The usage triggers now also record each delta's hour; the compactor folds those into
-- usage_hourly next to the daily and monthly counters. Deltas written before this migration
-- have no hour: the backfill below already counts their effect.
ALTER TABLE usage_deltas ADD COLUMN hour BIGINT;

CREATE TABLE usage_hourly (
    account_sid   TEXT NOT NULL,
    hour          BIGINT NOT NULL,        -- UTC hours since 1970-01-01 (date_created / 3 600 000)
    channel       TEXT NOT NULL,
    status        TEXT NOT NULL,
    count         BIGINT NOT NULL,
    PRIMARY KEY (account_sid, hour, channel, status)
);

DROP TRIGGER usage_on_insert;
DROP TRIGGER usage_on_update;
DROP TRIGGER usage_on_delete;

CREATE TRIGGER usage_on_insert AFTER INSERT ON otps BEGIN
    INSERT INTO usage_deltas (account_sid, day, hour, service, channel, country_code, status, count, price)
    VALUES (NEW.account_sid, NEW.date_created / 86400000, NEW.date_created / 3600000, NEW.service,
            NEW.channel, COALESCE(NEW.country_code, ''), NEW.status, 1, NEW.price);
END;

CREATE TRIGGER usage_on_update AFTER UPDATE ON otps
WHEN OLD.status IS NOT NEW.status OR OLD.channel IS NOT NEW.channel OR OLD.price IS NOT NEW.price
  OR OLD.service IS NOT NEW.service OR OLD.country_code IS NOT NEW.country_code
  OR OLD.account_sid IS NOT NEW.account_sid OR OLD.date_created IS NOT NEW.date_created
BEGIN
    INSERT INTO usage_deltas (account_sid, day, hour, service, channel, country_code, status, count, price)
    VALUES (OLD.account_sid, OLD.date_created / 86400000, OLD.date_created / 3600000, OLD.service,
            OLD.channel, COALESCE(OLD.country_code, ''), OLD.status, -1, -OLD.price),
           (NEW.account_sid, NEW.date_created / 86400000, NEW.date_created / 3600000, NEW.service,
            NEW.channel, COALESCE(NEW.country_code, ''), NEW.status, 1, NEW.price);
END;

CREATE TRIGGER usage_on_delete AFTER DELETE ON otps BEGIN
    INSERT INTO usage_deltas (account_sid, day, hour, service, channel, country_code, status, count, price)
    VALUES (OLD.account_sid, OLD.date_created / 86400000, OLD.date_created / 3600000, OLD.service,
            OLD.channel, COALESCE(OLD.country_code, ''), OLD.status, -1, -OLD.price);
END;

INSERT INTO usage_hourly (account_sid, hour, channel, status, count)
SELECT account_sid, date_created / 3600000, channel, status, COUNT(*)
FROM otps
GROUP BY account_sid, date_created / 3600000, channel, status;
