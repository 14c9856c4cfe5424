//! regex_tool: `fail2zig regex`, a fail2ban-regex work-alike.
//!
//! Owns resolving the REGEX argument (a filter name with options, a filter file, or a regex),
//! feeding a log file or a literal log text through the engine with fail2ban-regex's engine flags,
//! and printing the report, the `-o/--out` lines or `--json` objects. It does not parse the command
//! line (`crate::cli::regex::RegexArgs`) and does not exit the process: the binary maps the
//! returned code. Called by `src/bin/fail2zig.rs` and by the differential tests.
//!
//! # Compatibility
//! Same arguments, header lines, report layout (`Results`, prefregex/failregex/ignoreregex hit
//! tables, date template hits, `Lines:` counts, line listings with the 20-line threshold) and
//! `-o` output as fail2ban-regex 1.0.2 (spec §6). Differences: `-D` prints no debuggex URLs;
//! LOG may be `systemd-journal[journalmatch=..., journalfiles=...]` (read natively, entries dated
//! by their realtime); an IGNOREREGEX on top of a filter file keeps the
//! file's ignoreregexes in the hit table (fail2ban-regex replaces its table and then mis-counts).
//! Names resolve against `-c` and, when that directory has no `filter.d`, our built-in filters.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::FilterError;
use super::engine::{
    Dated, Filter, FilterSettings, Finding, Line, LineOutcome, Memo, ResolvedDef, Searcher, UseDns,
    resolve_def,
};
use super::ip::FailId;
use crate::cli::regex::RegexArgs;

/// Runs `fail2zig regex` writing to stdout; returns the exit code (0, or 255 for the errors
/// fail2ban-regex reports with `ERROR:`).
///
/// Like Python's `print`, the output is line-buffered on a terminal and block-buffered otherwise.
pub fn run(args: &RegexArgs) -> Result<i32, FilterError> {
    use std::io::IsTerminal;
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    if lock.is_terminal() {
        return run_to(args, &mut lock);
    }
    let mut w = std::io::BufWriter::with_capacity(1 << 16, lock);
    let code = run_to(args, &mut w);
    let flushed = w.flush().map_err(|e| FilterError::Read {
        path: "standard output".into(),
        source: e,
    });
    let code = code?;
    flushed?;
    Ok(code)
}

/// Runs `fail2zig regex` writing to `out`.
pub fn run_to(args: &RegexArgs, out: &mut dyn Write) -> Result<i32, FilterError> {
    let mut tool = Tool::new(args);
    match tool.run(out) {
        Ok(code) => Ok(code),
        Err(ToolError::Reported(msg)) => {
            let _ = writeln!(out, "{msg}");
            let _ = out.flush();
            Ok(255)
        }
        Err(ToolError::Io(e)) => Err(FilterError::Read {
            path: "standard output".into(),
            source: e,
        }),
    }
}

enum ToolError {
    /// An error fail2ban-regex prints as text (`ERROR: …`), exit code 255.
    Reported(String),
    Io(std::io::Error),
}

impl From<std::io::Error> for ToolError {
    fn from(e: std::io::Error) -> ToolError {
        ToolError::Io(e)
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

/// A log file read line by line as fail2ban-regex's `FileContainer` does: split at `\n`, UTF-8
/// with U+FFFD for invalid bytes, trailing `\r`/`\n` stripped, and a last line without its `\n`
/// not read (it may still be being written).
/// One input line; journal entries carry their date (no date detection, as fail2ban's journal
/// backend).
struct Input {
    text: String,
    dated: Option<(super::engine::TupleLine, f64)>,
}

impl Input {
    fn plain(text: String) -> Input {
        Input { text, dated: None }
    }
}

/// `systemd-journal[journalmatch=..., journalpath=..., journalfiles=...]` as LOG: the entries of
/// the system journal (or the given files), selected by the match (also `-m`).
fn journal_input(
    spec: &str,
    extra_match: Option<&str>,
) -> Result<Box<dyn Iterator<Item = std::io::Result<Input>>>, ToolError> {
    let bad = |m: String| ToolError::Reported(format!("ERROR: {m}"));
    let (_, opts) = crate::fail2ban::parse_option_list(spec).map_err(|e| bad(e.to_string()))?;
    let mut paths = Vec::new();
    for key in ["journalpath", "journalfiles"] {
        if let Some(v) = opts.get(key) {
            paths.extend(v.split_whitespace().map(std::path::PathBuf::from));
        }
    }
    let matches: Vec<String> = opts
        .get("journalmatch")
        .map(String::as_str)
        .into_iter()
        .chain(extra_match)
        .map(String::from)
        .collect();
    let entries = crate::watch::journal::read_all(&paths, &matches)
        .map_err(|e| bad(format!("cannot read the journal: {}", chain(&e))))?;
    let zone = crate::date::TimeZone::local();
    Ok(Box::new(entries.map(move |l| {
        Ok(Input {
            dated: Some((l.tuple(&zone), l.time)),
            text: l.text,
        })
    })))
}

/// A log file read line by line: blocks are read into one buffer and the lines handed out in
/// place (a line is copied only when it is not UTF-8, or moved when it straddles two blocks).
struct LogLines<R> {
    reader: R,
    buf: Vec<u8>,
    /// The unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    /// The last line when it is not UTF-8, with U+FFFD for the invalid bytes.
    lossy: String,
}

impl<R: std::io::Read> LogLines<R> {
    fn new(reader: R) -> LogLines<R> {
        LogLines {
            reader,
            buf: vec![0; 1 << 16],
            start: 0,
            end: 0,
            eof: false,
            lossy: String::new(),
        }
    }

    /// The next line without its line end; None at the end of the file.
    fn next_line(&mut self) -> Option<std::io::Result<&str>> {
        let nl = loop {
            if let Some(p) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                break self.start + p;
            }
            if self.eof {
                return None;
            }
            // Keep the partial line, at the start of the buffer (grown if it fills it).
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.end == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Some(Err(e)),
            }
        };
        let line = &self.buf[self.start..nl];
        self.start = nl + 1;
        let keep = line.iter().rposition(|&b| b != b'\r').map_or(0, |p| p + 1);
        let line = &line[..keep];
        Some(Ok(match std::str::from_utf8(line) {
            Ok(s) => s,
            Err(_) => {
                self.lossy = String::from_utf8_lossy(line).into_owned();
                &self.lossy
            }
        }))
    }
}

impl LogLines<std::fs::File> {
    /// The rest of the file read in chunks of whole lines ([`Chunks`]).
    fn into_chunks(self) -> Chunks {
        Chunks {
            carry: self.buf[self.start..self.end].to_vec(),
            file: self.reader,
            eof: self.eof,
        }
    }
}

/// A log file read as [`LogLines`] reads it, a chunk of whole lines at a time straight into a
/// batch's text: one UTF-8 check per chunk instead of one per line, and no copy of each line.
/// Invalid UTF-8 becomes U+FFFD as in `LogLines` (the chunk is decoded at once, which is the
/// same: an invalid sequence never spans a `\n`).
struct Chunks {
    file: std::fs::File,
    /// Bytes read after the last chunk's lines (the start of the next chunk).
    carry: Vec<u8>,
    eof: bool,
}

impl Chunks {
    /// Bytes asked of the file per read.
    const READ: usize = 1 << 16;

    /// Reads the whole lines of about the next `want` bytes (at least one line, unless the
    /// file ends), each with its `\n`, into `text` (emptied first). True when no line is left
    /// after them (a last line without its `\n` is not read: it may still be being written).
    fn next_chunk(&mut self, want: usize, text: &mut String) -> std::io::Result<bool> {
        let mut raw = std::mem::take(text).into_bytes();
        raw.clear();
        raw.append(&mut self.carry);
        let mut whole = raw.contains(&b'\n');
        while !self.eof && (raw.len() < want || !whole) {
            let old = raw.len();
            let ask = want.saturating_sub(old).clamp(1, Self::READ);
            // `read_to_end` fills the spare capacity without zeroing it first.
            let k = (&mut self.file).take(ask as u64).read_to_end(&mut raw)?;
            self.eof = k < ask;
            whole = whole || raw[old..].contains(&b'\n');
        }
        // The whole lines; the rest waits for the next chunk.
        let end = memchr::memrchr(b'\n', &raw).map_or(0, |p| p + 1);
        self.carry.extend_from_slice(&raw[end..]);
        raw.truncate(end);
        *text = match String::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Ok(self.eof && !self.carry.contains(&b'\n'))
    }
}

/// Lines per batch of the `-o` modes: on two threads, large enough that handing a batch over (a
/// thread that waits for the other sleeps and is woken) costs nothing next to it (~1 ms of
/// work; 1024 lines cost 4% more CPU on the 1M-line benchmark log), small enough that the
/// batches in flight (~0.5 MB each) stay in the caches.
const BATCH: usize = 4096;

/// The bytes read into a batch per line it should hold (a batch is whole lines, about
/// `batch * BATCH_LINE_BYTES` bytes: syslog lines average about 100).
const BATCH_LINE_BYTES: usize = 128;

/// Whether `--threads` (default: two when the machine has them) asks for a second thread.
fn two_threads(opts: &crate::cli::regex::RegexOptions) -> bool {
    match opts.threads {
        Some(n) => n > 1,
        None => std::thread::available_parallelism().is_ok_and(|n| n.get() > 1),
    }
}

/// Lines read and dated by the main thread, then searched by both threads
/// ([`Tool::process_pipelined`]); the buffers go round and are reused.
#[derive(Default, Clone)]
struct Batch {
    /// The lines, one after another.
    text: String,
    /// The date texts reused by lines without their own, one after another.
    reuse: String,
    lines: Vec<BatchLine>,
}

impl Batch {
    /// The searches of the lines `range` into `memos` (one per line; the memos already there
    /// are made again, keeping their buffers), made in the order `grouper` gives (a memo
    /// depends on its line only; the order changes nothing but speed).
    fn memos(
        &self,
        searcher: &mut Searcher,
        range: std::ops::Range<usize>,
        memos: &mut Vec<Memo>,
        grouper: &mut Grouper,
    ) {
        let lines = &self.lines[range];
        let parts = |l: &BatchLine| l.dated.split(&self.text[l.text.0..l.text.1]);
        // The memos of the last batch are made again (their capture buffers are reused): the
        // order is a permutation of the lines, so each is made (and reset first) exactly once.
        memos.resize_with(lines.len(), Memo::default);
        let order = grouper.order(lines.iter().map(|l| parts(l).1.as_bytes()));
        let mut pairs = order.chunks_exact(2);
        for pair in &mut pairs {
            let (i, j) = (pair[0] as usize, pair[1] as usize);
            match two_mut(memos, i, j) {
                Some(two) => searcher.memo_pair(parts(&lines[i]), parts(&lines[j]), two),
                // Not an order of distinct lines: one by one.
                None => {
                    for k in [i, j] {
                        let (prefix, suffix) = parts(&lines[k]);
                        searcher.memo(prefix, suffix, &mut memos[k]);
                    }
                }
            }
        }
        for &i in pairs.remainder() {
            let (prefix, suffix) = parts(&lines[i as usize]);
            searcher.memo(prefix, suffix, &mut memos[i as usize]);
        }
    }
}

/// The elements `i` and `j` of `v`, when they are two distinct elements.
fn two_mut<T>(v: &mut [T], i: usize, j: usize) -> Option<[&mut T; 2]> {
    if i == j || i.max(j) >= v.len() {
        return None;
    }
    let (lo, hi) = v.split_at_mut(i.max(j));
    let (low, high) = (&mut lo[i.min(j)], &mut hi[0]);
    Some(if i < j { [low, high] } else { [high, low] })
}

/// Orders a batch's lines so that lines of one kind are searched one after another.
///
/// Searching a line walks the states of the gate's lazy DFA and the matchers of the regexes
/// its kind of message reaches. In log order the kinds alternate, and each walk meets states
/// and branches the previous line evicted or mispredicted; grouped, consecutive walks reuse
/// them. On the generated 1M-line sshd log this takes the search from about 285 to about 240
/// ns per line. The kind is a 7-bit hash of the six bytes after the first `:` (in syslog, the
/// start of the message after `daemon[pid]:`), or of the first six bytes without a `:`; the
/// order within a kind is the log order (a counting sort).
#[derive(Default)]
struct Grouper {
    kinds: Vec<u8>,
    order: Vec<u32>,
}

impl Grouper {
    const BITS: u32 = 7;

    fn kind(line: &[u8]) -> u8 {
        let head = &line[..line.len().min(64)];
        let at = memchr::memchr(b':', head).map_or(0, |p| p + 1);
        let mut k = [0u8; 8];
        for (slot, &b) in k.iter_mut().zip(line[at..].iter().take(6)) {
            *slot = b;
        }
        (u64::from_le_bytes(k).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - Self::BITS)) as u8
    }

    /// The indices of `lines`, grouped by kind.
    fn order<'a>(&mut self, lines: impl Iterator<Item = &'a [u8]>) -> &[u32] {
        let mut start = [0u32; (1 << Self::BITS) + 1];
        self.kinds.clear();
        for l in lines {
            let k = Self::kind(l);
            self.kinds.push(k);
            start[usize::from(k) + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        self.order.clear();
        self.order.resize(self.kinds.len(), 0);
        for (i, &k) in self.kinds.iter().enumerate() {
            let slot = &mut start[usize::from(k)];
            self.order[*slot as usize] = i as u32;
            *slot += 1;
        }
        &self.order
    }
}

/// The search thread's part of a batch: the lines before `split`, searched into `memos`.
struct Job {
    batch: Arc<Batch>,
    split: usize,
    memos: Vec<Memo>,
}

/// The buffers the in-order finishing of batches reuses.
#[derive(Default)]
struct Finishing {
    outcome: LineOutcome,
    ret: Vec<Finding>,
    out_buf: Vec<u8>,
}

/// One line of a [`Batch`].
#[derive(Clone)]
struct BatchLine {
    /// The line number in the file (1-based).
    number: usize,
    /// The line in `Batch::text`.
    text: (usize, usize),
    /// The date text it reuses in `Batch::reuse`.
    reuse: (usize, usize),
    dated: Dated,
}

/// Where the lines come from: a log file (read into one buffer), or entries made one by one
/// (journal, a text given on the command line).
enum Source {
    File(LogLines<std::fs::File>),
    Entries(Box<dyn Iterator<Item = std::io::Result<Input>>>),
}

/// fail2ban-regex's `shortstr`.
fn shortstr(s: &str, l: usize) -> String {
    if s.chars().count() > l {
        let mut t: String = s.chars().take(l - 3).collect();
        t.push_str("...");
        t
    } else {
        s.to_string()
    }
}

/// fail2ban-regex's `pprint_list`.
fn pprint_list(out: &mut Vec<String>, l: &[String], header: Option<&str>) {
    if l.is_empty() {
        return;
    }
    let mut s = String::new();
    if let Some(h) = header {
        s.push_str(&format!("|- {h}\n"));
    }
    s.push_str("|  ");
    s.push_str(&l.join("\n|  "));
    s.push_str("\n`-");
    out.push(s);
}

/// One failure of a regex for `-v`: (id, time, "multiple regex matched").
type IpHit = (Option<FailId>, Option<f64>, bool);

/// Where the failregexes came from.
enum RegexSource {
    /// A filter (its regex texts, options shown, header text).
    Filter {
        def: ResolvedDef,
        header: String,
        options: BTreeMap<String, String>,
        /// The options as fail2ban-regex prints them.
        shown: String,
    },
    /// A regex given on the command line.
    Line(String),
}

#[derive(Default)]
struct Stats {
    tested: usize,
    matched: usize,
    missed: usize,
    ignored: usize,
    matched_lines: Vec<String>,
    missed_lines: Vec<String>,
    ignored_lines: Vec<String>,
}

struct Tool<'a> {
    args: &'a RegexArgs,
    verbose: u8,
    threshold: usize,
    /// Lines per batch of the `-o` modes; 0 = line by line (tests: the reference).
    batch: usize,
    /// A fixed "now" (tests); None = the clock.
    now: Option<f64>,
}

impl<'a> Tool<'a> {
    fn new(args: &'a RegexArgs) -> Tool<'a> {
        Tool {
            args,
            verbose: args.opts.verbosity.unwrap_or(args.opts.verbose),
            threshold: if args.opts.maxlines > 0 {
                args.opts.maxlines as usize
            } else {
                20
            },
            batch: BATCH,
            now: None,
        }
    }

    fn settings(&self) -> FilterSettings {
        let a = self.args;
        FilterSettings {
            usedns: a.opts.usedns.as_deref().map_or(UseDns::Warn, UseDns::parse),
            logtimezone: a.opts.timezone.clone(),
            datepattern: a.opts.datepattern.clone(),
            maxlines: (a.opts.maxlines > 0).then_some(a.opts.maxlines),
            check_all: !a.opts.no_check_all && a.opts.out.is_none(),
            raw_host: a.opts.raw,
            ignore_pending: a.opts.out.is_some(),
            undated_is_now: false,
            compile_threads: two_threads(&a.opts),
        }
    }

    /// fail2ban-regex's `readRegex(value, 'fail')` resolution.
    fn resolve_regex(&self) -> Result<RegexSource, ToolError> {
        let value = &self.args.regex;
        if !looks_like_filter(value) {
            return Ok(RegexSource::Line(value.clone()));
        }
        let (name, options, shown) = split_options(value)?;
        let last6: String = {
            let c: Vec<char> = name.chars().collect();
            c[c.len().saturating_sub(6)..].iter().collect()
        };
        let has_ext = last6.contains('.');
        let config = &self.args.opts.config;
        let mut basedir = config.clone();
        let candidates: Vec<String> = if has_ext {
            vec![name.clone()]
        } else {
            vec![
                name.clone(),
                format!("{name}.conf"),
                format!("{name}.local"),
            ]
        };
        let mut found: Option<PathBuf> = None;
        for c in &candidates {
            let path = if !c.contains('/') {
                if config.file_name().is_some_and(|n| n == "filter.d") {
                    config.join(c)
                } else {
                    config.join("filter.d").join(c)
                }
            } else {
                let p = PathBuf::from(c);
                basedir = p.parent().map(Path::to_path_buf).unwrap_or_default();
                p
            };
            if path.is_file() {
                found = Some(path);
                break;
            }
        }
        let Some(file) = found else {
            let has_conf = config.join("filter.d").is_dir()
                || config.file_name().is_some_and(|n| n == "filter.d");
            if !has_conf && !name.contains('/') {
                if let Some(def) = super::builtin::builtin_filter(&name) {
                    let def = resolve_def(&def, &options)
                        .map_err(|e| ToolError::Reported(format!("ERROR: {}", chain(&e))))?;
                    return Ok(RegexSource::Filter {
                        def,
                        header: format!(
                            "Use   failregex filter file : {name}, basedir: (built-in)"
                        ),
                        options,
                        shown,
                    });
                }
            }
            return Ok(RegexSource::Line(value.clone()));
        };
        let in_filter_d = basedir.file_name().is_some_and(|n| n == "filter.d");
        let standard = basedir == *config || in_filter_d || (!has_ext && !name.contains('/'));
        let failed = |e: &dyn std::error::Error| {
            ToolError::Reported(format!(
                "Wrong config file: {}\nERROR: failed to load filter {value}",
                chain(e)
            ))
        };
        if standard {
            let base = if in_filter_d {
                basedir.parent().map(Path::to_path_buf).unwrap_or_default()
            } else {
                basedir.clone()
            };
            let stem = Path::new(&name)
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let stem = match stem.rsplit_once('.') {
                Some((s, _)) if !s.is_empty() => s.to_string(),
                _ => stem,
            };
            let def = crate::fail2ban::read_filter_with(&base, &stem, &options)
                .map_err(|e| failed(&e))?;
            let def = resolve_def(&def, &BTreeMap::new())
                .map_err(|e| ToolError::Reported(format!("ERROR: {}", chain(&e))))?;
            Ok(RegexSource::Filter {
                def,
                header: format!(
                    "Use   failregex filter file : {stem}, basedir: {}",
                    base.display()
                ),
                options,
                shown,
            })
        } else {
            let abs = std::path::absolute(&file).unwrap_or(file.clone());
            let def = read_foreign(&abs, &options).map_err(|e| failed(&*e))?;
            let def = resolve_def(&def, &BTreeMap::new())
                .map_err(|e| ToolError::Reported(format!("ERROR: {}", chain(&e))))?;
            Ok(RegexSource::Filter {
                def,
                header: format!("Use   failregex file : {name}"),
                options,
                shown,
            })
        }
    }

    fn run(&mut self, w: &mut dyn Write) -> Result<i32, ToolError> {
        let a = self.args;
        let quiet = a.opts.out.is_some() || a.opts.json;
        let mut head: Vec<String> = Vec::new();
        if !quiet {
            // fail2ban-regex prints this before anything can fail.
            for l in ["", "Running tests", "=============", ""] {
                writeln!(w, "{l}")?;
            }
        }
        let source = self.resolve_regex()?;
        let settings = self.settings();
        let mut def = match &source {
            RegexSource::Filter { def, .. } => def.clone(),
            RegexSource::Line(r) => ResolvedDef {
                failregex: vec![r.clone()],
                ..ResolvedDef::default()
            },
        };
        if let Some(i) = &a.ignoreregex {
            def.ignoreregex.push(i.clone());
        }
        // Header lines, in fail2ban-regex's order.
        let tz = a.opts.timezone.as_deref();
        // The header is printed only without -o/--json: its date line needs a detector of its
        // own (a few milliseconds of start-up), so quiet runs skip it.
        let date_line = |pattern: &str| {
            if quiet {
                return String::new();
            }
            let stats = crate::date::DateDetector::new(Some(pattern), tz)
                .map(|d| d.template_stats())
                .unwrap_or_default();
            let name = if stats.is_empty() || stats.len() > 2 {
                "Default Detectors".to_string()
            } else {
                stats[0].0.clone()
            };
            format!("Use      datepattern : {pattern} : {name}")
        };
        if a.opts.maxlines > 0 {
            head.push(format!("Use         maxlines : {}", a.opts.maxlines));
        }
        if let Some(d) = &a.opts.datepattern {
            head.push(date_line(d));
        }
        match &source {
            RegexSource::Filter {
                header,
                options,
                shown,
                ..
            } => {
                head.push(header.clone());
                if !options.is_empty() {
                    head.push(format!("Use   filter options : {shown}"));
                }
                if a.opts.maxlines == 0 {
                    if let Some(m) = def.maxlines {
                        head.push(format!("Use         maxlines : {}", m.max(1)));
                    }
                }
                if a.opts.datepattern.is_none() {
                    if let Some(d) = &def.datepattern {
                        head.push(date_line(d));
                    }
                }
            }
            RegexSource::Line(r) => {
                head.push(format!("Use   failregex line : {}", shortstr(r, 53)));
            }
        }
        let mut filter = Filter::from_resolved(&def, &settings).map_err(|e| {
            if !quiet {
                for h in &head {
                    let _ = writeln!(w, "{h}");
                }
            }
            match &e {
                FilterError::NoFailureId { regex } => {
                    ToolError::Reported(format!("ERROR: No failure-id group in '{regex}'"))
                }
                FilterError::Compile { regex, source } => ToolError::Reported(format!(
                    "ERROR: Unable to compile regular expression '{regex}':\n{source}"
                )),
                _ => ToolError::Reported(format!("ERROR: {}", chain(&e))),
            }
        })?;
        if let Some(i) = &a.ignoreregex {
            head.push(format!("Use ignoreregex line : {}", shortstr(i, 53)));
        }
        let log_path = Path::new(&a.log);
        let lines: Source = if a.log.starts_with("systemd-journal") && !log_path.exists() {
            head.push("Use         systemd journal".to_string());
            head.push(format!("Use         encoding : {}", a.opts.encoding));
            if let Some(m) = &a.opts.journalmatch {
                head.push(format!("Use    journal match : {m}"));
            }
            Source::Entries(journal_input(&a.log, a.opts.journalmatch.as_deref())?)
        } else if log_path.is_file() {
            head.push(format!("Use         log file : {}", a.log));
            head.push(format!("Use         encoding : {}", a.opts.encoding));
            let f = std::fs::File::open(log_path)
                .map_err(|e| ToolError::Reported(format!("ERROR: cannot read {}: {e}", a.log)))?;
            Source::File(LogLines::new(f))
        } else if filter.maxlines() <= 1 && !a.log.contains('\n') {
            head.push(format!(
                "Use      single line : {}",
                shortstr(&a.log.replace('\n', "\\n"), 53)
            ));
            Source::Entries(Box::new(std::iter::once(Ok(Input::plain(a.log.clone())))))
        } else {
            let l: Vec<String> = a.log.split('\n').map(String::from).collect();
            head.push(format!("Use      multi line : {} line(s)", l.len()));
            for (i, x) in l.iter().enumerate() {
                if i >= 5 {
                    head.push("| ...".into());
                    break;
                }
                head.push(format!("| {:>2}: {}", i + 1, shortstr(x, 53)));
            }
            head.push("`-".into());
            Source::Entries(Box::new(l.into_iter().map(|t| Ok(Input::plain(t)))))
        };
        if !quiet {
            head.push(String::new());
            for h in &head {
                writeln!(w, "{h}")?;
            }
        }
        let batched = matches!(lines, Source::File(_)) && a.opts.out.is_some() && self.batch > 0;
        match (lines, batched.then(|| filter.searcher()).flatten()) {
            // The filter was compiled on two threads exactly when a second thread is wanted.
            (Source::File(r), Some(searcher)) if settings.compile_threads => {
                self.process_pipelined(&mut filter, searcher, &mut r.into_chunks(), w)
            }
            (Source::File(r), Some(searcher)) => {
                self.process_batched(&mut filter, searcher, &mut r.into_chunks(), w)
            }
            (mut lines, _) => self.process(&mut filter, &mut lines, w),
        }
    }

    fn process(
        &mut self,
        filter: &mut Filter,
        lines: &mut Source,
        w: &mut dyn Write,
    ) -> Result<i32, ToolError> {
        let a = self.args;
        let now = self.now();
        let t0 = Instant::now();
        let mut stats = Stats::default();
        let mut fail_hits = vec![0u64; filter.failregexes().len()];
        let mut fail_ips: Vec<Vec<IpHit>> = vec![Vec::new(); filter.failregexes().len()];
        let mut ignore_hits = vec![0u64; filter.ignoreregexes().len()];
        let mut pref_matched = 0usize;
        let mut pref_groups: Vec<String> = Vec::new();
        let mut rows: Vec<(Finding, usize)> = Vec::new();
        let mut outcome = LineOutcome::default();
        let mut ret: Vec<Finding> = Vec::new();
        let mut out_buf: Vec<u8> = Vec::new();
        let mut entry: String;
        let read_error =
            |e: std::io::Error| ToolError::Reported(format!("ERROR: cannot read {}: {e}", a.log));
        for n in 0.. {
            let (text, dated) = match lines {
                Source::File(r) => match r.next_line() {
                    None => break,
                    Some(l) => (l.map_err(read_error)?, None),
                },
                Source::Entries(it) => match it.next() {
                    None => break,
                    Some(input) => {
                        let input = input.map_err(read_error)?;
                        entry = input.text;
                        (entry.as_str(), input.dated)
                    }
                },
            };
            let line = text.trim_end_matches(['\r', '\n']);
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let org: Vec<Line> = if filter.maxlines() > 1 {
                filter.line_buffer().to_vec()
            } else {
                Vec::new()
            };
            let full = org.len() >= filter.maxlines();
            match dated {
                Some((tuple, date)) => outcome = filter.process_dated(tuple, date, now),
                None => filter.process_into(line, now, &mut outcome),
            }
            if outcome.aborted {
                return Err(ToolError::Reported(format!(
                    "ERROR: unknown time zone abbreviation in line {}: {line}",
                    n + 1
                )));
            }
            if a.opts.out.is_some() {
                self.out_line(&mut outcome, &mut ret, &mut out_buf, w)?;
                continue;
            }
            ret.clear();
            let mut is_ignored = false;
            for f in outcome.findings.drain(..) {
                let multiple = ret.len() > 1;
                fail_hits[f.regex] += 1;
                fail_ips[f.regex].push((f.id.clone(), f.time, multiple));
                if f.data.truthy("nofail") {
                    is_ignored = true;
                } else {
                    ret.push(f);
                }
            }
            for i in &outcome.ignored {
                ignore_hits[*i] += 1;
            }
            if a.opts.json {
                rows.extend(ret.drain(..).map(|f| (f, n + 1)));
                continue;
            }
            if filter.prefregex().is_some() && outcome.prefregex_matched {
                pref_matched += 1;
                if self.verbose > 0 {
                    if pref_groups.len() < self.threshold {
                        pref_groups.push(py_groups(&outcome.prefregex_groups));
                    } else if pref_groups.len() == self.threshold {
                        pref_groups.push("...".into());
                    }
                }
            }
            if filter.maxlines() > 1 {
                for b in org.iter().skip(usize::from(full)) {
                    if !filter.line_buffer().iter().any(|x| **x == **b) {
                        let text = b.full().to_string();
                        if let Some(p) = stats.missed_lines.iter().position(|m| *m == text) {
                            stats.missed_lines.remove(p);
                        }
                        if a.opts.print_all_matched {
                            stats.matched_lines.push(text);
                        }
                        stats.matched += 1;
                        stats.missed = stats.missed.wrapping_sub(1);
                    }
                }
            }
            let ignored = is_ignored || !outcome.ignored.is_empty();
            if ignored {
                stats.ignored += 1;
                if !a.opts.print_no_ignored
                    && (a.opts.print_all_ignored || stats.ignored <= self.threshold + 1)
                {
                    stats.ignored_lines.push(line.to_string());
                }
            } else if !ret.is_empty() {
                stats.matched += 1;
                if a.opts.print_all_matched {
                    stats.matched_lines.push(line.to_string());
                }
            } else {
                stats.missed = stats.missed.wrapping_add(1);
                if !a.opts.print_no_missed
                    && (a.opts.print_all_missed || stats.missed <= self.threshold + 1)
                {
                    stats.missed_lines.push(line.to_string());
                }
            }
            stats.tested += 1;
        }
        if a.opts.json {
            for (f, n) in &rows {
                writeln!(w, "{}", json_row(f, *n))?;
            }
            return Ok(0);
        }
        if a.opts.out.is_some() {
            return Ok(0);
        }
        let elapsed = t0.elapsed().as_secs_f64();
        let mut o: Vec<String> = vec![String::new(), "Results".into(), "=======".into()];
        if let Some(p) = filter.prefregex() {
            let mut l = vec![p.expanded.clone()];
            for g in &pref_groups {
                l.push(format!("    {g}"));
            }
            o.push(format!("\nPrefregex: {pref_matched} total"));
            pprint_list(&mut o, &l, None);
        }
        let regex_table = |o: &mut Vec<String>,
                           title: &str,
                           srcs: Vec<&str>,
                           hits: &[u64],
                           ips: Option<&[Vec<IpHit>]>| {
            let mut l = Vec::new();
            let mut total = 0;
            for (i, s) in srcs.iter().enumerate() {
                total += hits[i];
                if hits[i] > 0 || self.verbose > 0 {
                    l.push(format!("{:>2}) [{}] {s}", i + 1, hits[i]));
                }
                if self.verbose > 0 {
                    for (id, t, m) in ips.map(|x| x[i].as_slice()).unwrap_or(&[]) {
                        l.push(format!(
                            "    {}  {}{}",
                            id.as_ref().map_or("None".to_string(), |x| x.to_string()),
                            local_ctime(t.unwrap_or(now)),
                            if *m { " (multiple regex matched)" } else { "" }
                        ));
                    }
                }
            }
            o.push(format!("\n{title}: {total} total"));
            pprint_list(o, &l, Some(" #) [# of hits] regular expression"));
        };
        regex_table(
            &mut o,
            "Failregex",
            filter
                .failregexes()
                .iter()
                .map(|r| r.source.as_str())
                .collect(),
            &fail_hits,
            Some(&fail_ips),
        );
        regex_table(
            &mut o,
            "Ignoreregex",
            filter
                .ignoreregexes()
                .iter()
                .map(|r| r.source.as_str())
                .collect(),
            &ignore_hits,
            None,
        );
        if let Some(d) = filter.date_detector() {
            o.push("\nDate template hits:".into());
            let mut l: Vec<String> = Vec::new();
            for ((n, h), (_, w, bw, pat, re)) in
                d.template_stats().into_iter().zip(d.template_details())
            {
                if self.verbose == 0 && h == 0 {
                    continue;
                }
                l.push(format!("[{h}] {n}"));
                if a.opts.verbose_date {
                    l.push(format!(
                        "    # weight: {w:.3} ({bw:.3}), pattern: {}",
                        pat.unwrap_or_default()
                    ));
                    l.push(format!("    # regex:   {re}"));
                }
            }
            pprint_list(&mut o, &l, Some("[# of hits] date format"));
        }
        o.push(format!(
            "\nLines: {} lines, {} ignored, {} matched, {} missed",
            stats.tested, stats.ignored, stats.matched, stats.missed
        ));
        o.push(format!("[processed in {elapsed:.2} sec]"));
        o.push(String::new());
        if a.opts.print_all_matched {
            self.print_lines(&mut o, "matched", stats.matched, &stats.matched_lines, true);
        }
        if !a.opts.print_no_ignored {
            let all = a.opts.print_all_ignored;
            self.print_lines(&mut o, "ignored", stats.ignored, &stats.ignored_lines, all);
        }
        if !a.opts.print_no_missed {
            let all = a.opts.print_all_missed;
            self.print_lines(&mut o, "missed", stats.missed, &stats.missed_lines, all);
        }
        for l in o {
            writeln!(w, "{l}")?;
        }
        Ok(0)
    }

    /// The engine's "now": the clock, or the fixed time a test set.
    fn now(&self) -> f64 {
        self.now.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0)
        })
    }

    /// `-o` mode: prints the failures of one line (those with a true `nofail` are not).
    fn out_line(
        &self,
        outcome: &mut LineOutcome,
        ret: &mut Vec<Finding>,
        out_buf: &mut Vec<u8>,
        w: &mut dyn Write,
    ) -> Result<(), ToolError> {
        // Most lines have no failure: nothing to print in any format.
        if outcome.findings.is_empty() {
            return Ok(());
        }
        ret.clear();
        ret.extend(
            outcome
                .findings
                .drain(..)
                .filter(|f| !f.data.truthy("nofail")),
        );
        self.write_out(ret, out_buf, w)
    }

    /// The `-o` mode on one thread: batches read and dated, searched in the grouped order of
    /// the two-thread mode, then finished in log order.
    fn process_batched(
        &mut self,
        filter: &mut Filter,
        mut searcher: Searcher,
        lines: &mut Chunks,
        w: &mut dyn Write,
    ) -> Result<i32, ToolError> {
        let now = self.now();
        let (mut b, mut memos, mut grouper) = (Batch::default(), Vec::new(), Grouper::default());
        let mut finishing = Finishing::default();
        let mut n = 0;
        loop {
            let eof = self.fill(&mut b, filter, lines, &mut n, now)?;
            b.memos(&mut searcher, 0..b.lines.len(), &mut memos, &mut grouper);
            self.finish_batch(filter, &b, memos.iter(), &mut finishing, now, w)?;
            if eof {
                return Ok(0);
            }
        }
    }

    /// Finishes the lines of `b` in order with their `memos` and prints their output.
    fn finish_batch<'m>(
        &self,
        filter: &mut Filter,
        b: &Batch,
        memos: impl Iterator<Item = &'m Memo>,
        f: &mut Finishing,
        now: f64,
        w: &mut dyn Write,
    ) -> Result<(), ToolError> {
        for (l, memo) in b.lines.iter().zip(memos) {
            let line = &b.text[l.text.0..l.text.1];
            let reuse = &b.reuse[l.reuse.0..l.reuse.1];
            filter.finish_line(line, &l.dated, Some(reuse), Some(memo), now, &mut f.outcome);
            if f.outcome.aborted {
                return Err(ToolError::Reported(format!(
                    "ERROR: unknown time zone abbreviation in line {}: {line}",
                    l.number
                )));
            }
            self.out_line(&mut f.outcome, &mut f.ret, &mut f.out_buf, w)?;
        }
        Ok(())
    }

    /// `-o` mode over a log file with two threads: this one reads and dates the lines (in
    /// order: date detection is stateful), the line gate and the searches of each line
    /// ([`Searcher::memo`], pure) are shared between the two, then this one finishes the lines
    /// in order with their results ([`Filter::finish_line`]) and prints. A batch (the whole
    /// lines of about `self.batch * BATCH_LINE_BYTES` bytes, see [`Tool::fill`]) goes to the
    /// search thread, which searches its first lines while this one searches the rest; two
    /// batches are in flight, so that dating one overlaps searching the other. The share of
    /// this thread adapts: it grows while this thread waits for the other and shrinks while
    /// the other's results are ready before they are needed. The output is the same as
    /// [`Tool::process`]'s.
    fn process_pipelined(
        &mut self,
        filter: &mut Filter,
        searcher: Searcher,
        lines: &mut Chunks,
        w: &mut dyn Write,
    ) -> Result<i32, ToolError> {
        let now = self.now();
        let Some(mut own) = filter.searcher() else {
            return Err(ToolError::Reported(
                "ERROR: the filter has no searcher for a second thread".into(),
            ));
        };
        std::thread::scope(|scope| {
            let (to_search, searching) = std::sync::mpsc::sync_channel::<Job>(2);
            let (searched, done) = std::sync::mpsc::sync_channel::<Vec<Memo>>(2);
            let mut searcher = searcher;
            let search = std::thread::Builder::new().name("search".into());
            let spawned = search.spawn_scoped(scope, move || {
                let mut grouper = Grouper::default();
                for job in searching {
                    let Job {
                        batch,
                        split,
                        mut memos,
                    } = job;
                    batch.memos(&mut searcher, 0..split, &mut memos, &mut grouper);
                    // The batch is dropped before its results go back: this thread holds no
                    // reference to it when the other reuses it.
                    drop(batch);
                    if searched.send(memos).is_err() {
                        break;
                    }
                }
            });
            spawned.map_err(|e| {
                ToolError::Reported(format!("ERROR: cannot start the search thread: {e}"))
            })?;
            // Batches in flight with this thread's memos (of their last lines).
            let mut pending: std::collections::VecDeque<(Arc<Batch>, Vec<Memo>)> =
                std::collections::VecDeque::new();
            let mut spare: Vec<Arc<Batch>> = Vec::new();
            // Result buffers of each thread: a memo is dropped by the thread that made it (no
            // allocator traffic between the threads).
            let (mut spare_theirs, mut spare_mine): (Vec<Vec<Memo>>, Vec<Vec<Memo>>) =
                (Vec::new(), Vec::new());
            // This thread's share of each batch, in lines.
            let step = (self.batch / 64).max(1);
            let mut grouper = Grouper::default();
            let mut share = self.batch / 4;
            let mut finishing = Finishing::default();
            let (mut n, mut eof) = (0, false);
            let lost = || ToolError::Reported("ERROR: the search thread stopped".into());
            loop {
                if !eof {
                    // The search thread no longer holds it: no copy is made.
                    let mut b = spare.pop().unwrap_or_default();
                    eof = self.fill(Arc::make_mut(&mut b), filter, lines, &mut n, now)?;
                    let len = b.lines.len();
                    let split = len - share.min(len);
                    let job = Job {
                        batch: Arc::clone(&b),
                        split,
                        memos: spare_theirs.pop().unwrap_or_default(),
                    };
                    to_search.send(job).map_err(|_| lost())?;
                    let mut mine = spare_mine.pop().unwrap_or_default();
                    b.memos(&mut own, split..len, &mut mine, &mut grouper);
                    pending.push_back((b, mine));
                    if pending.len() < 2 && !eof {
                        continue;
                    }
                }
                let Some((b, mine)) = pending.pop_front() else {
                    return Ok(0);
                };
                let theirs = match done.try_recv() {
                    Ok(m) => {
                        // Ready before it was needed: the other thread can take more.
                        share = share.saturating_sub(step);
                        m
                    }
                    Err(std::sync::mpsc::TryRecvError::Empty) => {
                        share = (share + step).min(self.batch);
                        done.recv().map_err(|_| lost())?
                    }
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => return Err(lost()),
                };
                let memos = theirs.iter().chain(&mine);
                self.finish_batch(filter, &b, memos, &mut finishing, now, w)?;
                spare.push(b);
                spare_theirs.push(theirs);
                spare_mine.push(mine);
            }
        })
    }

    /// Reads and dates up to `self.batch` lines into `b` (emptied first); true at the end of the
    /// file or after a line that ends the run.
    fn fill(
        &self,
        b: &mut Batch,
        filter: &mut Filter,
        chunks: &mut Chunks,
        n: &mut usize,
        now: f64,
    ) -> Result<bool, ToolError> {
        b.reuse.clear();
        b.lines.clear();
        let last = chunks
            .next_chunk(self.batch * BATCH_LINE_BYTES, &mut b.text)
            .map_err(|e| {
                ToolError::Reported(format!("ERROR: cannot read {}: {e}", self.args.log))
            })?;
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', b.text.as_bytes()) {
            let line = b.text[start..nl].trim_end_matches('\r');
            let from = start;
            start = nl + 1;
            *n += 1;
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let dated = filter.date_line(line, now);
            let reuse_start = b.reuse.len();
            if dated.reuse_last {
                b.reuse.push_str(filter.last_time_text());
            }
            let aborted = dated.aborted;
            b.lines.push(BatchLine {
                number: *n,
                text: (from, from + line.len()),
                reuse: (reuse_start, b.reuse.len()),
                dated,
            });
            if aborted {
                return Ok(true);
            }
        }
        Ok(last)
    }

    fn print_lines(&self, o: &mut Vec<String>, kind: &str, n: usize, l: &[String], all: bool) {
        if n == 0 {
            return;
        }
        let mut c = kind.chars();
        let cap: String = c
            .next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default();
        let header = format!("{cap} line(s):");
        if n < self.threshold || all {
            let v: Vec<String> = l.iter().map(|x| x.trim_end().to_string()).collect();
            pprint_list(o, &v, Some(&header));
        } else {
            o.push(format!(
                "{header} too many to print.  Use --print-all-{kind} to print all {n} lines"
            ));
        }
    }

    /// `-o/--out`: fail2ban-regex's `_prepaireOutput` for the failures of one line. `buf` is
    /// a reused buffer for the common id and ip outputs (one write per line).
    fn write_out(
        &self,
        ret: &[Finding],
        buf: &mut Vec<u8>,
        w: &mut dyn Write,
    ) -> Result<(), ToolError> {
        let fmt = self.args.opts.out.as_deref().unwrap_or("");
        match fmt {
            "id" | "fid" | "ip" => {
                if ret.is_empty() {
                    return Ok(());
                }
                buf.clear();
                for f in ret {
                    let id = if fmt == "ip" { f.ip() } else { f.id.as_ref() };
                    match id {
                        Some(id) => id.write_text(buf),
                        None => buf.extend_from_slice(b"None"),
                    }
                    buf.push(b'\n');
                }
                w.write_all(buf)?;
            }
            "msg" => {
                for f in ret {
                    for l in f.data.match_lines() {
                        writeln!(w, "{}", l.full())?;
                    }
                }
            }
            "row" => {
                for f in ret {
                    writeln!(
                        w,
                        "[{},\t{},\t{}],",
                        f.id.as_ref()
                            .map_or("None".to_string(), |i| py_repr(&i.to_string())),
                        f.time
                            .map_or("None".to_string(), |t| py_time(t, f.time_integral)),
                        py_fail_dict(f, false)
                    )?;
                }
            }
            _ if !fmt.contains('<') => {
                for f in ret {
                    writeln!(w, "{}", fail_get(f, fmt))?;
                }
            }
            _ => {
                let mut wrapped: Vec<(&Finding, String)> = Vec::new();
                let mut nl = false;
                for f in ret {
                    let msg_single = !nl && f.data.match_lines().len() <= 1;
                    let (v, used_msg) = action_tags(fmt, f, msg_single);
                    if used_msg && !msg_single {
                        nl = true;
                    }
                    if nl {
                        wrapped.push((f, v));
                        continue;
                    }
                    writeln!(w, "{v}")?;
                }
                for (f, v) in wrapped {
                    for l in f.data.match_lines() {
                        writeln!(w, "{}", v.replace("\x00msg\x00", l.full()))?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A filter file outside any `filter.d` ("foreign"), read with its includes: the files of its
/// directory are linked into a temporary `filter.d` so that includes and `.local` siblings resolve
/// where fail2ban resolves them (the file's own directory), then read the standard way.
fn read_foreign(
    path: &Path,
    options: &BTreeMap<String, String>,
) -> Result<crate::config::FilterDef, Box<dyn std::error::Error>> {
    let dir = path.parent().ok_or("a filter file has a directory")?;
    let file = path.file_name().ok_or("a filter file has a name")?;
    let stem = Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .ok_or("a filter file has a name")?;
    let tmp = std::env::temp_dir().join(format!("fail2zig-regex-{}", std::process::id()));
    let fd = tmp.join("filter.d");
    std::fs::create_dir_all(&fd)?;
    let result = (|| -> Result<crate::config::FilterDef, Box<dyn std::error::Error>> {
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let target = fd.join(e.file_name());
            if e.file_name() == file {
                std::os::unix::fs::symlink(e.path(), fd.join(format!("{stem}.conf")))?;
            } else if !target.exists() {
                std::os::unix::fs::symlink(e.path(), target)?;
            }
        }
        Ok(crate::fail2ban::read_filter_with(&tmp, &stem, options)?)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// `^/{0,3}[\w/_\-.]+(?:\[.*\])?$` (dot-all).
fn looks_like_filter(v: &str) -> bool {
    let rest = v;
    let name_len = rest
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '/' | '-' | '.')))
        .map_or(rest.len(), |(i, _)| i);
    if name_len == 0 {
        return false;
    }
    let tail = &rest[name_len..];
    tail.is_empty() || (tail.starts_with('[') && tail.ends_with(']'))
}

/// Splits `name[opts]` with fail2ban's option grammar.
/// Splits `name[opts]` with fail2ban's option grammar: the name, the options, and their Python
/// dict repr in the order written (for the `Use   filter options` line).
fn split_options(v: &str) -> Result<(String, BTreeMap<String, String>, String), ToolError> {
    if !v.contains('[') {
        return Ok((v.to_string(), BTreeMap::new(), "{}".into()));
    }
    let (name, opts) = crate::fail2ban::extract_options(v).map_err(|e| {
        ToolError::Reported(format!(
            "ERROR: Wrong filter name or options: {}\n       while parsing: {v}",
            chain(&e)
        ))
    })?;
    let items: Vec<String> = opts
        .iter()
        .map(|(k, v)| format!("{}: {}", py_repr(k), py_repr(v)))
        .collect();
    let map = opts
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Ok((name, map, format!("{{{}}}", items.join(", "))))
}

pub use crate::fail2ban::python::{float_repr as py_float, str_repr as py_repr};

/// A failure time as Python prints it: an `int` without `.0`, else a float.
pub fn py_time(t: f64, integral: bool) -> String {
    if integral && t.fract() == 0.0 {
        format!("{t:.0}")
    } else {
        py_float(t)
    }
}

fn py_opt<S: std::ops::Deref<Target = str>>(v: &Option<S>) -> String {
    v.as_deref().map_or("None".to_string(), py_repr)
}

fn py_groups(g: &[(super::engine::GroupName, Option<String>)]) -> String {
    let items: Vec<String> = g
        .iter()
        .map(|(k, v)| format!("{}: {}", py_repr(k), py_opt(v)))
        .collect();
    format!("{{{}}}", items.join(", "))
}

fn py_lines(l: &[Line]) -> String {
    let items: Vec<String> = l
        .iter()
        .map(|t| {
            format!(
                "[{}, {}, {}]",
                py_repr(t.prefix()),
                py_repr(t.date()),
                py_repr(t.suffix())
            )
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// The failure dict as Python prints it (key order: groups, then bookkeeping keys).
fn py_fail_dict(f: &Finding, with_matches: bool) -> String {
    let d = &f.data;
    let mut items: Vec<String> = d
        .groups
        .iter()
        .map(|(k, v)| format!("{}: {}", py_repr(k), py_opt(v)))
        .collect();
    if let Some(u) = &d.users {
        let set: Vec<String> = u.iter().map(|x| py_repr(x)).collect();
        items.push(format!("'users': {{{}}}", set.join(", ")));
    }
    if let Some(m) = &d.nofail_matches {
        items.push(format!("'nofail-matches': {}", py_lines(m)));
    }
    if with_matches {
        if let Some(m) = &d.matches {
            items.push(format!("'matches': {}", py_lines(m)));
        }
    }
    if let Some(ip) = &d.ip {
        items.push(format!("'ip': {}", py_repr(&ip.to_string())));
    }
    format!("{{{}}}", items.join(", "))
}

/// `failure.get(key)` printed with `print`.
fn fail_get(f: &Finding, k: &str) -> String {
    match k {
        "matches" => py_lines(f.data.match_lines()),
        "users" => f.data.users.as_ref().map_or("None".into(), |u| {
            let set: Vec<String> = u.iter().map(|x| py_repr(x)).collect();
            format!("{{{}}}", set.join(", "))
        }),
        "ip" => f.data.ip.as_ref().map_or("None".into(), |i| i.to_string()),
        "nofail-matches" => f
            .data
            .nofail_matches
            .as_deref()
            .map_or("None".into(), py_lines),
        _ => f.data.get(k).map_or("None".into(), str::to_string),
    }
}

/// fail2ban's `CommandAction.replaceDynamicTags` with a ticket built from the failure; returns
/// the text and whether `<msg>` was used.
fn action_tags(fmt: &str, f: &Finding, msg_single: bool) -> (String, bool) {
    let mut used_msg = false;
    let esc = |tag: &str, v: String| {
        if tag == "msg" {
            v
        } else {
            v.replace('\x00', "\\x00")
        }
    };
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    };
    let matches = || -> String {
        f.data
            .match_lines()
            .iter()
            .map(|l| l.full())
            .collect::<Vec<_>>()
            .join("\n")
    };
    // First pass: `<([^ <>]+)>` against the action info.
    let mut s = String::with_capacity(fmt.len() + 32);
    let mut pos = 0;
    while let Some(rel) = fmt[pos..].find('<') {
        let start = pos + rel;
        let rest = &fmt[start + 1..];
        let len = rest.find([' ', '<', '>']).unwrap_or(rest.len());
        if len == 0 || !rest[len..].starts_with('>') {
            s.push_str(&fmt[pos..start + 1]);
            pos = start + 1;
            continue;
        }
        let tag = &rest[..len];
        s.push_str(&fmt[pos..start]);
        let value: Option<String> = match tag {
            "ip" => Some(f.ip().map_or("None".into(), |i| i.to_string())),
            "fid" => Some(f.id.as_ref().map_or("None".into(), |i| i.to_string())),
            "family" => Some(match f.ip() {
                Some(FailId::Addr { addr, .. }) if addr.is_ipv4() => "inet4".into(),
                Some(FailId::Addr { .. }) => "inet6".into(),
                _ => "None".into(),
            }),
            "failures" => Some(
                f.data
                    .get("failures")
                    .map_or("0".to_string(), str::to_string),
            ),
            "time" => Some(match f.time {
                Some(t) => py_time(t, f.time_integral),
                None => py_float(now()),
            }),
            "matches" => Some(matches()),
            "restored" => Some("0".into()),
            "bancount" => Some("0".into()),
            "msg" => {
                used_msg = true;
                Some(if msg_single {
                    matches()
                } else {
                    "\x00msg\x00".to_string()
                })
            }
            "br" => Some("\n".into()),
            "sp" => Some(" ".into()),
            _ => None,
        };
        match value {
            Some(v) => s.push_str(&esc(tag, v)),
            None => s.push_str(&fmt[start..start + 1 + len + 1]),
        }
        pos = start + 1 + len + 1;
    }
    s.push_str(&fmt[pos..]);
    // Second pass: `<F-NAME>` against the ticket data (None values are not in it).
    let mut o = String::with_capacity(s.len());
    let mut pos = 0;
    while let Some(rel) = s[pos..].find("<F-") {
        let start = pos + rel;
        let rest = &s[start + 3..];
        let len = rest
            .bytes()
            .take_while(|b| {
                b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-'
            })
            .count();
        if len == 0 || !rest[len..].starts_with('>') {
            o.push_str(&s[pos..start + 1]);
            pos = start + 1;
            continue;
        }
        o.push_str(&s[pos..start]);
        let key = super::tags::map_tag_to_opt(&rest[..len]);
        let v = match key.as_str() {
            "matches" => Some(py_lines(f.data.match_lines())),
            "failures" => Some("0".into()),
            _ => fail_get_opt(f, &key),
        };
        if let Some(v) = v {
            o.push_str(&esc(&format!("F_{key}"), v));
        }
        pos = start + 3 + len + 1;
    }
    o.push_str(&s[pos..]);
    (o, used_msg)
}

fn fail_get_opt(f: &Finding, k: &str) -> Option<String> {
    match k {
        "ip" => f.data.ip.as_ref().map(|i| i.to_string()),
        "users" => f.data.users.as_ref().map(|u| {
            let set: Vec<String> = u.iter().map(|x| py_repr(x)).collect();
            format!("{{{}}}", set.join(", "))
        }),
        _ => f.data.get(k).map(str::to_string),
    }
}

/// `--json`: one object per failure.
fn json_row(f: &Finding, line: usize) -> String {
    let ip = f.ip();
    let v = serde_json::json!({
        "line": line,
        "id": f.id.as_ref().map(|i| i.to_string()),
        "ip": ip.map(|i| i.to_string()),
        "host": f.data.get("dns").or_else(|| f.data.get("ip4")).or_else(|| f.data.get("ip6")),
        "time": f.time,
        "iso": f.time.map(iso_utc),
        "user": f.data.get("user"),
        "regex": f.regex,
        "matches": f.data.match_lines().iter().map(|l| l.full()).collect::<Vec<_>>(),
    });
    v.to_string()
}

/// An epoch time as `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
pub fn iso_utc(t: f64) -> String {
    let secs = t.floor() as i64;
    let frac = t - secs as f64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = crate::date::civil::civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if frac > 0.0 {
        let f = format!("{frac:.6}");
        s.push_str(f.trim_start_matches('0').trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// `time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(t))`.
fn local_ctime(t: f64) -> String {
    let utc = t.floor() as i64;
    let secs = utc + i64::from(crate::date::TimeZone::local().offset_at(utc).0);
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = crate::date::civil::civil_from_days(days);
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {d:02} {:02}:{:02}:{:02} {y}",
        DAYS[days.rem_euclid(7) as usize],
        MONS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `fail2zig regex ARGS` with `threads` threads and batches of `batch` lines.
    fn run_with(argv: &[&str], threads: &str, batch: usize) -> String {
        #[derive(clap::Parser)]
        struct Wrap {
            #[command(flatten)]
            args: RegexArgs,
        }
        let mut full = vec!["fail2zig-regex", "--threads", threads];
        full.extend_from_slice(argv);
        let w = <Wrap as clap::Parser>::try_parse_from(&full).expect("arguments");
        let mut tool = Tool::new(&w.args);
        tool.batch = batch;
        tool.now = Some(1_700_000_000.5);
        let mut out = Vec::new();
        match tool.run(&mut out) {
            Ok(_) => {}
            Err(ToolError::Reported(msg)) => writeln!(out, "{msg}").expect("write"),
            Err(ToolError::Io(e)) => panic!("{argv:?}: {e}"),
        }
        String::from_utf8(out).expect("utf-8 output")
    }

    #[test]
    fn two_mut_gives_two_distinct_elements_in_the_order_asked() {
        let mut v = [1, 2, 3];
        let [a, b] = two_mut(&mut v, 2, 0).expect("distinct");
        (*a, *b) = (*a * 10, *b * 10);
        assert_eq!(v, [10, 2, 30]);
        assert!(two_mut(&mut v, 1, 1).is_none());
        assert!(two_mut(&mut v, 0, 3).is_none());
    }

    /// The grouped order is a permutation of the lines that puts lines of one kind together,
    /// in log order within each kind.
    #[test]
    fn grouper_orders_lines_by_kind() {
        let lines = [
            " h sshd[1]: Failed password for a",
            " h CRON[2]: pam_unix(cron:session)",
            " h sshd[31]: Failed password for b",
            " h sshd[4]: Accepted publickey",
            " h CRON[5]: pam_unix(cron:session)",
            "no colon",
            " h sshd[6]: Failed password for c",
            "",
        ];
        let mut g = Grouper::default();
        let order = g.order(lines.iter().map(|l| l.as_bytes())).to_vec();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..lines.len() as u32).collect::<Vec<_>>());
        let kind = |i: u32| Grouper::kind(lines[i as usize].as_bytes());
        for (a, b) in [(0, 2), (2, 6), (1, 4)] {
            assert_eq!(kind(a), kind(b), "{a} {b}");
        }
        // Each kind's lines are contiguous and in log order.
        let mut seen = Vec::new();
        for w in order.windows(2) {
            if kind(w[0]) == kind(w[1]) {
                assert!(w[0] < w[1], "{order:?}");
            } else {
                seen.push(kind(w[0]));
                assert!(!seen.contains(&kind(w[1])), "{order:?}");
            }
        }
    }

    /// Chunks of whole lines hold the lines `LogLines` reads, for any chunk size: invalid
    /// UTF-8 as U+FFFD, `\r\n` ends, a line longer than a read, no last line without its `\n`.
    #[test]
    fn chunks_read_the_lines_log_lines_reads() {
        let dir = std::env::temp_dir().join(format!("fail2zig-chunks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let long = "x".repeat(Chunks::READ * 2 + 7);
        let texts: Vec<Vec<u8>> = vec![
            b"a\nbb\n\nccc\n".to_vec(),
            b"a\r\nb\xff\xfe c\n\xe2\x82\n# not read: no end".to_vec(),
            format!("1\n{long}\n2\n").into_bytes(),
            b"".to_vec(),
            b"no end".to_vec(),
        ];
        for (k, bytes) in texts.iter().enumerate() {
            let path = dir.join(format!("log{k}"));
            std::fs::write(&path, bytes).expect("write log");
            let open = || std::fs::File::open(&path).expect("open log");
            let mut want_lines = Vec::new();
            let mut r = LogLines::new(open());
            while let Some(l) = r.next_line() {
                want_lines.push(l.expect("read").to_string());
            }
            for want in [1, 2, 5, 64, Chunks::READ, 1 << 20] {
                let mut chunks = LogLines::new(open()).into_chunks();
                let (mut got, mut text) = (Vec::new(), String::new());
                loop {
                    let last = chunks.next_chunk(want, &mut text).expect("read");
                    assert!(text.is_empty() || text.ends_with('\n'), "{k} {want}");
                    got.extend(text.lines().map(|l| l.trim_end_matches('\r').to_string()));
                    if last {
                        break;
                    }
                }
                assert_eq!(got, want_lines, "log {k}, chunks of {want} bytes");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The batched `-o` modes (one and two threads) print what the line-by-line mode prints,
    /// with batches so small that lines, reused dates and mlfid state cross many batch
    /// boundaries: every stock filter of the installed fail2ban over its sample log followed by
    /// the benchmark line shapes (`row` prints ids, times and every group of every failure),
    /// the template of the acceptance test on sshd in all its modes, and a run that ends on an
    /// unknown time zone.
    #[test]
    fn two_threads_print_the_same() {
        const LOGS: &str = "/usr/lib/python3/dist-packages/fail2ban/tests/files/logs";
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let shapes =
            std::fs::read_to_string(root.join("testdata/filter/gate-lines.log")).expect("shapes");
        let dir = std::env::temp_dir().join(format!("fail2zig-threads-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut names: Vec<String> = std::fs::read_dir("/etc/fail2ban/filter.d")
            .expect("fail2ban is installed (tools/setup.sh)")
            .filter_map(|e| {
                let n = e
                    .ok()?
                    .file_name()
                    .to_str()?
                    .strip_suffix(".conf")?
                    .to_string();
                Path::new(LOGS).join(&n).is_file().then_some(n)
            })
            .collect();
        names.sort();
        assert!(names.len() > 60, "only {} sample logs", names.len());
        let mut runs: Vec<(String, Vec<String>)> = Vec::new();
        for n in &names {
            let mut text = std::fs::read_to_string(Path::new(LOGS).join(n)).expect("log");
            text.push('\n');
            text.push_str(&shapes);
            let log = dir.join(n);
            std::fs::write(&log, text).expect("write log");
            let log = log.to_string_lossy().into_owned();
            runs.push((
                n.clone(),
                vec!["-o".into(), "row".into(), log.clone(), n.clone()],
            ));
        }
        let sshd = dir.join("sshd").to_string_lossy().into_owned();
        for mode in ["normal", "ddos", "extra", "aggressive"] {
            let f = format!("sshd[mode={mode}]");
            let args = vec![
                "-o".into(),
                "<ip>\t<time>\t<F-USER>".into(),
                sshd.clone(),
                f,
            ];
            runs.push((format!("sshd {mode}"), args));
        }
        let zone = dir.join("zone.log");
        let mut text = std::fs::read_to_string(Path::new(LOGS).join("sshd")).expect("log");
        text.push_str("\n2005-01-02 03:04:05 XYZ sshd[1]: Invalid user x from 192.0.2.1\n");
        text.push_str(&shapes);
        std::fs::write(&zone, text).expect("write log");
        let zone = zone.to_string_lossy().into_owned();
        runs.push((
            "zone".into(),
            vec!["-o".into(), "ip".into(), zone, "sshd".into()],
        ));
        for (what, args) in &runs {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let one = run_with(&args, "1", 0);
            for batch in [1, 3, 64] {
                for threads in ["1", "2"] {
                    let got = run_with(&args, threads, batch);
                    assert_eq!(one, got, "{what}: {threads} thread(s), batch {batch}");
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn filter_names_are_recognised() {
        assert!(looks_like_filter("sshd"));
        assert!(looks_like_filter("sshd[mode=aggressive]"));
        assert!(looks_like_filter("/etc/fail2ban/filter.d/sshd.conf"));
        assert!(!looks_like_filter("Failed .* from <HOST>"));
        assert!(!looks_like_filter("x[y"));
    }

    #[test]
    fn log_lines_split_like_file_container() {
        // Blocks of 3 bytes: lines straddle blocks and outgrow the buffer.
        struct Trickle<'a>(&'a [u8]);
        impl std::io::Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(out.len()).min(3);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let text = b"a\r\n\nlong line \xff here\r\r\n\r\nlast\nunfinished";
        let mut r = LogLines::new(Trickle(text));
        r.buf = vec![0; 4];
        let mut got = Vec::new();
        while let Some(l) = r.next_line() {
            got.push(l.unwrap().to_string());
        }
        assert_eq!(got, ["a", "", "long line \u{fffd} here", "", "last"]);
    }

    #[test]
    fn python_reprs() {
        assert_eq!(py_repr("a'b"), "\"a'b\"");
        assert_eq!(py_repr("x\ty"), "'x\\ty'");
        assert_eq!(py_float(1124013600.0), "1124013600.0");
        assert_eq!(py_float(1124013600.5), "1124013600.5");
        assert_eq!(shortstr(&"x".repeat(60), 53).len(), 53);
        assert_eq!(iso_utc(1124013600.0), "2005-08-14T10:00:00Z");
    }
}
