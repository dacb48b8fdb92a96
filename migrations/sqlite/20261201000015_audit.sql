-- The audit log: who changed what, when and from where. Append-only: entries are only ever
-- inserted, and deleted by age (retention pruning); an UPDATE is refused by the trigger below.
-- before_json/after_json hold redacted JSON (secrets and codes are never stored).
CREATE TABLE audit_entries (
    -- Insertion order: ties of `at` (one millisecond) still page in a stable, newest-first order.
    seq          INTEGER PRIMARY KEY,
    sid          TEXT NOT NULL UNIQUE,
    -- The account the change was made in (the sub-account when a parent acts for it). NULL: no
    -- account is known (a failed sign-in with an unknown email).
    account_sid  TEXT,
    at           BIGINT NOT NULL,
    actor_type   TEXT NOT NULL,
    actor_sid    TEXT,
    actor_email  TEXT,
    address      TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    before_json  TEXT,
    after_json   TEXT
);
-- Newest first per account (positional paging), and the filters.
CREATE INDEX audit_entries_account_at ON audit_entries (account_sid, at DESC, seq DESC);
CREATE INDEX audit_entries_account_action ON audit_entries (account_sid, action, at DESC, seq DESC);
CREATE INDEX audit_entries_account_actor ON audit_entries (account_sid, actor_sid, at DESC, seq DESC);
CREATE INDEX audit_entries_account_email ON audit_entries (account_sid, LOWER(actor_email), at DESC, seq DESC);
CREATE INDEX audit_entries_account_target ON audit_entries (account_sid, target, at DESC, seq DESC);
-- Retention pruning by age.
CREATE INDEX audit_entries_at ON audit_entries (at);

CREATE TRIGGER audit_entries_append_only BEFORE UPDATE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
