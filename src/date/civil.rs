//! Proleptic Gregorian calendar arithmetic on naive seconds (seconds since 1970-01-01 00:00 of
//! whatever clock the caller means). Pure functions; used by `convert.rs` and `zone.rs`, and by
//! every module that prints a time (`ymd_hms`), so the calendar is written once.
//!
//! # Compatibility
//! Ranges follow Python's `datetime`: years 1..=9999; an out-of-range value is the caller's
//! "value error".

/// Days since 1970-01-01 of a civil date (month 1..=12, day 1..=31, not validated).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date (year, month, day) of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub(crate) fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(crate) fn month_len(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// The year of naive seconds.
pub(crate) fn year_of(secs: i64) -> i64 {
    civil_from_days(secs.div_euclid(86_400)).0
}

/// A naive date-time; `None` when Python's `datetime(...)` would raise ValueError.
pub(crate) fn naive(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    let ok = (1..=9999).contains(&y)
        && (1..=12).contains(&mo)
        && d >= 1
        && d <= month_len(y, mo)
        && (0..24).contains(&h)
        && (0..60).contains(&mi)
        && (0..60).contains(&s);
    ok.then(|| days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

/// Day of week, Monday = 0 (Python's `weekday()`).
pub(crate) fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

/// `YYYY-mm-dd HH:MM:SS` of naive seconds (already shifted to the wanted zone).
pub fn ymd_hms(naive: i64) -> String {
    let (y, m, d) = civil_from_days(naive.div_euclid(86_400));
    let sod = naive.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for z in [-800_000, -1, 0, 1, 12_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(naive(2005, 8, 14, 10, 0, 0), Some(1_124_013_600));
        assert_eq!(naive(2005, 2, 29, 10, 0, 0), None);
        assert_eq!(weekday(0), 3);
    }
}
