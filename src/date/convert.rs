//! Converting matched date text to a timestamp: fail2ban's `reGroupDictStrptime` for pattern
//! templates (year and day inference, zones), and the epoch and TAI64N conversions.
//!
//! Called by `DateDetector::detect` with the named-group spans of the winning match. It does not
//! find dates (`mod.rs`, `pattern.rs`) and knows zones only through `zone.rs`.
//!
//! # Compatibility
//! Identical rules to fail2ban 1.0.2 (spec §4.7): `%y` always 20xx; `%f` dropped; year assumed
//! from `now` and moved one year back when more than a day ahead; time-only dates assumed today
//! or yesterday; `Z`/`UTC`/`GMT` exact-case; a zone (or `logtimezone`) gives `timegm` (an integer),
//! none gives `mktime` in local time (a float). The year comparison keeps fail2ban's quirk of
//! comparing the zone-corrected (UTC) naive time with local naive `now`. Digits are ASCII only:
//! Python would also read other Unicode decimal digits.

use super::civil;
use super::table::{MONTHS_ABBR, MONTHS_FULL, WEEKDAYS_ABBR, WEEKDAYS_FULL};
use super::zone::{self, TimeZone, ZoneTextError};

/// The strptime fields a pattern template can capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Y = 0,
    LowY,
    LowM,
    D,
    H,
    I,
    M,
    S,
    P,
    LowB,
    B,
    LowA,
    A,
    J,
    U,
    W,
    LowW,
    LowZ,
    Z,
}

pub(crate) const FIELD_COUNT: usize = 19;

impl Field {
    /// The field for a Python group name, if fail2ban reads it.
    pub(crate) fn from_name(name: &str) -> Option<Field> {
        Some(match name {
            "Y" => Field::Y,
            "y" => Field::LowY,
            "m" => Field::LowM,
            "d" => Field::D,
            "H" => Field::H,
            "I" => Field::I,
            "M" => Field::M,
            "S" => Field::S,
            "p" => Field::P,
            "b" => Field::LowB,
            "B" => Field::B,
            "a" => Field::LowA,
            "A" => Field::A,
            "j" => Field::J,
            "U" => Field::U,
            "W" => Field::W,
            "w" => Field::LowW,
            "z" => Field::LowZ,
            "Z" => Field::Z,
            _ => return None,
        })
    }
}

/// Byte spans of the captured fields of one match, indexed by `Field`.
pub(crate) type Spans = [Option<(usize, usize)>; FIELD_COUNT];

/// The captured fields of one match.
pub(crate) struct Fields<'a> {
    pub(crate) line: &'a str,
    pub(crate) spans: &'a Spans,
    /// `z` comes after `Z` in the pattern (only matters when both are present).
    pub(crate) lower_zone_last: bool,
    /// The pattern has a `p` group (an unmatched one makes Python's `None.lower()` fail).
    pub(crate) has_ampm: bool,
}

impl<'a> Fields<'a> {
    pub(crate) fn get(&self, f: Field) -> Option<&'a str> {
        self.spans[f as usize].and_then(|(s, e)| self.line.get(s..e))
    }
}

/// Why a date could not be converted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ConvError {
    /// Python ValueError: the line keeps its cut but has no date.
    Value,
    /// Python KeyError/TypeError: the line is aborted.
    Abort,
}

/// A converted time: the value and whether Python would hold it as an `int`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Converted {
    pub(crate) time: f64,
    pub(crate) integral: bool,
}

/// The clock and zones a conversion needs.
pub(crate) struct Context<'z> {
    /// `now` as local naive seconds (Python's `MyTime.now()`).
    pub(crate) now_local: f64,
    pub(crate) local: &'z TimeZone,
    /// `logtimezone` in minutes.
    pub(crate) default_tz: Option<i32>,
    /// The offset glibc's `mktime` used last (its guess for repeated local times).
    pub(crate) mktime_hint: Option<i32>,
    /// `now_local`'s civil date.
    pub(crate) now_ymd: (i64, i64, i64),
    /// Offset cache for `mktime`.
    pub(crate) cache: &'z mut Option<zone::Span>,
    /// Two most recent years as (year, day number of January 1, leap year): the dates of a log
    /// mostly fall in one or two years (`now`'s and, when inferred, the one before).
    pub(crate) years: &'z mut [(i64, i64, bool); 2],
}

/// Days before each month in a common year.
const DAYS_BEFORE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

impl Context<'_> {
    /// `civil::naive` through the year memo.
    fn naive(&mut self, c: &Civil) -> Option<i64> {
        let memo = match *self.years {
            [(y, d, l), _] | [_, (y, d, l)] if y == c.year => Some((d, l)),
            _ => None,
        };
        let Some((jan1, leap)) = memo else {
            let t = civil::naive(c.year, c.month, c.day, c.hour, c.minute, c.second)?;
            self.years[1] = self.years[0];
            self.years[0] = (
                c.year,
                civil::days_from_civil(c.year, 1, 1),
                civil::is_leap(c.year),
            );
            return Some(t);
        };
        let ok = (1..=12).contains(&c.month)
            && (0..24).contains(&c.hour)
            && (0..60).contains(&c.minute)
            && (0..60).contains(&c.second);
        if !ok {
            return None;
        }
        let feb29 = i64::from(leap && c.month > 2);
        let len = match c.month {
            2 => 28 + i64::from(leap),
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if !(1..=len).contains(&c.day) {
            return None;
        }
        let days = jan1 + DAYS_BEFORE[(c.month - 1) as usize] + feb29 + c.day - 1;
        Some(days * 86_400 + c.hour * 3600 + c.minute * 60 + c.second)
    }
}

fn int(s: &str) -> Result<i64, ConvError> {
    let b = s.as_bytes();
    if (1..=4).contains(&b.len()) && b.iter().all(u8::is_ascii_digit) {
        return Ok(b.iter().fold(0, |a, &c| a * 10 + i64::from(c - b'0')));
    }
    let t = s.trim_matches(|c: char| c.is_whitespace());
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(ConvError::Value);
    }
    let v: i64 = digits.parse().map_err(|_| ConvError::Value)?;
    Ok(if neg { -v } else { v })
}

fn name_index(list: &[&str], val: &str) -> Result<i64, ConvError> {
    // Python compares `val.lower()`; no non-ASCII character lowers to a letter of these names
    // except KELVIN SIGN (to `k`), which none contains.
    list.iter()
        .position(|n| n.eq_ignore_ascii_case(val))
        .map(|i| i as i64)
        .ok_or(ConvError::Value)
}

/// fail2ban's `reGroupDictStrptime`.
pub(crate) fn strptime(f: &Fields<'_>, ctx: &mut Context<'_>) -> Result<Converted, ConvError> {
    let mut year = None;
    let mut month = None;
    let mut day = None;
    let mut weekday = None;
    let mut julian = None;
    let mut week = None;
    let (mut hour, mut minute, mut second) = (0i64, 0i64, 0i64);
    if let Some(v) = f.get(Field::LowY) {
        let y = int(v)?;
        year = Some(if y <= 2000 { y + 2000 } else { y });
    }
    if let Some(v) = f.get(Field::Y) {
        year = Some(int(v)?);
    }
    if let Some(v) = f.get(Field::LowM) {
        month = Some(int(v)?);
    }
    if let Some(v) = f.get(Field::B) {
        month = Some(name_index(&MONTHS_FULL, v)? + 1);
    }
    if let Some(v) = f.get(Field::LowB) {
        month = Some(name_index(&MONTHS_ABBR, v)? + 1);
    }
    if let Some(v) = f.get(Field::D) {
        day = Some(int(v)?);
    }
    if let Some(v) = f.get(Field::H) {
        hour = int(v)?;
    }
    if let Some(v) = f.get(Field::I) {
        hour = int(v)?;
        let ampm = match f.get(Field::P) {
            Some(p) => p,
            // `found_dict.get('p', '')` is None when the group exists but did not take part:
            // `.lower()` then raises AttributeError and the line is aborted.
            None if f.has_ampm => return Err(ConvError::Abort),
            None => "",
        };
        if ampm.is_empty() || ampm.eq_ignore_ascii_case("am") {
            if hour == 12 {
                hour = 0;
            }
        } else if ampm.eq_ignore_ascii_case("pm") && hour != 12 {
            hour += 12;
        }
    }
    if let Some(v) = f.get(Field::M) {
        minute = int(v)?;
    }
    if let Some(v) = f.get(Field::S) {
        second = int(v)?;
    }
    if let Some(v) = f.get(Field::A) {
        weekday = Some(name_index(&WEEKDAYS_FULL, v)?);
    }
    if let Some(v) = f.get(Field::LowA) {
        weekday = Some(name_index(&WEEKDAYS_ABBR, v)?);
    }
    if let Some(v) = f.get(Field::LowW) {
        let w = int(v)? - 1;
        weekday = Some(if w < 0 { 6 } else { w });
    }
    if let Some(v) = f.get(Field::J) {
        julian = Some(int(v)?);
    }
    if let Some(v) = f.get(Field::U) {
        week = Some((int(v)?, false));
    }
    if let Some(v) = f.get(Field::W) {
        week = Some((int(v)?, true));
    }
    let zone_text = match (f.get(Field::Z), f.get(Field::LowZ)) {
        (Some(u), Some(l)) => Some(if f.lower_zone_last { l } else { u }),
        (u, l) => u.or(l),
    };
    let tzoffset = match zone_text {
        None => None,
        Some("Z" | "UTC" | "GMT") => Some(0),
        Some(z) => Some(zone::zone_offset_minutes(z).map_err(|e| match e {
            ZoneTextError::Shape => ConvError::Value,
            ZoneTextError::Unknown => ConvError::Abort,
        })?),
    };

    let (now_y, now_m, now_d) = ctx.now_ymd;
    let assume_year = year.is_none();
    let mut year = year.unwrap_or(now_y);
    if month.is_none() || day.is_none() {
        if julian.is_none() {
            if let (Some((w, monday)), Some(wd)) = (week, weekday) {
                julian = Some(julian_from_week(year, w, wd, monday));
            }
        }
        if let Some(j) = julian {
            if !(1..=9999).contains(&year) {
                return Err(ConvError::Value);
            }
            let days = civil::days_from_civil(year, 1, 1) + j - 1;
            // Python's fromordinal range: 0001-01-01 ..= 9999-12-31.
            if days < civil::days_from_civil(1, 1, 1) || days > civil::days_from_civil(9999, 12, 31)
            {
                return Err(ConvError::Value);
            }
            let (y, m, d) = civil::civil_from_days(days);
            year = y;
            month = Some(m);
            day = Some(d);
        }
    }
    let assume_today = month.is_none() && day.is_none();
    let (month, day) = match (month, day) {
        (None, None) => (now_m, now_d),
        (Some(m), Some(d)) => (m, d),
        // datetime(year, None, day): a TypeError, which aborts the line.
        _ => return Err(ConvError::Abort),
    };
    let date = Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
    };
    finish(&date, assume_year, assume_today, tzoffset, ctx)
}

/// A broken-down date and time as captured (not yet validated).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: i64,
    pub(crate) day: i64,
    pub(crate) hour: i64,
    pub(crate) minute: i64,
    pub(crate) second: i64,
}

/// The end of `reGroupDictStrptime` once the fields are read: validation, zone (`tzoffset` in
/// minutes, else `logtimezone`, else local time), and the "today"/"this year" inference. The fast
/// matchers (`fast.rs`) call this directly with the values they parsed. Always inlined: a
/// plain `#[inline]` left it a call on the fast lane (`DateDetector::convert_values`), and
/// inlining it there saves 2-3 ns per line (`tools/bench-date.sh`).
#[inline(always)]
pub(crate) fn finish(
    c: &Civil,
    assume_year: bool,
    assume_today: bool,
    tzoffset: Option<i32>,
    ctx: &mut Context<'_>,
) -> Result<Converted, ConvError> {
    let Civil {
        year, month, day, ..
    } = *c;
    let mut tzoffset = tzoffset;
    let mut t = ctx.naive(c).ok_or(ConvError::Value)?;
    if tzoffset.is_none() {
        tzoffset = ctx.default_tz;
    }
    if let Some(off) = tzoffset {
        t -= i64::from(off) * 60;
        if !(civil::days_from_civil(1, 1, 1) * 86_400
            ..civil::days_from_civil(10_000, 1, 1) * 86_400)
            .contains(&t)
        {
            return Err(ConvError::Value);
        }
    }
    if assume_today && t as f64 > ctx.now_local {
        t -= 86_400;
    }
    if assume_year && t as f64 > ctx.now_local + 86_400.0 {
        // replace(year=year-1, month=month, day=day), keeping the (corrected) time of day.
        let tod = t.rem_euclid(86_400);
        let last_year = Civil {
            year: year - 1,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
        };
        t = ctx.naive(&last_year).ok_or(ConvError::Value)? + tod;
    }
    if tzoffset.is_some() {
        Ok(Converted {
            time: t as f64,
            integral: true,
        })
    } else {
        let (utc, off) = ctx.local.local_to_utc_cached(t, ctx.mktime_hint, ctx.cache);
        ctx.mktime_hint = Some(off);
        Ok(Converted {
            time: utc as f64,
            integral: false,
        })
    }
}

/// Python's `_calc_julian_from_U_or_W`.
fn julian_from_week(year: i64, week: i64, weekday: i64, monday_first: bool) -> i64 {
    let mut first = civil::weekday(civil::days_from_civil(year, 1, 1));
    let mut wd = weekday;
    if !monday_first {
        first = (first + 1) % 7;
        wd = (wd + 1) % 7;
    }
    let week0 = (7 - first) % 7;
    if week == 0 {
        1 + wd - first
    } else {
        1 + week0 + 7 * (week - 1) + wd
    }
}

/// `EPOCH`/`LEPOCH` text to seconds (Python `float`, fraction kept).
pub(crate) fn epoch(text: &str, long: bool) -> Result<Converted, ConvError> {
    let v: f64 = text.parse().map_err(|_| ConvError::Value)?;
    let n = text.chars().count();
    let v = if long && n >= 13 {
        if n >= 16 && !text.contains('.') {
            v / 1_000_000.0
        } else {
            v / 1000.0
        }
    } else {
        v
    };
    Ok(Converted {
        time: v,
        integral: false,
    })
}

/// TAI64N `@4000000...`: hex digits 2..17 as seconds (an int).
pub(crate) fn tai64n(text: &str) -> Result<Converted, ConvError> {
    let hex = text.get(2..17).ok_or(ConvError::Value)?;
    let v = i64::from_str_radix(hex, 16).map_err(|_| ConvError::Value)?;
    Ok(Converted {
        time: v as f64,
        integral: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The year memo gives `civil::naive`'s answer, memo hit or miss, valid date or not.
    #[test]
    fn naive_memo_equals_civil() {
        let local = TimeZone::utc();
        let mut cache = None;
        let mut years = [(i64::MIN, 0, false); 2];
        let mut ctx = Context {
            now_local: 0.0,
            local: &local,
            default_tz: None,
            mktime_hint: None,
            now_ymd: (1970, 1, 1),
            cache: &mut cache,
            years: &mut years,
        };
        let mut n = 0;
        for year in [0, 1, 1900, 2000, 2023, 2024, 2024, 2025, 2100, 9999, 10_000] {
            for month in 0..=13 {
                for day in [0, 1, 15, 28, 29, 30, 31, 32] {
                    for (hour, minute, second) in
                        [(0, 0, 0), (23, 59, 59), (24, 0, 0), (0, 60, 0), (0, 0, 60)]
                    {
                        let c = Civil {
                            year,
                            month,
                            day,
                            hour,
                            minute,
                            second,
                        };
                        let want = civil::naive(year, month, day, hour, minute, second);
                        assert_eq!(ctx.naive(&c), want, "{c:?}");
                        n += usize::from(want.is_some());
                    }
                }
            }
        }
        assert!(n > 500, "only {n} valid dates");
    }
}
