//! The daemon's log lines, in fail2ban's format, through tracing to stderr.
//!
//! # Compatibility
//! fail2ban's default file/STDERR format (fail2ban-runtime.md §7.2):
//! `YYYY-mm-dd HH:MM:SS,mmm fail2ban.<module><pad to 24>[pid]: LEVEL<pad to 7> message`.
//! Events whose target starts with `fail2ban.` keep it as the logger name; others are shown as
//! `fail2zig.<module>`. fail2ban's NOTICE level, which tracing lacks, is an INFO event carrying
//! the field `notice = true`: `[sshd] Ban 1.2.3.4` lines are NOTICE, as recidive expects. The
//! time is local time when the zone is known, else UTC.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Sets up tracing to stderr with fail2ban's line format at `level` (fail2ban level names).
pub fn init_logging(level: &str) {
    let directive = crate::config::log_filter(level).unwrap_or("info");
    let filter = tracing_subscriber::EnvFilter::try_from_env("FAIL2ZIG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(directive));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .event_format(Fail2banFormat)
        .try_init();
}

/// fail2ban's line format.
pub struct Fail2banFormat;

#[derive(Default)]
struct Fields {
    message: String,
    notice: bool,
    rest: String,
}

impl Visit for Fields {
    fn record_bool(&mut self, field: &Field, value: bool) {
        if field.name() == "notice" {
            self.notice = value;
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.rest.push_str(&format!(" {}={value}", field.name()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.rest.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

impl<S, N> FormatEvent<S, N> for Fail2banFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut f = Fields::default();
        event.record(&mut f);
        let meta = event.metadata();
        let level = match *meta.level() {
            Level::ERROR => "ERROR",
            Level::WARN => "WARNING",
            Level::INFO if f.notice => "NOTICE",
            Level::INFO => "INFO",
            Level::DEBUG => "DEBUG",
            Level::TRACE => "HEAVYDEBUG",
        };
        let target = meta.target();
        let name = if target.starts_with("fail2ban.") {
            target.to_string()
        } else {
            let module = target.rsplit("::").next().unwrap_or(target);
            format!("fail2zig.{module}")
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        writeln!(
            w,
            "{} {name:<24}[{}]: {level:<7} {}{}",
            asctime(now.as_secs() as i64, now.subsec_millis()),
            std::process::id(),
            f.message,
            f.rest
        )
    }
}

/// `YYYY-mm-dd HH:MM:SS,mmm` in local time (offset from the date module's zone rules).
fn asctime(epoch: i64, millis: u32) -> String {
    static LOCAL: std::sync::OnceLock<crate::date::TimeZone> = std::sync::OnceLock::new();
    let zone = LOCAL.get_or_init(crate::date::TimeZone::local);
    format_utc(epoch + i64::from(zone.offset_at(epoch).0), millis)
}

/// `YYYY-mm-dd HH:MM:SS,mmm` of an epoch taken as UTC.
pub fn format_utc(epoch: i64, millis: u32) -> String {
    format!("{},{millis:03}", crate::date::civil::ymd_hms(epoch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_format() {
        assert_eq!(format_utc(0, 5), "1970-01-01 00:00:00,005");
        assert_eq!(format_utc(1_795_343_229, 283), "2026-11-22 10:27:09,283");
        assert_eq!(format_utc(951_782_400, 0), "2000-02-29 00:00:00,000");
    }
}
