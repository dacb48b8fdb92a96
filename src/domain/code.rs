//! One-time codes: the alphabets, generation without modulo bias, and caller-given codes.
use serde::{Deserialize, Serialize};

pub const MIN_LEN: usize = 4;
pub const MAX_LEN: usize = 10;
const NUMERIC: &[u8] = b"0123456789";
/// Upper-case letters and digits without look-alikes (0/O, 1/I).
pub const ALPHANUMERIC: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CodeType {
    #[default]
    Numeric,
    Alphanumeric,
}

impl CodeType {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "numeric" => Some(Self::Numeric),
            "alphanumeric" => Some(Self::Alphanumeric),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Numeric => "numeric",
            Self::Alphanumeric => "alphanumeric",
        }
    }

    fn alphabet(self) -> &'static [u8] {
        match self {
            Self::Numeric => NUMERIC,
            Self::Alphanumeric => ALPHANUMERIC,
        }
    }
}

/// A code of `len` symbols drawn uniformly from the alphabet of `kind`, using `random_byte`
/// (a CSPRNG on the server). Bytes that would bias the result are rejected, not folded.
pub fn generate(len: usize, kind: CodeType, mut random_byte: impl FnMut() -> u8) -> String {
    let alphabet = kind.alphabet();
    let n = alphabet.len();
    // The largest multiple of n that fits in a byte: bytes at or above it are drawn again.
    let limit = 256 - (256 % n);
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let b = random_byte() as usize;
        if b < limit {
            out.push(alphabet[b % n] as char);
        }
    }
    out
}

/// A caller-chosen code: 4–10 of `[0-9A-Z]`.
pub fn parse_caller_code(raw: &str) -> Option<String> {
    let ok = (MIN_LEN..=MAX_LEN).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
    ok.then(|| raw.to_owned())
}

/// What a user typed, in the form codes are hashed: trimmed, spaces and dashes removed,
/// upper-cased (codes never contain lower-case letters).
pub fn normalize_input(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// A caller's code, or why not.
pub fn parse_code(raw: &str) -> Result<String, super::Problem> {
    parse_caller_code(raw)
        .ok_or_else(|| super::Problem::says("must be 4–10 characters of 0-9 and A-Z."))
}

impl CodeType {
    /// `numeric` or `alphanumeric`, or why not.
    pub fn parse_or_problem(raw: &str) -> Result<Self, super::Problem> {
        Self::parse(raw).ok_or_else(|| super::Problem::says("must be numeric or alphanumeric."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn alphabet_has_no_look_alikes() {
        for c in [b'0', b'O', b'1', b'I'] {
            assert!(!ALPHANUMERIC.contains(&c));
        }
        assert_eq!(ALPHANUMERIC.len(), 32);
    }

    #[test]
    fn rejects_biasing_bytes() {
        // 250..=255 would favour 0..=5 for the numeric alphabet: they must be skipped.
        let mut bytes = [255u8, 250, 7, 251, 13].into_iter();
        assert_eq!(
            generate(2, CodeType::Numeric, || bytes.next().unwrap()),
            "73"
        );
    }

    #[test]
    fn numeric_distribution_is_flat() {
        // Feed every byte value equally often: after rejection each digit appears equally often.
        let mut counts = [0usize; 10];
        let mut b = 0u8;
        let code = generate(2500, CodeType::Numeric, || {
            b = b.wrapping_add(1);
            b
        });
        for c in code.bytes() {
            counts[(c - b'0') as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c == 250), "{counts:?}");
    }

    #[test]
    fn caller_codes() {
        assert_eq!(parse_caller_code("4815"), Some("4815".into()));
        assert_eq!(parse_caller_code("AB12CD34EF"), Some("AB12CD34EF".into()));
        assert_eq!(parse_caller_code("123"), None);
        assert_eq!(parse_caller_code("12345678901"), None);
        assert_eq!(parse_caller_code("ab12"), None);
        assert_eq!(parse_caller_code("12 34"), None);
        assert_eq!(normalize_input(" 48-15 9a "), "48159A");
    }

    proptest! {
        #[test]
        fn generated_codes_have_length_and_alphabet(len in MIN_LEN..=MAX_LEN, seed in any::<u64>(), alnum in any::<bool>()) {
            let kind = if alnum { CodeType::Alphanumeric } else { CodeType::Numeric };
            let mut state = seed;
            let code = generate(len, kind, || { state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (state >> 56) as u8 });
            prop_assert_eq!(code.len(), len);
            prop_assert!(code.bytes().all(|b| kind.alphabet().contains(&b)));
            prop_assert_eq!(parse_caller_code(&code), Some(code.clone()));
        }
    }
}
