//! Following one log file: reading complete lines from an open descriptor, detecting rotation
//! (inode change, size below the read position, changed first line), finishing a rotated file
//! before letting it go, and the start-time seek. [`super::LogWatcher`] drives one [`Tail`] per
//! path.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::sha1::{hex, sha1};
use super::{FilePosition, WatchError};

/// How long a rotated-away file is kept open after it stopped growing, so lines its writer
/// appends before reopening the new file are not lost.
pub const DRAIN_GRACE: Duration = Duration::from_secs(5);
const CHUNK: usize = 64 * 1024;
const COMPRESSED: [&str; 5] = [".gz", ".bz2", ".xz", ".zst", ".lz4"];

/// A line as read: raw bytes without the line end, and whether it was cut at the length cap.
#[derive(Debug)]
pub(super) struct RawLine {
    pub bytes: Vec<u8>,
    pub truncated: bool,
}

/// An open file and the reading state in it.
#[derive(Debug)]
struct Cursor {
    file: File,
    ino: u64,
    dev: u64,
    /// Next byte to read.
    read_pos: u64,
    /// Bytes read since the last line end.
    partial: Vec<u8>,
    /// Inside an over-long line, dropping bytes until its end.
    skipping: bool,
    /// When the file last grew (for draining).
    grew: Instant,
}

impl Cursor {
    fn open(path: &Path) -> Result<(Cursor, fs::Metadata), WatchError> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(path)
            .map_err(|source| WatchError::Open {
                path: path.into(),
                source,
            })?;
        let meta = file.metadata().map_err(|source| WatchError::Stat {
            path: path.into(),
            source,
        })?;
        if !meta.is_file() {
            return Err(WatchError::NotRegular { path: path.into() });
        }
        let c = Cursor {
            file,
            ino: meta.ino(),
            dev: meta.dev(),
            read_pos: 0,
            partial: Vec::new(),
            skipping: false,
            grew: Instant::now(),
        };
        Ok((c, meta))
    }

    /// Offset of the first byte not yet handed out as (part of) a line.
    fn line_start(&self) -> u64 {
        self.read_pos - self.partial.len() as u64
    }

    /// Reads complete lines until EOF or the budget is spent; returns true at EOF.
    fn read(
        &mut self,
        budget: &mut usize,
        max_line: usize,
        out: &mut Vec<RawLine>,
    ) -> io::Result<bool> {
        let mut buf = vec![0u8; CHUNK.min(*budget).max(1)];
        loop {
            if *budget == 0 {
                return Ok(false);
            }
            let want = buf.len().min(*budget);
            let n = self.file.read_at(&mut buf[..want], self.read_pos)?;
            if n == 0 {
                return Ok(true);
            }
            self.read_pos += n as u64;
            *budget = budget.saturating_sub(n);
            self.grew = Instant::now();
            self.split(&buf[..n], max_line, out);
        }
    }

    fn split(&mut self, mut data: &[u8], max_line: usize, out: &mut Vec<RawLine>) {
        while !data.is_empty() {
            let nl = data.iter().position(|&b| b == b'\n');
            let (seg, rest, complete) = match nl {
                Some(i) => (&data[..i], &data[i + 1..], true),
                None => (data, &data[data.len()..], false),
            };
            data = rest;
            if self.skipping {
                self.skipping = !complete;
                continue;
            }
            let room = (max_line + 1).saturating_sub(self.partial.len());
            self.partial.extend_from_slice(&seg[..seg.len().min(room)]);
            if self.partial.len() > max_line {
                let mut bytes = std::mem::take(&mut self.partial);
                bytes.truncate(max_line);
                out.push(RawLine {
                    bytes,
                    truncated: true,
                });
                self.skipping = !complete;
            } else if complete {
                out.push(RawLine {
                    bytes: std::mem::take(&mut self.partial),
                    truncated: false,
                });
            }
        }
    }

    /// Hands out a final line without its end (a rotated file that will not grow any more).
    fn flush_partial(&mut self, out: &mut Vec<RawLine>) {
        if !self.partial.is_empty() && !self.skipping {
            out.push(RawLine {
                bytes: std::mem::take(&mut self.partial),
                truncated: false,
            });
        }
    }
}

/// Where reading of a newly followed file starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Start {
    /// From the beginning, or the stored position, then the start-time seek.
    Head,
    /// From the current end (fail2ban's `tail` mode), already in operation.
    Tail,
    /// From the beginning, no seek (a file that appeared after start, or a rotation).
    Fresh,
}

/// One followed path.
#[derive(Debug)]
pub(super) struct Tail {
    pub path: PathBuf,
    cur: Option<Cursor>,
    /// Rotated-away files (rename) or copies (copytruncate) still being finished.
    drains: Vec<Cursor>,
    hash: Option<[u8; 20]>,
    /// (size, mtime s, mtime ns) when the first line was last hashed.
    hashed_stat: (u64, i64, i64),
    /// Reached EOF at least once: lines are current (fail2ban's "in operation").
    pub in_operation: bool,
    /// The start-time seek is still to be done.
    pub seek_pending: bool,
    /// The file is absent (between a rename and the new file's creation).
    pub absent: bool,
    pub rotations: u64,
    /// How long a finished rotated file is kept open ([`DRAIN_GRACE`] by default).
    pub drain_grace: Duration,
}

impl Tail {
    /// Starts following `path`; `stored` is its saved position, used if the first line matches.
    pub fn start(
        path: PathBuf,
        start: Start,
        stored: Option<&FilePosition>,
        max_line: usize,
    ) -> Result<Tail, WatchError> {
        let (mut cur, meta) = Cursor::open(&path)?;
        let hash = first_line_hash(&cur.file, max_line).map_err(|source| WatchError::Read {
            path: path.clone(),
            source,
        })?;
        let size = meta.len();
        let mut in_operation = false;
        match start {
            Start::Tail => {
                cur.read_pos = size;
                in_operation = true;
            }
            Start::Head => {
                let known = stored.filter(|p| {
                    !p.hash.is_empty() && hash.map(|h| hex(&h)) == Some(p.hash.clone())
                });
                if let Some(p) = known.filter(|p| p.offset <= size) {
                    cur.read_pos = p.offset;
                }
            }
            Start::Fresh => {}
        }
        Ok(Tail {
            path,
            cur: Some(cur),
            drains: Vec::new(),
            hash,
            hashed_stat: stat_key(&meta),
            in_operation,
            seek_pending: start == Start::Head,
            absent: false,
            rotations: 0,
            drain_grace: DRAIN_GRACE,
        })
    }

    /// The position to persist.
    pub fn position(&self) -> Option<FilePosition> {
        let c = self.cur.as_ref()?;
        let offset = if c.skipping {
            c.read_pos
        } else {
            c.line_start()
        };
        Some(FilePosition {
            path: self.path.clone(),
            inode: c.ino,
            dev: c.dev,
            offset,
            hash: self.hash.map(|h| hex(&h)).unwrap_or_default(),
        })
    }

    /// True while something is left to finish (drains) even if the path is gone.
    pub fn busy(&self) -> bool {
        !self.drains.is_empty()
    }

    /// One read cycle. Lines go to `out` with the in-operation flag they were read under.
    pub fn poll(
        &mut self,
        budget: &mut usize,
        max_line: usize,
        seek: Option<&mut super::StartSeek>,
        out: &mut Vec<(RawLine, bool)>,
    ) -> Result<(), WatchError> {
        // rotation first, so a file rotated away since the last cycle is finished right now
        let rotation = self.check_rotation(max_line);
        self.finish_drains(budget, max_line, out)?;
        rotation?;
        if self.seek_pending {
            self.seek_pending = false;
            if let (Some(seek), Some(cur)) = (seek, self.cur.as_mut()) {
                let to =
                    seek_to_time(&cur.file, cur.read_pos, max_line, seek).map_err(|source| {
                        WatchError::Read {
                            path: self.path.clone(),
                            source,
                        }
                    })?;
                cur.read_pos = to;
            }
        }
        let Some(cur) = self.cur.as_mut() else {
            return Ok(());
        };
        let mut lines = Vec::new();
        let eof = cur.read(budget, max_line, &mut lines);
        let flag = self.in_operation;
        out.extend(lines.into_iter().map(|l| (l, flag)));
        if eof.map_err(|source| WatchError::Read {
            path: self.path.clone(),
            source,
        })? {
            self.in_operation = true;
        }
        Ok(())
    }

    fn finish_drains(
        &mut self,
        budget: &mut usize,
        max_line: usize,
        out: &mut Vec<(RawLine, bool)>,
    ) -> Result<(), WatchError> {
        let mut i = 0;
        while i < self.drains.len() {
            let mut lines = Vec::new();
            let d = &mut self.drains[i];
            let eof = d.read(budget, max_line, &mut lines);
            let eof = eof.map_err(|source| WatchError::Read {
                path: self.path.clone(),
                source,
            })?;
            let done = eof && d.grew.elapsed() >= self.drain_grace;
            if done {
                d.flush_partial(&mut lines);
            }
            out.extend(lines.into_iter().map(|l| (l, true)));
            if done {
                self.drains.remove(i);
            } else {
                i += 1;
            }
        }
        Ok(())
    }

    /// The path currently has an open file (it is not between a rename and its re-creation).
    pub fn has_open_file(&self) -> bool {
        self.cur.is_some()
    }

    fn check_rotation(&mut self, max_line: usize) -> Result<(), WatchError> {
        let meta = match fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if let Some(old) = self.cur.take() {
                    self.drains.push(old);
                    self.rotations += 1;
                }
                self.absent = true;
                return Ok(());
            }
            Err(source) => {
                return Err(WatchError::Stat {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        self.absent = false;
        let replaced = self
            .cur
            .as_ref()
            .is_none_or(|c| (c.ino, c.dev) != (meta.ino(), meta.dev()));
        if replaced {
            if let Some(old) = self.cur.take() {
                self.drains.push(old);
                self.rotations += 1;
            }
            let (c, _) = Cursor::open(&self.path)?;
            self.cur = Some(c);
            self.hash = None;
            self.hashed_stat = (0, 0, 0);
        }
        let path = self.path.clone();
        let Some(cur) = self.cur.as_mut() else {
            return Ok(());
        };
        let meta = cur.file.metadata().map_err(|source| WatchError::Stat {
            path: path.clone(),
            source,
        })?;
        let key = stat_key(&meta);
        let truncated = meta.len() < cur.read_pos;
        let mut changed = false;
        if truncated || key != self.hashed_stat || self.hash.is_none() {
            let new = first_line_hash(&cur.file, max_line).map_err(|source| WatchError::Read {
                path: path.clone(),
                source,
            })?;
            changed = matches!((self.hash, new), (Some(a), Some(b)) if a != b)
                || (self.hash.is_some() && new.is_none() && truncated);
            self.hashed_stat = key;
            if truncated || changed {
                // copytruncate: finish the old content from the copy, if we find it
                if let Some(copy) = self.hash.and_then(|h| find_copy(&path, h, cur, max_line)) {
                    self.drains.push(copy);
                }
            }
            self.hash = new;
        }
        if truncated || changed {
            cur.read_pos = 0;
            cur.partial.clear();
            cur.skipping = false;
            self.rotations += 1;
        }
        Ok(())
    }
}

fn stat_key(m: &fs::Metadata) -> (u64, i64, i64) {
    (m.len(), m.mtime(), m.mtime_nsec())
}

/// SHA-1 of the first line including its `\n`; `None` if the file has no complete first line
/// within `max_line` bytes.
fn first_line_hash(file: &File, max_line: usize) -> io::Result<Option<[u8; 20]>> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 4096];
    while buf.len() <= max_line {
        let n = file.read_at(&mut chunk, buf.len() as u64)?;
        if n == 0 {
            return Ok(None);
        }
        if let Some(i) = chunk[..n].iter().position(|&b| b == b'\n') {
            buf.extend_from_slice(&chunk[..=i]);
            return Ok(Some(sha1(&buf)));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(None)
}

/// After copytruncate: a sibling (`<name>.1`, `<name>-20261122`, ...) whose first line hashes to
/// `hash`, at least as long as what was read, and holding the same unfinished line bytes: a
/// cursor on it at the old read position.
fn find_copy(path: &Path, hash: [u8; 20], cur: &Cursor, max_line: usize) -> Option<Cursor> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name()?.to_str()?;
    for entry in fs::read_dir(dir).ok()?.flatten() {
        let fname = entry.file_name();
        let Some(fname) = fname.to_str() else {
            continue;
        };
        let Some(rest) = fname.strip_prefix(name) else {
            continue;
        };
        if !rest.starts_with(['.', '-', '_']) || COMPRESSED.iter().any(|s| fname.ends_with(s)) {
            continue;
        }
        let Ok((mut c, meta)) = Cursor::open(&entry.path()) else {
            continue;
        };
        if meta.len() < cur.read_pos || first_line_hash(&c.file, max_line).ok()? != Some(hash) {
            continue;
        }
        let start = cur.line_start();
        let mut same = vec![0u8; cur.partial.len() + 1];
        let from = start.checked_sub(1);
        let ok = match from {
            Some(f) => {
                c.file.read_exact_at(&mut same, f).is_ok()
                    && same[0] == b'\n'
                    && same[1..] == cur.partial[..]
            }
            None => c.file.read_exact_at(&mut same[1..], 0).is_ok() && same[1..] == cur.partial[..],
        };
        if ok {
            c.read_pos = cur.read_pos;
            c.partial = cur.partial.clone();
            c.skipping = cur.skipping;
            return Some(c);
        }
    }
    None
}

/// The first line start at or after `from` whose line (or one of the next four) carries a time
/// `>= not_before` — a binary search, so a huge old log is not read at start. Lines without a
/// recognisable time never make the search skip past them.
fn seek_to_time(
    file: &File,
    from: u64,
    max_line: usize,
    seek: &mut super::StartSeek,
) -> io::Result<u64> {
    let size = file.metadata()?.len();
    let (mut lo, mut hi) = (from, size);
    let mut probes = 0;
    while lo < hi && probes < 64 {
        probes += 1;
        let mid = next_line_start(file, lo + (hi - lo) / 2, lo, hi, max_line)?;
        let at = if mid >= hi { lo } else { mid };
        if probe_is_recent(file, at, hi, max_line, seek)? {
            hi = at;
        } else {
            lo = next_line_start(file, at + 1, at, hi, max_line)?;
        }
    }
    Ok(lo.min(hi))
}

/// First line start `>= p` (`lo` itself counts as a line start); `hi` if none before it.
fn next_line_start(file: &File, p: u64, lo: u64, hi: u64, max_line: usize) -> io::Result<u64> {
    if p <= lo {
        return Ok(lo);
    }
    let mut buf = vec![0u8; 4096];
    let mut at = p - 1;
    while at < hi && at < p - 1 + max_line as u64 + 1 {
        let n = file.read_at(&mut buf, at)?;
        if n == 0 {
            break;
        }
        if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
            return Ok((at + i as u64 + 1).min(hi));
        }
        at += n as u64;
    }
    Ok(hi)
}

fn probe_is_recent(
    file: &File,
    at: u64,
    hi: u64,
    max_line: usize,
    seek: &mut super::StartSeek,
) -> io::Result<bool> {
    let len = ((hi - at) as usize).min(5 * (max_line + 1)).min(64 * 1024);
    let mut buf = vec![0u8; len];
    let n = file.read_at(&mut buf, at)?;
    for line in buf[..n].split(|&b| b == b'\n').take(5) {
        let text = String::from_utf8_lossy(line);
        if let Some(t) = (seek.time_of)(text.trim_end_matches(['\r', '\n'])) {
            return Ok(t >= seek.not_before);
        }
    }
    Ok(true)
}
