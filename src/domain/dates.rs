//! Times and dates as callers write them.
use super::otp::Millis;
use super::Problem;

/// RFC 3339, or `YYYY-MM-DD` (the start of that UTC day; for an end, the start of the next).
pub fn parse_time(raw: &str, is_end: bool) -> Result<Millis, Problem> {
    use time::format_description::well_known::Rfc3339;
    let raw = raw.trim();
    let bad = || Problem::says("must be RFC 3339 (2026-11-26T10:15:00Z) or a date (2026-11-26).");
    if let Ok(t) = time::OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok((t.unix_timestamp_nanos() / 1_000_000) as Millis);
    }
    let d = parse_date(raw).ok_or_else(bad)?;
    let d = if is_end {
        d.next_day().ok_or_else(bad)?
    } else {
        d
    };
    Ok(d.midnight().assume_utc().unix_timestamp() * 1000)
}

/// `YYYY-MM-DD`.
pub fn parse_date(raw: &str) -> Option<time::Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw.trim(), &fmt).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_instants() {
        assert_eq!(parse_time("1970-01-02", false), Ok(86_400_000));
        assert_eq!(parse_time("1970-01-02", true), Ok(2 * 86_400_000));
        assert_eq!(parse_time("1970-01-01T00:00:01Z", false), Ok(1000));
        assert!(parse_time("yesterday", false).is_err());
    }
}
