//! Usage periods: how a report is cut (per day, month or year, or the whole range), the date
//! arithmetic over UTC days, and the dimensions records can be grouped by.
use super::Problem;
use time::{Date, Duration, Month};

/// How records are cut: the whole range, or one per day, month or year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Total,
    Daily,
    Monthly,
    Yearly,
    AllTime,
    Today,
    Yesterday,
    ThisMonth,
    LastMonth,
}

impl Period {
    /// A period by its name, in any case (not `Total`, which has none).
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw.to_ascii_lowercase().as_str() {
            "daily" => Period::Daily,
            "monthly" => Period::Monthly,
            "yearly" => Period::Yearly,
            "alltime" => Period::AllTime,
            "today" => Period::Today,
            "yesterday" => Period::Yesterday,
            "thismonth" => Period::ThisMonth,
            "lastmonth" => Period::LastMonth,
            _ => return None,
        })
    }

    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Period::Total => return None,
            Period::Daily => "Daily",
            Period::Monthly => "Monthly",
            Period::Yearly => "Yearly",
            Period::AllTime => "AllTime",
            Period::Today => "Today",
            Period::Yesterday => "Yesterday",
            Period::ThisMonth => "ThisMonth",
            Period::LastMonth => "LastMonth",
        })
    }

    /// Does the caller choose the range (the others have a fixed one)?
    pub fn takes_range(self) -> bool {
        matches!(
            self,
            Period::Total | Period::Daily | Period::Monthly | Period::Yearly
        )
    }

    /// The fixed range of this period, if it has one, on `today`.
    pub fn fixed_range(self, today: Date) -> Option<(Date, Date)> {
        Some(match self {
            Period::Today => (today, today),
            Period::Yesterday => (today - Duration::days(1), today - Duration::days(1)),
            Period::ThisMonth => (month_start(today), today),
            Period::LastMonth => (
                prev_month_start(today),
                month_start(today) - Duration::days(1),
            ),
            Period::AllTime => (EPOCH, today),
            _ => return None,
        })
    }

    /// The first day of the period `day` falls in, within a range starting at `start`.
    pub fn first_of(self, d: Date, start: Date) -> Date {
        match self {
            Period::Daily => d,
            Period::Monthly => month_start(d).max(start),
            Period::Yearly => jan_1(d.year()).max(start),
            _ => start,
        }
    }

    /// The last day of the period starting at `first`, within a range ending at `end`.
    pub fn last_of(self, first: Date, end: Date) -> Date {
        let last = match self {
            Period::Daily => first,
            Period::Monthly => {
                month_start(month_start(first) + Duration::days(32)) - Duration::days(1)
            }
            Period::Yearly => {
                Date::from_calendar_date(first.year(), Month::December, 31).expect("Dec 31")
            }
            _ => end,
        };
        last.min(end)
    }
}

/// What records can be grouped (and filtered) by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    Channel,
    Country,
    Status,
    Service,
}

impl Dimension {
    pub const ALL: [Dimension; 4] = [
        Dimension::Channel,
        Dimension::Country,
        Dimension::Status,
        Dimension::Service,
    ];
}

pub const EPOCH: Date = time::macros::date!(1970 - 01 - 01);

/// A usage question (an API request for records, a console report) covers at most this many
/// periods: days of a Daily question, months of a Monthly one, years of a Yearly one.
pub const MAX_PERIODS: i64 = 1000;

/// Days since 1970-01-01.
pub fn day_of(d: Date) -> i64 {
    (d - EPOCH).whole_days()
}

pub fn date_of(day: i64) -> Date {
    EPOCH + Duration::days(day)
}

/// The UTC day of a time in milliseconds.
pub fn date_at(ms: i64) -> Date {
    date_of(ms.div_euclid(86_400_000))
}

pub fn month_start(d: Date) -> Date {
    d.replace_day(1).expect("day 1 exists")
}

fn prev_month_start(d: Date) -> Date {
    month_start(month_start(d) - Duration::days(1))
}

fn jan_1(year: i32) -> Date {
    Date::from_calendar_date(year, Month::January, 1).expect("Jan 1")
}

/// The first day of the month `n` months before the month starting at `first`.
pub fn months_back(first: Date, n: i32) -> Date {
    let total = first.year() * 12 + first.month() as i32 - 1 - n;
    let month = Month::try_from((total.rem_euclid(12) + 1) as u8).expect("1..=12");
    Date::from_calendar_date(total.div_euclid(12), month, 1).expect("day 1")
}

/// `YYYY-MM-DD`, or relative to today: `-30days`, `-2months`, `-1year`, `today`.
pub fn parse_date(raw: &str, today: Date) -> Result<Date, Problem> {
    let raw = raw.trim();
    let bad = || {
        Problem::says(format!(
            "must be a date like 2026-11-26 or relative like -30days (got {raw:?})."
        ))
    };
    if raw.eq_ignore_ascii_case("today") {
        return Ok(today);
    }
    if let Some(rel) = raw.strip_prefix('-') {
        let digits: String = rel.chars().take_while(|c| c.is_ascii_digit()).collect();
        let n: i64 = digits.parse().map_err(|_| bad())?;
        if n > 36_500 {
            return Err(bad());
        }
        let unit = rel[digits.len()..].to_ascii_lowercase();
        return match unit.as_str() {
            "day" | "days" => Ok(today - Duration::days(n)),
            "month" | "months" | "year" | "years" => {
                let months = if unit.starts_with('y') { n * 12 } else { n };
                let total = today.year() as i64 * 12 + (today.month() as i64 - 1) - months;
                let (y, m) = (
                    total.div_euclid(12) as i32,
                    (total.rem_euclid(12) + 1) as u8,
                );
                let month = Month::try_from(m).map_err(|_| bad())?;
                let last = month.length(y);
                Date::from_calendar_date(y, month, today.day().min(last)).map_err(|_| bad())
            }
            _ => Err(bad()),
        };
    }
    super::dates::parse_date(raw).ok_or_else(bad)
}

/// The first and last day of every period of `period` in `start..=end` (the first and last cut
/// to the range), in order.
pub fn periods(period: Period, start: Date, end: Date) -> Vec<(Date, Date)> {
    let mut out = Vec::new();
    let mut d = start;
    while d <= end {
        let next = match period {
            Period::Daily => d + Duration::days(1),
            Period::Monthly => month_start(month_start(d) + Duration::days(32)),
            Period::Yearly => jan_1(d.year() + 1),
            _ => end + Duration::days(1),
        };
        out.push((d, (next - Duration::days(1)).min(end)));
        d = next;
    }
    out
}

/// How many periods `start..=end` has, counted without listing them.
pub fn count_periods(period: Period, start: Date, end: Date) -> i64 {
    if start > end {
        return 0;
    }
    match period {
        Period::Daily => (end - start).whole_days() + 1,
        Period::Monthly => {
            (end.year() as i64 - start.year() as i64) * 12 + end.month() as i64
                - start.month() as i64
                + 1
        }
        Period::Yearly => end.year() as i64 - start.year() as i64 + 1,
        _ => 1,
    }
}

/// The whole months inside `start..=end`: (first month's first day, last month's first day,
/// last month's last day), as days since 1970-01-01.
pub fn whole_months(start: Date, end: Date) -> Option<(i64, i64, i64)> {
    let first = if start.day() == 1 {
        start
    } else {
        month_start(month_start(start) + Duration::days(32))
    };
    let after_end = end + Duration::days(1);
    let last_end = if after_end.day() == 1 {
        end
    } else {
        month_start(end) - Duration::days(1)
    };
    (first <= last_end).then(|| {
        (
            day_of(first),
            day_of(month_start(last_end)),
            day_of(last_end),
        )
    })
}

/// Verified out of sent, to 4 decimal places (0 when nothing was sent).
pub fn conversion_rate(verified: i64, count: i64) -> f64 {
    if count > 0 {
        (verified as f64 / count as f64 * 10_000.0).round() / 10_000.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn periods_cut_to_the_range() {
        let p = periods(
            Period::Monthly,
            date!(2026 - 01 - 15),
            date!(2026 - 03 - 10),
        );
        assert_eq!(
            p,
            vec![
                (date!(2026 - 01 - 15), date!(2026 - 01 - 31)),
                (date!(2026 - 02 - 01), date!(2026 - 02 - 28)),
                (date!(2026 - 03 - 01), date!(2026 - 03 - 10)),
            ]
        );
        assert_eq!(
            periods(Period::Daily, date!(2026 - 01 - 01), date!(2026 - 01 - 03)).len(),
            3
        );
        assert_eq!(
            periods(Period::Yearly, date!(2024 - 06 - 01), date!(2026 - 01 - 01)).len(),
            3
        );
        for (period, start, end) in [
            (Period::Daily, date!(2025 - 12 - 30), date!(2026 - 03 - 02)),
            (
                Period::Monthly,
                date!(2024 - 12 - 31),
                date!(2026 - 01 - 01),
            ),
            (Period::Yearly, date!(2001 - 05 - 05), date!(2026 - 01 - 01)),
        ] {
            assert_eq!(
                count_periods(period, start, end),
                periods(period, start, end).len() as i64
            );
        }
    }

    #[test]
    fn relative_dates() {
        let today = date!(2026 - 03 - 31);
        assert_eq!(parse_date("today", today), Ok(today));
        assert_eq!(parse_date("-30days", today), Ok(date!(2026 - 03 - 01)));
        // A month back from the 31st is the last day of February.
        assert_eq!(parse_date("-1month", today), Ok(date!(2026 - 02 - 28)));
        assert_eq!(parse_date("-1year", today), Ok(date!(2025 - 03 - 31)));
        assert_eq!(parse_date("2026-01-02", today), Ok(date!(2026 - 01 - 02)));
        assert!(parse_date("-3weeks", today).is_err());
        assert!(parse_date("-99999days", today).is_err());
    }

    #[test]
    fn month_arithmetic() {
        assert_eq!(
            months_back(date!(2026 - 01 - 01), 11),
            date!(2025 - 02 - 01)
        );
        assert_eq!(
            whole_months(date!(2026 - 01 - 15), date!(2026 - 01 - 20)),
            None
        );
        let (m0, m1, m1_end) = whole_months(date!(2026 - 01 - 15), date!(2026 - 04 - 30)).unwrap();
        assert_eq!(date_of(m0), date!(2026 - 02 - 01));
        assert_eq!(date_of(m1), date!(2026 - 04 - 01));
        assert_eq!(date_of(m1_end), date!(2026 - 04 - 30));
        assert_eq!(
            Period::LastMonth.fixed_range(date!(2026 - 03 - 15)),
            Some((date!(2026 - 02 - 01), date!(2026 - 02 - 28)))
        );
        assert_eq!(conversion_rate(1, 3), 0.3333);
        assert_eq!(conversion_rate(0, 0), 0.0);
    }
}
