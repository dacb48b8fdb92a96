//! The fraud guard against SMS pumping and toll fraud: bots that request codes to numbers an
//! attacker is paid for never verify them. Per destination number prefix and per country, the
//! account's unverified OTPs of the last hour and of the last day are compared with its own
//! verified history (a floor plus a ratio, after Authgear's published rules); a send that would
//! go over blocks its prefix for 12 hours (`block`), or is only recorded (`monitor`).
use super::otp::Millis;
use super::problem::Problem;
use serde::{Deserialize, Serialize};

/// What the guard does with a send that trips a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FraudMode {
    /// Refuse it (429/7024) and block its prefix for 12 hours.
    Block,
    /// Accept it and record what the guard would have done.
    Monitor,
    /// Do not check.
    Off,
}

impl FraudMode {
    pub const ALL: [FraudMode; 3] = [FraudMode::Block, FraudMode::Monitor, FraudMode::Off];

    pub fn as_str(self) -> &'static str {
        match self {
            FraudMode::Block => "block",
            FraudMode::Monitor => "monitor",
            FraudMode::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The mode of traffic when the account set none: real providers cost money, so their
    /// traffic is blocked; the sandbox costs nothing, so test suites are never blocked.
    pub fn unset(through_sandbox: bool) -> Self {
        if through_sandbox {
            FraudMode::Monitor
        } else {
            FraudMode::Block
        }
    }
}

/// How long a tripped prefix stays blocked.
pub const BLOCK_MS: Millis = 12 * HOUR_MS;
/// After an admin lifts a block, the guard does not block that prefix again for this long
/// (it still records what it would have done): the admin vouched for the traffic.
pub const LIFTED_GRACE_MS: Millis = 24 * HOUR_MS;
/// The most entries a safe-list holds.
pub const MAX_SAFE_LIST: usize = 500;
/// The digits of a number that are not part of its prefix: a prefix covers 10 000 numbers
/// (the ranges pumping attacks walk through).
pub const PREFIX_HIDDEN_DIGITS: usize = 4;

pub const HOUR_MS: Millis = 60 * 60 * 1000;

/// The prefix of an E.164 number: the number without its last four digits.
pub fn prefix_of(number: &str) -> String {
    let keep = number.len().saturating_sub(PREFIX_HIDDEN_DIGITS).max(2);
    number.chars().take(keep).collect()
}

/// A prefix as a client writes it: `+` and 1–15 digits.
pub fn parse_prefix(raw: &str) -> Result<String, Problem> {
    let s = raw.trim();
    let digits = s.strip_prefix('+').unwrap_or("");
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::sentence(format!(
            "{raw:?} is not a number or prefix: write + and 1–15 digits, like +4477009 or +447700900123."
        )));
    }
    Ok(s.to_owned())
}

/// Numbers and prefixes the guard never blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafeList(Vec<String>);

impl SafeList {
    pub fn parse<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Self, Problem> {
        let mut out = Vec::new();
        for raw in items {
            let p = parse_prefix(raw)?;
            if !out.contains(&p) {
                out.push(p);
            }
        }
        if out.len() > MAX_SAFE_LIST {
            return Err(Problem::sentence(format!(
                "A safe-list holds at most {MAX_SAFE_LIST} numbers or prefixes."
            )));
        }
        out.sort();
        Ok(SafeList(out))
    }

    /// Stored as the entries separated by commas.
    pub fn to_text(&self) -> String {
        self.0.join(",")
    }

    pub fn from_text(s: &str) -> Self {
        SafeList(
            s.split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    pub fn entries(&self) -> &[String] {
        &self.0
    }

    /// The entry that covers `number`, if any.
    pub fn covering(&self, number: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|p| number.starts_with(p.as_str()))
            .map(String::as_str)
    }
}

/// What the guard counts a rule over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Prefix,
    Country,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Hour,
    Day,
}

/// One rule: unverified OTPs of a scope over a window may not exceed
/// `max(floor, ratio × verified over the baseline)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub scope: Scope,
    pub window: Window,
    pub floor: f64,
    pub ratio: f64,
}

impl Rule {
    /// How many unverified OTPs the rule allows, given the verified ones of its baseline.
    pub fn allows(&self, verified_baseline: f64) -> f64 {
        self.floor.max(self.ratio * verified_baseline)
    }

    fn baseline_text(&self) -> &'static str {
        match self.window {
            Window::Hour => "the last 24 hours",
            Window::Day => "the last 7 days",
        }
    }
}

/// The rules. Hourly rules compare with the verified OTPs of the last day, daily rules with
/// those of the last week: a steady flow trips the hourly rule only when fewer than about 1 in
/// 6 codes are verified, the daily one below about 2 in 5; a pumping bot verifies none.
pub const RULES: [Rule; 4] = [
    Rule {
        scope: Scope::Prefix,
        window: Window::Hour,
        floor: 3.0,
        ratio: 0.2,
    },
    Rule {
        scope: Scope::Prefix,
        window: Window::Day,
        floor: 10.0,
        ratio: 0.2,
    },
    Rule {
        scope: Scope::Country,
        window: Window::Hour,
        floor: 10.0,
        ratio: 0.2,
    },
    Rule {
        scope: Scope::Country,
        window: Window::Day,
        floor: 50.0,
        ratio: 0.2,
    },
];

/// Sends and verifications of one scope per UTC hour of creation: `(hour, sent, verified)`,
/// `hour` being milliseconds since the epoch / 3 600 000.
pub type Hours = [(i64, i64, i64)];

/// The counts the rules read, for one scope, before this send.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub unverified_hour: f64,
    pub unverified_day: f64,
    pub verified_day: f64,
    pub verified_week: f64,
}

impl Counts {
    /// Sliding windows over hourly counters: the oldest hour of a window counts for the part
    /// of it still inside the window.
    pub fn of(hours: &Hours, now: Millis) -> Self {
        let this_hour = now.div_euclid(HOUR_MS);
        let into_hour = now.rem_euclid(HOUR_MS) as f64 / HOUR_MS as f64;
        let mut c = Counts::default();
        for &(hour, sent, verified) in hours {
            let unverified = (sent - verified).max(0) as f64;
            let age = this_hour - hour;
            let share = |span: i64| -> f64 {
                match age {
                    a if a < 0 || a > span => 0.0,
                    a if a == span => 1.0 - into_hour,
                    _ => 1.0,
                }
            };
            c.unverified_hour += unverified * share(1);
            c.unverified_day += unverified * share(24);
            c.verified_day += verified as f64 * share(24);
            c.verified_week += verified as f64 * share(24 * 7);
        }
        c
    }

    fn unverified(&self, w: Window) -> f64 {
        match w {
            Window::Hour => self.unverified_hour,
            Window::Day => self.unverified_day,
        }
    }

    fn baseline(&self, w: Window) -> f64 {
        match w {
            Window::Hour => self.verified_day,
            Window::Day => self.verified_week,
        }
    }
}

/// A rule this send would break, and the numbers behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trip {
    pub rule: Rule,
    /// The prefix or the country code.
    pub key: String,
    pub unverified: f64,
    pub verified: f64,
    pub allowed: f64,
}

impl Trip {
    /// Why, in words for the timeline and the blocks list.
    pub fn reason(&self) -> String {
        let scope = match self.rule.scope {
            Scope::Prefix => "prefix",
            Scope::Country => "country",
        };
        let window = match self.rule.window {
            Window::Hour => "hour",
            Window::Day => "24 hours",
        };
        format!(
            "{scope} {key}: {u} unverified OTPs in the last {window} with this one, over the {a} allowed = max({floor}, {ratio} × {v} verified in {base})",
            key = self.key,
            u = self.unverified.ceil() as i64 + 1,
            a = self.allowed.floor() as i64,
            floor = self.rule.floor,
            ratio = self.rule.ratio,
            v = self.verified.round() as i64,
            base = self.rule.baseline_text(),
        )
    }
}

/// The first rule a send would break: one more unverified OTP over what the rule allows.
pub fn assess(prefix: (&str, &Counts), country: Option<(&str, &Counts)>) -> Option<Trip> {
    RULES.iter().find_map(|rule| {
        let (key, counts) = match rule.scope {
            Scope::Prefix => prefix,
            Scope::Country => country?,
        };
        let unverified = counts.unverified(rule.window);
        let verified = counts.baseline(rule.window);
        let allowed = rule.allows(verified);
        (unverified + 1.0 > allowed).then(|| Trip {
            rule: *rule,
            key: key.to_owned(),
            unverified,
            verified,
            allowed,
        })
    })
}

/// What the guard decided about a send (recorded in its timeline unless it simply passed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Refused: the prefix is (now) blocked.
    Blocked,
    /// Would have been refused; recorded only (monitor mode, or a block an admin lifted).
    Monitored,
    /// The number is on the safe-list: not checked.
    SafeListed,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Blocked => "blocked",
            Decision::Monitored => "monitored",
            Decision::SafeListed => "safe_listed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_safe_lists() {
        assert_eq!(prefix_of("+447700900123"), "+44770090");
        assert_eq!(prefix_of("+14155550100"), "+1415555");
        let list = SafeList::parse(["+4477009", " +14155550100", "+4477009"]).unwrap();
        assert_eq!(list.entries(), ["+14155550100", "+4477009"]);
        assert_eq!(list.covering("+447700900123"), Some("+4477009"));
        assert_eq!(list.covering("+14155550101"), None);
        assert_eq!(SafeList::from_text(&list.to_text()), list);
        assert!(SafeList::parse(["4477"]).is_err());
        assert!(SafeList::parse(["+44a"]).is_err());
        assert!(SafeList::parse(["+1234567890123456"]).is_err());
    }

    #[test]
    fn windows_slide_over_hours() {
        let now = 10 * HOUR_MS + HOUR_MS / 4; // a quarter into hour 10
        let c = Counts::of(&[(10, 4, 1), (9, 8, 0), (0, 100, 100), (-200, 5, 0)], now);
        // hour 9 counts for three quarters of the last hour.
        assert_eq!(c.unverified_hour, 3.0 + 6.0);
        assert_eq!(c.unverified_day, 3.0 + 8.0);
        assert_eq!(c.verified_day, 1.0 + 100.0);
        assert_eq!(c.verified_week, 101.0);
    }

    #[test]
    fn a_prefix_trips_past_its_floor_and_its_verified_history() {
        let counts = |unverified_hour, verified_day| Counts {
            unverified_hour,
            unverified_day: unverified_hour,
            verified_day,
            verified_week: verified_day,
        };
        // Three unverified in the hour pass, the fourth trips.
        assert!(assess(("+4477009", &counts(2.0, 0.0)), None).is_none());
        let trip = assess(("+4477009", &counts(3.0, 0.0)), None).unwrap();
        assert_eq!(trip.rule.scope, Scope::Prefix);
        assert_eq!(trip.rule.window, Window::Hour);
        assert!(
            trip.reason().contains("prefix +4477009: 4 unverified"),
            "{}",
            trip.reason()
        );
        // A prefix that verifies a lot may have more unverified.
        assert!(assess(("+4477009", &counts(9.0, 100.0)), None).is_none());
        // The country's rules count every prefix of the country.
        let gb = counts(10.0, 0.0);
        let trip = assess(("+4477009", &counts(0.0, 0.0)), Some(("GB", &gb))).unwrap();
        assert_eq!((trip.rule.scope, trip.key.as_str()), (Scope::Country, "GB"));
    }

    #[test]
    fn unset_mode_follows_the_provider() {
        assert_eq!(FraudMode::unset(true), FraudMode::Monitor);
        assert_eq!(FraudMode::unset(false), FraudMode::Block);
        for m in FraudMode::ALL {
            assert_eq!(FraudMode::parse(m.as_str()), Some(m));
        }
    }
}
