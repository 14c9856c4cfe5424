//! watch: follows the log files of one jail — glob expansion and rescans, per-file tails with
//! rotation detection, partial lines, the start position, decoding — and hands complete lines to
//! the daemon.
//!
//! It does not match lines (`filter`) or count anything (`jail`), and it never blocks or sleeps:
//! the daemon's poll loop waits on [`LogWatcher::as_fd`] (inotify) or, without inotify, calls
//! [`LogWatcher::poll`] every [`LogWatcher::poll_interval`], and calls it again at once while
//! [`LogWatcher::has_pending`] says a read budget ran out. Positions for the state file come from
//! [`LogWatcher::positions`] and go back into [`LogWatcher::new`].
//!
//! # Compatibility
//! As fail2ban 1.0.2's `FileContainer` (runtime spec §5): a file is recognised by inode, size and
//! the SHA-1 of its first line (including `\n`); a position is resumed only when that hash
//! matches the stored one; `head` files then seek forward to the first line not older than
//! `now - findtime` (binary search, with a line-time function the daemon supplies) and are "not
//! in operation" until their first EOF ([`LogLine::in_operation`], for §3.1's clock rules);
//! `tail` files start at their end. Only complete lines are returned, trailing `\r`/`\n` are
//! stripped, invalid bytes are decoded to U+FFFD (`logencoding`: UTF-8 (`auto`), Latin-1, ASCII).
//!
//! Deliberate differences, all to lose fewer lines: after a rename rotation the old file is read
//! to its end (and kept open [`WatchOptions::drain_grace`] after it stops growing) before it is let go;
//! after copytruncate, a sibling copy (`<name>.1`, `<name>-<date>`) with the same first line is
//! read from the old position; the first-line hash is re-checked whenever the size changed
//! (fail2ban: every 30 s), so a copytruncate'd file that regrew past the old position is noticed
//! at once. Globs are re-expanded every [`WatchOptions::rescan_interval`] (fail2ban: only at
//! reload), so files that appear later are followed from their beginning. Lines longer than
//! [`WatchOptions::max_line_bytes`] (default [`DEFAULT_MAX_LINE`]) are cut there and flagged
//! ([`LogLine::truncated`]); the rest of such a line is skipped.

use std::collections::{HashMap, HashSet};
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub mod journal;
mod notify;
pub mod sha1;
mod tail;

pub use tail::DRAIN_GRACE;

use tail::{Start, Tail};

/// Default cap on one line (bytes).
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;
/// Default bytes read per [`LogWatcher::poll`] over all files.
pub const DEFAULT_READ_BUDGET: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("invalid logpath glob {pattern:?}")]
    InvalidGlob {
        pattern: String,
        #[source]
        source: glob::PatternError,
    },
    #[error("unsupported logencoding {0:?} (supported: auto, utf-8, latin-1, ascii)")]
    UnknownEncoding(String),
    #[error("cannot open log file {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot stat log file {path}")]
    Stat {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read log file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("log path {path} is not a regular file")]
    NotRegular { path: PathBuf },
    #[error("error decoding line from '{path}' with '{encoding}'")]
    Decode {
        path: PathBuf,
        encoding: &'static str,
    },
    #[error("inotify: {operation}")]
    Inotify {
        operation: String,
        #[source]
        source: std::io::Error,
    },
}

/// `logencoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Utf8,
    Latin1,
    Ascii,
}

impl Encoding {
    /// Parses a `logencoding` value (`auto` = the locale's, taken as UTF-8).
    pub fn parse(name: &str) -> Result<Encoding, WatchError> {
        let n = name.trim().to_ascii_lowercase().replace('_', "-");
        match n.as_str() {
            "auto" | "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "l1" => Ok(Encoding::Latin1),
            "ascii" | "us-ascii" => Ok(Encoding::Ascii),
            _ => Err(WatchError::UnknownEncoding(name.to_string())),
        }
    }

    /// Name as fail2ban prints it.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Latin1 => "latin-1",
            Encoding::Ascii => "ascii",
        }
    }

    /// Decodes with replacement; the flag says whether anything was replaced.
    pub fn decode(self, bytes: &[u8]) -> (String, bool) {
        match self {
            Encoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => (s.to_string(), false),
                Err(_) => (String::from_utf8_lossy(bytes).into_owned(), true),
            },
            Encoding::Latin1 => (bytes.iter().map(|&b| char::from(b)).collect(), false),
            Encoding::Ascii => {
                let bad = bytes.iter().any(|b| !b.is_ascii());
                (
                    bytes
                        .iter()
                        .map(|&b| {
                            if b.is_ascii() {
                                char::from(b)
                            } else {
                                '\u{fffd}'
                            }
                        })
                        .collect(),
                    bad,
                )
            }
        }
    }
}

/// Where a jail's files start when first followed (fail2ban's `head`/`tail` logpath option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadFrom {
    #[default]
    Head,
    Tail,
}

/// Tunables of a [`LogWatcher`].
#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub encoding: Encoding,
    pub read_from: ReadFrom,
    pub max_line_bytes: usize,
    pub read_budget: usize,
    /// How often globs are re-expanded (also on inotify create/move events).
    pub rescan_interval: Duration,
    /// Use inotify when available (otherwise the daemon polls).
    pub inotify: bool,
    /// How long a rotated-away file is kept open after it stopped growing.
    pub drain_grace: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            encoding: Encoding::Utf8,
            read_from: ReadFrom::Head,
            max_line_bytes: DEFAULT_MAX_LINE,
            read_budget: DEFAULT_READ_BUDGET,
            rescan_interval: Duration::from_secs(1),
            inotify: true,
            drain_grace: DRAIN_GRACE,
        }
    }
}

/// A saved read position of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePosition {
    pub path: PathBuf,
    pub inode: u64,
    pub dev: u64,
    /// Offset of the next unread line.
    pub offset: u64,
    /// SHA-1 hex of the first line, `""` if the file had no complete first line.
    pub hash: String,
}

/// A change in the set of followed files, for fail2ban's `Added logfile` / `Removed logfile`
/// lines (see `jail::logline::watch_record`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    /// A file is followed from `position` (its offset and first-line hash).
    Added(FilePosition),
    /// A file is no longer followed (gone and fully read).
    Removed(PathBuf),
    /// A rotation was detected (rename, truncation or changed first line).
    Rotated(PathBuf),
}

/// One complete line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub path: Arc<Path>,
    /// Decoded, without trailing `\r`/`\n`.
    pub text: String,
    /// False while the file is being caught up after start (before its first EOF).
    pub in_operation: bool,
    /// Cut at `max_line_bytes`.
    pub truncated: bool,
}

/// Time of a log line (the jail's date detector), `None` if it has none.
pub type LineTime = Box<dyn FnMut(&str) -> Option<f64>>;

/// The start-time seek: skip, at first read, to the first line with a time `>= not_before`.
pub struct StartSeek {
    pub not_before: f64,
    pub time_of: LineTime,
}

impl std::fmt::Debug for StartSeek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartSeek")
            .field("not_before", &self.not_before)
            .finish_non_exhaustive()
    }
}

/// Follows the files matching a jail's `logpath` globs.
#[derive(Debug)]
pub struct LogWatcher {
    globs: Vec<(glob::Pattern, ReadFrom)>,
    tails: Vec<Tail>,
    paths: HashMap<PathBuf, Arc<Path>>,
    stored: HashMap<PathBuf, FilePosition>,
    opts: WatchOptions,
    notify: Option<notify::Notifier>,
    seek: Option<StartSeek>,
    last_rescan: Instant,
    rescan_now: bool,
    pending: bool,
    next_tail: usize,
    errors: Vec<WatchError>,
    changes: Vec<FileChange>,
    decode_warned: HashMap<PathBuf, Instant>,
    /// Last error reported per path, so a persistent problem is reported once an hour.
    last_error: HashMap<PathBuf, (String, Instant)>,
}

impl LogWatcher {
    /// Expands `globs` and starts following every matching file: from `positions` where the
    /// first line still matches, else per `opts.read_from`. Fails on an invalid glob or if
    /// inotify was asked for and cannot be set up is *not* an error (polling is used).
    pub fn new(
        globs: &[String],
        positions: Vec<FilePosition>,
        opts: WatchOptions,
    ) -> Result<LogWatcher, WatchError> {
        let modes: Vec<(String, ReadFrom)> =
            globs.iter().map(|g| (g.clone(), opts.read_from)).collect();
        LogWatcher::with_modes(&modes, positions, opts)
    }

    /// As [`new`](Self::new), with fail2ban's `head`/`tail` per logpath entry
    /// (`opts.read_from` is ignored).
    pub fn with_modes(
        globs: &[(String, ReadFrom)],
        positions: Vec<FilePosition>,
        opts: WatchOptions,
    ) -> Result<LogWatcher, WatchError> {
        let globs = globs
            .iter()
            .map(|(g, mode)| {
                glob::Pattern::new(g).map(|p| (p, *mode)).map_err(|source| {
                    WatchError::InvalidGlob {
                        pattern: g.clone(),
                        source,
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let notify = if opts.inotify {
            notify::Notifier::new().ok()
        } else {
            None
        };
        let mut w = LogWatcher {
            globs,
            tails: Vec::new(),
            paths: HashMap::new(),
            stored: positions.into_iter().map(|p| (p.path.clone(), p)).collect(),
            opts,
            notify,
            seek: None,
            last_rescan: Instant::now(),
            rescan_now: false,
            pending: false,
            next_tail: 0,
            errors: Vec::new(),
            changes: Vec::new(),
            decode_warned: HashMap::new(),
            last_error: HashMap::new(),
        };
        w.rescan(true);
        Ok(w)
    }

    /// Sets the start-time seek for the files found at construction (before the first poll).
    pub fn set_start_seek(&mut self, seek: StartSeek) {
        self.seek = Some(seek);
    }

    /// The inotify descriptor to wait on for readability, if inotify is in use.
    pub fn as_fd(&self) -> Option<BorrowedFd<'_>> {
        self.notify.as_ref().map(notify::Notifier::as_fd)
    }

    /// How often to call [`poll`](Self::poll) when there is no inotify descriptor (and as a
    /// safety net with one).
    pub fn poll_interval(&self) -> Duration {
        if self.notify.is_some() {
            Duration::from_secs(2)
        } else {
            Duration::from_millis(250)
        }
    }

    /// True when the last poll stopped at its read budget: poll again without waiting.
    pub fn has_pending(&self) -> bool {
        self.pending
    }

    /// Reads what is new, at most `read_budget` bytes. Per-file problems do not stop other files;
    /// they are kept for [`take_errors`](Self::take_errors). Only an inotify failure is returned
    /// (the watcher then falls back to polling).
    pub fn poll(&mut self) -> Result<Vec<LogLine>, WatchError> {
        let mut result = Ok(());
        if let Some(n) = self.notify.as_mut() {
            match n.drain() {
                Ok(structural) => self.rescan_now |= structural,
                Err(e) => {
                    self.notify = None;
                    result = Err(e);
                }
            }
        }
        if self.rescan_now || self.last_rescan.elapsed() >= self.opts.rescan_interval {
            self.rescan(false);
        }
        let mut budget = self.opts.read_budget;
        let mut out = Vec::new();
        let n = self.tails.len();
        for k in 0..n {
            let i = (self.next_tail + k) % n;
            let mut raw = Vec::new();
            let tail = &mut self.tails[i];
            let rotations = tail.rotations;
            if let Err(e) = tail.poll(
                &mut budget,
                self.opts.max_line_bytes,
                self.seek.as_mut(),
                &mut raw,
            ) {
                report(&mut self.errors, &mut self.last_error, &tail.path, e);
            }
            if tail.rotations != rotations {
                self.changes.push(FileChange::Rotated(tail.path.clone()));
            }
            let path = Arc::clone(
                self.paths
                    .entry(tail.path.clone())
                    .or_insert_with(|| Arc::from(tail.path.as_path())),
            );
            for (line, in_operation) in raw {
                let (text, bad) = self.opts.encoding.decode(&line.bytes);
                let text = text.trim_end_matches(['\r', '\n']).to_string();
                if bad {
                    self.warn_decode(&path);
                }
                out.push(LogLine {
                    path: Arc::clone(&path),
                    text,
                    in_operation,
                    truncated: line.truncated,
                });
            }
            if budget == 0 {
                self.next_tail = i;
                break;
            }
        }
        self.pending = budget == 0;
        if !self.tails.iter().any(|t| t.seek_pending) {
            self.seek = None;
        }
        result.map(|()| out)
    }

    fn warn_decode(&mut self, path: &Path) {
        let due = self
            .decode_warned
            .get(path)
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(86_400));
        if due {
            self.decode_warned
                .insert(path.to_path_buf(), Instant::now());
            self.errors.push(WatchError::Decode {
                path: path.to_path_buf(),
                encoding: self.opts.encoding.name(),
            });
        }
    }

    /// Files added, removed or rotated since the last call, to be logged.
    pub fn take_changes(&mut self) -> Vec<FileChange> {
        std::mem::take(&mut self.changes)
    }

    /// Problems met since the last call (unreadable files, decode warnings), to be logged.
    pub fn take_errors(&mut self) -> Vec<WatchError> {
        std::mem::take(&mut self.errors)
    }

    /// Re-expands the globs: follows new matches (from their beginning) and forgets paths that
    /// are gone and fully read.
    /// At construction (`initial`) files start per their glob's mode; later ones are new files,
    /// read from their beginning.
    fn rescan(&mut self, initial: bool) {
        self.last_rescan = Instant::now();
        self.rescan_now = false;
        let mut found: Vec<PathBuf> = Vec::new();
        let mut mode_of: HashMap<PathBuf, ReadFrom> = HashMap::new();
        for (pat, mode) in &self.globs {
            match glob::glob(pat.as_str()) {
                Ok(paths) => {
                    for p in paths.flatten().filter(|p| p.is_file()) {
                        if !mode_of.contains_key(&p) {
                            mode_of.insert(p.clone(), *mode);
                            found.push(p);
                        }
                    }
                }
                Err(source) => self.errors.push(WatchError::InvalidGlob {
                    pattern: pat.as_str().to_string(),
                    source,
                }),
            }
        }
        let known: HashSet<PathBuf> = self.tails.iter().map(|t| t.path.clone()).collect();
        let present: HashSet<&PathBuf> = found.iter().collect();
        let changes = &mut self.changes;
        self.tails.retain(|t| {
            let keep = present.contains(&t.path) || t.busy() || (!t.absent && t.has_open_file());
            if !keep {
                changes.push(FileChange::Removed(t.path.clone()));
            }
            keep
        });
        for path in found {
            if known.contains(&path) || self.tails.iter().any(|t| t.path == path) {
                continue;
            }
            let stored = self.stored.get(&path);
            let start = match (initial, mode_of.get(&path)) {
                (false, _) => Start::Fresh,
                (true, Some(ReadFrom::Tail)) => Start::Tail,
                (true, _) => Start::Head,
            };
            match Tail::start(path.clone(), start, stored, self.opts.max_line_bytes) {
                Ok(mut t) => {
                    t.drain_grace = self.opts.drain_grace;
                    if let Some(n) = self.notify.as_mut() {
                        if let Err(e) = n.watch_dir_of(&path) {
                            self.errors.push(e);
                        }
                    }
                    self.paths.insert(path.clone(), Arc::from(path.as_path()));
                    if let Some(p) = t.position() {
                        self.changes.push(FileChange::Added(p));
                    }
                    self.tails.push(t);
                }
                Err(e) => report(&mut self.errors, &mut self.last_error, &path, e),
            }
        }
        if let Some(n) = self.notify.as_mut() {
            for (pat, _) in &self.globs {
                if let Some(dir) = literal_dir(pat.as_str()) {
                    let _ = n.watch_dir(&dir);
                }
            }
        }
    }

    /// Read positions of the followed files, for the state file.
    pub fn positions(&self) -> Vec<FilePosition> {
        self.tails.iter().filter_map(Tail::position).collect()
    }

    /// The followed files (fail2ban-client status' `File list`), in the order they were found.
    pub fn files(&self) -> Vec<PathBuf> {
        self.tails.iter().map(|t| t.path.clone()).collect()
    }

    /// Rotations detected so far (rename, truncation, changed first line), over all files.
    pub fn rotations(&self) -> u64 {
        self.tails.iter().map(|t| t.rotations).sum()
    }
}

/// Keeps `e` for `take_errors` unless the same error was reported for `path` within the hour.
fn report(
    errors: &mut Vec<WatchError>,
    last: &mut HashMap<PathBuf, (String, Instant)>,
    path: &Path,
    e: WatchError,
) {
    let text = e.to_string();
    let repeated = last
        .get(path)
        .is_some_and(|(t, at)| *t == text && at.elapsed() < Duration::from_secs(3600));
    if !repeated {
        last.insert(path.to_path_buf(), (text, Instant::now()));
        errors.push(e);
    }
}

/// The directory part of a glob before its first wildcard component, if any.
fn literal_dir(pattern: &str) -> Option<PathBuf> {
    let mut dir = PathBuf::new();
    let p = Path::new(pattern);
    let parent = p.parent()?;
    for comp in parent.components() {
        let s = comp.as_os_str().to_string_lossy();
        if s.contains(['*', '?', '[']) {
            break;
        }
        dir.push(comp);
    }
    (!dir.as_os_str().is_empty()).then_some(dir)
}
