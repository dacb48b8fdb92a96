-- The trigger that masks a sandbox code once its OTP is final looked the messages up by
-- otp_sid alone, which no index leads with: every final OTP scanned the whole outbox. It now
-- names the account too, so it walks sandbox_by_otp (account_sid, otp_sid).
DROP TRIGGER sandbox_codes_forget_when_final;
CREATE TRIGGER sandbox_codes_forget_when_final AFTER UPDATE OF status ON otps
    WHEN NEW.status NOT IN ('pending', 'sent', 'delivered')
BEGIN
    UPDATE sandbox_messages
       SET text = replace(text, code, '******'), subject = replace(subject, code, '******'), code = NULL
     WHERE account_sid = NEW.account_sid AND otp_sid = NEW.sid AND code IS NOT NULL;
END;
