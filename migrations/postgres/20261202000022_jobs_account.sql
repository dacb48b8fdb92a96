-- Each job carries its OTP's account, so a claim takes turns between accounts without joining
-- every due job to its OTP (the join and its lookups were most of a claim's cost). A job whose
-- OTP is gone keeps account '' (its turns are those of account '').
ALTER TABLE jobs ADD COLUMN account_sid TEXT NOT NULL DEFAULT '';
UPDATE jobs SET account_sid = COALESCE((SELECT o.account_sid FROM otps o WHERE o.sid = jobs.otp_sid), '')
WHERE done_at IS NULL;
