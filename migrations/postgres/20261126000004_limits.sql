-- Named limits: 1–2 buckets each (JSON [{name, maxOtp, interval}]), unique name per account.
CREATE TABLE limits (
    sid            TEXT PRIMARY KEY,
    account_sid    TEXT NOT NULL REFERENCES accounts(sid),
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    buckets        TEXT NOT NULL,
    date_created   BIGINT NOT NULL,
    date_updated   BIGINT NOT NULL,
    UNIQUE (account_sid, name)
);

-- Accepted sends per (limit, key): an exact sliding log. Only the newest max(maxOtp) hits within
-- the longest interval are kept, so the state per key is bounded and a check reads at most one
-- indexed row per bucket; it never scans OTPs.
CREATE TABLE limit_hits (
    limit_sid   TEXT NOT NULL REFERENCES limits(sid) ON DELETE CASCADE,
    hit_key     TEXT NOT NULL,
    at          BIGINT NOT NULL,
    otp_sid     TEXT NOT NULL
);
CREATE INDEX limit_hits_by_key ON limit_hits (limit_sid, hit_key, at);

-- Which limit and bucket blocked an OTP (for "blocked in the last 24 h" and the SDR).
ALTER TABLE otps ADD COLUMN blocked_by TEXT;
CREATE INDEX otps_blocked_by ON otps (blocked_by, date_created);
