//! One running jail: its compiled filter, its failure counting and bans, its log watcher, and
//! the firewall rules it needs. Built from a resolved `config::Jail`; the mapping of the native
//! options onto each stage's own settings lives here and nowhere else.

use std::path::PathBuf;

use crate::config::{self, Family};
use crate::date::DateDetector;
use crate::filter::{self, Filter, FilterSettings};
use crate::firewall::JailRules;
use crate::jail::{self, Increment, Jail, JailSettings, SystemResolver};
use crate::watch::journal::{JournalStart, JournalWatcher};
use crate::watch::{self, Encoding, FilePosition, LogWatcher, ReadFrom, StartSeek, WatchOptions};

/// Why a jail could not be built.
#[derive(Debug, thiserror::Error)]
pub enum JailBuildError {
    #[error("jail {jail}: filter {filter}")]
    Filter {
        jail: String,
        filter: String,
        #[source]
        source: filter::FilterError,
    },
    #[error("jail {jail}")]
    Settings {
        jail: String,
        #[source]
        source: jail::JailError,
    },
    #[error("jail {jail}: log files")]
    Watch {
        jail: String,
        #[source]
        source: watch::WatchError,
    },
    #[error("jail {jail}: backend {backend:?}: {message}")]
    Backend {
        jail: String,
        backend: String,
        message: String,
    },
    #[error("jail {jail}: journal")]
    Journal {
        jail: String,
        #[source]
        source: crate::watch::journal::JournalError,
    },
}

/// Where a jail's lines come from.
pub enum Source {
    /// Log files (`backend = auto | polling | pyinotify`).
    Files(LogWatcher),
    /// The systemd journal (`backend = systemd`); lines arrive with their date.
    Journal {
        watcher: JournalWatcher,
        zone: crate::date::TimeZone,
    },
}

/// A jail as the daemon runs it.
pub struct RunningJail {
    pub config: config::Jail,
    pub filter: Filter,
    pub jail: Jail,
    pub source: Source,
    /// fail2ban's `idle`: lines are read (positions advance) but not matched.
    pub idle: bool,
}

impl RunningJail {
    /// The descriptor that becomes readable when there is something new (inotify), if any.
    pub fn as_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        match &self.source {
            Source::Files(w) => w.as_fd(),
            Source::Journal { watcher, .. } => watcher.as_fd(),
        }
    }

    /// True when the last poll stopped at its budget: poll again without waiting.
    pub fn has_pending(&self) -> bool {
        match &self.source {
            Source::Files(w) => w.has_pending(),
            Source::Journal { watcher, .. } => watcher.has_pending(),
        }
    }

    /// How long the loop may wait before polling the source again.
    pub fn poll_interval(&self) -> std::time::Duration {
        match &self.source {
            Source::Files(w) => w.poll_interval(),
            Source::Journal { .. } => crate::watch::journal::POLL_INTERVAL,
        }
    }
}

impl std::fmt::Debug for RunningJail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningJail")
            .field("name", &self.config.name)
            .finish_non_exhaustive()
    }
}

/// The filter engine's settings for a jail running in the daemon (server semantics).
pub fn filter_settings(c: &config::Jail) -> FilterSettings {
    FilterSettings {
        usedns: c.usedns,
        logtimezone: c.logtimezone.clone(),
        ..FilterSettings::default()
    }
}

/// Compiles a jail's filter with its options. As fail2ban's `applyAutoOptions`, a journal jail
/// gets `logtype=journal` unless it names a logtype itself.
pub fn compile_filter(c: &config::Jail) -> Result<Filter, JailBuildError> {
    let mut options = c.filter_options.clone();
    if c.backend.trim_start().starts_with("systemd") {
        options
            .entry("logtype".into())
            .or_insert_with(|| "journal".into());
    }
    Filter::new(&c.filter, &options, &filter_settings(c)).map_err(|source| JailBuildError::Filter {
        jail: c.name.clone(),
        filter: c.filter_name.clone(),
        source,
    })
}

/// The jail runtime's settings from the native options.
pub fn jail_settings(c: &config::Jail, max_tracked: usize) -> Result<JailSettings, JailBuildError> {
    let err = |source| JailBuildError::Settings {
        jail: c.name.clone(),
        source,
    };
    let increment = if c.increment.enabled {
        let multipliers = (!c.increment.multipliers.is_empty()).then(|| {
            c.increment
                .multipliers
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        });
        let mut inc = Increment::from_options(
            c.increment.formula.as_deref(),
            Some(&c.increment.factor),
            multipliers.as_deref(),
        )
        .map_err(err)?;
        inc.maxtime = c.increment.maxtime.map(|t| t.seconds() as f64);
        inc.rndtime = c.increment.rndtime.map(|t| t.seconds() as f64);
        inc.overalljails = c.increment.overalljails;
        Some(inc)
    } else {
        None
    };
    Ok(JailSettings {
        maxretry: c.maxretry,
        findtime: c.findtime.seconds() as f64,
        bantime: c.bantime.seconds() as f64,
        maxmatches: c.maxmatches as usize,
        increment,
        ignoreip: c.ignoreip.clone(),
        ignoreself: c.ignoreself,
        max_tracked,
        ..JailSettings::default()
    })
}

/// The firewall scaffold a jail needs.
pub fn rules(c: &config::Jail) -> JailRules {
    JailRules {
        jail: c.name.clone(),
        ports: c.ports.clone(),
        protocols: if c.ports.is_empty() {
            Vec::new()
        } else {
            c.protocols.clone()
        },
        blocktype: c.blocktype,
    }
}

/// Whether the jail bans addresses of this family.
pub fn bans_family(c: &config::Jail, ip: std::net::IpAddr) -> bool {
    match c.family {
        Family::Any => true,
        Family::Ipv4 => ip.is_ipv4(),
        Family::Ipv6 => ip.is_ipv6(),
    }
}

/// Splits a logpath entry into the glob and fail2ban's `head`/`tail` suffix.
fn split_logpath(entry: &str) -> (String, ReadFrom) {
    let e = entry.trim();
    if let Some((path, mode)) = e.rsplit_once(char::is_whitespace) {
        match mode.to_ascii_lowercase().as_str() {
            "tail" => return (path.trim().to_string(), ReadFrom::Tail),
            "head" => return (path.trim().to_string(), ReadFrom::Head),
            _ => {}
        }
    }
    (e.to_string(), ReadFrom::Head)
}

/// Builds a running jail. `positions` are this jail's saved read positions; without one, a
/// file is read from `now - findtime` on (fail2ban's start rule).
pub fn build(
    c: &config::Jail,
    max_tracked: usize,
    positions: Vec<FilePosition>,
    cursor: Option<String>,
    now: f64,
) -> Result<RunningJail, JailBuildError> {
    let backend = c.backend.split('[').next().unwrap_or("").trim();
    let filter = compile_filter(c)?;
    let jail =
        Jail::new(&c.name, jail_settings(c, max_tracked)?, &SystemResolver).map_err(|source| {
            JailBuildError::Settings {
                jail: c.name.clone(),
                source,
            }
        })?;
    let source = if backend == "systemd" {
        journal_source(c, cursor, now)?
    } else {
        Source::Files(file_source(c, backend, positions, now)?)
    };
    Ok(RunningJail {
        config: c.clone(),
        filter,
        jail,
        source,
        idle: false,
    })
}

/// Reopens a file jail's logs after its settings changed (`logencoding`), keeping positions.
pub fn reopen_files(rj: &mut RunningJail, now: f64) -> Result<(), JailBuildError> {
    if let Source::Files(_) = rj.source {
        let positions = positions_for(&rj.config.name, &position_records(rj));
        let backend = rj
            .config
            .backend
            .split('[')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        rj.source = Source::Files(file_source(&rj.config, &backend, positions, now)?);
    }
    Ok(())
}

/// The log files of a file-backed jail.
fn file_source(
    c: &config::Jail,
    backend: &str,
    positions: Vec<FilePosition>,
    now: f64,
) -> Result<LogWatcher, JailBuildError> {
    let watch_err = |source| JailBuildError::Watch {
        jail: c.name.clone(),
        source,
    };
    let globs: Vec<(String, ReadFrom)> = c.logpath.iter().map(|e| split_logpath(e)).collect();
    let opts = WatchOptions {
        encoding: Encoding::parse(&c.logencoding).map_err(watch_err)?,
        inotify: backend != "polling",
        ..WatchOptions::default()
    };
    let mut watcher = LogWatcher::with_modes(&globs, positions, opts).map_err(watch_err)?;
    if let Ok(mut dates) =
        DateDetector::new(c.filter.datepattern.as_deref(), c.logtimezone.as_deref())
    {
        watcher.set_start_seek(StartSeek {
            not_before: now - c.findtime.seconds() as f64,
            time_of: Box::new(move |line| dates.detect(line, now).and_then(|h| h.time.ok())),
        });
    }
    Ok(watcher)
}

/// The journal of a `backend = systemd[journalpath=..., journalfiles=...]` jail: from its saved
/// cursor (but not older than findtime), else from `now - findtime`, as fail2ban starts.
fn journal_source(
    c: &config::Jail,
    cursor: Option<String>,
    now: f64,
) -> Result<Source, JailBuildError> {
    let (_, opts) =
        config::parse_filter_spec(&c.backend).map_err(|message| JailBuildError::Backend {
            jail: c.name.clone(),
            backend: c.backend.clone(),
            message,
        })?;
    let mut paths = Vec::new();
    for key in ["journalpath", "journalfiles"] {
        if let Some(v) = opts.get(key) {
            paths.extend(v.split_whitespace().map(PathBuf::from));
        }
    }
    let since = now - c.findtime.seconds() as f64;
    let start = match cursor {
        Some(cur) => JournalStart::CursorSince(cur, since),
        None => JournalStart::Since(since),
    };
    let watcher = crate::watch::journal::watcher_for_jail(&paths, &c.filter.journalmatch, start)
        .map_err(|source| JailBuildError::Journal {
            jail: c.name.clone(),
            source,
        })?;
    Ok(Source::Journal {
        watcher,
        zone: match &c.logtimezone {
            Some(z) => {
                crate::date::TimeZone::parse(z).unwrap_or_else(|_| crate::date::TimeZone::local())
            }
            None => crate::date::TimeZone::local(),
        },
    })
}

/// The saved positions of one jail's files.
pub fn positions_for(jail: &str, all: &[crate::persist::PositionRecord]) -> Vec<FilePosition> {
    all.iter()
        .filter(|p| p.jail == jail)
        .map(|p| FilePosition {
            path: p.path.clone(),
            inode: p.inode,
            dev: p.dev,
            offset: p.offset,
            hash: p.hash.clone(),
        })
        .collect()
}

/// The positions to save for one jail.
pub fn position_records(rj: &RunningJail) -> Vec<crate::persist::PositionRecord> {
    let Source::Files(w) = &rj.source else {
        return Vec::new();
    };
    w.positions()
        .into_iter()
        .map(|p| crate::persist::PositionRecord {
            jail: rj.config.name.clone(),
            path: p.path,
            inode: p.inode,
            dev: p.dev,
            offset: p.offset,
            hash: p.hash,
        })
        .collect()
}

/// The monitored files of a jail, as `status` lists them.
pub fn files(rj: &RunningJail) -> Vec<PathBuf> {
    match &rj.source {
        Source::Files(w) => w.files(),
        Source::Journal { watcher, .. } => watcher.files(),
    }
}

/// The journal cursor to save for a `backend = systemd` jail.
pub fn cursor_record(rj: &RunningJail) -> Option<crate::persist::CursorRecord> {
    let Source::Journal { watcher, .. } = &rj.source else {
        return None;
    };
    watcher.cursor().map(|cursor| crate::persist::CursorRecord {
        jail: rj.config.name.clone(),
        cursor,
    })
}
