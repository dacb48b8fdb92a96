-- Sending to a destination supersedes its active OTPs, and verifying one cancels the others:
-- both look up the *active* OTPs of one account, service and destination. Without these the
-- lookup walked every OTP the service ever had (all of its history, growing without end).
-- Only active OTPs are in them, so they stay small. The condition is exactly the one the
-- queries use (the planner proves the match term by term).
CREATE INDEX otps_active_by_to ON otps (account_sid, service, to_number)
    WHERE status IN ('pending', 'sent', 'delivered');
CREATE INDEX otps_active_by_email ON otps (account_sid, service, email_to)
    WHERE status IN ('pending', 'sent', 'delivered');
-- The sandbox outbox read by requestID (what integrators and the load generator do) found the
-- account's messages and then filtered them one by one.
CREATE INDEX sandbox_by_otp ON sandbox_messages (account_sid, otp_sid);
