//! ISO 8601 text of Arrow's temporal values: dates, times of day, instants and durations.
//!
//! Dates are proleptic Gregorian (as Python's `datetime` and Arrow's own casts), years outside 0..=9999
//! get a sign and at least five digits (ISO 8601's expanded form, `+10000-01-01`, `-0001-12-31`). Fractions
//! of a second are written to the unit's precision with trailing zeros removed, and left out when zero.
//! Durations are `[-]P[nD]T[nH][nM][n[.f]S]` (ISO 8601-2's leading minus for negative ones; `PT0S` for
//! zero); days are 86,400 s, as Arrow's durations have no calendar.

/// A time unit as a power of ten of seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Unit {
    Second,
    Milli,
    Micro,
    Nano,
}

impl Unit {
    pub fn of(unit: &arrow_schema::TimeUnit) -> Unit {
        match unit {
            arrow_schema::TimeUnit::Second => Unit::Second,
            arrow_schema::TimeUnit::Millisecond => Unit::Milli,
            arrow_schema::TimeUnit::Microsecond => Unit::Micro,
            arrow_schema::TimeUnit::Nanosecond => Unit::Nano,
        }
    }

    /// Digits of a second the unit resolves, and units per second.
    fn digits(self) -> (usize, i128) {
        match self {
            Unit::Second => (0, 1),
            Unit::Milli => (3, 1_000),
            Unit::Micro => (6, 1_000_000),
            Unit::Nano => (9, 1_000_000_000),
        }
    }
}

/// Year, month (1..=12), day (1..=31) of the day `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, exact for every i64 day count that fits the intermediate i128 arithmetic).
pub fn civil_from_days(days: i128) -> (i128, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i128::from(month <= 2);
    (year, month, day)
}

fn year_text(year: i128) -> String {
    if (0..=9999).contains(&year) { format!("{year:04}") } else { format!("{year:+05}") }
}

/// `YYYY-MM-DD` of a date32 (days since the epoch).
pub fn date(days: i128) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{}-{m:02}-{d:02}", year_text(y))
}

/// `.fff` of `units` (less than one second's worth), trailing zeros removed; empty when zero.
fn fraction(units: i128, unit: Unit) -> String {
    let (digits, _) = unit.digits();
    if units == 0 {
        return String::new();
    }
    let text = format!("{units:0digits$}");
    format!(".{}", text.trim_end_matches('0'))
}

/// `HH:MM:SS[.f]` of a time of day in `unit` since midnight; values outside one day (invalid, but
/// representable) wrap into it with their day count shown as a duration would be.
pub fn time_of_day(value: i128, unit: Unit) -> String {
    let (_, per_second) = unit.digits();
    let (secs, sub) = (value.div_euclid(per_second), value.rem_euclid(per_second));
    let (h, rest) = (secs.div_euclid(3600), secs.rem_euclid(3600));
    format!("{h:02}:{:02}:{:02}{}", rest / 60, rest % 60, fraction(sub, unit))
}

/// `YYYY-MM-DDTHH:MM:SS[.f]` of an instant `value` `unit`s after 1970-01-01T00:00:00, with `Z` when the
/// column has a time zone (Arrow stores such instants in UTC; tally has no zone database, so they are
/// shown in UTC and the zone is in the column's type).
pub fn timestamp(value: i128, unit: Unit, utc: bool) -> String {
    let (_, per_second) = unit.digits();
    let (secs, sub) = (value.div_euclid(per_second), value.rem_euclid(per_second));
    let (days, in_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (h, m, s) = (in_day / 3600, in_day % 3600 / 60, in_day % 60);
    let zone = if utc { "Z" } else { "" };
    format!("{}T{h:02}:{m:02}:{s:02}{}{zone}", date(days), fraction(sub, unit))
}

/// `[-]P[nD]T[nH][nM][n[.f]S]` of a duration of `value` `unit`s.
pub fn duration(value: i128, unit: Unit) -> String {
    let (_, per_second) = unit.digits();
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs() as i128; // |i64| and |i128::MIN + 1| fit; i64 values only reach here
    let (secs, sub) = (magnitude / per_second, magnitude % per_second);
    let (d, h, m, s) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    let mut out = format!("{sign}P");
    if d > 0 {
        out.push_str(&format!("{d}D"));
    }
    let time_part = h > 0 || m > 0 || s > 0 || sub > 0;
    if time_part || d == 0 {
        out.push('T');
    }
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0 {
        out.push_str(&format!("{m}M"));
    }
    if s > 0 || sub > 0 || !time_part && d == 0 {
        out.push_str(&format!("{s}{}S", fraction(sub, unit)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: step one day at a time from the epoch, with the Gregorian leap rule.
    fn stepped(days: i64) -> (i128, u32, u32) {
        let leap = |y: i128| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let len = |y: i128, m: u32| match m {
            2 if leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let (mut y, mut m, mut d) = (1970i128, 1u32, 1u32);
        for _ in 0..days.max(0) {
            d += 1;
            if d > len(y, m) {
                (d, m) = (1, m + 1);
                if m > 12 {
                    (m, y) = (1, y + 1);
                }
            }
        }
        for _ in 0..(-days).max(0) {
            if d > 1 {
                d -= 1;
            } else {
                if m > 1 {
                    m -= 1;
                } else {
                    (m, y) = (12, y - 1);
                }
                d = len(y, m);
            }
        }
        (y, m, d)
    }

    #[test]
    fn civil_dates_match_day_by_day_stepping() {
        for days in (-800_000i64..800_000).step_by(997).chain([-1, 0, 1, 59, 60, 365, 11_016, 19_782]) {
            assert_eq!(civil_from_days(days.into()), stepped(days), "day {days}");
        }
    }

    #[test]
    fn texts_follow_python_isoformat() {
        // datetime.date(2024, 2, 29).isoformat(), datetime.time(23, 59, 59, 999999).isoformat(), ...
        assert_eq!(date(19_782), "2024-02-29");
        assert_eq!(date(-1), "1969-12-31");
        assert_eq!(date(2_932_897), "+10000-01-01");
        assert_eq!(date(-719_529), "-0001-12-31");
        assert_eq!(time_of_day(86_399_999_999, Unit::Micro), "23:59:59.999999");
        assert_eq!(time_of_day(0, Unit::Nano), "00:00:00");
        assert_eq!(time_of_day(3_723_500, Unit::Milli), "01:02:03.5");
        assert_eq!(timestamp(-1_000, Unit::Milli, true), "1969-12-31T23:59:59Z");
        assert_eq!(timestamp(1_709_164_800_123_456_789, Unit::Nano, false), "2024-02-29T00:00:00.123456789");
        assert_eq!(duration(0, Unit::Second), "PT0S");
        assert_eq!(duration(-5, Unit::Micro), "-PT0.000005S");
        assert_eq!(duration(3_600_000_000, Unit::Micro), "PT1H");
        assert_eq!(duration(90_061_001, Unit::Milli), "P1DT1H1M1.001S");
        assert_eq!(duration(86_400, Unit::Second), "P1D");
    }
}
