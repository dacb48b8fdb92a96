-- The fraud guard's counters deadlocked under concurrent sends and verifies (a send upserted the
-- prefix row then the country row; a verify updated both in one statement, in whatever order
-- the table held them: PostgreSQL broke the cycle after deadlock_timeout by failing one of the
-- requests), and every phone send and verify of an account waited for the one country row of
-- the hour. Now both write the prefix row first, then the country row, each as an upsert, and
-- spread over 8 shards per (account, scope, hour) chosen by the OTP's sid (readers add the
-- shards up).
ALTER TABLE fraud_counts ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE fraud_counts DROP CONSTRAINT fraud_counts_pkey;
ALTER TABLE fraud_counts ADD PRIMARY KEY (account_sid, scope, hour, shard);

CREATE OR REPLACE FUNCTION fraud_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    p TEXT := 'p' || substr(NEW.to_number, 1, greatest(2, length(NEW.to_number) - 4));
    h BIGINT := NEW.date_created / 3600000;
    s SMALLINT := (hashtext(NEW.sid) & 7)::smallint;
    sent_n BIGINT := 1;
    verified_n BIGINT := 0;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        sent_n := 0;
        verified_n := 1;
    END IF;
    INSERT INTO fraud_counts (account_sid, scope, hour, shard, sent, verified)
    VALUES (NEW.account_sid, p, h, s, sent_n, verified_n)
    ON CONFLICT (account_sid, scope, hour, shard) DO UPDATE
        SET sent = fraud_counts.sent + sent_n, verified = fraud_counts.verified + verified_n;
    IF NEW.country_code IS NOT NULL THEN
        INSERT INTO fraud_counts (account_sid, scope, hour, shard, sent, verified)
        VALUES (NEW.account_sid, 'c' || NEW.country_code, h, s, sent_n, verified_n)
        ON CONFLICT (account_sid, scope, hour, shard) DO UPDATE
            SET sent = fraud_counts.sent + sent_n, verified = fraud_counts.verified + verified_n;
    END IF;
    RETURN NULL;
END
$$;
