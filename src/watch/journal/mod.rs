//! journal: the `backend = systemd` log source — reads systemd journal files directly (no
//! libsystemd, no journalctl, no exec), selects entries with the jail's `journalmatch`, and
//! hands the daemon fail2ban-formatted lines with their realtime timestamp and a cursor.
//!
//! Owns following the journal directories (`/var/log/journal/<machine-id>/`,
//! `/run/log/journal/<machine-id>/`, or given files), new and rotated files, the start position
//! (cursor, `since` look-back, head, tail) and the cursor of what was read. It does not match
//! failregexes (`filter`) or count failures (`jail`); it never blocks: the daemon waits on
//! [`JournalWatcher::as_fd`] (inotify on the journal directories; journald's writes raise
//! `IN_MODIFY` because it `ftruncate`s after each write) or, without it, every
//! [`POLL_INTERVAL`], then calls [`JournalWatcher::poll`] — again at once while
//! [`JournalWatcher::has_pending`] says the per-poll budget ran out.
//!
//! How the daemon feeds a line to a jail's filter (the date is known, no date detection):
//! `filter.process_dated(line.tuple(&zone), line.time, now)` (or
//! [`JournalLine::tuple_local`]); [`JournalWatcher::cursor`] goes to the state file and back
//! into [`JournalStart::Cursor`]. For a first start use
//! [`JournalStart::Since`]`(now - findtime)`; with a stored cursor
//! [`JournalStart::CursorSince`]`(cursor, now - findtime)` (fail2ban: `max(stored time,
//! now - findtime)`). [`watcher_for_jail`] builds one from a jail's paths and `journalmatch`;
//! `fail2zig regex systemd-journal[...]` uses [`read_all`].
//!
//! # Compatibility
//! Lines, times and matching as fail2ban 1.0.2's `FilterSystemd` (see `format`). Without
//! explicit paths it reads the system journal directories like `SD_JOURNAL_SYSTEM`, skipping
//! `user-*.journal` unless asked. Entries of several files are delivered in realtime order
//! within one poll (journalctl interleaves the same way for files of different sequence ids).
//! Lines read before the end that existed at start are flagged not `in_operation` (fail2ban
//! switches to "in operation" at the entry that was last at start). Differences: corrupt or
//! truncated files are read up to the damage instead of making the jail fail; entries whose
//! DATA objects are damaged are skipped and counted ([`JournalWatcher::errors`]).

mod decompress;
mod file;
mod format;

use std::collections::{HashMap, HashSet};
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::date::TimeZone;
use crate::filter::engine::TupleLine;

use super::notify::Notifier;
pub use decompress::DecompressError;
use file::{ArrayPos, Entry, JournalFile, STATE_ONLINE};
pub use file::{FileError, MAX_OBJECT};
pub use format::{Cursor, FormatError, Matcher, iso_date, realtime_seconds};

/// The system journal directories (persistent, then volatile).
pub const SYSTEM_DIRS: [&str; 2] = ["/var/log/journal", "/run/log/journal"];
/// How often to poll when inotify is not available.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Entries examined per [`JournalWatcher::poll`] over all files.
pub const DEFAULT_BUDGET: usize = 100_000;
/// Cached DATA objects per file (by offset) before the cache is emptied.
const MAX_CACHED: usize = 65_536;
/// Cached value bytes per file before the cache is emptied.
const MAX_CACHED_BYTES: usize = 1024 * 1024;
/// Cached values longer than this are not kept.
const MAX_CACHED_VALUE: usize = 512;
/// Polls a damaged entry of an online file is retried before it is skipped (torn tail).
const TORN_RETRIES: u32 = 3;
/// Damaged entries per file logged at WARN; later ones at DEBUG (all are counted).
const WARN_PER_FILE: u64 = 10;
/// Most journal files followed at once.
const MAX_FILES: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("bad journal match")]
    Match(#[source] FormatError),
    #[error("bad journal cursor")]
    Cursor(#[source] FormatError),
    #[error("cannot open journal file")]
    File(#[source] FileError),
    #[error("cannot read journal directory {}", path.display())]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no journal file found in {0}")]
    NoFiles(String),
    #[error("cannot watch the journal directories")]
    Watch(#[source] super::WatchError),
}

/// Where reading starts in the files present at construction (files appearing later are read
/// from their beginning).
#[derive(Debug, Clone, PartialEq)]
pub enum JournalStart {
    /// Every entry.
    Head,
    /// Only entries written after construction.
    Tail,
    /// Entries with a realtime at or after this epoch time (seconds).
    Since(f64),
    /// Entries after this cursor (from [`JournalWatcher::cursor`]).
    Cursor(String),
    /// Entries after the cursor and not older than the time.
    CursorSince(String, f64),
}

/// One selected journal entry, rendered as fail2ban's journal backend renders it.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalLine {
    /// `HOST IDENT[PID]: MESSAGE`, `\n` escaped.
    pub text: String,
    /// Failure time: realtime in epoch seconds.
    pub time: f64,
    /// The same time in microseconds.
    pub realtime_us: u64,
    /// Position of this entry (text form of [`Cursor`]).
    pub cursor: String,
    /// False for entries that were already in the journal when the watcher started.
    pub in_operation: bool,
}

impl JournalLine {
    /// fail2ban's line tuple: `("", isodate + " ", text)`, date in `zone`.
    pub fn tuple(&self, zone: &TimeZone) -> TupleLine {
        let mut date = iso_date(self.realtime_us, zone);
        date.push(' ');
        TupleLine::new("", &date, &self.text)
    }
    /// [`JournalLine::tuple`] in the process-local zone (reads the zone each call: the daemon
    /// should keep one [`TimeZone`] and use [`JournalLine::tuple`]).
    pub fn tuple_local(&self) -> TupleLine {
        self.tuple(&TimeZone::local())
    }
}

type FieldList = Vec<(u8, Arc<[u8]>)>;
/// A cached DATA object: (field slot, value), or None for a field we ignore.
type CachedData = Option<(u8, Arc<[u8]>)>;

#[derive(Debug)]
struct Tracked {
    file: JournalFile,
    pos: ArrayPos,
    /// DATA offset -> (slot, value) or None for fields we ignore.
    cache: HashMap<u64, CachedData>,
    /// Value bytes held by `cache`.
    cache_bytes: usize,
    /// Present at construction: the start position applies.
    initial: bool,
    /// Entries in the file at construction (for `in_operation`).
    at_start: u64,
    retries: u32,
    /// Damaged entries skipped in this file (only the first few are logged as warnings).
    skipped: u64,
    broken: bool,
}

/// Follows journal files and yields matching entries.
#[derive(Debug)]
pub struct JournalWatcher {
    sources: Vec<PathBuf>,
    include_user: bool,
    files: Vec<Tracked>,
    finished: HashSet<(u64, u64)>,
    matcher: Matcher,
    after: Option<Cursor>,
    since_us: Option<u64>,
    last: Option<Cursor>,
    notifier: Option<Notifier>,
    pending: bool,
    errors: u64,
    examined: u64,
    budget: usize,
}

/// Builds the watcher of a `backend = systemd` jail: `paths` are the jail's `journalpath`/
/// `journalfiles` (directories or files; empty = [`SYSTEM_DIRS`]), `journalmatch` its match
/// lines, `start` from the state file / findtime.
pub fn watcher_for_jail(
    paths: &[PathBuf],
    journalmatch: &[String],
    start: JournalStart,
) -> Result<JournalWatcher, JournalError> {
    let sources: Vec<PathBuf> = if paths.is_empty() {
        SYSTEM_DIRS.iter().map(PathBuf::from).collect()
    } else {
        paths.to_vec()
    };
    JournalWatcher::new(&sources, journalmatch, start)
}

/// Reads every matching entry of the given files/directories once, in order (for
/// `fail2zig regex systemd-journal[...]`). Lines are produced lazily, one budget at a time.
pub fn read_all(
    paths: &[PathBuf],
    journalmatch: &[String],
) -> Result<impl Iterator<Item = JournalLine> + use<>, JournalError> {
    let mut w = watcher_for_jail(paths, journalmatch, JournalStart::Head)?;
    w.notifier = None;
    let mut buf: std::collections::VecDeque<JournalLine> = Default::default();
    let mut first = true;
    Ok(std::iter::from_fn(move || {
        loop {
            if let Some(l) = buf.pop_front() {
                return Some(l);
            }
            if !first && !w.pending {
                return None;
            }
            first = false;
            buf.extend(w.poll_inner(false));
        }
    }))
}

impl JournalWatcher {
    /// Opens the journal files under `sources` (directories are searched one level of
    /// machine-id subdirectories deep; files are taken as they are).
    pub fn new(
        sources: &[PathBuf],
        matches: &[String],
        start: JournalStart,
    ) -> Result<JournalWatcher, JournalError> {
        JournalWatcher::with_options(sources, matches, start, false)
    }

    /// As [`JournalWatcher::new`]; `include_user` also reads `user-*.journal`.
    pub fn with_options(
        sources: &[PathBuf],
        matches: &[String],
        start: JournalStart,
        include_user: bool,
    ) -> Result<JournalWatcher, JournalError> {
        let matcher = Matcher::new(matches).map_err(JournalError::Match)?;
        let parse = |c: &str| c.parse::<Cursor>().map_err(JournalError::Cursor);
        let since = |t: f64| (t.max(0.0) * 1e6) as u64;
        let (after, since_us, tail) = match &start {
            JournalStart::Head => (None, None, false),
            JournalStart::Tail => (None, None, true),
            JournalStart::Since(t) => (None, Some(since(*t)), false),
            JournalStart::Cursor(c) => (Some(parse(c)?), None, false),
            JournalStart::CursorSince(c, t) => (Some(parse(c)?), Some(since(*t)), false),
        };
        let notifier = Notifier::new().ok();
        let mut w = JournalWatcher {
            sources: sources.to_vec(),
            include_user,
            files: Vec::new(),
            finished: HashSet::new(),
            matcher,
            after,
            since_us,
            last: after,
            notifier,
            pending: false,
            errors: 0,
            examined: 0,
            budget: DEFAULT_BUDGET,
        };
        for s in sources {
            if s.is_file() {
                let f = JournalFile::open(s).map_err(JournalError::File)?;
                w.track(f, true);
            }
        }
        w.rescan(true);
        if w.files.is_empty() && !sources.iter().any(|s| s.is_dir()) {
            let names: Vec<String> = sources.iter().map(|s| s.display().to_string()).collect();
            return Err(JournalError::NoFiles(names.join(", ")));
        }
        if tail {
            for t in &mut w.files {
                skip_to_end(t);
            }
        }
        Ok(w)
    }

    /// Sets the number of entries examined per poll.
    pub fn set_budget(&mut self, budget: usize) {
        self.budget = budget.max(1);
    }

    /// The inotify descriptor to wait on (readable = call [`JournalWatcher::poll`]); None means
    /// poll every [`POLL_INTERVAL`].
    pub fn as_fd(&self) -> Option<BorrowedFd<'_>> {
        self.notifier.as_ref().map(|n| n.as_fd())
    }

    /// True when the last poll stopped at its budget: poll again without waiting.
    pub fn has_pending(&self) -> bool {
        self.pending
    }

    /// Damaged files/entries met so far (each also logged).
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Entries examined so far (matched or not).
    pub fn examined(&self) -> u64 {
        self.examined
    }

    /// The position after the last entry read, for the state file.
    pub fn cursor(&self) -> Option<String> {
        self.last.map(|c| c.to_string())
    }

    /// The files currently followed.
    pub fn files(&self) -> Vec<PathBuf> {
        self.files
            .iter()
            .map(|t| t.file.path().to_path_buf())
            .collect()
    }

    /// New matching entries of all files, oldest first.
    pub fn poll(&mut self) -> Result<Vec<JournalLine>, JournalError> {
        if let Some(n) = self.notifier.as_mut() {
            if let Err(e) = n.drain() {
                tracing::warn!("journal: inotify failed, falling back to polling: {e}");
                self.notifier = None;
            }
        }
        Ok(self.poll_inner(true))
    }

    fn poll_inner(&mut self, rescan: bool) -> Vec<JournalLine> {
        if rescan {
            self.rescan(false);
        }
        self.pending = false;
        let mut out: Vec<(u64, u64, JournalLine)> = Vec::new();
        let mut left = self.budget;
        let mut newest: Option<Cursor> = None;
        for i in 0..self.files.len() {
            let (used, last) = self.read_file(i, left, &mut out);
            left = left.saturating_sub(used);
            self.examined += used as u64;
            if let Some(c) = last {
                if newest.is_none_or(|n| c.realtime >= n.realtime) {
                    newest = Some(c);
                }
            }
            if left == 0 {
                self.pending = true;
                break;
            }
        }
        if let Some(c) = newest {
            self.last = Some(c);
        }
        self.retire();
        out.sort_by_key(|(rt, seq, _)| (*rt, *seq));
        out.into_iter().map(|(_, _, l)| l).collect()
    }

    /// Drops archived files that are read to their end.
    fn retire(&mut self) {
        let finished = &mut self.finished;
        self.files.retain(|t| {
            let done = t.file.header.state == 2 && t.pos.consumed >= t.file.header.n_entries;
            if done || t.broken {
                finished.insert((t.file.dev, t.file.ino));
            }
            !(done || t.broken)
        });
    }

    fn track(&mut self, file: JournalFile, initial: bool) {
        let key = (file.dev, file.ino);
        if self.finished.contains(&key)
            || self.files.iter().any(|t| (t.file.dev, t.file.ino) == key)
            || self.files.len() >= MAX_FILES
        {
            return;
        }
        let at_start = if initial { file.header.n_entries } else { 0 };
        self.files.push(Tracked {
            file,
            pos: ArrayPos::default(),
            cache: HashMap::new(),
            cache_bytes: 0,
            initial,
            at_start,
            retries: 0,
            skipped: 0,
            broken: false,
        });
    }

    /// Looks for new journal files in the source directories.
    fn rescan(&mut self, initial: bool) {
        let mut seen: HashSet<(u64, u64)> = HashSet::new();
        for t in &self.files {
            seen.insert((t.file.dev, t.file.ino));
        }
        for src in self.sources.clone() {
            if !src.is_dir() {
                continue;
            }
            if let Some(n) = self.notifier.as_mut() {
                let _ = n.watch_dir(&src);
            }
            for path in self.candidates(&src) {
                let Ok(meta) = std::fs::metadata(&path) else {
                    continue;
                };
                let key = (std::os::unix::fs::MetadataExt::dev(&meta), {
                    std::os::unix::fs::MetadataExt::ino(&meta)
                });
                if seen.contains(&key) || self.finished.contains(&key) {
                    continue;
                }
                match JournalFile::open(&path) {
                    Ok(f) => {
                        seen.insert(key);
                        self.track(f, initial);
                    }
                    Err(FileError::NotJournal { .. }) if meta.len() < 4096 => {
                        tracing::debug!("journal: {} not ready yet", path.display());
                    }
                    Err(e) => {
                        tracing::warn!("journal: skipping {}: {e}", path.display());
                        self.errors += 1;
                        self.finished.insert(key);
                    }
                }
            }
        }
    }

    /// `*.journal` / `*.journal~` files in `dir` and its direct subdirectories.
    fn candidates(&mut self, dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut dirs = vec![dir.to_path_buf()];
        let mut depth = 0;
        while !dirs.is_empty() && depth < 2 {
            let mut next = Vec::new();
            for d in dirs {
                let Ok(rd) = std::fs::read_dir(&d) else {
                    continue;
                };
                for e in rd.flatten().take(MAX_FILES) {
                    let p = e.path();
                    let name = e.file_name().to_string_lossy().into_owned();
                    if e.file_type().is_ok_and(|t| t.is_dir()) {
                        if depth == 0 {
                            if let Some(n) = self.notifier.as_mut() {
                                let _ = n.watch_dir(&p);
                            }
                            next.push(p);
                        }
                    } else if (name.ends_with(".journal") || name.ends_with(".journal~"))
                        && (self.include_user || !name.starts_with("user-"))
                    {
                        out.push(p);
                    }
                }
            }
            dirs = next;
            depth += 1;
        }
        out.sort();
        out
    }

    /// Reads up to `budget` entries of file `i`; returns (entries examined, last cursor).
    fn read_file(
        &mut self,
        i: usize,
        budget: usize,
        out: &mut Vec<(u64, u64, JournalLine)>,
    ) -> (usize, Option<Cursor>) {
        let JournalWatcher {
            files,
            matcher,
            after,
            since_us,
            errors,
            ..
        } = self;
        let t = &mut files[i];
        if let Err(e) = t.file.refresh() {
            tracing::warn!("journal: {e}");
            *errors += 1;
            t.broken = !matches!(e, FileError::Io { .. });
            return (0, None);
        }
        let online = t.file.header.state == STATE_ONLINE;
        let seqnum_id = t.file.header.seqnum_id;
        let mut used = 0;
        let mut last = None;
        while used < budget {
            let saved = t.pos;
            let off = match t.file.next_entry_offset(&mut t.pos) {
                Ok(Some(o)) => o,
                Ok(None) => break,
                Err(e) => {
                    t.pos = saved;
                    if online && t.retries < TORN_RETRIES {
                        t.retries += 1;
                    } else {
                        tracing::warn!("journal: giving up on the rest of the file: {e}");
                        *errors += 1;
                        t.broken = true;
                    }
                    break;
                }
            };
            used += 1;
            match read_entry(t, off, matcher, *after, *since_us, seqnum_id) {
                Ok((entry, line)) => {
                    t.retries = 0;
                    let c = Cursor {
                        seqnum_id,
                        seqnum: entry.seqnum,
                        realtime: entry.realtime,
                    };
                    last = Some(c);
                    if let Some(mut l) = line {
                        l.cursor = c.to_string();
                        l.in_operation = t.pos.consumed > t.at_start;
                        out.push((l.realtime_us, entry.seqnum, l));
                    }
                }
                Err(e) => {
                    if online && t.retries < TORN_RETRIES {
                        t.retries += 1;
                        t.pos = saved;
                        break;
                    }
                    t.retries = 0;
                    t.skipped += 1;
                    if t.skipped <= WARN_PER_FILE {
                        tracing::warn!("journal: skipping entry: {e}");
                    } else {
                        tracing::debug!("journal: skipping entry: {e}");
                    }
                    *errors += 1;
                }
            }
        }
        t.file.release();
        if !online {
            // offline/archived files rarely grow: keep nothing for them between polls
            t.cache = HashMap::new();
            t.cache_bytes = 0;
        }
        (used, last)
    }
}

fn skip_to_end(t: &mut Tracked) {
    let mut n = 0u64;
    while n < t.file.header.n_entries {
        match t.file.next_entry_offset(&mut t.pos) {
            Ok(Some(_)) => n += 1,
            _ => break,
        }
    }
}

/// Reads one entry; returns it and its line when it passes the start filter and the matches.
fn read_entry(
    t: &mut Tracked,
    off: u64,
    matcher: &Matcher,
    after: Option<Cursor>,
    since_us: Option<u64>,
    seqnum_id: [u8; 16],
) -> Result<(Entry, Option<JournalLine>), FileError> {
    let entry = t.file.entry(off)?;
    if t.initial {
        let before_cursor = after.is_some_and(|c| {
            if c.seqnum_id == seqnum_id {
                entry.seqnum <= c.seqnum
            } else {
                entry.realtime <= c.realtime
            }
        });
        if before_cursor || since_us.is_some_and(|s| entry.realtime < s) {
            return Ok((entry, None));
        }
    }
    let items = std::mem::take(&mut t.file.items);
    let res = entry_fields(t, &items, matcher);
    t.file.items = items;
    let Some(fields) = res? else {
        return Ok((entry, None));
    };
    let (text, us) = format::render(&fields, entry.realtime, entry.monotonic);
    let line = JournalLine {
        text,
        time: realtime_seconds(us),
        realtime_us: us,
        cursor: String::new(),
        in_operation: true,
    };
    Ok((entry, Some(line)))
}

/// The interesting fields of an entry, or None if it does not match.
fn entry_fields(
    t: &mut Tracked,
    items: &[u64],
    matcher: &Matcher,
) -> Result<Option<FieldList>, FileError> {
    let mut fields: FieldList = Vec::with_capacity(8);
    let mut uncached: Vec<(u8, u64)> = Vec::new();
    for &off in items {
        if let Some(hit) = t.cache.get(&off) {
            if let Some((slot, v)) = hit {
                fields.push((*slot, v.clone()));
            }
            continue;
        }
        let prefix = t.file.data_prefix(off, 66)?;
        let name = match prefix.iter().position(|&b| b == b'=') {
            Some(p) => &prefix[..p],
            None => {
                return Err(FileError::Corrupt {
                    path: t.file.path().to_path_buf(),
                    offset: off,
                    what: "data object without '='".into(),
                });
            }
        };
        let slot = matcher.lookup(name);
        match slot {
            Some(s) if !format::cacheable(s) => uncached.push((s, off)),
            Some(s) => {
                let data = t.file.data(off)?;
                let v: Arc<[u8]> = Arc::from(value_of(data));
                if v.len() <= MAX_CACHED_VALUE {
                    make_room(t);
                    t.cache_bytes += v.len();
                    t.cache.insert(off, Some((s, v.clone())));
                }
                fields.push((s, v));
            }
            None => {
                make_room(t);
                t.cache.insert(off, None);
            }
        }
    }
    let load = |t: &mut Tracked, fields: &mut FieldList, list: &[(u8, u64)]| {
        for &(s, off) in list {
            let data = t.file.data(off)?;
            fields.push((s, Arc::from(value_of(data))));
        }
        Ok::<(), FileError>(())
    };
    if matcher.needs_uncached() {
        load(t, &mut fields, &uncached)?;
        uncached.clear();
    }
    if !matcher.matches(&fields) {
        return Ok(None);
    }
    load(t, &mut fields, &uncached)?;
    Ok(Some(fields))
}

/// Empties a file's DATA cache when it holds too many objects or bytes.
fn make_room(t: &mut Tracked) {
    if t.cache.len() >= MAX_CACHED || t.cache_bytes >= MAX_CACHED_BYTES {
        t.cache.clear();
        t.cache_bytes = 0;
    }
}

/// The value part of a `FIELD=value` payload (empty if there is no `=`).
fn value_of(data: &[u8]) -> &[u8] {
    match data.iter().position(|&b| b == b'=') {
        Some(p) => &data[p + 1..],
        None => &[],
    }
}
