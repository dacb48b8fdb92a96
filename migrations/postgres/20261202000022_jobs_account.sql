-- Each job carries its OTP's account, so a claim takes turns between accounts without joining
-- every due job to its OTP on every claim. A pending job whose OTP is already gone gets
-- account '' (it runs in the turns of account '').
ALTER TABLE jobs ADD COLUMN account_sid TEXT NOT NULL DEFAULT '';
UPDATE jobs SET account_sid = COALESCE((SELECT o.account_sid FROM otps o WHERE o.sid = jobs.otp_sid), '')
WHERE done_at IS NULL;
