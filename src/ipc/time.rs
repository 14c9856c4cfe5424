//! Local wall-clock rendering for answers and client log lines (`2026-11-22 10:27:08`).
//!
//! The zone is `crate::date::TimeZone::local()` (glibc's choice: `TZ`, else `/etc/localtime`),
//! read once and cached; the daemon reads it at its first answer that needs it.
//!
//! # Compatibility
//! fail2ban formats with Python's `datetime.fromtimestamp(...).strftime('%Y-%m-%d %H:%M:%S')`
//! and logs with `logging`'s `%(asctime)s` (`,mmm` milliseconds), both local time: identical.

use std::sync::OnceLock;

use crate::date::TimeZone;

fn local_zone() -> &'static TimeZone {
    static ZONE: OnceLock<TimeZone> = OnceLock::new();
    ZONE.get_or_init(TimeZone::local)
}

/// `YYYY-MM-DD HH:MM:SS` of Unix time `t` in `zone`.
pub fn format_in(zone: &TimeZone, t: i64) -> String {
    crate::date::civil::ymd_hms(t.saturating_add(i64::from(zone.offset_at(t).0)))
}

/// `YYYY-MM-DD HH:MM:SS` of Unix time `t`, local time.
pub fn format_local(t: i64) -> String {
    format_in(local_zone(), t)
}

/// The current local time as Python's logging prints it: `2026-11-22 10:26:44,221`.
pub fn now_for_log() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    format!("{},{:03}", format_local(secs), now.subsec_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formatting() {
        let z = TimeZone::utc();
        assert_eq!(format_in(&z, 0), "1970-01-01 00:00:00");
        assert_eq!(format_in(&z, 1_795_343_228), "2026-11-22 10:27:08");
        assert_eq!(format_in(&z, 951_782_400), "2000-02-29 00:00:00");
        assert_eq!(format_in(&z, -1), "1969-12-31 23:59:59");
    }

    #[test]
    fn zone_offsets() {
        let z = TimeZone::from_tz_value("Europe/Berlin").expect("tzdata installed");
        assert_eq!(format_in(&z, 1_795_343_228), "2026-11-22 11:27:08");
        assert_eq!(format_in(&z, 1_783_000_000), "2026-07-02 15:46:40");
    }
}
