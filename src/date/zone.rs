//! Time zones for date conversion: the process-local zone (TZif files from the system's zoneinfo,
//! or a POSIX `TZ` string) and fail2ban's fixed-offset zones (`logtimezone`, `%z`/`%Z` text).
//!
//! This file owns reading TZif (RFC 8536, versions 1-4) and POSIX TZ rule strings, converting
//! between UTC and local naive time (`localtime`/`mktime` semantics), and parsing fail2ban's
//! `[ABBR][±hh[[:]mm]]` zone text against the abbreviation table in `table.rs`. It does not pick
//! the date out of a line (`mod.rs`) and never touches the network: zone data comes only from
//! `/usr/share/zoneinfo` (or `TZDIR`) and the `TZ` environment variable.
//!
//! We parse TZif ourselves (about 200 lines) instead of pulling a calendar crate: we need exactly
//! glibc's `mktime` choices for skipped and repeated local times, which no crate documents as its
//! behaviour, and the code stays small enough to audit.
//!
//! # Compatibility
//! Local time is what glibc gives a Python process: `TZ` unset → `/etc/localtime`; `TZ=""` → UTC;
//! `TZ=name` or `TZ=:name` → the zoneinfo file, else the text as a POSIX rule string. `mktime` of a
//! skipped local time uses the offset in force before the transition; of a repeated local time,
//! the offset of the previous conversion when it is one of the two candidates, else standard time
//! (glibc keeps this guess process-wide, so the result may differ from fail2ban's in that hour).
//! Fixed zones follow fail2ban's `validateTimeZone`/`zone2offset`: a text that does not have the
//! shape is a "value error", a well-formed but unknown abbreviation a "key error".

use std::path::{Path, PathBuf};

use super::table::TZ_ABBREVIATIONS;

/// A time zone: a fixed offset, or rules (transitions and a POSIX tail) from the system.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeZone {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// Seconds east of UTC.
    Fixed(i32),
    Rules(Box<Rules>),
}

/// Transition data of a TZif file, plus the POSIX rule for times after the last transition.
#[derive(Debug, Clone, PartialEq)]
struct Rules {
    /// UTC instants of transitions, ascending.
    transitions: Vec<i64>,
    /// Index into `types` for each transition.
    idx: Vec<u8>,
    /// (utc offset seconds, is dst).
    types: Vec<(i32, bool)>,
    /// Rule for instants after the last transition (or for all, when there are none).
    tail: Option<Posix>,
}

/// A POSIX TZ rule string: `std offset [dst [offset] [,start[/time],end[/time]]]`.
#[derive(Debug, Clone, PartialEq)]
struct Posix {
    std: i32,
    dst: Option<(i32, RuleDay, i32, RuleDay, i32)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RuleDay {
    /// `Jn`: day 1..365, Feb 29 never counted.
    Julian1(u16),
    /// `n`: day 0..365, Feb 29 counted.
    Julian0(u16),
    /// `Mm.w.d`.
    MonthWeekDay(u8, u8, u8),
}

/// Why a zone could not be set up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ZoneError {
    #[error("unknown or unsupported time zone: {0:?}")]
    Shape(String),
    #[error("unknown time zone abbreviation {0:?}")]
    UnknownAbbreviation(String),
    #[error("cannot read zoneinfo file {path}: {reason}")]
    ZoneFile { path: PathBuf, reason: String },
    #[error("invalid POSIX TZ string {0:?}")]
    Posix(String),
}

impl TimeZone {
    /// UTC.
    pub fn utc() -> TimeZone {
        TimeZone {
            kind: Kind::Fixed(0),
        }
    }

    /// A fixed offset, seconds east of UTC.
    pub fn fixed(seconds: i32) -> TimeZone {
        TimeZone {
            kind: Kind::Fixed(seconds),
        }
    }

    /// The process-local zone as glibc picks it: `TZ`, else `/etc/localtime`, else UTC.
    pub fn local() -> TimeZone {
        match std::env::var("TZ") {
            Ok(tz) => TimeZone::from_tz_value(&tz).unwrap_or_else(|_| TimeZone::utc()),
            Err(_) => TimeZone::from_tzif_path(Path::new("/etc/localtime"))
                .unwrap_or_else(|_| TimeZone::utc()),
        }
    }

    /// A `TZ` environment value: empty → UTC; `name`/`:name` → zoneinfo file; else a POSIX string.
    pub fn from_tz_value(value: &str) -> Result<TimeZone, ZoneError> {
        if value.is_empty() {
            return Ok(TimeZone::utc());
        }
        let name = value.strip_prefix(':').unwrap_or(value);
        if !name.contains("..") {
            let path = if name.starts_with('/') {
                PathBuf::from(name)
            } else {
                let dir = std::env::var("TZDIR").unwrap_or_else(|_| "/usr/share/zoneinfo".into());
                Path::new(&dir).join(name)
            };
            if path.is_file() {
                return TimeZone::from_tzif_path(&path);
            }
        }
        let posix = parse_posix(name).ok_or_else(|| ZoneError::Posix(value.to_string()))?;
        Ok(TimeZone {
            kind: Kind::Rules(Box::new(Rules {
                transitions: Vec::new(),
                idx: Vec::new(),
                types: Vec::new(),
                tail: Some(posix),
            })),
        })
    }

    /// Reads a TZif file.
    pub fn from_tzif_path(path: &Path) -> Result<TimeZone, ZoneError> {
        let bytes = std::fs::read(path).map_err(|e| ZoneError::ZoneFile {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        TimeZone::from_tzif(&bytes).map_err(|reason| ZoneError::ZoneFile {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        })
    }

    /// Parses TZif bytes (RFC 8536).
    pub fn from_tzif(bytes: &[u8]) -> Result<TimeZone, &'static str> {
        let rules = parse_tzif(bytes)?;
        Ok(TimeZone {
            kind: Kind::Rules(Box::new(rules)),
        })
    }

    /// fail2ban's `logtimezone` / `--timezone` value: `[ABBR][±hh[[:]mm]]` as a fixed offset.
    pub fn parse(text: &str) -> Result<TimeZone, ZoneError> {
        match zone_offset_minutes(text) {
            Ok(m) => Ok(TimeZone::fixed(m * 60)),
            Err(ZoneTextError::Shape) => Err(ZoneError::Shape(text.to_string())),
            Err(ZoneTextError::Unknown) => Err(ZoneError::UnknownAbbreviation(text.to_string())),
        }
    }

    /// The fixed offset in seconds, when this zone is one.
    pub fn fixed_offset(&self) -> Option<i32> {
        match self.kind {
            Kind::Fixed(s) => Some(s),
            Kind::Rules(_) => None,
        }
    }

    /// Offset (seconds east of UTC) and DST flag in force at a UTC instant.
    pub fn offset_at(&self, utc: i64) -> (i32, bool) {
        match &self.kind {
            Kind::Fixed(s) => (*s, false),
            Kind::Rules(r) => r.offset_at(utc),
        }
    }

    /// `mktime`: local naive seconds (since 1970-01-01 00:00 local) to a UTC instant. `hint` is
    /// the offset of the previous conversion (glibc's guess), used for repeated local times.
    /// Returns the instant and the offset used.
    pub fn local_to_utc(&self, local: i64, hint: Option<i32>) -> (i64, i32) {
        let mut cands: [(i32, bool); 3] = [(0, false); 3];
        for (c, probe) in cands
            .iter_mut()
            .zip([local - 86_400, local, local + 86_400])
        {
            *c = self.offset_at(probe);
        }
        let mut valid: Vec<(i32, bool)> = Vec::with_capacity(2);
        for &(off, dst) in &cands {
            if self.offset_at(local - i64::from(off)).0 == off && !valid.iter().any(|v| v.0 == off)
            {
                valid.push((off, dst));
            }
        }
        let off = match valid.len() {
            0 => {
                // Skipped local time: the offset before the transition.
                self.offset_at(local - 86_400).0
            }
            1 => valid[0].0,
            _ => match hint.filter(|h| valid.iter().any(|v| v.0 == *h)) {
                Some(h) => h,
                None => valid
                    .iter()
                    .find(|v| !v.1)
                    .map(|v| v.0)
                    .unwrap_or(valid[0].0),
            },
        };
        (local - i64::from(off), off)
    }
}

/// A UTC interval `[from, until)` with one offset: a cache for conversions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Span {
    from: i64,
    until: i64,
    off: i32,
}

impl TimeZone {
    /// The interval around `utc` with the same offset (possibly shorter than the real one).
    pub(crate) fn offset_span(&self, utc: i64) -> Span {
        match &self.kind {
            Kind::Fixed(s) => Span {
                from: i64::MIN,
                until: i64::MAX,
                off: *s,
            },
            Kind::Rules(r) => r.offset_span(utc),
        }
    }

    /// `offset_at(utc).0` through a cache.
    pub(crate) fn offset_cached(&self, utc: i64, cache: &mut Option<Span>) -> i32 {
        if let Some(c) = cache.filter(|c| utc >= c.from && utc < c.until) {
            return c.off;
        }
        let span = self.offset_span(utc);
        *cache = Some(span);
        span.off
    }

    /// `local_to_utc` through a cache: a local time far (over a day) from any transition has a
    /// single candidate offset, so the cached one is the answer.
    pub(crate) fn local_to_utc_cached(
        &self,
        local: i64,
        hint: Option<i32>,
        cache: &mut Option<Span>,
    ) -> (i64, i32) {
        if let Some(c) = *cache {
            let u = local.saturating_sub(i64::from(c.off));
            if u >= c.from.saturating_add(86_400) && u < c.until.saturating_sub(86_400) {
                return (u, c.off);
            }
        }
        let (u, off) = self.local_to_utc(local, hint);
        let span = self.offset_span(u);
        if span.off == off {
            *cache = Some(span);
        }
        (u, off)
    }
}

impl Rules {
    fn offset_span(&self, utc: i64) -> Span {
        let n = self.transitions.partition_point(|&t| t <= utc);
        if n == self.transitions.len() {
            if let Some(p) = &self.tail {
                let mut span = p.offset_span(utc);
                if let Some(&last) = self.transitions.last() {
                    span.from = span.from.max(last);
                }
                return span;
            }
        }
        Span {
            from: if n == 0 {
                i64::MIN
            } else {
                self.transitions[n - 1]
            },
            until: self.transitions.get(n).copied().unwrap_or(i64::MAX),
            off: self.offset_at(utc).0,
        }
    }

    fn offset_at(&self, utc: i64) -> (i32, bool) {
        if self.transitions.is_empty() || utc >= *self.transitions.last().unwrap_or(&i64::MAX) {
            if let Some(p) = &self.tail {
                return p.offset_at(utc);
            }
        }
        if self.types.is_empty() {
            return (0, false);
        }
        match self.transitions.partition_point(|&t| t <= utc) {
            0 => self.types[0],
            n => self
                .types
                .get(usize::from(self.idx[n - 1]))
                .copied()
                .unwrap_or((0, false)),
        }
    }
}

impl Posix {
    fn offset_span(&self, utc: i64) -> Span {
        let off = self.offset_at(utc).0;
        let Some((dst, start, start_time, end, end_time)) = self.dst else {
            return Span {
                from: i64::MIN,
                until: i64::MAX,
                off,
            };
        };
        let year = super::civil::year_of(utc + i64::from(self.std));
        let y0 = super::civil::days_from_civil(year, 1, 1) * 86_400 - i64::from(self.std);
        let y1 = super::civil::days_from_civil(year + 1, 1, 1) * 86_400 - i64::from(self.std);
        let a = rule_day_seconds(year, start) + i64::from(start_time) - i64::from(self.std);
        let b = rule_day_seconds(year, end) + i64::from(end_time) - i64::from(dst);
        let mut from = y0;
        let mut until = y1;
        for t in [a, b] {
            if t <= utc {
                from = from.max(t);
            } else {
                until = until.min(t);
            }
        }
        Span { from, until, off }
    }

    fn offset_at(&self, utc: i64) -> (i32, bool) {
        let Some((dst, start, start_time, end, end_time)) = self.dst else {
            return (self.std, false);
        };
        // Transition instants in UTC for the year of `utc` (judged in standard local time).
        let year = super::civil::year_of(utc + i64::from(self.std));
        let start_utc = rule_day_seconds(year, start) + i64::from(start_time) - i64::from(self.std);
        let end_utc = rule_day_seconds(year, end) + i64::from(end_time) - i64::from(dst);
        let in_dst = if start_utc < end_utc {
            utc >= start_utc && utc < end_utc
        } else {
            !(utc >= end_utc && utc < start_utc)
        };
        if in_dst {
            (dst, true)
        } else {
            (self.std, false)
        }
    }
}

/// Local midnight (naive seconds) of a rule day in `year`.
fn rule_day_seconds(year: i64, day: RuleDay) -> i64 {
    use super::civil::{days_from_civil, is_leap};
    let jan1 = days_from_civil(year, 1, 1);
    let days = match day {
        RuleDay::Julian1(n) => {
            let n = i64::from(n);
            // Feb 29 is never counted: day 60 is always March 1.
            if is_leap(year) && n >= 60 {
                jan1 + n
            } else {
                jan1 + n - 1
            }
        }
        RuleDay::Julian0(n) => jan1 + i64::from(n),
        RuleDay::MonthWeekDay(m, w, d) => {
            let first = days_from_civil(year, i64::from(m), 1);
            // 1970-01-01 was a Thursday (4).
            let wd_first = (first + 4).rem_euclid(7);
            let mut day = first + (i64::from(d) - wd_first).rem_euclid(7) + 7 * (i64::from(w) - 1);
            let mlen = super::civil::month_len(year, i64::from(m));
            while day >= first + mlen {
                day -= 7;
            }
            day
        }
    };
    days * 86_400
}

fn parse_tzif(b: &[u8]) -> Result<Rules, &'static str> {
    let (v1, rest) = parse_block(b, 4)?;
    let version = b[4];
    if version == 0 {
        return Ok(v1);
    }
    let (mut v2, tail) = parse_block(rest, 8)?;
    // Footer: "\n<posix>\n".
    if let Some(t) = tail.strip_prefix(b"\n") {
        if let Some(end) = t.iter().position(|&c| c == b'\n') {
            let s = std::str::from_utf8(&t[..end]).map_err(|_| "footer is not utf-8")?;
            if !s.is_empty() {
                v2.tail = parse_posix(s);
            }
        }
    }
    Ok(v2)
}

/// Parses one header + data block with `tsize`-byte times; returns the rules and what follows.
fn parse_block(b: &[u8], tsize: usize) -> Result<(Rules, &[u8]), &'static str> {
    if b.len() < 44 || &b[..4] != b"TZif" {
        return Err("not a TZif file");
    }
    let count = |i: usize| -> usize {
        u32::from_be_bytes([b[20 + 4 * i], b[21 + 4 * i], b[22 + 4 * i], b[23 + 4 * i]]) as usize
    };
    let (isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt) =
        (count(0), count(1), count(2), count(3), count(4), count(5));
    let len = timecnt * tsize
        + timecnt
        + typecnt * 6
        + charcnt
        + leapcnt * (tsize + 4)
        + isstdcnt
        + isutcnt;
    let data = b.get(44..44 + len).ok_or("truncated TZif data")?;
    let mut transitions = Vec::with_capacity(timecnt);
    for i in 0..timecnt {
        let p = &data[i * tsize..(i + 1) * tsize];
        let t = if tsize == 4 {
            i64::from(i32::from_be_bytes([p[0], p[1], p[2], p[3]]))
        } else {
            i64::from_be_bytes([p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]])
        };
        transitions.push(t);
    }
    let idx = data[timecnt * tsize..timecnt * tsize + timecnt].to_vec();
    let tbase = timecnt * tsize + timecnt;
    let mut types = Vec::with_capacity(typecnt);
    for i in 0..typecnt {
        let p = &data[tbase + 6 * i..tbase + 6 * i + 6];
        types.push((i32::from_be_bytes([p[0], p[1], p[2], p[3]]), p[4] != 0));
    }
    if idx.iter().any(|&i| usize::from(i) >= typecnt) {
        return Err("transition type index out of range");
    }
    Ok((
        Rules {
            transitions,
            idx,
            types,
            tail: None,
        },
        &b[44 + len..],
    ))
}

/// Parses a POSIX TZ rule string (glibc dialect, including `<+03>` quoted names).
fn parse_posix(s: &str) -> Option<Posix> {
    let mut p = PosixParser {
        s: s.as_bytes(),
        i: 0,
    };
    p.name()?;
    let std = -p.offset()?;
    if p.done() {
        return Some(Posix { std, dst: None });
    }
    p.name()?;
    let dst = if p.peek().is_some_and(|c| c != b',') {
        -p.offset()?
    } else {
        std + 3600
    };
    let (start, start_time, end, end_time) = if p.done() {
        // glibc's default when no rule is given (US rules).
        (
            RuleDay::MonthWeekDay(3, 2, 0),
            7200,
            RuleDay::MonthWeekDay(11, 1, 0),
            7200,
        )
    } else {
        p.expect(b',')?;
        let start = p.rule_day()?;
        let st = if p.eat(b'/') { p.offset()? } else { 7200 };
        p.expect(b',')?;
        let end = p.rule_day()?;
        let et = if p.eat(b'/') { p.offset()? } else { 7200 };
        (start, st, end, et)
    };
    if !p.done() {
        return None;
    }
    Some(Posix {
        std,
        dst: Some((dst, start, start_time, end, end_time)),
    })
}

struct PosixParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl PosixParser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> Option<()> {
        self.eat(c).then_some(())
    }
    fn name(&mut self) -> Option<()> {
        if self.eat(b'<') {
            while self.peek()? != b'>' {
                self.i += 1;
            }
            self.i += 1;
            return Some(());
        }
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i += 1;
        }
        (self.i - start >= 3).then_some(())
    }
    fn number(&mut self) -> Option<i32> {
        let start = self.i;
        let mut n: i32 = 0;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            n = n.checked_mul(10)?.checked_add(i32::from(c - b'0'))?;
            self.i += 1;
        }
        (self.i > start).then_some(n)
    }
    /// `[+-]hh[:mm[:ss]]` as seconds (sign as written).
    fn offset(&mut self) -> Option<i32> {
        let sign = if self.eat(b'-') {
            -1
        } else {
            self.eat(b'+');
            1
        };
        let mut secs = self.number()? * 3600;
        if self.eat(b':') {
            secs += self.number()? * 60;
            if self.eat(b':') {
                secs += self.number()?;
            }
        }
        Some(sign * secs)
    }
    fn rule_day(&mut self) -> Option<RuleDay> {
        if self.eat(b'J') {
            let n = self.number()?;
            return (1..=365).contains(&n).then_some(RuleDay::Julian1(n as u16));
        }
        if self.eat(b'M') {
            let m = self.number()?;
            self.expect(b'.')?;
            let w = self.number()?;
            self.expect(b'.')?;
            let d = self.number()?;
            let ok = (1..=12).contains(&m) && (1..=5).contains(&w) && (0..=6).contains(&d);
            return ok.then_some(RuleDay::MonthWeekDay(m as u8, w as u8, d as u8));
        }
        let n = self.number()?;
        (0..=365).contains(&n).then_some(RuleDay::Julian0(n as u16))
    }
}

/// Why fail2ban's zone text could not be turned into an offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ZoneTextError {
    /// Not `[A-Z]{1|3..5}` + optional `[+-][01]\d(:?\d\d)?` (Python ValueError).
    Shape,
    /// Well formed, abbreviation not in the table (Python KeyError).
    Unknown,
}

/// fail2ban's `validateTimeZone` + `zone2offset`: minutes east of UTC.
pub(crate) fn zone_offset_minutes(text: &str) -> Result<i32, ZoneTextError> {
    let b = text.as_bytes();
    // ([A-Z](?:[A-Z]{2,4})?)?  — greedy, then backtracking to a shape that lets the rest match.
    let upper = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    let rest_ok = |i: usize| offset_part(&b[i..]).is_some();
    let mut abbr_len = None;
    for n in [upper.min(5), 4, 3, 1, 0] {
        if n > upper || n == 2 {
            continue;
        }
        if rest_ok(n) {
            abbr_len = Some(n);
            break;
        }
    }
    let n = abbr_len.ok_or(ZoneTextError::Shape)?;
    let abbr = &text[..n];
    let base = if abbr.is_empty() {
        0
    } else {
        abbreviation_minutes(abbr).ok_or(ZoneTextError::Unknown)?
    };
    let off = offset_part(&b[n..]).ok_or(ZoneTextError::Shape)?;
    Ok(base + off)
}

/// `([+-][01]\d(?::?\d{2})?)?$` → minutes (0 when absent).
fn offset_part(b: &[u8]) -> Option<i32> {
    if b.is_empty() {
        return Some(0);
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let d = |i: usize| {
        b.get(i)
            .filter(|c| c.is_ascii_digit())
            .map(|c| i32::from(c - b'0'))
    };
    if !matches!(b.get(1), Some(b'0' | b'1')) {
        return None;
    }
    let hh = d(1)? * 10 + d(2)?;
    match b.len() {
        3 => Some(sign * hh * 60),
        5 => Some(sign * (hh * 60 + d(3)? * 10 + d(4)?)),
        6 if b[3] == b':' => Some(sign * (hh * 60 + d(4)? * 10 + d(5)?)),
        _ => None,
    }
}

/// The abbreviation table lookup (case-sensitive, as fail2ban's dict).
pub(crate) fn abbreviation_minutes(abbr: &str) -> Option<i32> {
    TZ_ABBREVIATIONS
        .iter()
        .rev()
        .find(|(_, names)| names.split(' ').any(|n| n == abbr))
        .map(|(m, _)| *m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_text_shapes() {
        assert_eq!(zone_offset_minutes("UTC"), Ok(0));
        assert_eq!(zone_offset_minutes("CEST"), Ok(120));
        assert_eq!(zone_offset_minutes("NPT"), Ok(345));
        assert_eq!(zone_offset_minutes("+0200"), Ok(120));
        assert_eq!(zone_offset_minutes("-04:30"), Ok(-270));
        assert_eq!(zone_offset_minutes("UTC-05"), Ok(-300));
        assert_eq!(zone_offset_minutes("GMT+0200"), Ok(120));
        assert_eq!(zone_offset_minutes("A"), Ok(60));
        assert_eq!(zone_offset_minutes(""), Ok(0));
        assert_eq!(zone_offset_minutes("IST"), Err(ZoneTextError::Unknown));
        assert_eq!(zone_offset_minutes("utc"), Err(ZoneTextError::Shape));
        assert_eq!(zone_offset_minutes("AB"), Err(ZoneTextError::Shape));
        assert_eq!(zone_offset_minutes("+2000"), Err(ZoneTextError::Shape));
    }

    #[test]
    fn posix_rules_like_the_harness() {
        let tz = TimeZone::from_tz_value("CET-01CEST-02,M3.5.0,M10.5.0").unwrap();
        // 2005-08-14 10:00 UTC is CEST.
        assert_eq!(tz.offset_at(1_124_013_600), (7200, true));
        // 2005-01-14 is CET.
        assert_eq!(tz.offset_at(1_105_700_000), (3600, false));
    }
}
