-- An OTP's sealed code (kept only so the delivery worker can send it, and fall back to another
-- channel) is deleted the moment the OTP reaches a final status, whichever path moves it there.
-- The database guarantees it, so no use case can forget to.
DELETE FROM otp_codes WHERE otp_sid IN
    (SELECT sid FROM otps WHERE status NOT IN ('pending', 'sent', 'delivered'));
CREATE TRIGGER otp_codes_forget_when_final AFTER UPDATE OF status ON otps
    WHEN NEW.status NOT IN ('pending', 'sent', 'delivered')
BEGIN
    DELETE FROM otp_codes WHERE otp_sid = NEW.sid;
END;
