//! URL query strings, as the API's paging links and the console's filter URLs write them.

/// Percent-encodes a query key or value (RFC 3986 unreserved characters stay as they are).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `k1=v1&k2=v2`, every key and value encoded.
pub fn query_string<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k.as_ref()), encode(v.as_ref())))
        .collect::<Vec<_>>()
        .join("&")
}

/// An http(s) URL a tenant gives for us to call (`statusCallback`), in shape.
pub fn callback_url(raw: &str) -> Result<String, super::Problem> {
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"));
    match rest {
        Some(r)
            if !r.is_empty() && !r.starts_with('/') && !raw.chars().any(char::is_whitespace) =>
        {
            Ok(raw.to_owned())
        }
        _ => Err(super::Problem::says("must be an http(s) URL.")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_what_a_url_cannot_carry() {
        assert_eq!(
            super::query_string(&[("to", "+1 415"), ("service", "My-App_1.~")]),
            "to=%2B1%20415&service=My-App_1.~"
        );
    }
}
