//! format: the journal side of fail2ban's systemd backend that is not file layout —
//! `journalmatch` parsing and evaluation, the fields an entry is rendered from, the
//! `HOST IDENT[PID]: MESSAGE` line, its time and ISO date, and the cursor text.
//!
//! # Compatibility
//! As fail2ban 1.0.2 `FilterSystemd` with python-systemd: each `journalmatch` line is split
//! shell-style, `+` separates alternatives, all lines and alternatives are ORed; inside one
//! alternative, terms on different fields are ANDed and terms on the same field ORed (journald's
//! `sd_journal_add_match` semantics). The line is `formatJournalEntry`'s: `_HOSTNAME`, then
//! `SYSLOG_IDENTIFIER` (else `_COMM`) with `[SYSLOG_PID]` (else `[_PID]`, as an integer when it
//! parses as one, a value of 0 counting as absent like Python's falsy `0`) and `:`, a
//! `[%12.6f]` monotonic stamp after `kernel:`, then MESSAGE (several values joined by spaces);
//! `\n` becomes the two characters `\n`. The time is `_SOURCE_REALTIME_TIMESTAMP`, else the
//! entry's realtime; the date text is Python's `datetime.isoformat()` in local time plus a space.

use std::fmt;
use std::sync::Arc;

use crate::date::TimeZone;

/// Field slots every entry is looked at for, in this order; match fields follow.
pub(super) const HOSTNAME: u8 = 0;
pub(super) const SYSLOG_IDENTIFIER: u8 = 1;
pub(super) const COMM: u8 = 2;
pub(super) const SYSLOG_PID: u8 = 3;
pub(super) const PID: u8 = 4;
pub(super) const MESSAGE: u8 = 5;
pub(super) const SOURCE_REALTIME: u8 = 6;
pub(super) const SOURCE_MONOTONIC: u8 = 7;
const FORMAT_FIELDS: [&str; 8] = [
    "_HOSTNAME",
    "SYSLOG_IDENTIFIER",
    "_COMM",
    "SYSLOG_PID",
    "_PID",
    "MESSAGE",
    "_SOURCE_REALTIME_TIMESTAMP",
    "_SOURCE_MONOTONIC_TIMESTAMP",
];
/// Most distinct fields a match set may name.
const MAX_FIELDS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("journalmatch {line:?}: {reason}")]
    Match { line: String, reason: String },
    #[error("invalid journal cursor {0:?}")]
    Cursor(String),
}

/// One alternative: (field slot, accepted values) pairs, all of which must hold.
type Alternative = Vec<(u8, Vec<Vec<u8>>)>;

/// The compiled `journalmatch` of a jail plus the table of interesting fields.
#[derive(Debug, Clone)]
pub struct Matcher {
    names: Vec<String>,
    alternatives: Vec<Alternative>,
}

impl Matcher {
    /// Parses `journalmatch` lines; no lines = every entry matches.
    pub fn new(lines: &[String]) -> Result<Matcher, FormatError> {
        let mut m = Matcher {
            names: FORMAT_FIELDS.iter().map(|s| s.to_string()).collect(),
            alternatives: Vec::new(),
        };
        for line in lines {
            let bad = |reason: &str| FormatError::Match {
                line: line.clone(),
                reason: reason.to_string(),
            };
            let words = crate::fail2ban::python::shlex_split(line)
                .ok_or_else(|| bad("unbalanced quotes"))?;
            for alt in words.split(|w| w == "+") {
                if alt.is_empty() {
                    if words.is_empty() {
                        continue;
                    }
                    return Err(bad("empty alternative around '+'"));
                }
                let mut a: Alternative = Vec::new();
                for term in alt {
                    let (field, value) = term
                        .split_once('=')
                        .ok_or_else(|| bad(&format!("term {term:?} is not FIELD=value")))?;
                    if !valid_field(field) {
                        return Err(bad(&format!("invalid field name {field:?}")));
                    }
                    let slot = m.slot(field).ok_or_else(|| bad("too many fields"))?;
                    match a.iter_mut().find(|(s, _)| *s == slot) {
                        Some((_, vals)) => vals.push(value.as_bytes().to_vec()),
                        None => a.push((slot, vec![value.as_bytes().to_vec()])),
                    }
                }
                m.alternatives.push(a);
            }
        }
        Ok(m)
    }

    fn slot(&mut self, field: &str) -> Option<u8> {
        if let Some(i) = self.names.iter().position(|n| n == field) {
            return u8::try_from(i).ok();
        }
        if self.names.len() >= MAX_FIELDS {
            return None;
        }
        self.names.push(field.to_string());
        u8::try_from(self.names.len() - 1).ok()
    }

    /// The slot of a field name, if we look at that field.
    pub fn lookup(&self, field: &[u8]) -> Option<u8> {
        self.names
            .iter()
            .position(|n| n.as_bytes() == field)
            .and_then(|i| u8::try_from(i).ok())
    }

    /// Whether a match term names one of the per-entry fields that are not cached.
    pub fn needs_uncached(&self) -> bool {
        self.alternatives
            .iter()
            .flatten()
            .any(|(s, _)| !cacheable(*s))
    }

    /// Whether an entry with these field values matches.
    pub fn matches(&self, fields: &[(u8, Arc<[u8]>)]) -> bool {
        if self.alternatives.is_empty() {
            return true;
        }
        self.alternatives.iter().any(|alt| {
            alt.iter().all(|(slot, vals)| {
                fields
                    .iter()
                    .any(|(s, v)| s == slot && vals.iter().any(|w| w.as_slice() == &v[..]))
            })
        })
    }
}

/// Whether values of this slot are worth caching by data offset (shared between entries).
pub(super) fn cacheable(slot: u8) -> bool {
    !matches!(slot, MESSAGE | SOURCE_REALTIME | SOURCE_MONOTONIC)
}

/// journald's field name rule: `[A-Z0-9_]`, not starting with a digit, at most 64 bytes.
fn valid_field(f: &str) -> bool {
    !f.is_empty()
        && f.len() <= 64
        && !f.starts_with(|c: char| c.is_ascii_digit())
        && f.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// The first value of a slot.
fn first(fields: &[(u8, Arc<[u8]>)], slot: u8) -> Option<&[u8]> {
    fields.iter().find(|(s, _)| *s == slot).map(|(_, v)| &v[..])
}

/// Python's truthiness of a converted PID: absent, empty or integer 0 is false.
fn pid_text(v: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(v);
    if s.is_empty() {
        return None;
    }
    match parse_py_int(&s) {
        Some(0) => None,
        Some(n) => Some(n.to_string()),
        None => Some(s.into_owned()),
    }
}

/// `int(v)` then `int(v, 0)` in Python, for the forms a PID field takes.
fn parse_py_int(s: &str) -> Option<i128> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (radix, digits) = match body.get(..2).map(|p| p.to_ascii_lowercase()) {
        Some(p) if p == "0x" => (16, &body[2..]),
        Some(p) if p == "0o" => (8, &body[2..]),
        Some(p) if p == "0b" => (2, &body[2..]),
        _ => (10, body),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') {
        return None;
    }
    if digits.contains("__") {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if !clean.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = i128::from_str_radix(&clean, radix).ok()?;
    Some(if neg { -n } else { n })
}

fn decimal(v: Option<&[u8]>) -> Option<u64> {
    std::str::from_utf8(v?).ok()?.trim().parse().ok()
}

/// Renders an entry as fail2ban does; returns (text, time, realtime in µs used).
pub(super) fn render(fields: &[(u8, Arc<[u8]>)], realtime: u64, monotonic: u64) -> (String, u64) {
    let mut parts: Vec<String> = Vec::with_capacity(4);
    if let Some(h) = first(fields, HOSTNAME).filter(|h| !h.is_empty()) {
        parts.push(String::from_utf8_lossy(h).into_owned());
    }
    let ident = first(fields, SYSLOG_IDENTIFIER)
        .filter(|v| !v.is_empty())
        .or_else(|| first(fields, COMM).filter(|v| !v.is_empty()));
    if let Some(ident) = ident {
        let mut s = String::from_utf8_lossy(ident).into_owned();
        let pid = first(fields, SYSLOG_PID)
            .and_then(pid_text)
            .or_else(|| first(fields, PID).and_then(pid_text));
        if let Some(p) = pid {
            s.push('[');
            s.push_str(&p);
            s.push(']');
        }
        s.push(':');
        let kernel = s == "kernel:";
        parts.push(s);
        if kernel {
            let mono = decimal(first(fields, SOURCE_MONOTONIC)).unwrap_or(monotonic);
            parts.push(format!("[{:12.6}]", mono as f64 / 1e6));
        }
    }
    let mut msg = String::new();
    for (i, (_, v)) in fields.iter().filter(|(s, _)| *s == MESSAGE).enumerate() {
        if i > 0 {
            msg.push(' ');
        }
        msg.push_str(&String::from_utf8_lossy(v));
    }
    parts.push(msg);
    let text = parts.join(" ").replace('\n', "\\n");
    let when = decimal(first(fields, SOURCE_REALTIME)).unwrap_or(realtime);
    (text, when)
}

/// fail2ban's posix time of a realtime: `mktime(local) + µs/1e6`.
pub fn realtime_seconds(us: u64) -> f64 {
    (us / 1_000_000) as f64 + (us % 1_000_000) as f64 / 1e6
}

/// Python's `datetime.fromtimestamp(us / 1e6).isoformat()` in `zone`.
pub fn iso_date(us: u64, zone: &TimeZone) -> String {
    // clamped to year 9999 (Python's limit) so hostile timestamps stay in every zone's range
    let secs = i64::try_from(us / 1_000_000)
        .unwrap_or(MAX_SECS)
        .min(MAX_SECS);
    let micro = us % 1_000_000;
    let (offset, _) = zone.offset_at(secs);
    let local = secs.saturating_add(i64::from(offset));
    let (days, sod) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (y, m, d) = crate::date::civil::civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if micro != 0 {
        s.push_str(&format!(".{micro:06}"));
    }
    s
}

/// 9999-12-31T23:59:59Z.
const MAX_SECS: i64 = 253_402_300_799;

/// A position in the journal: the file's sequence-number id, the entry's seqnum and realtime.
/// Text form `s=<32 hex>;i=<hex>;t=<hex>`, the subset of journalctl's cursor we need (a full
/// journalctl cursor is accepted too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub seqnum_id: [u8; 16],
    pub seqnum: u64,
    pub realtime: u64,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("s=")?;
        for b in self.seqnum_id {
            write!(f, "{b:02x}")?;
        }
        write!(f, ";i={:x};t={:x}", self.seqnum, self.realtime)
    }
}

impl std::str::FromStr for Cursor {
    type Err = FormatError;
    fn from_str(s: &str) -> Result<Cursor, FormatError> {
        let bad = || FormatError::Cursor(s.to_string());
        let (mut id, mut seq, mut rt) = (None, None, None);
        for part in s.split(';') {
            let (k, v) = part.split_once('=').ok_or_else(bad)?;
            match k {
                "s" => {
                    if v.len() != 32 {
                        return Err(bad());
                    }
                    let mut a = [0u8; 16];
                    for (i, b) in a.iter_mut().enumerate() {
                        let pair = v.get(2 * i..2 * i + 2).ok_or_else(bad)?;
                        *b = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
                    }
                    id = Some(a);
                }
                "i" => seq = Some(u64::from_str_radix(v, 16).map_err(|_| bad())?),
                "t" => rt = Some(u64::from_str_radix(v, 16).map_err(|_| bad())?),
                _ => {}
            }
        }
        Ok(Cursor {
            seqnum_id: id.ok_or_else(bad)?,
            seqnum: seq.ok_or_else(bad)?,
            realtime: rt.ok_or_else(bad)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(u8, &str)]) -> Vec<(u8, Arc<[u8]>)> {
        pairs
            .iter()
            .map(|(s, v)| (*s, Arc::from(v.as_bytes())))
            .collect()
    }

    #[test]
    fn match_semantics() {
        let m = Matcher::new(&["_SYSTEMD_UNIT=sshd.service + _COMM=sshd".to_string()]).unwrap();
        let unit = m.lookup(b"_SYSTEMD_UNIT").unwrap();
        assert!(m.matches(&f(&[(unit, "sshd.service")])));
        assert!(m.matches(&f(&[(COMM, "sshd")])));
        assert!(!m.matches(&f(&[(COMM, "cron"), (unit, "cron.service")])));
        // AND of different fields, OR of the same field
        let m = Matcher::new(&["_COMM=a _COMM=b _PID=1".to_string()]).unwrap();
        assert!(m.matches(&f(&[(COMM, "b"), (PID, "1")])));
        assert!(!m.matches(&f(&[(COMM, "b"), (PID, "2")])));
        assert!(Matcher::new(&[]).unwrap().matches(&[]));
        for bad in ["foo", "_COMM=a + + _PID=1", "lower=x", "'open"] {
            assert!(Matcher::new(&[bad.to_string()]).is_err(), "{bad}");
        }
        let m = Matcher::new(&["'MESSAGE=a b'".to_string()]).unwrap();
        assert!(m.needs_uncached());
        assert!(m.matches(&f(&[(MESSAGE, "a b")])));
    }

    #[test]
    fn render_rules() {
        let t = |p: &[(u8, &str)]| render(&f(p), 5_000_000, 1_500_000).0;
        assert_eq!(
            t(&[
                (HOSTNAME, "h"),
                (COMM, "sshd"),
                (PID, "12"),
                (MESSAGE, "x\ny")
            ]),
            "h sshd[12]: x\\ny"
        );
        assert_eq!(
            t(&[
                (SYSLOG_IDENTIFIER, "id"),
                (COMM, "c"),
                (SYSLOG_PID, "0"),
                (PID, "7")
            ]),
            "id[7]: "
        );
        assert_eq!(t(&[(COMM, "c"), (PID, "0x1f"), (MESSAGE, "m")]), "c[31]: m");
        assert_eq!(t(&[(COMM, "c"), (PID, "abc")]), "c[abc]: ");
        assert_eq!(t(&[(MESSAGE, "a"), (MESSAGE, "b")]), "a b");
        assert_eq!(
            t(&[(SYSLOG_IDENTIFIER, "kernel"), (MESSAGE, "m")]),
            "kernel: [    1.500000] m"
        );
        assert_eq!(render(&f(&[(SOURCE_REALTIME, "42")]), 5, 0).1, 42);
    }

    #[test]
    fn iso_and_cursor() {
        let utc = TimeZone::utc();
        assert_eq!(
            iso_date(1_700_000_000_123_456, &utc),
            "2023-11-14T22:13:20.123456"
        );
        assert_eq!(iso_date(1_700_000_000_000_000, &utc), "2023-11-14T22:13:20");
        assert_eq!(iso_date(u64::MAX, &utc), "9999-12-31T23:59:59.551615");
        assert!(iso_date(u64::MAX, &TimeZone::local()).starts_with("99"));
        assert_eq!(
            realtime_seconds(1_700_000_000_123_456),
            1_700_000_000.123456
        );
        let c = Cursor {
            seqnum_id: [0xab; 16],
            seqnum: 10,
            realtime: 255,
        };
        assert_eq!(c.to_string().parse::<Cursor>().unwrap(), c);
        let jc = "s=e2e98562484c494eb040f0f4d83cdce5;i=1;b=0123456789abcdef0123456789abcdef;m=3e8;t=60a241820;x=1";
        assert_eq!(jc.parse::<Cursor>().unwrap().seqnum, 1);
        assert!("s=zz;i=1;t=2".parse::<Cursor>().is_err());
        assert!("garbage".parse::<Cursor>().is_err());
    }
}
