-- Usage: OTPs per account, UTC day of creation, service, channel, country and current status,
-- with their price. Triggers on otps append every change to usage_deltas in the same
-- transaction as the change itself (so reports can never disagree with the SDRs, and
-- concurrent writers never contend on a counter row); the compactor folds deltas into
-- usage_daily and usage_monthly. Reports read those plus the not-yet-folded deltas.
CREATE TABLE usage_daily (
    account_sid   TEXT NOT NULL,
    day           BIGINT NOT NULL,        -- UTC days since 1970-01-01 (date_created / 86 400 000)
    service       TEXT NOT NULL,
    channel       TEXT NOT NULL,
    country_code  TEXT NOT NULL,          -- '' when the destination has none (email)
    status        TEXT NOT NULL,
    count         BIGINT NOT NULL,
    price         BIGINT NOT NULL,        -- micro-units, like otps.price
    PRIMARY KEY (account_sid, day, service, channel, country_code, status)
);

-- The same counters per UTC month ("day" is the month's first day), for long ranges.
CREATE TABLE usage_monthly (
    account_sid   TEXT NOT NULL,
    day           BIGINT NOT NULL,        -- first day of the month, in days since 1970-01-01
    service       TEXT NOT NULL,
    channel       TEXT NOT NULL,
    country_code  TEXT NOT NULL,
    status        TEXT NOT NULL,
    count         BIGINT NOT NULL,
    price         BIGINT NOT NULL,
    PRIMARY KEY (account_sid, day, service, channel, country_code, status)
);

CREATE TABLE usage_deltas (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_sid   TEXT NOT NULL,
    day           BIGINT NOT NULL,
    service       TEXT NOT NULL,
    channel       TEXT NOT NULL,
    country_code  TEXT NOT NULL,
    status        TEXT NOT NULL,
    count         BIGINT NOT NULL,
    price         BIGINT NOT NULL
);
CREATE INDEX usage_deltas_by_account ON usage_deltas (account_sid, day);

CREATE TRIGGER usage_on_insert AFTER INSERT ON otps BEGIN
    INSERT INTO usage_deltas (account_sid, day, service, channel, country_code, status, count, price)
    VALUES (NEW.account_sid, NEW.date_created / 86400000, NEW.service, NEW.channel,
            COALESCE(NEW.country_code, ''), NEW.status, 1, NEW.price);
END;

CREATE TRIGGER usage_on_update AFTER UPDATE ON otps
WHEN OLD.status IS NOT NEW.status OR OLD.channel IS NOT NEW.channel OR OLD.price IS NOT NEW.price
  OR OLD.service IS NOT NEW.service OR OLD.country_code IS NOT NEW.country_code
  OR OLD.account_sid IS NOT NEW.account_sid OR OLD.date_created IS NOT NEW.date_created
BEGIN
    INSERT INTO usage_deltas (account_sid, day, service, channel, country_code, status, count, price)
    VALUES (OLD.account_sid, OLD.date_created / 86400000, OLD.service, OLD.channel,
            COALESCE(OLD.country_code, ''), OLD.status, -1, -OLD.price),
           (NEW.account_sid, NEW.date_created / 86400000, NEW.service, NEW.channel,
            COALESCE(NEW.country_code, ''), NEW.status, 1, NEW.price);
END;

CREATE TRIGGER usage_on_delete AFTER DELETE ON otps BEGIN
    INSERT INTO usage_deltas (account_sid, day, service, channel, country_code, status, count, price)
    VALUES (OLD.account_sid, OLD.date_created / 86400000, OLD.service, OLD.channel,
            COALESCE(OLD.country_code, ''), OLD.status, -1, -OLD.price);
END;

-- OTPs recorded before this migration.
INSERT INTO usage_daily (account_sid, day, service, channel, country_code, status, count, price)
SELECT account_sid, date_created / 86400000, service, channel, COALESCE(country_code, ''), status,
       COUNT(*), SUM(price)
FROM otps
GROUP BY account_sid, date_created / 86400000, service, channel, COALESCE(country_code, ''), status;

INSERT INTO usage_monthly (account_sid, day, service, channel, country_code, status, count, price)
SELECT account_sid, CAST(julianday(date(day * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER), service, channel, country_code, status, SUM(count), SUM(price)
FROM usage_daily
GROUP BY account_sid, CAST(julianday(date(day * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER), service, channel, country_code, status;
