//! Small cryptographic helpers: random tokens, secret hashing, constant-time comparison and
//! argon2id passwords. Nothing here logs or formats a secret.
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `n` random bytes from the OS, as lowercase hex (2n characters).
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    buf
}

/// SHA-256 of a high-entropy secret (API tokens are 128 random bits, so a fast hash suffices;
/// passwords use argon2id instead).
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Checks a presented token against a stored hash in constant time.
pub fn token_matches(token: &str, stored_hash: &str) -> bool {
    constant_time_eq(hash_token(token).as_bytes(), stored_hash.as_bytes())
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A valid argon2id hash of a random password, verified against when a login names an unknown
/// user so that the answer takes as long as for a known one.
pub fn dummy_password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&random_hex(16)).expect("argon2 works"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_hash_and_match() {
        let t = random_hex(16);
        assert_eq!(t.len(), 32);
        let h = hash_token(&t);
        assert!(token_matches(&t, &h));
        assert!(!token_matches("wrong", &h));
        assert_ne!(random_hex(16), t);
    }

    #[test]
    fn passwords_are_argon2id_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}

/// The stored form of an OTP code: HMAC-SHA256(key, requestID || 0x00 || code), hex.
pub fn code_hmac(key: &[u8], request_id: &str, code: &str) -> String {
    use hmac::{Mac, SimpleHmac};
    let mut mac =
        <SimpleHmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(request_id.as_bytes());
    mac.update(&[0]);
    mac.update(code.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Does `code` match the stored HMAC (constant-time)?
pub fn code_matches(key: &[u8], request_id: &str, code: &str, stored: &str) -> bool {
    constant_time_eq(
        code_hmac(key, request_id, code).as_bytes(),
        stored.as_bytes(),
    )
}

/// Seals a short secret (an OTP code awaiting delivery) with XChaCha20-Poly1305 under a key
/// derived from `key`, bound to `context` (the requestID). Output: hex(nonce || ciphertext).
pub fn seal(key: &[u8], context: &str, plaintext: &str) -> String {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{XChaCha20Poly1305, XNonce};
    let cipher = XChaCha20Poly1305::new(&derive_key(key, b"smart2fa seal v1").into());
    let nonce_bytes = random_bytes::<24>();
    let ct = cipher
        .encrypt(
            XNonce::from_slice(&nonce_bytes),
            Payload {
                msg: plaintext.as_bytes(),
                aad: context.as_bytes(),
            },
        )
        .expect("encryption of a short message cannot fail");
    let mut out = nonce_bytes.to_vec();
    out.extend(ct);
    hex::encode(out)
}

pub fn open(key: &[u8], context: &str, sealed: &str) -> Option<String> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{XChaCha20Poly1305, XNonce};
    let bytes = hex::decode(sealed).ok()?;
    if bytes.len() < 24 {
        return None;
    }
    let cipher = XChaCha20Poly1305::new(&derive_key(key, b"smart2fa seal v1").into());
    let pt = cipher
        .decrypt(
            XNonce::from_slice(&bytes[..24]),
            Payload {
                msg: &bytes[24..],
                aad: context.as_bytes(),
            },
        )
        .ok()?;
    String::from_utf8(pt).ok()
}

fn derive_key(key: &[u8], label: &[u8]) -> [u8; 32] {
    use hmac::{Mac, SimpleHmac};
    let mut mac = <SimpleHmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod otp_crypto_tests {
    use super::*;

    #[test]
    fn code_hmac_binds_request_and_key() {
        let k = b"0123456789abcdef0123456789abcdef";
        let h = code_hmac(k, "OTPa", "123456");
        assert!(code_matches(k, "OTPa", "123456", &h));
        assert!(!code_matches(k, "OTPb", "123456", &h));
        assert!(!code_matches(k, "OTPa", "123457", &h));
        assert!(!code_matches(
            b"another key another key another k",
            "OTPa",
            "123456",
            &h
        ));
        assert!(!h.contains("123456"));
    }

    #[test]
    fn sealing_round_trips_and_authenticates() {
        let k = b"0123456789abcdef0123456789abcdef";
        let s = seal(k, "OTPa", "4815");
        assert!(!s.contains("4815"));
        assert_eq!(open(k, "OTPa", &s).as_deref(), Some("4815"));
        assert_eq!(open(k, "OTPb", &s), None, "bound to its request");
        assert_eq!(open(b"other key other key other key ot", "OTPa", &s), None);
        assert_ne!(seal(k, "OTPa", "4815"), s, "fresh nonce every time");
    }
}
