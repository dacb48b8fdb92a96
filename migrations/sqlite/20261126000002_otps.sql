-- OTP requests (session detail records), their timelines, delivery attempts, the durable job
-- queue, sealed codes awaiting delivery, the sandbox outbox and idempotency records.
-- Times are Unix epoch milliseconds (UTC).
CREATE TABLE otps (
    sid               TEXT PRIMARY KEY,
    account_sid       TEXT NOT NULL REFERENCES accounts(sid),
    service           TEXT NOT NULL,
    reference         TEXT,
    channel           TEXT NOT NULL,            -- the channel of the current attempt
    workflow          TEXT NOT NULL,            -- comma-separated channels, in order
    workflow_index    INTEGER NOT NULL DEFAULT 0,
    workflow_timeout  INTEGER NOT NULL,
    to_number         TEXT,
    from_sender       TEXT,
    email_to          TEXT,
    email_from        TEXT,
    subject           TEXT,
    body              TEXT,
    country_code      TEXT,
    language          TEXT NOT NULL,
    voice             TEXT NOT NULL,
    repeat_count      INTEGER NOT NULL,
    code_hash         TEXT NOT NULL,            -- HMAC-SHA256(server key, requestID || code); never the code
    code_length       INTEGER NOT NULL,
    code_type         TEXT NOT NULL,
    expires_at        BIGINT NOT NULL,
    max_attempts      INTEGER NOT NULL,
    verify_attempts   INTEGER NOT NULL DEFAULT 0,
    status            TEXT NOT NULL,
    cancel_reason     TEXT,
    status_callback   TEXT,
    limits            TEXT,                     -- JSON object {name: key}
    price             BIGINT NOT NULL DEFAULT 0, -- micro-units of price_unit
    price_unit        TEXT NOT NULL DEFAULT 'USD',
    date_created      BIGINT NOT NULL,
    date_updated      BIGINT NOT NULL,
    sent_at           BIGINT,
    delivered_at      BIGINT,
    verified_at       BIGINT,
    canceled_at       BIGINT
);
-- Search: newest first within an account, optionally narrowed by one filter.
CREATE INDEX otps_by_account_created ON otps (account_sid, date_created, sid);
-- Each filter index ends in (date_created, sid), the sort order, so a filtered page is read
-- straight off the index instead of walking the account's whole history.
CREATE INDEX otps_by_to ON otps (account_sid, to_number, date_created, sid);
CREATE INDEX otps_by_email ON otps (account_sid, email_to, date_created, sid);
CREATE INDEX otps_by_status ON otps (account_sid, status, date_created, sid);
CREATE INDEX otps_by_reference ON otps (account_sid, reference, date_created, sid);
CREATE INDEX otps_by_service ON otps (account_sid, service, date_created, sid);
CREATE INDEX otps_by_country ON otps (account_sid, country_code, date_created, sid);
-- The expiry sweeper.
CREATE INDEX otps_active_expiry ON otps (status, expires_at);

CREATE TABLE otp_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    otp_sid     TEXT NOT NULL REFERENCES otps(sid),
    at          BIGINT NOT NULL,
    type        TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX otp_events_by_otp ON otp_events (otp_sid, id);

CREATE TABLE delivery_attempts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    otp_sid       TEXT NOT NULL REFERENCES otps(sid),
    channel       TEXT NOT NULL,
    provider      TEXT NOT NULL,
    provider_sid  TEXT,
    status        TEXT NOT NULL,
    error         TEXT,
    date_created  BIGINT NOT NULL
);
CREATE INDEX delivery_attempts_by_otp ON delivery_attempts (otp_sid, id);

-- The durable queue: a job is claimed with a lease; an expired lease makes it claimable again.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    otp_sid      TEXT NOT NULL,
    step         INTEGER NOT NULL DEFAULT 0,   -- the workflow index a delivery/fallback job is for
    run_at       BIGINT NOT NULL,
    tries        INTEGER NOT NULL DEFAULT 0,
    lease_owner  TEXT,
    lease_until  BIGINT,
    done_at      BIGINT,
    last_error   TEXT
);
CREATE INDEX jobs_due ON jobs (done_at, run_at);

-- The code, sealed (XChaCha20-Poly1305 under a server key), only while the OTP may still be
-- delivered; deleted when it reaches a final state.
CREATE TABLE otp_codes (
    otp_sid  TEXT PRIMARY KEY REFERENCES otps(sid),
    sealed   TEXT NOT NULL
);

CREATE TABLE sandbox_messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_sid   TEXT NOT NULL,
    otp_sid       TEXT NOT NULL,
    step          INTEGER NOT NULL,
    channel       TEXT NOT NULL,
    to_number     TEXT,
    email_to      TEXT,
    from_sender   TEXT,
    subject       TEXT,
    text          TEXT NOT NULL,
    date_created  BIGINT NOT NULL,
    UNIQUE (otp_sid, step)
);
CREATE INDEX sandbox_by_account ON sandbox_messages (account_sid, id);

CREATE TABLE idempotency_keys (
    account_sid    TEXT NOT NULL,
    idem_key       TEXT NOT NULL,
    request_hash   TEXT NOT NULL,
    status         INTEGER NOT NULL,
    response       TEXT NOT NULL,
    date_created   BIGINT NOT NULL,
    PRIMARY KEY (account_sid, idem_key)
);
