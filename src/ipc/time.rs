//! Local wall-clock rendering for answers and client log lines (`2026-11-22 10:27:08`).
//!
//! The offset from UTC comes from the zone file named by `TZ` (`Europe/Paris`,
//! `:Europe/Paris`, an absolute path) or else `/etc/localtime`, read once (TZif, version 1 or
//! 2+) and cached; the daemon reads it at its first answer. Without a readable zone file the
//! times are UTC.
//!
//! # Compatibility
//! fail2ban formats with Python's `datetime.fromtimestamp(...).strftime('%Y-%m-%d %H:%M:%S')`,
//! i.e. local time. Identical while the zone's transitions are listed in the file; after the
//! last listed transition the last offset is kept (the POSIX-TZ footer rule of "slim" zone
//! files is not evaluated).

use std::sync::OnceLock;

/// Transition times and the UTC offset that starts at each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Zone {
    transitions: Vec<(i64, i32)>,
    initial: i32,
}

impl Zone {
    /// The offset from UTC in seconds at Unix time `t`.
    pub fn offset_at(&self, t: i64) -> i32 {
        match self.transitions.partition_point(|(at, _)| *at <= t) {
            0 => self.initial,
            i => self.transitions[i - 1].1,
        }
    }

    /// Parses a TZif file.
    pub fn parse(data: &[u8]) -> Option<Zone> {
        let v1 = header(data)?;
        if data.get(4).copied().unwrap_or(0) >= b'2' {
            let rest = data.get(44 + v1.block_len(4)..)?;
            header(rest)?.read(rest.get(44..)?, 8)
        } else {
            v1.read(data.get(44..)?, 4)
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Counts {
    isut: usize,
    isstd: usize,
    leap: usize,
    time: usize,
    types: usize,
    chars: usize,
}

fn header(data: &[u8]) -> Option<Counts> {
    if data.get(..4)? != b"TZif" {
        return None;
    }
    let n = |i: usize| -> Option<usize> {
        let b = data.get(20 + 4 * i..24 + 4 * i)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    Some(Counts {
        isut: n(0)?,
        isstd: n(1)?,
        leap: n(2)?,
        time: n(3)?,
        types: n(4)?,
        chars: n(5)?,
    })
}

impl Counts {
    fn block_len(&self, tsize: usize) -> usize {
        self.time * tsize
            + self.time
            + self.types * 6
            + self.chars
            + self.leap * (tsize + 4)
            + self.isstd
            + self.isut
    }

    fn read(&self, d: &[u8], tsize: usize) -> Option<Zone> {
        if self.types == 0 || d.len() < self.block_len(tsize) {
            return None;
        }
        let idx_at = self.time * tsize;
        let types_at = idx_at + self.time;
        let utoff = |ty: usize| -> Option<i32> {
            let b = d.get(types_at + ty * 6..types_at + ty * 6 + 4)?;
            Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let mut transitions = Vec::with_capacity(self.time);
        for i in 0..self.time {
            let b = &d[i * tsize..(i + 1) * tsize];
            let at = if tsize == 8 {
                i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
            } else {
                i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            };
            let ty = usize::from(d[idx_at + i]);
            if ty >= self.types {
                return None;
            }
            transitions.push((at, utoff(ty)?));
        }
        Some(Zone {
            transitions,
            initial: utoff(0)?,
        })
    }
}

fn local_zone() -> &'static Zone {
    static ZONE: OnceLock<Zone> = OnceLock::new();
    ZONE.get_or_init(|| {
        let path = match std::env::var("TZ") {
            Ok(tz) if tz.is_empty() || tz == "UTC" || tz == ":UTC" => return Zone::default(),
            Ok(tz) => {
                let name = tz.trim_start_matches(':');
                if name.starts_with('/') {
                    name.to_string()
                } else {
                    format!("/usr/share/zoneinfo/{name}")
                }
            }
            Err(_) => "/etc/localtime".to_string(),
        };
        std::fs::read(path)
            .ok()
            .and_then(|d| Zone::parse(&d))
            .unwrap_or_default()
    })
}

/// Civil date from days since 1970-01-01 (proleptic Gregorian).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD HH:MM:SS` of Unix time `t` in `zone`.
pub fn format_in(zone: &Zone, t: i64) -> String {
    let local = t.saturating_add(i64::from(zone.offset_at(t)));
    let (y, m, d) = civil(local.div_euclid(86_400));
    let s = local.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
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
        let z = Zone::default();
        assert_eq!(format_in(&z, 0), "1970-01-01 00:00:00");
        // 2026-11-22 10:27:08 UTC
        assert_eq!(format_in(&z, 1_795_343_228), "2026-11-22 10:27:08");
        assert_eq!(format_in(&z, 951_782_400), "2000-02-29 00:00:00");
        assert_eq!(format_in(&z, -1), "1969-12-31 23:59:59");
    }

    #[test]
    fn zone_file_offsets() {
        // A real zone from the system's tzdata (Berlin: +1 in winter, +2 in summer).
        let data = std::fs::read("/usr/share/zoneinfo/Europe/Berlin").expect("tzdata installed");
        let z = Zone::parse(&data).expect("valid TZif");
        assert_eq!(z.offset_at(1_795_343_228), 3600); // November
        assert_eq!(z.offset_at(1_783_000_000), 7200); // July 2026
        assert_eq!(format_in(&z, 1_795_343_228), "2026-11-22 11:27:08");
    }
}
