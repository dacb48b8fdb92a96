-- Account defaults: what a send that leaves a field out gets. NULL: not set here (the parent
-- account's applies, else the built-in default).
ALTER TABLE account_settings ADD COLUMN code_length INTEGER;
ALTER TABLE account_settings ADD COLUMN code_type TEXT;
ALTER TABLE account_settings ADD COLUMN expiry_secs INTEGER;
ALTER TABLE account_settings ADD COLUMN max_attempts INTEGER;
ALTER TABLE account_settings ADD COLUMN per_10_minutes INTEGER;
ALTER TABLE account_settings ADD COLUMN per_24_hours INTEGER;
-- The channels in order, comma-separated: sms,email.
ALTER TABLE account_settings ADD COLUMN workflow TEXT;
ALTER TABLE account_settings ADD COLUMN keep_old_otp_active INTEGER;
ALTER TABLE account_settings ADD COLUMN language TEXT;
ALTER TABLE account_settings ADD COLUMN status_callback TEXT;
-- Allowed destination countries per channel: 'all' or ISO codes comma-separated (GB,IE).
ALTER TABLE account_settings ADD COLUMN countries_sms TEXT;
ALTER TABLE account_settings ADD COLUMN countries_call TEXT;
