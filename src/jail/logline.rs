//! fail2ban's own log lines: the text of `Found`/`Ban`/`Unban`/... messages and the line
//! layout around them, so that recidive jails and users' tooling keep working.
//!
//! Only formats; the daemon decides the target (file, syslog, journal) and the level filter and
//! writes the lines. Jail events become records through `JailEvent::log_record`.
//!
//! # Compatibility
//! Byte-identical to fail2ban 1.0.2's default file format
//! `%(asctime)s %(name)-24s[%(process)d]: %(levelname)-7s %(message)s` with `asctime` as local
//! `YYYY-mm-dd HH:MM:SS,mmm`, and to its syslog form `name[pid]: LEVEL message`. Times inside
//! messages use `time2str` (`YYYY-mm-dd HH:MM:SS`, local time, fraction dropped) and durations
//! `seconds2str` (`1d 1h 15m`, with fail2ban's rounding). Local time comes from a [`LocalTime`]
//! the daemon supplies, normally `crate::date::TimeZone::local()`.

use std::fmt::Write;

/// fail2ban's log levels (names as printed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Msg,
    Info,
    Notice,
    Warning,
    Error,
    Critical,
}

impl Level {
    /// The level name as fail2ban prints it.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Msg => "MSG",
            Level::Info => "INFO",
            Level::Notice => "NOTICE",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        }
    }

    /// Python logging's numeric level (NOTICE = 25, MSG = 17 as fail2ban defines them).
    pub fn number(self) -> u8 {
        match self {
            Level::Debug => 10,
            Level::Msg => 17,
            Level::Info => 20,
            Level::Notice => 25,
            Level::Warning => 30,
            Level::Error => 40,
            Level::Critical => 50,
        }
    }
}

/// One message: logger name (`fail2ban.actions`), level and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub logger: &'static str,
    pub level: Level,
    pub message: String,
}

/// Local time offset from UTC at a given instant (seconds east of UTC).
pub trait LocalTime {
    fn utc_offset(&self, epoch: i64) -> i32;
}

/// A fixed offset (UTC is `FixedOffset(0)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FixedOffset(pub i32);

impl LocalTime for FixedOffset {
    fn utc_offset(&self, _epoch: i64) -> i32 {
        self.0
    }
}

/// The system's local zone (`TimeZone::local()`, from `TZ` or /etc/localtime) or any other.
impl LocalTime for crate::date::TimeZone {
    fn utc_offset(&self, epoch: i64) -> i32 {
        self.offset_at(epoch).0
    }
}

/// A line for a file/STDOUT/STDERR target:
/// `2026-11-22 10:27:09,283 fail2ban.actions        [8564]: NOTICE  [sshd] Ban 192.0.2.10`.
pub fn file_line(rec: &LogRecord, epoch: f64, pid: u32, tz: &dyn LocalTime) -> String {
    let secs = epoch.floor();
    let millis = (((epoch - secs) * 1000.0) as u32).min(999);
    let mut s = time2str(secs, tz);
    let _ = write!(
        s,
        ",{millis:03} {:<24}[{pid}]: {:<7} {}",
        rec.logger,
        rec.level.name(),
        rec.message
    );
    s
}

/// A line for the SYSLOG target (no time, no padding): `fail2ban.actions[8564]: NOTICE [sshd] Ban 192.0.2.10`.
pub fn syslog_line(rec: &LogRecord, pid: u32) -> String {
    format!(
        "{}[{pid}]: {} {}",
        rec.logger,
        rec.level.name(),
        rec.message
    )
}

/// fail2ban.filter's lines about followed files: `Added logfile: '<path>' (pos = <n>, hash =
/// <sha1>)` and `Removed logfile: '<path>'` (INFO), `Log rotation detected for <path>` (MSG).
pub fn watch_record(change: &crate::watch::FileChange) -> LogRecord {
    use crate::watch::FileChange;
    let (level, message) = match change {
        FileChange::Added(p) => (
            Level::Info,
            format!(
                "Added logfile: {} (pos = {}, hash = {})",
                py_repr(&p.path.to_string_lossy()),
                p.offset,
                p.hash
            ),
        ),
        FileChange::Removed(path) => (
            Level::Info,
            format!("Removed logfile: {}", py_repr(&path.to_string_lossy())),
        ),
        FileChange::Rotated(path) => (
            Level::Msg,
            format!("Log rotation detected for {}", path.display()),
        ),
    };
    LogRecord {
        logger: "fail2ban.filter",
        level,
        message,
    }
}

pub use crate::fail2ban::python::{float_repr as py_float, str_repr as py_repr};

/// fail2ban's `MyTime.time2str`: local `YYYY-mm-dd HH:MM:SS`, fraction dropped; times past
/// year 9999 print as `9999-12-31 23:59:59`.
pub fn time2str(epoch: f64, tz: &dyn LocalTime) -> String {
    if epoch >= 253_402_214_400.0 || epoch.is_nan() {
        return "9999-12-31 23:59:59".into();
    }
    let t = epoch.floor() as i64;
    crate::date::civil::ymd_hms(t + i64::from(tz.utc_offset(t)))
}

/// fail2ban's `MyTime.seconds2str`: at most three groups, rounded by the largest unit.
pub fn seconds2str(sec: f64) -> String {
    let round = |div: f64| (sec / div).round_ties_even() as i64;
    let mut parts: Vec<String> = Vec::new();
    if sec >= 31_536_000.0 {
        let mut s = round(86_400.0);
        parts.push(format!("{}y", s / 365));
        s %= 365;
        if s >= 7 {
            parts.push(format!("{}w", s / 7));
            s %= 7;
        }
        if s != 0 {
            parts.push(format!("{s}d"));
        }
    } else if sec >= 604_800.0 {
        let mut s = round(3600.0);
        parts.push(format!("{}w", s / 168));
        s %= 168;
        if s >= 24 {
            parts.push(format!("{}d", s / 24));
            s %= 24;
        }
        if s != 0 {
            parts.push(format!("{s}h"));
        }
    } else if sec >= 86_400.0 {
        let mut s = round(60.0);
        parts.push(format!("{}d", s / 1440));
        s %= 1440;
        if s >= 60 {
            parts.push(format!("{}h", s / 60));
            s %= 60;
        }
        if s != 0 {
            parts.push(format!("{s}m"));
        }
    } else if sec >= 3595.0 {
        let mut s = round(10.0);
        parts.push(format!("{}h", s / 360));
        s %= 360;
        if s >= 6 {
            parts.push(format!("{}m", s / 6));
        }
    } else {
        return small_seconds2str(sec);
    }
    parts.join(" ")
}

/// The under-an-hour branch, where Python keeps the value's type (int or float).
fn small_seconds2str(sec: f64) -> String {
    let mut parts = Vec::new();
    let mut s = sec;
    if s >= 60.0 {
        parts.push(format!("{}m", py_num((s / 60.0).floor(), sec)));
        s = s.rem_euclid(60.0);
    }
    if s != 0.0 {
        parts.push(format!("{}s", py_num(s, sec)));
    } else if sec == 0.0 {
        parts.push("0".into());
    }
    parts.join(" ")
}

/// Prints `v` as Python would: an int if the original value was integral, else a float repr.
fn py_num(v: f64, original: f64) -> String {
    if original.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        py_float(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds2str_table() {
        // captures/121_str2seconds_table.txt
        for (s, want) in [
            (0.0, "0"),
            (59.0, "59s"),
            (3590.0, "59m 50s"),
            (3600.0, "1h"),
            (90900.0, "1d 1h 15m"),
            (176_399.0, "2d 1h"),
            (691_200.0, "1w 1d"),
            (33_696_000.0, "1y 3w 4d"),
            (604_800.0, "1w"),
            (15.0, "15s"),
            (30.0, "30s"),
            (3595.0, "1h"),
        ] {
            assert_eq!(seconds2str(s), want, "{s}");
        }
    }

    #[test]
    fn line_layout() {
        let rec = LogRecord {
            logger: "fail2ban.actions",
            level: Level::Notice,
            message: "[sshd] Ban 192.0.2.10".into(),
        };
        // 2026-11-22 10:27:09.283 UTC
        let t = 1_795_343_229.283_5;
        assert_eq!(
            file_line(&rec, t, 8564, &FixedOffset(0)),
            "2026-11-22 10:27:09,283 fail2ban.actions        [8564]: NOTICE  [sshd] Ban 192.0.2.10"
        );
        assert_eq!(
            syslog_line(&rec, 8564),
            "fail2ban.actions[8564]: NOTICE [sshd] Ban 192.0.2.10"
        );
        assert_eq!(
            time2str(1_795_343_229.9, &FixedOffset(3600)),
            "2026-11-22 11:27:09"
        );
        assert_eq!(
            time2str(f64::INFINITY, &FixedOffset(0)),
            "9999-12-31 23:59:59"
        );
    }
}
