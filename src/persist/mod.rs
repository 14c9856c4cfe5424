//! persist: the daemon's state file — ban records (current bans and the history
//! `bantime.increment` counts) and log positions — written atomically, loaded tolerantly.
//!
//! Owns the file format and the write/load procedure. It does not decide what to restore (that
//! is `jail::Jail::restore`) nor where reading resumes (`watch`); the daemon calls [`save`] when
//! the jails report changes (and at stop) and [`load`] once at start.
//!
//! # Format
//! JSON lines, one record per line, so a damaged line loses only itself:
//!
//! ```text
//! {"format":"fail2zig-state","version":1}
//! {"kind":"ban","jail":"sshd","id":"192.0.2.10","time_of_ban":1795343228,"bantime":600.0,"ban_count":1,"failures":3,"matches":["..."]}
//! {"kind":"position","jail":"sshd","path":"/var/log/auth.log","inode":1234,"dev":2049,"offset":2259,"hash":"6e90bbda..."}
//! {"kind":"cursor","jail":"sshd-journal","cursor":"..."}
//! {"kind":"end","records":3}
//! ```
//!
//! The header names the format and version; a file of a newer version is refused
//! ([`PersistError::UnsupportedVersion`]) rather than misread. The `end` trailer lets [`load`]
//! report a truncated file. Unknown `kind`s, unparsable lines and a missing header or trailer are
//! reported as [`LoadProblem`]s; every valid record is still loaded. [`save`] writes
//! `<file>.tmp` (mode 0600), fsyncs it, renames it over the file and fsyncs the directory.
//!
//! # Compatibility
//! The records carry what fail2ban's `bips` table does (§4 of the runtime spec): one row per
//! (jail, id) holding the latest ban — its log time rounded to whole seconds, effective
//! bantime, ban count, failures and up to `dbmaxmatches` matched lines — plus fail2ban's `logs`
//! table (position and SHA-1 of the first line). fail2ban's SQLite file itself is not read.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Format name in the header line.
pub const FORMAT: &str = "fail2zig-state";
/// Version written by this build; files with a higher version are refused.
pub const VERSION: u32 = 1;
/// File name of the state file under the state directory.
pub const FILE_NAME: &str = "fail2zig.state";
/// Longest line [`load`] accepts (a record with many long matches stays far below).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The latest ban of one id in one jail (fail2ban's `bips` row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BanRecord {
    pub jail: String,
    pub id: String,
    /// The ban's log time, rounded to whole epoch seconds.
    pub time_of_ban: i64,
    /// Effective bantime in seconds; `-1` permanent.
    pub bantime: f64,
    /// Ban number of this id in this jail.
    pub ban_count: u32,
    /// Failures that led to the ban (0 for manual bans).
    #[serde(default)]
    pub failures: u32,
    /// Matched lines (at most `dbmaxmatches`).
    #[serde(default)]
    pub matches: Vec<String>,
}

/// Where a jail stopped reading one log file (fail2ban's `logs` row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionRecord {
    pub jail: String,
    pub path: PathBuf,
    pub inode: u64,
    #[serde(default)]
    pub dev: u64,
    /// Offset of the next unread byte.
    pub offset: u64,
    /// SHA-1 (hex) of the first line including its `\n`; empty when unknown.
    pub hash: String,
}

impl PositionRecord {
    /// The record of one followed file of `jail`.
    pub fn from_position(jail: &str, p: crate::watch::FilePosition) -> PositionRecord {
        PositionRecord {
            jail: jail.to_string(),
            path: p.path,
            inode: p.inode,
            dev: p.dev,
            offset: p.offset,
            hash: p.hash,
        }
    }

    /// Back to what `watch::LogWatcher::new` takes.
    pub fn to_position(&self) -> crate::watch::FilePosition {
        crate::watch::FilePosition {
            path: self.path.clone(),
            inode: self.inode,
            dev: self.dev,
            offset: self.offset,
            hash: self.hash.clone(),
        }
    }
}

/// Where a `backend = systemd` jail stopped reading the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorRecord {
    pub jail: String,
    /// The journal watcher's cursor text.
    pub cursor: String,
}

/// Everything the state file holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    pub bans: Vec<BanRecord>,
    pub positions: Vec<PositionRecord>,
    /// Journal cursors of `backend = systemd` jails.
    pub cursors: Vec<CursorRecord>,
}

impl State {
    /// The saved positions of one jail's files.
    pub fn positions_for(&self, jail: &str) -> Vec<crate::watch::FilePosition> {
        self.positions
            .iter()
            .filter(|p| p.jail == jail)
            .map(PositionRecord::to_position)
            .collect()
    }
}

/// A part of the state file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadProblem {
    /// 1-based line number (0 when about the whole file).
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LoadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// What [`load`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub state: State,
    /// Records or structure that were skipped; empty for a clean file.
    pub problems: Vec<LoadProblem>,
}

#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot read state file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write state file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("state file {path} has version {found}, this build reads up to {VERSION}")]
    UnsupportedVersion { path: PathBuf, found: u64 },
    #[error("cannot encode state record for jail {jail}")]
    Encode {
        jail: String,
        #[source]
        source: serde_json::Error,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Record {
    Ban(BanRecord),
    Position(PositionRecord),
    Cursor(CursorRecord),
    End { records: u64 },
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u64,
}

/// Path of the state file inside `state_dir`.
pub fn state_path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// Writes `state` to `path` atomically: temp file, fsync, rename, fsync of the directory.
pub fn save(path: &Path, state: &State) -> Result<(), PersistError> {
    let mut out = Vec::with_capacity(256 * (state.bans.len() + state.positions.len() + 2));
    let header = Header {
        format: FORMAT.into(),
        version: u64::from(VERSION),
    };
    push_json(&mut out, &header, "")?;
    for b in &state.bans {
        push_json(&mut out, &Record::Ban(b.clone()), &b.jail)?;
    }
    for p in &state.positions {
        push_json(&mut out, &Record::Position(p.clone()), &p.jail)?;
    }
    for c in &state.cursors {
        push_json(&mut out, &Record::Cursor(c.clone()), &c.jail)?;
    }
    let records = (state.bans.len() + state.positions.len() + state.cursors.len()) as u64;
    push_json(&mut out, &Record::End { records }, "")?;
    write_atomically(path, &out).map_err(|source| PersistError::Write {
        path: path.into(),
        source,
    })
}

fn push_json<T: Serialize>(out: &mut Vec<u8>, v: &T, jail: &str) -> Result<(), PersistError> {
    serde_json::to_writer(&mut *out, v).map_err(|source| PersistError::Encode {
        jail: jail.to_string(),
        source,
    })?;
    out.push(b'\n');
    Ok(())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Loads the state file. A missing file is an empty state; damaged lines are skipped and
/// reported; only an unreadable file or a newer version is an error.
pub fn load(path: &Path) -> Result<Loaded, PersistError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::default()),
        Err(source) => {
            return Err(PersistError::Read {
                path: path.into(),
                source,
            });
        }
    };
    let mut reader = BufReader::new(file);
    let mut loaded = Loaded::default();
    let mut buf = Vec::new();
    let mut lineno = 0usize;
    let mut trailer: Option<(usize, u64)> = None;
    loop {
        buf.clear();
        let n = read_bounded_line(&mut reader, &mut buf).map_err(|source| PersistError::Read {
            path: path.into(),
            source,
        })?;
        if n == 0 {
            break;
        }
        lineno += 1;
        let problem = |message: String| LoadProblem {
            line: lineno,
            message,
        };
        if buf.len() > MAX_LINE_BYTES {
            loaded
                .problems
                .push(problem(format!("line longer than {MAX_LINE_BYTES} bytes")));
            continue;
        }
        let complete = buf.last() == Some(&b'\n');
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim_end_matches(['\n', '\r']);
        if lineno == 1 {
            match serde_json::from_str::<Header>(text) {
                Ok(h) if h.format == FORMAT => {
                    if h.version > u64::from(VERSION) {
                        return Err(PersistError::UnsupportedVersion {
                            path: path.into(),
                            found: h.version,
                        });
                    }
                    continue;
                }
                _ => loaded
                    .problems
                    .push(problem("missing or damaged header".into())),
            }
        }
        if trailer.is_some() {
            loaded
                .problems
                .push(problem("data after the end record".into()));
        }
        match serde_json::from_str::<Record>(text) {
            Ok(_) if !complete => loaded
                .problems
                .push(problem("record cut off (no newline)".into())),
            Ok(Record::Ban(b)) => loaded.state.bans.push(b),
            Ok(Record::Position(p)) => loaded.state.positions.push(p),
            Ok(Record::Cursor(c)) => loaded.state.cursors.push(c),
            Ok(Record::End { records }) => trailer = Some((lineno, records)),
            Err(e) => loaded
                .problems
                .push(problem(format!("unreadable record: {e}"))),
        }
    }
    let kept = (loaded.state.bans.len() + loaded.state.positions.len() + loaded.state.cursors.len())
        as u64;
    match trailer {
        None if lineno > 0 => loaded.problems.push(LoadProblem {
            line: 0,
            message: "end record missing: the file is truncated".into(),
        }),
        Some((line, records)) if records != kept => loaded.problems.push(LoadProblem {
            line,
            message: format!("end record counts {records} records, {kept} were readable"),
        }),
        _ => {}
    }
    Ok(loaded)
}

/// Reads one line into `buf`, keeping at most `MAX_LINE_BYTES + 1` bytes of it (the rest is
/// consumed and dropped). Returns the number of bytes consumed.
fn read_bounded_line(r: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut consumed = 0;
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(consumed);
        }
        let (take, done) = match chunk.iter().position(|&c| c == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = (MAX_LINE_BYTES + 1).saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..take.min(room)]);
        r.consume(take);
        consumed += take;
        if done {
            return Ok(consumed);
        }
    }
}
