//! engine: one compiled filter and its per-log state; fail2ban's `Filter.processLine` and
//! `findFailure`.
//!
//! Owns the compiled prefregex/failregex/ignoreregex set, the date split of each line, the
//! multi-line buffer, the `F-MLFID` connection cache, id and host selection. It does not read
//! files (the daemon's `watch` and `fail2zig regex` hand it lines), count failures over time or
//! police times against `findtime` (the jail does), and it never touches the network unless
//! `usedns = yes|warn` meets a DNS name.
//!
//! Callers: the daemon (through [`Filter::process_line`]), `fail2zig regex`
//! (`super::regex_tool`) and the sample-corpus runner (`super::compat`), the last two through
//! [`Filter::process`] which returns every finding the way fail2ban's `checkAll` mode does.
//!
//! # Compatibility
//! The algorithm is fail2ban 1.0.2's, step by step (spec §3): the regexes see the line with the
//! date text cut out plus a final `\n`; an empty date span or a line without a date reuse the last
//! date while it is "recent" (newer than now − 60 s) and then see the whole line; the early and
//! late ignoreregex checks and their asymmetry; prefregex `content` replacing the buffer and its
//! groups merged under the failregex groups (None overwriting); first-match-wins versus checkAll;
//! the multi-line bookkeeping including `<SKIPLINES>` and the reduced-buffer quirk; the mlfid cache
//! (100 entries, FIFO, 300 s from insertion on the engine clock); ip4 → ip6 → dns → fid host
//! choice, complex ids and DNS expansion.
//! Server time policing (§3.2 step 4: |date − now| > 60 s replaced by now, lines older than
//! findtime dropped, future times clamped) is NOT done here: with server settings a line without
//! any usable date gets `now` (fail2ban's "in operation" behaviour) and the jail decides the rest.
//! `tuple_X` groups are kept as plain groups (fail2ban builds a tuple; no stock filter uses them).
//! `line_buffer()` is kept up to date only for `maxlines > 1` (the only case anyone reads it).
//!
//! Speed: two rejection gates avoid capture work. In first-match mode (server, `-o`) with
//! one-line buffers, the line gate (`super::composed`: the prefregex composed with each
//! failregex, one anchored leftmost-first lazy DFA) rejects a line before any regex runs, or names
//! the first failregex that may match, so those before it are skipped. Otherwise (check-all mode,
//! multi-line buffers, or after the line gate's candidate did not match) the content gate
//! (`pyre::GateSet`) tells which failregexes may match the text they see. Group names are
//! interned (`GroupName`: copied and compared as pointers). A matching line is one allocation
//! (`TupleLine`) searched in place when it has no prefix; group values borrow the searched text
//! until a failure dict keeps them; mlfid dicts are edited in place in the cache and shared with
//! findings copy-on-write (`FindingData`).

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use super::FilterError;
use super::composed::{ComposedGate, Verdict};
use super::ip::{FailId, IdKind, text_to_ip};
use super::pyre;
use super::tags;
use super::value::Value;
use crate::config::FilterDef;
use crate::date::{DateDetector, DateFail};

pub use crate::config::UseDns;

/// How a filter runs: the jail's settings plus the engine mode flags that differ between the
/// server, `fail2ban-regex` and the sample harness.
#[derive(Debug, Clone)]
pub struct FilterSettings {
    /// `usedns` (the jail's, or `fail2ban-regex --usedns`).
    pub usedns: UseDns,
    /// `logtimezone`: the zone of dates that carry none.
    pub logtimezone: Option<String>,
    /// Overrides the filter's `datepattern`.
    pub datepattern: Option<String>,
    /// Overrides the filter's `maxlines`.
    pub maxlines: Option<u32>,
    /// Evaluate every failregex (fail2ban's `checkAllRegex`); the server stops at the first.
    pub check_all: bool,
    /// Keep DNS names as ids (fail2ban's `returnRawHost`).
    pub raw_host: bool,
    /// Drop pending (id-less mlfid) matches in first-match mode (fail2ban's `ignorePending`).
    pub ignore_pending: bool,
    /// A line without a usable date is dated `now` (the server "in operation").
    pub undated_is_now: bool,
    /// A second thread builds the line gate while this one compiles the regexes and the date
    /// detector (`fail2zig regex`; the daemon never starts a thread).
    pub compile_threads: bool,
}

impl Default for FilterSettings {
    /// The server's settings.
    fn default() -> FilterSettings {
        FilterSettings {
            usedns: UseDns::Warn,
            logtimezone: None,
            datepattern: None,
            maxlines: None,
            check_all: false,
            raw_host: false,
            ignore_pending: true,
            undated_is_now: true,
            compile_threads: false,
        }
    }
}

/// One log line split around its date: `(prefix, date text, suffix)`.
///
/// Kept as one text, `prefix + date + suffix + "\n"`: one allocation per line, and a line without
/// prefix (the date opens most logs) is searched in place, since the regexes see
/// `prefix + suffix + "\n"`.
#[derive(Clone, PartialEq, Eq)]
pub struct TupleLine {
    /// `prefix + date + suffix + "\n"`.
    buf: String,
    /// Where the date starts and ends in `buf`.
    date: (usize, usize),
}

impl TupleLine {
    /// The line `(prefix, date, suffix)`.
    pub fn new(prefix: &str, date: &str, suffix: &str) -> TupleLine {
        let mut buf = String::with_capacity(prefix.len() + date.len() + suffix.len() + 1);
        buf.push_str(prefix);
        buf.push_str(date);
        buf.push_str(suffix);
        buf.push('\n');
        TupleLine {
            buf,
            date: (prefix.len(), prefix.len() + date.len()),
        }
    }
    /// The text before the date.
    pub fn prefix(&self) -> &str {
        &self.buf[..self.date.0]
    }
    /// The date text.
    pub fn date(&self) -> &str {
        &self.buf[self.date.0..self.date.1]
    }
    /// The text after the date.
    pub fn suffix(&self) -> &str {
        &self.buf[self.date.1..self.buf.len() - 1]
    }
    /// What the regexes see: the line without its date.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        if self.date.0 == 0 {
            return std::borrow::Cow::Borrowed(self.suffix());
        }
        let mut s = String::with_capacity(self.date.0 + self.buf.len() - self.date.1);
        s.push_str(self.prefix());
        s.push_str(self.suffix());
        std::borrow::Cow::Owned(s)
    }
    /// The whole line.
    pub fn full(&self) -> &str {
        &self.buf[..self.buf.len() - 1]
    }
    /// What the regexes see with its final `\n`, when that is a part of the line (no prefix).
    fn searched(&self) -> Option<&str> {
        (self.date.0 == 0).then(|| &self.buf[self.date.1..])
    }
}

impl std::fmt::Debug for TupleLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TupleLine")
            .field("prefix", &self.prefix())
            .field("date", &self.date())
            .field("suffix", &self.suffix())
            .finish()
    }
}

/// A buffered line, shared between the buffer and failures.
pub type Line = Arc<TupleLine>;

/// A group name: interned for the life of the process, so that it is copied and compared as a
/// pointer (no reference counting, no string comparison on the per-line path).
///
/// Names come only from filter definitions (group names and fail2ban's fixed keys), never from
/// log text, so the interned set stays as small as the configuration's set of names; a reload
/// adds only names it has not seen.
#[derive(Clone, Copy)]
pub struct GroupName(&'static str);

impl GroupName {
    /// The interned name `s`.
    pub fn new(s: &str) -> GroupName {
        static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
        let mut names = NAMES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = names.iter().find(|n| **n == s) {
            return GroupName(n);
        }
        let n: &'static str = Box::leak(s.to_string().into_boxed_str());
        names.push(n);
        GroupName(n)
    }
    /// The name.
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

/// fail2ban's fixed group names, interned once.
struct Keys {
    content: GroupName,
    mlfid: GroupName,
    nofail: GroupName,
    mlfgained: GroupName,
    mlfforget: GroupName,
    user: GroupName,
    fid: GroupName,
    cidr: GroupName,
    ip4: GroupName,
    ip6: GroupName,
    dns: GroupName,
}

fn keys() -> &'static Keys {
    static KEYS: std::sync::OnceLock<Keys> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| Keys {
        content: GroupName::new("content"),
        mlfid: GroupName::new("mlfid"),
        nofail: GroupName::new("nofail"),
        mlfgained: GroupName::new("mlfgained"),
        mlfforget: GroupName::new("mlfforget"),
        user: GroupName::new("user"),
        fid: GroupName::new("fid"),
        cidr: GroupName::new("cidr"),
        ip4: GroupName::new("ip4"),
        ip6: GroupName::new("ip6"),
        dns: GroupName::new("dns"),
    })
}

impl PartialEq for GroupName {
    fn eq(&self, other: &GroupName) -> bool {
        // Interned: equal names are the same string.
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for GroupName {}

impl std::ops::Deref for GroupName {
    type Target = str;
    fn deref(&self) -> &str {
        self.0
    }
}

impl std::fmt::Debug for GroupName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

impl std::fmt::Display for GroupName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// The failure dict of fail2ban: named groups plus the bookkeeping keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FailData {
    /// Named groups in insertion order; `None` = did not participate.
    pub groups: Vec<(GroupName, Option<Value>)>,
    /// `matches`: the lines of this failure.
    pub matches: Option<Vec<Line>>,
    /// `nofail-matches`: lines of nofail matches of the same connection.
    pub nofail_matches: Option<Vec<Line>>,
    /// `users`: every user seen on the connection (a set; insertion order kept).
    pub users: Option<Vec<Value>>,
    /// `mlfpending`.
    pub mlfpending: bool,
    /// `ip`: the host of a complex id.
    pub ip: Option<FailId>,
}

impl FailData {
    /// A group's value (None when absent or not participating).
    pub fn get(&self, k: &str) -> Option<&str> {
        self.groups
            .iter()
            .find(|(n, _)| &**n == k)
            .and_then(|(_, v)| v.as_deref())
    }
    /// A group's value by interned name.
    fn get_name(&self, k: GroupName) -> Option<&str> {
        self.groups
            .iter()
            .find(|(n, _)| *n == k)
            .and_then(|(_, v)| v.as_deref())
    }
    /// Python truthiness of a group, by interned name.
    fn truthy_name(&self, k: GroupName) -> bool {
        self.get_name(k).is_some_and(|v| !v.is_empty())
    }
    /// `d.pop(k, None)` by interned name.
    fn pop_name(&mut self, k: GroupName) -> Option<Value> {
        let i = self.groups.iter().position(|(n, _)| *n == k)?;
        self.groups.remove(i).1
    }
    /// Python truthiness of a group: present and non-empty.
    pub fn truthy(&self, k: &str) -> bool {
        self.get(k).is_some_and(|v| !v.is_empty())
    }
    /// `d[k] = v` with an interned name.
    fn set_str(&mut self, k: GroupName, v: &str) {
        match self.groups.iter_mut().find(|(n, _)| *n == k) {
            Some(e) => e.1 = Some(Value::new(v)),
            None => self.groups.push((k, Some(Value::new(v)))),
        }
    }
    /// The lines of `matches`.
    pub fn match_lines(&self) -> &[Line] {
        self.matches.as_deref().unwrap_or(&[])
    }
}

/// One result of `findFailure`: fail2ban's `[regexIndex, id, date, failDict]`.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Index of the failregex.
    pub regex: usize,
    /// The id; None = pending (an mlfid match whose host is not known yet).
    pub id: Option<FailId>,
    /// The failure's time; None only when dates are not forced (harness, `fail2zig regex`).
    pub time: Option<f64>,
    /// Python holds the time as an `int` (a zone was applied, or TAI64N): printed without `.0`.
    pub time_integral: bool,
    /// The failure dict.
    pub data: FindingData,
}

/// The failure dict of a finding: its own, or the mlfid cache's entry as it was when the line
/// was processed. A shared entry is copied when the cache next changes it while the finding is
/// still alive (copy on write), so a finding never sees later lines' edits and a finding dropped
/// before the next line costs no copy.
#[derive(Clone)]
pub enum FindingData {
    /// A failure without `F-MLFID`.
    Own(FailData),
    /// A snapshot of an mlfid cache entry.
    Shared(Arc<FailData>),
}

impl std::ops::Deref for FindingData {
    type Target = FailData;
    fn deref(&self) -> &FailData {
        match self {
            FindingData::Own(d) => d,
            FindingData::Shared(d) => d,
        }
    }
}

impl std::fmt::Debug for FindingData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl FindingData {
    /// The dict, owned (copied only when the cache still shares it).
    pub fn into_owned(self) -> FailData {
        match self {
            FindingData::Own(d) => d,
            FindingData::Shared(d) => Arc::unwrap_or_clone(d),
        }
    }
}

impl Finding {
    /// A real failure: not pending and not nofail.
    pub fn is_failure(&self) -> bool {
        self.id.is_some() && !self.data.truthy_name(keys().nofail)
    }
    /// fail2ban's `ticket.getIP()`: the complex id's host, else the id.
    pub fn ip(&self) -> Option<&FailId> {
        self.data.ip.as_ref().or(self.id.as_ref())
    }
}

/// Everything one line produced.
#[derive(Debug, Clone, Default)]
pub struct LineOutcome {
    /// The findings, in regex order.
    pub findings: Vec<Finding>,
    /// Indices of the ignoreregexes that matched (fail2ban's `onIgnoreRegex`).
    pub ignored: Vec<usize>,
    /// Whether the prefregex's last search matched (fail2ban-regex reads the regex object's
    /// state, which a line that ends before the prefregex search leaves unchanged).
    pub prefregex_matched: bool,
    /// The prefregex groups when it matched (for `fail2zig regex -v`).
    /// Filled in check-all mode only (fail2ban-regex's report).
    pub prefregex_groups: Vec<(GroupName, Option<String>)>,
    /// The line was aborted (unknown time zone abbreviation, fail2ban's KeyError).
    pub aborted: bool,
}

impl LineOutcome {
    /// Empties the outcome, keeping its buffers.
    fn reset(&mut self, prefregex_matched: bool) {
        self.findings.clear();
        self.ignored.clear();
        self.prefregex_groups.clear();
        self.prefregex_matched = prefregex_matched;
        self.aborted = false;
    }
}

/// A compiled regex with fail2ban's extras.
#[derive(Debug, Clone)]
pub struct CompiledRegex {
    /// The text as written in the filter (tags not expanded).
    pub source: String,
    /// The expanded Python regex text.
    pub expanded: String,
    /// Shared by the copies a [`Searcher`] takes: forms compiled on first use are compiled
    /// once for all threads.
    regex: Arc<pyre::Regex>,
    names: Vec<(usize, GroupName)>,
    alts: Vec<(GroupName, GroupName)>,
    skiplines: Vec<usize>,
    /// Every match has a non-empty nofail (or mlfgained) group and a non-empty mlfforget
    /// group, and no mlfid group of its own: in first-match mode, a match whose connection
    /// (the prefregex's mlfid) has no cached entry changes nothing and reports nothing (see
    /// [`Memo::deferred`]).
    nofail_forget: bool,
}

/// What a search found, with the multi-line bookkeeping.
/// Group values borrow the searched text: they are copied only into a failure that is kept.
struct Hit<'t> {
    groups: Groups<'t>,
    matched: Vec<Line>,
    unmatched: Vec<Line>,
}

/// Named groups with values borrowed from the searched text, in insertion order.
type Groups<'t> = Vec<(GroupName, Option<&'t str>)>;

/// The value of `k` in `groups` (None when absent or not participating).
fn group<'t>(groups: &[(GroupName, Option<&'t str>)], k: GroupName) -> Option<&'t str> {
    groups.iter().find(|(n, _)| *n == k).and_then(|(_, v)| *v)
}

/// Python truthiness of a group: present and non-empty.
fn truthy(groups: &[(GroupName, Option<&str>)], k: GroupName) -> bool {
    group(groups, k).is_some_and(|v| !v.is_empty())
}

/// `d[k] = v`, keeping the key's position if it exists.
fn set_group<'t>(groups: &mut Groups<'t>, k: GroupName, v: Option<&'t str>) {
    match groups.iter_mut().find(|(n, _)| *n == k) {
        Some(e) => e.1 = v,
        None => groups.push((k, v)),
    }
}

/// `d.pop(k, None)`.
fn pop_group<'t>(groups: &mut Groups<'t>, k: GroupName) -> Option<&'t str> {
    let i = groups.iter().position(|(n, _)| *n == k)?;
    groups.remove(i).1
}

/// Where `inner`, a slice of `outer`, ends in `outer`.
fn end_in(outer: &str, inner: &str) -> usize {
    inner.as_ptr() as usize + inner.len() - outer.as_ptr() as usize
}

impl CompiledRegex {
    /// The Python regex text of `source`: tags expanded, global flags made local.
    fn expand(source: &str, usedns_no: bool) -> Result<String, FilterError> {
        let expanded = tags::expand_regex_tags(source, usedns_no);
        if expanded.trim_start().is_empty() {
            return Err(FilterError::EmptyRegex);
        }
        Ok(tags::glob_to_local_flags(&expanded))
    }

    fn new(source: &str, usedns_no: bool, multiline: bool) -> Result<CompiledRegex, FilterError> {
        let expanded = CompiledRegex::expand(source, usedns_no)?;
        let opts = pyre::Options {
            ignore_case: false,
            multiline,
            dotall: false,
        };
        let regex = pyre::Regex::new(&expanded, &opts).map_err(|e| FilterError::Compile {
            regex: expanded.clone(),
            source: Box::new(e),
        })?;
        let names: Vec<(usize, GroupName)> = regex
            .group_names()
            .into_iter()
            .map(|(i, n)| (i, GroupName::new(&n)))
            .collect();
        let mut alts: Vec<(GroupName, GroupName)> = names
            .iter()
            .filter(|(_, n)| n.len() > 4)
            .filter_map(|(_, n)| {
                let rest = n.strip_prefix("alt_")?;
                let base = match rest.rfind('_') {
                    Some(p)
                        if p + 1 < rest.len()
                            && rest[p + 1..].bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        &rest[..p]
                    }
                    _ => rest,
                };
                Some((*n, GroupName::new(&tags::map_tag_to_opt(base))))
            })
            .collect();
        alts.sort_by(|a, b| (a.0.as_str(), a.1.as_str()).cmp(&(b.0.as_str(), b.1.as_str())));
        let mut skiplines = Vec::new();
        for k in 0.. {
            let want = format!("skiplines{k}");
            match names.iter().find(|(_, n)| **n == *want) {
                Some((i, _)) => skiplines.push(*i),
                None => break,
            }
        }
        let k = keys();
        let sure = |key: GroupName| {
            names
                .iter()
                .any(|(i, n)| *n == key && regex.sure_groups().contains(i))
        };
        let nofail_forget = (sure(k.nofail) || sure(k.mlfgained))
            && sure(k.mlfforget)
            && !names.iter().any(|(_, n)| *n == k.mlfid);
        Ok(CompiledRegex {
            source: source.to_string(),
            expanded,
            regex: Arc::new(regex),
            names,
            alts,
            skiplines,
            nofail_forget,
        })
    }

    /// Whether the regex has one of the named groups.
    fn has_group(&self, wanted: &[&str]) -> bool {
        self.names.iter().any(|(_, n)| wanted.contains(&&**n))
    }

    /// The value of the group `key` in the match `caps` of this regex in `buf`: the same as
    /// in [`CompiledRegex::hit`]'s groups, without making them.
    fn group_text<'t>(
        &self,
        caps: &pyre::Captures,
        buf: &'t str,
        key: GroupName,
    ) -> Option<&'t str> {
        if self.alts.iter().any(|(_, n)| *n == key) {
            // An alternative group may fill it in.
            return group(&self.hit(caps, buf, &[]).groups, key);
        }
        let (i, _) = self.names.iter().find(|(_, n)| *n == key)?;
        caps.get(*i).map(|(s, e)| &buf[s..e])
    }

    /// fail2ban's `Regex.search(buf, orgLines)` + `getGroups()`.
    fn search<'t>(&self, buf: &'t str, org: &[Line]) -> Option<Hit<'t>> {
        let caps = self.regex.search(buf)?;
        Some(self.hit(&caps, buf, org))
    }

    /// The groups and line bookkeeping of a match `caps` of this regex in `buf`.
    fn hit<'t>(&self, caps: &pyre::Captures, buf: &'t str, org: &[Line]) -> Hit<'t> {
        let (start, end) = caps.get(0).unwrap_or((0, 0));
        let text = |i: usize| caps.get(i).map(|(s, e)| &buf[s..e]);
        let mut groups: Groups<'t> = Vec::with_capacity(self.names.len() + self.alts.len());
        groups.extend(self.names.iter().map(|(i, n)| (*n, text(*i))));
        for (k, n) in &self.alts {
            let v = groups.iter().find(|(g, _)| g == k).and_then(|(_, v)| *v);
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                let cur = groups.iter_mut().find(|(g, _)| g == n);
                match cur {
                    Some(e) if e.1.is_some_and(|x| !x.is_empty()) => {}
                    Some(e) => e.1 = Some(v),
                    None => groups.push((*n, Some(v))),
                }
            }
        }
        let (matched, unmatched) = if org.len() <= 1 {
            (org.to_vec(), Vec::new())
        } else {
            let b = buf.as_bytes();
            let upto = (start + 1).min(b.len());
            let line_start = b[..upto]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |p| p + 1);
            let from = if end == 0 {
                b.len().saturating_sub(1)
            } else {
                end - 1
            };
            let line_end = b[from.min(b.len())..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |p| from + p + 1);
            let count = |upto: usize| b[..upto].iter().filter(|&&c| c == b'\n').count();
            let (l1, l2) = (
                count(line_start).min(org.len()),
                count(line_end).min(org.len()),
            );
            let l1 = l1.min(l2.max(l1));
            let mut matched: Vec<Line> = org[l1.min(l2)..l2].to_vec();
            let mut unmatched: Vec<Line> = org[..l1].to_vec();
            let mut skipped = String::new();
            for &g in &self.skiplines {
                if let Some(t) = text(g) {
                    skipped.push_str(t);
                }
            }
            let mut n = 0;
            for sk in python_splitlines(&skipped) {
                if let Some(m) = matched[n.min(matched.len())..]
                    .iter()
                    .position(|l| *l.text() == *sk)
                {
                    unmatched.push(matched.remove(n + m));
                    n += m;
                }
            }
            unmatched.extend_from_slice(&org[l2..]);
            (matched, unmatched)
        };
        Hit {
            groups,
            matched,
            unmatched,
        }
    }

    /// Whether the regex matches anywhere in `buf`.
    fn is_match(&self, buf: &str) -> bool {
        self.regex.is_match(buf)
    }
}

/// Rejection filters: one combined DFA pass instead of one search per failregex.
struct Gates {
    /// Over the failregexes as compiled, run on the text they see (content or buffer). Sound for
    /// every pattern: a failregex it does not report cannot match.
    content: ContentGate,
    /// The prefregex composed with each failregex, run anchored on the line before the
    /// prefregex (first-match mode with one-line buffers only; see `super::composed`).
    line: Option<ComposedGate>,
    later: LaterStarts,
}

/// For each failregex, the texts one of which starts every match, on ASCII text, of every
/// failregex after it ([`pyre::Regex::ascii_starts`]), when each of them has such a list;
/// made on first use and shared by the filter's searchers. A nofail-forget candidate whose
/// text starts with none of them need not be confirmed: whether it matches or not, no
/// failregex yields a failure when its connection has no cached entry (see
/// [`Filter::forget_shortcut`]).
#[derive(Debug, Clone)]
struct LaterStarts(Arc<[OnceLock<Option<Starts>>]>);

/// Texts one of which starts every match (see [`LaterStarts`]).
type Starts = Vec<Vec<u8>>;

impl LaterStarts {
    fn new(n: usize) -> LaterStarts {
        LaterStarts((0..n).map(|_| OnceLock::new()).collect())
    }

    /// Whether no failregex after `i` of `list` can match `text` (false: not known).
    fn none_after(&self, list: &[CompiledRegex], i: usize, text: &str) -> bool {
        let Some(cell) = self.0.get(i) else {
            return false;
        };
        let starts = cell.get_or_init(|| {
            let mut all = Vec::new();
            for r in list.get(i + 1..)? {
                all.extend(r.regex.ascii_starts()?);
            }
            Some(all)
        });
        starts.as_ref().is_some_and(|starts| {
            text.is_ascii() && !starts.iter().any(|t| text.as_bytes().starts_with(t))
        })
    }
}

/// Whether the content gate has been asked about the text the failregexes see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GateUse {
    NotAsked,
    /// Its answer is in the candidate flags.
    Asked,
    /// Not asked (no content gate, or the text was rebuilt): every failregex is tried.
    Off,
}

/// The content gate ([`Gates::content`]), built on first use (with a line gate most lines
/// never need it; it is ~3 ms of sshd's start-up) and shared with the searcher's thread.
#[derive(Debug, Clone, Default)]
struct ContentGate(Arc<OnceLock<Option<pyre::GateSet>>>);

impl ContentGate {
    /// The gate set of `failregex` (the filter's, or a searcher's copy of them); `None` when
    /// there is none or it cannot be built (every failregex is then tried).
    fn get(&self, failregex: &[CompiledRegex]) -> Option<&pyre::GateSet> {
        self.0
            .get_or_init(|| {
                let all: Vec<&pyre::Regex> = failregex.iter().map(|r| &*r.regex).collect();
                (!all.is_empty())
                    .then(|| pyre::GateSet::new(&all).ok())
                    .flatten()
            })
            .as_ref()
    }
}

/// The first failregex from `from` on that matches `cur`, with its match in `caps`. `first` is
/// the line gate's first candidate: those before it are skipped, it is tried without asking the
/// content gate, and the content gate (`content`, answer kept in `cands`) is asked once, before
/// the first failregex that is not the line gate's candidate. Pure: the same answer on any
/// thread.
#[allow(clippy::too_many_arguments)] // the search state of one line, shared by two callers
fn next_hit(
    failregex: &[CompiledRegex],
    content: &ContentGate,
    cur: &str,
    from: usize,
    first: Option<usize>,
    gate: &mut GateUse,
    cands: &mut Vec<bool>,
    caps: &mut pyre::Captures,
) -> Option<usize> {
    for (idx, r) in failregex.iter().enumerate().skip(from) {
        if first.is_some_and(|p| idx < p) {
            continue;
        }
        let is_first = first == Some(idx);
        if *gate == GateUse::NotAsked && !is_first {
            *gate = GateUse::Off;
            if let Some(g) = content.get(failregex) {
                cands.clear();
                cands.resize(failregex.len(), false);
                for i in g.candidates(cur) {
                    cands[i] = true;
                }
                *gate = GateUse::Asked;
            }
        }
        if !is_first && *gate == GateUse::Asked && !cands[idx] {
            continue;
        }
        if r.regex.search_into(cur, caps) {
            return Some(idx);
        }
    }
    None
}

/// The text the failregexes see when the prefregex's `content` group (a slice of `org_text`)
/// replaces the buffer: the content with a final `\n`, in place when the line has it there.
fn content_text<'a>(org_text: &'a str, content: &'a str, cur_text: &'a mut String) -> &'a str {
    let end = end_in(org_text, content);
    if org_text.as_bytes().get(end) == Some(&b'\n') {
        &org_text[end - content.len()..=end]
    } else {
        cur_text.clear();
        cur_text.push_str(content);
        cur_text.push('\n');
        cur_text
    }
}

/// How one line was dated (the stateful part of `processLine`, which must run in line order).
#[derive(Debug, Clone, Default)]
pub(crate) struct Dated {
    /// The date span cut out of the line; `None` = the whole line is searched.
    cut: Option<(usize, usize)>,
    /// The line reuses the last date and its text.
    pub(crate) reuse_last: bool,
    date: Option<f64>,
    no_date: bool,
    integral: bool,
    /// An unknown time zone abbreviation: the line ends here (fail2ban's KeyError).
    pub(crate) aborted: bool,
}

impl Dated {
    /// The line's `(prefix, suffix)`: the text around the date span.
    pub(crate) fn split<'a>(&self, line: &'a str) -> (&'a str, &'a str) {
        match self.cut {
            Some((s, e)) => (&line[..s], &line[e..]),
            None => ("", line),
        }
    }
}

/// The pure part of first-match matching of one line, computed ahead (on another thread) by a
/// [`Searcher`]: what [`Filter::finish_line`] would compute itself. A memo keeps its capture
/// buffers when it is made again for another line ([`Searcher::memo`]).
#[derive(Debug, Clone)]
pub(crate) struct Memo {
    verdict: Verdict,
    /// Whether the prefregex matched (false: no match, or no prefregex), with its groups in
    /// `pref_caps`.
    pref_found: bool,
    pref_caps: pyre::Captures,
    /// The first failregex whose search matches the text it sees, with its groups in
    /// `fail_caps`.
    fail: Option<usize>,
    fail_caps: pyre::Captures,
    /// Instead of `fail`: the line gate's first candidate, a nofail-forget regex
    /// ([`CompiledRegex::nofail_forget`]), and either it is the first failregex that matches
    /// or no failregex matches (none after it can: [`LaterStarts`]; then whether it matches
    /// was not asked). Its groups were not taken: they are needed only when the line's
    /// connection has a cached entry, which the engine knows, and then it searches again
    /// from this regex on.
    deferred: Option<usize>,
}

/// A memo of no match: a placeholder until the line's own memo is made.
impl Default for Memo {
    fn default() -> Memo {
        Memo {
            verdict: Verdict::Reject,
            pref_found: false,
            pref_caps: pyre::Captures::default(),
            fail: None,
            fail_caps: pyre::Captures::default(),
            deferred: None,
        }
    }
}

impl Memo {
    /// Makes this a memo of no match (its buffers are kept).
    fn reset(&mut self) {
        self.verdict = Verdict::Reject;
        self.pref_found = false;
        self.fail = None;
        self.deferred = None;
    }
    /// The prefregex's match (None: no match, or no prefregex).
    fn pref(&self) -> Option<&pyre::Captures> {
        self.pref_found.then_some(&self.pref_caps)
    }
    /// The first failregex that matches, with its match.
    fn fail(&self) -> Option<(usize, &pyre::Captures)> {
        self.fail.map(|i| (i, &self.fail_caps))
    }
}

/// The line gate and the searches of a first-match filter with one-line buffers, detached from
/// the filter's state: [`Searcher::memo`] depends on the line only, so a second thread can run
/// it ahead of the (stateful, in-order) rest of the engine. Made by [`Filter::searcher`].
pub(crate) struct Searcher {
    gate: Option<ComposedGate>,
    prefregex: Option<CompiledRegex>,
    failregex: Vec<CompiledRegex>,
    content: ContentGate,
    later: LaterStarts,
    text: String,
    cur_text: String,
    cands: Vec<bool>,
}

// The searcher is moved to the search thread.
const _: fn() = || {
    fn send<T: Send>() {}
    send::<Searcher>();
    send::<Memo>();
};

impl Searcher {
    /// The gate verdict and first-match searches of the line `(prefix, suffix)`, into `memo`.
    pub(crate) fn memo(&mut self, prefix: &str, suffix: &str, memo: &mut Memo) {
        let verdict = match &mut self.gate {
            Some(g) => g.judge(prefix, suffix),
            None => Verdict::Unknown,
        };
        self.searched(verdict, prefix, suffix, memo);
    }

    /// The memos of two lines `(prefix, suffix)`: [`Searcher::memo`] of each, with their gate
    /// walks side by side ([`ComposedGate::judge_pair`]).
    pub(crate) fn memo_pair(&mut self, a: (&str, &str), b: (&str, &str), memos: [&mut Memo; 2]) {
        let [va, vb] = match &mut self.gate {
            Some(g) => g.judge_pair(a, b),
            None => [Verdict::Unknown; 2],
        };
        let [ma, mb] = memos;
        self.searched(va, a.0, a.1, ma);
        self.searched(vb, b.0, b.1, mb);
    }

    /// The memo of a line the gate judged `verdict`, into `memo`.
    fn searched(&mut self, verdict: Verdict, prefix: &str, suffix: &str, memo: &mut Memo) {
        memo.reset();
        memo.verdict = verdict;
        if verdict == Verdict::Reject {
            return;
        }
        self.text.clear();
        self.text.push_str(prefix);
        self.text.push_str(suffix);
        self.text.push('\n');
        let org_text = self.text.as_str();
        let mut cur = org_text;
        if let Some(p) = &self.prefregex {
            if !p.regex.search_into(org_text, &mut memo.pref_caps) {
                return;
            }
            memo.pref_found = true;
            let content = p.group_text(&memo.pref_caps, org_text, keys().content);
            if let Some(c) = content.filter(|c| !c.is_empty()) {
                cur = content_text(org_text, c, &mut self.cur_text);
            }
        }
        let first = match verdict {
            Verdict::First(i) => Some(i),
            _ => None,
        };
        // No failregex before the line gate's first candidate can match: when that one is a
        // nofail-forget regex that matches, whether its groups are needed depends on the
        // engine's state, so only the match is established here; when no failregex after it
        // can match, not even that (see `Memo::deferred`).
        if let Some(i) = first.filter(|&i| self.failregex[i].nofail_forget) {
            if memo.pref_found
                && (self.later.none_after(&self.failregex, i, cur)
                    || self.failregex[i].regex.is_match(cur))
            {
                memo.deferred = Some(i);
                return;
            }
        }
        let mut gate = GateUse::NotAsked;
        let content = &self.content;
        memo.fail = next_hit(
            &self.failregex,
            content,
            cur,
            0,
            first,
            &mut gate,
            &mut self.cands,
            &mut memo.fail_caps,
        );
    }
}

/// Python's `str.splitlines()` (without keepends).
fn python_splitlines(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let brk = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if brk {
            out.push(&s[start..i]);
            let mut next = i + c.len_utf8();
            if c == '\r' {
                if let Some(&(j, '\n')) = it.peek() {
                    it.next();
                    next = j + 1;
                }
            }
            start = next;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// fail2ban's `Utils.Cache(maxCount=100, maxTime=300)` for mlfid entries: a dict in insertion
/// order. (fail2ban sets a key again in place; the engine sets a key only after `get` missed,
/// so here keys are only inserted.)
///
/// fail2ban keeps the failure dict object itself, so later edits of a failure that came from the
/// cache are visible in the cache: here the entry is edited in place (copied first only while a
/// finding still holds it, see [`FindingData`]). The key is not stored apart: an entry's `mlfid`
/// group is its key (an entry is made from a failure whose `mlfid` is the key, and only failures
/// with that `mlfid` are merged into it). Each entry keeps the key's hash, so a lookup compares
/// 100 integers rather than 100 strings.
#[derive(Debug, Default)]
struct MlfidCache {
    /// The keys' hashes, apart from the entries so that a lookup scans 800 contiguous bytes.
    hashes: VecDeque<u64>,
    entries: VecDeque<MlfEntry>,
    /// How many keys have each value of the hash's top bits ([`bucket`]; empty until the
    /// first entry): most lookups are of connections with no entry, and end here.
    buckets: Vec<u8>,
}

/// The bucket of a key hash in `MlfidCache::buckets` (1024 of them).
fn bucket(h: u64) -> usize {
    (h >> 54) as usize
}

#[derive(Debug)]
struct MlfEntry {
    data: Arc<FailData>,
    expires: f64,
}

const MLFID_MAX_COUNT: usize = 100;
const MLFID_MAX_TIME: f64 = 300.0;

/// A multiplicative hash eight bytes at a time (FxHash's step; FNV-1a's byte at a time was
/// a chain of ~20 dependent multiplications per key): the keys are short (`host daemon[pid]: `
/// texts), the cache holds at most 100 of them, and a collision only costs a string
/// comparison. The final multiplication carries every byte into the top bits [`bucket`] reads.
fn key_hash(k: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let step = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    let b = k.as_bytes();
    let mut h = step(0, b.len() as u64);
    for c in b.chunks(8) {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        h = step(h, u64::from_le_bytes(w));
    }
    h
}

impl MlfidCache {
    fn position(&self, k: &str) -> Option<usize> {
        let h = key_hash(k);
        if self.buckets.get(bucket(h)).is_none_or(|&n| n == 0) {
            return None;
        }
        let mlfid = keys().mlfid;
        let (a, b) = self.hashes.as_slices();
        let mut base = 0;
        for part in [a, b] {
            // A tight scan of the hashes; the key is compared only on equal hashes.
            let mut from = 0;
            while let Some(p) = part[from..].iter().position(|&x| x == h) {
                let i = base + from + p;
                if self.entries[i].data.get_name(mlfid) == Some(k) {
                    return Some(i);
                }
                from += p + 1;
            }
            base += part.len();
        }
        None
    }
    /// The index of the live entry of `k` (an expired one is dropped).
    fn get(&mut self, k: &str, now: f64) -> Option<usize> {
        let i = self.position(k)?;
        if self.entries[i].expires > now {
            return Some(i);
        }
        self.remove(i);
        None
    }
    /// Stores `v` as the entry of `k`, which is not in the cache (`get` gave None); returns its
    /// index.
    fn insert(&mut self, k: &str, v: Arc<FailData>, now: f64) -> usize {
        if self.entries.len() >= MLFID_MAX_COUNT {
            while let Some(e) = self.entries.pop_front() {
                if let Some(h) = self.hashes.pop_front() {
                    self.buckets[bucket(h)] -= 1;
                }
                if e.expires > now && self.entries.len() < MLFID_MAX_COUNT {
                    break;
                }
            }
        }
        let h = key_hash(k);
        self.buckets.resize(1024, 0);
        self.buckets[bucket(h)] += 1;
        self.hashes.push_back(h);
        self.entries.push_back(MlfEntry {
            data: v,
            expires: now + MLFID_MAX_TIME,
        });
        self.entries.len() - 1
    }
    fn remove(&mut self, i: usize) -> Option<Arc<FailData>> {
        if let Some(h) = self.hashes.remove(i) {
            self.buckets[bucket(h)] -= 1;
        }
        self.entries.remove(i).map(|e| e.data)
    }
}

/// Where the failure dict of an mlfid match lives: in the cache, or (forgotten) on its own.
enum MlfSlot {
    Cached(usize),
    Detached(Arc<FailData>),
}

impl MlfSlot {
    /// The dict, to edit (copied first if a finding still holds it).
    fn data<'a>(&'a mut self, cache: &'a mut MlfidCache) -> &'a mut FailData {
        match self {
            MlfSlot::Cached(i) => Arc::make_mut(&mut cache.entries[*i].data),
            MlfSlot::Detached(d) => Arc::make_mut(d),
        }
    }
    /// The dict, to read.
    fn get<'a>(&'a self, cache: &'a MlfidCache) -> &'a FailData {
        match self {
            MlfSlot::Cached(i) => &cache.entries[*i].data,
            MlfSlot::Detached(d) => d,
        }
    }
    /// A snapshot of the dict for a finding.
    fn share(self, cache: &MlfidCache) -> Arc<FailData> {
        match self {
            MlfSlot::Cached(i) => cache.entries[i].data.clone(),
            MlfSlot::Detached(d) => d,
        }
    }
}

/// The failure dict of one failregex match.
enum Dict {
    /// A failure without `F-MLFID`.
    Own(FailData),
    /// An mlfid match, merged into the cache.
    Mlfid(MlfSlot),
}

/// The ids chosen for one failure: nearly always one (DNS names may give several).
enum Ids {
    One(FailId),
    Many(Vec<FailId>),
}

/// Reused buffers of the per-line work.
#[derive(Default)]
struct Scratch {
    /// The buffer text when it is not a part of the line.
    org_text: String,
    /// The text after the prefregex content or a changed buffer replaced it.
    cur_text: String,
    /// The content gate's answer, one flag per failregex.
    cands: Vec<bool>,
}

/// One compiled filter with its state for one log.
pub struct Filter {
    prefregex: Option<CompiledRegex>,
    failregex: Vec<CompiledRegex>,
    ignoreregex: Vec<CompiledRegex>,
    maxlines: usize,
    settings: FilterSettings,
    gates: Gates,
    date: Option<DateDetector>,
    datepattern: Option<String>,
    journalmatch: Vec<String>,
    line_buffer: Vec<Line>,
    last_time_text: String,
    last_date: Option<f64>,
    last_integral: bool,
    date_integral: bool,
    pref_matched: bool,
    /// The line gate's first candidate for the current line (None = not judged).
    line_first: Option<usize>,
    mlfid: MlfidCache,
    scratch: Scratch,
    /// Reused by [`Filter::process_line`].
    outcome: LineOutcome,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field("prefregex", &self.prefregex.as_ref().map(|r| &r.source))
            .field("failregex", &self.failregex.len())
            .field("ignoreregex", &self.ignoreregex.len())
            .field("maxlines", &self.maxlines)
            .finish()
    }
}

/// The regexes of a definition after option substitution and line splitting (fail2ban §1.6–1.7).
#[derive(Debug, Clone, Default)]
pub struct ResolvedDef {
    pub prefregex: Option<String>,
    pub failregex: Vec<String>,
    pub ignoreregex: Vec<String>,
    pub datepattern: Option<String>,
    pub maxlines: Option<u32>,
    pub journalmatch: Vec<String>,
}

/// Substitutes `def.options` overlaid by `options` into the definition's values and splits the
/// regex lists on newlines, dropping empty entries.
pub fn resolve_def(
    def: &FilterDef,
    options: &BTreeMap<String, String>,
) -> Result<ResolvedDef, FilterError> {
    let mut opts = def.options.clone();
    for (k, v) in options {
        opts.insert(k.clone(), v.clone());
    }
    let sub = |s: &str| tags::substitute_options(s, &opts);
    let list = |v: &[String]| -> Result<Vec<String>, FilterError> {
        let mut out = Vec::new();
        for r in v {
            for l in sub(r)?.split('\n') {
                if !l.is_empty() {
                    out.push(l.to_string());
                }
            }
        }
        Ok(out)
    };
    let prefregex = match &def.prefregex {
        Some(p) => Some(sub(p)?).filter(|p| !p.is_empty()),
        None => None,
    };
    Ok(ResolvedDef {
        prefregex,
        failregex: list(&def.failregex)?,
        ignoreregex: list(&def.ignoreregex)?,
        datepattern: match &def.datepattern {
            Some(d) => Some(sub(d)?),
            None => None,
        },
        maxlines: def.maxlines,
        journalmatch: list(&def.journalmatch)?,
    })
}

const FAILURE_ID_PRESENTS: [&str; 5] = ["fid", "ip4", "ip6", "dns", "mlfid"];

impl Filter {
    /// Compiles a filter definition with the jail's filter options and settings.
    pub fn new(
        def: &FilterDef,
        options: &BTreeMap<String, String>,
        settings: &FilterSettings,
    ) -> Result<Filter, FilterError> {
        let r = resolve_def(def, options)?;
        Filter::from_resolved(&r, settings)
    }

    /// The prefregex, failregexes and ignoreregexes of `r`, compiled.
    #[allow(clippy::type_complexity)]
    fn compile_lists(
        r: &ResolvedDef,
        usedns_no: bool,
        maxlines: usize,
    ) -> Result<
        (
            Option<CompiledRegex>,
            Vec<CompiledRegex>,
            Vec<CompiledRegex>,
        ),
        FilterError,
    > {
        let prefregex = match &r.prefregex {
            Some(p) => Some(CompiledRegex::new(p, usedns_no, false)?),
            None => None,
        };
        let pref_has_id = prefregex
            .as_ref()
            .is_some_and(|p| p.has_group(&FAILURE_ID_PRESENTS));
        let mut failregex = Vec::with_capacity(r.failregex.len());
        for f in &r.failregex {
            let c = CompiledRegex::new(f, usedns_no, maxlines > 1)?;
            if !pref_has_id && !c.has_group(&FAILURE_ID_PRESENTS) {
                return Err(FilterError::NoFailureId {
                    regex: c.expanded.clone(),
                });
            }
            failregex.push(c);
        }
        let mut ignoreregex = Vec::with_capacity(r.ignoreregex.len());
        for i in &r.ignoreregex {
            ignoreregex.push(CompiledRegex::new(i, usedns_no, false)?);
        }
        Ok((prefregex, failregex, ignoreregex))
    }

    /// Compiles already resolved regex lists (fail2ban's stream of `set` commands).
    pub fn from_resolved(
        r: &ResolvedDef,
        settings: &FilterSettings,
    ) -> Result<Filter, FilterError> {
        let usedns_no = settings.usedns == UseDns::No;
        let maxlines = settings.maxlines.or(r.maxlines).unwrap_or(1).max(1) as usize;
        let datepattern = settings
            .datepattern
            .clone()
            .or_else(|| r.datepattern.clone());
        // The line gate needs only the regexes' texts and the date detector nothing of them:
        // with `compile_threads` the gate (the longest part of a filter's start-up) is built on
        // a second thread while this one compiles the regexes and then the date detector;
        // otherwise, or when no thread can be started, after them.
        let expand = |f: &String| CompiledRegex::expand(f, usedns_no).ok();
        let composable = (maxlines == 1 && !r.failregex.is_empty())
            .then(|| {
                let pref = match &r.prefregex {
                    Some(p) => Some(expand(p)?),
                    None => None,
                };
                let fails: Option<Vec<String>> = r.failregex.iter().map(expand).collect();
                Some((pref, fails?))
            })
            .flatten();
        let side = || {
            composable.as_ref().and_then(|(pref, fails)| {
                let fails: Vec<&str> = fails.iter().map(String::as_str).collect();
                ComposedGate::new(pref.as_deref(), &fails)
            })
        };
        let (compiled, date, line) = std::thread::scope(|scope| {
            let other = settings.compile_threads.then(|| {
                std::thread::Builder::new()
                    .name("compile".into())
                    .spawn_scoped(scope, side)
            });
            let compiled = Filter::compile_lists(r, usedns_no, maxlines);
            let date = DateDetector::new(datepattern.as_deref(), settings.logtimezone.as_deref())
                .map_err(|e| FilterError::DatePattern {
                    pattern: datepattern.clone().unwrap_or_default(),
                    source: Box::new(e),
                });
            let line = match other {
                Some(Ok(h)) => h.join().unwrap_or_else(|_| side()),
                // No thread wanted, or none could be started (a sandbox may forbid it).
                _ => side(),
            };
            (compiled, date, line)
        });
        let (prefregex, failregex, ignoreregex) = compiled?;
        let date = date?;
        let gates = Gates {
            content: ContentGate::default(),
            line,
            later: LaterStarts::new(failregex.len()),
        };
        Ok(Filter {
            prefregex,
            failregex,
            ignoreregex,
            maxlines,
            settings: settings.clone(),
            gates,
            date: Some(date),
            datepattern,
            journalmatch: r.journalmatch.clone(),
            line_buffer: Vec::new(),
            last_time_text: String::new(),
            last_date: None,
            last_integral: false,
            date_integral: false,
            pref_matched: false,
            line_first: None,
            mlfid: MlfidCache::default(),
            scratch: Scratch::default(),
            outcome: LineOutcome::default(),
        })
    }

    /// Drops the line gate: every line takes the exact path. The result is the same, only
    /// slower; the differential test of the gate (tests/filter_gate.rs) compares both.
    pub fn disable_line_gate(&mut self) {
        self.gates.line = None;
    }

    /// The compiled failregexes.
    pub fn failregexes(&self) -> &[CompiledRegex] {
        &self.failregex
    }
    /// The compiled ignoreregexes.
    pub fn ignoreregexes(&self) -> &[CompiledRegex] {
        &self.ignoreregex
    }
    /// The compiled prefregex.
    pub fn prefregex(&self) -> Option<&CompiledRegex> {
        self.prefregex.as_ref()
    }
    /// The effective `maxlines`.
    pub fn maxlines(&self) -> usize {
        self.maxlines
    }
    /// The effective `datepattern` (None = fail2ban's default templates).
    pub fn datepattern(&self) -> Option<&str> {
        self.datepattern.as_deref()
    }
    /// The filter's `journalmatch` lines.
    pub fn journalmatch(&self) -> &[String] {
        &self.journalmatch
    }
    /// The date detector (None for journal input).
    pub fn date_detector(&self) -> Option<&DateDetector> {
        self.date.as_ref()
    }
    /// The current multi-line buffer (kept up to date for `maxlines > 1`).
    pub fn line_buffer(&self) -> &[Line] {
        &self.line_buffer
    }

    /// The daemon's entry point: the real failures of one log line (first match wins).
    pub fn process_line(&mut self, line: &str, now: f64) -> Vec<super::Failure> {
        let mut out = std::mem::take(&mut self.outcome);
        self.process_into(line, now, &mut out);
        let failures = out
            .findings
            .drain(..)
            .filter(Finding::is_failure)
            .filter_map(|f| f.into_failure(now))
            .collect();
        self.outcome = out;
        failures
    }

    /// fail2ban's `processLine(line)`: date detection, then `findFailure`.
    pub fn process(&mut self, line: &str, now: f64) -> LineOutcome {
        let mut out = LineOutcome::default();
        self.process_into(line, now, &mut out);
        out
    }

    /// [`Filter::process`] into `out` (emptied first), so that a caller looping over lines
    /// reuses its buffers.
    pub fn process_into(&mut self, line: &str, now: f64, out: &mut LineOutcome) {
        let dated = self.date_line(line, now);
        self.finish_line(line, &dated, None, None, now, out);
    }

    /// The first half of `processLine`: date detection, which must see the lines in order (the
    /// detector and the last date are state).
    pub(crate) fn date_line(&mut self, line: &str, now: f64) -> Dated {
        let recent = |last: Option<f64>| last.is_some_and(|d| d > now - 60.0);
        let mut d = Dated::default();
        let hit = self.date.as_mut().and_then(|det| det.detect(line, now));
        if let Some(hit) = hit {
            let (s, e) = hit.span;
            d.cut = Some((s, e));
            if s < e {
                match hit.time {
                    Ok(t) => {
                        d.date = Some(t);
                        d.integral = hit.integral;
                        self.last_time_text.clear();
                        self.last_time_text.push_str(&line[s..e]);
                        self.last_date = Some(t);
                        self.last_integral = hit.integral;
                    }
                    Err(DateFail::UnknownZone) => {
                        tracing::error!("failed to process line {line:?}: unknown time zone");
                        d.aborted = true;
                        return d;
                    }
                    Err(_) => {
                        tracing::debug!("failed to parse date text {:?}", &line[s..e]);
                    }
                }
            } else if recent(self.last_date) {
                (d.cut, d.reuse_last) = (None, true);
                d.date = self.last_date;
                d.integral = self.last_integral;
            } else {
                d.date = Some(now);
            }
        }
        if d.date.is_none() {
            d.no_date = true;
            if recent(self.last_date) {
                (d.cut, d.reuse_last) = (None, true);
                d.date = self.last_date;
                d.integral = self.last_integral;
            } else if self.settings.undated_is_now {
                d.date = Some(now);
            }
        }
        d
    }

    /// The last date text (what a line dated with `reuse_last` carries).
    pub(crate) fn last_time_text(&self) -> &str {
        &self.last_time_text
    }

    /// The second half of `processLine` for a line dated by [`Filter::date_line`]: `reuse` is
    /// the date text it reuses (None = the current last date text), `memo` the line gate and
    /// searches already run by a [`Searcher`] of this filter.
    pub(crate) fn finish_line(
        &mut self,
        line: &str,
        d: &Dated,
        reuse: Option<&str>,
        memo: Option<&Memo>,
        now: f64,
        out: &mut LineOutcome,
    ) {
        if d.aborted {
            out.reset(false);
            out.aborted = true;
            return;
        }
        self.date_integral = d.integral;
        let (prefix, suffix) = d.split(line);
        let rejected = match &memo {
            Some(m) => {
                self.line_first = None;
                self.apply_verdict(m.verdict)
            }
            None => self.rejected_early(prefix, suffix),
        };
        if rejected {
            out.reset(self.pref_matched);
            return;
        }
        if memo.is_some_and(|m| self.forgettable(m, d, prefix, suffix, now)) {
            // What `find_failure_with` leaves after such a line, without copying the line.
            self.line_first = None;
            self.pref_matched = true;
            self.line_buffer.clear();
            out.reset(true);
            return;
        }
        let date_text = match d.cut {
            Some((s, e)) => &line[s..e],
            None if d.reuse_last => reuse.unwrap_or(&self.last_time_text),
            None => "",
        };
        let tuple = TupleLine::new(prefix, date_text, suffix);
        self.find_failure(tuple, d.date, d.no_date, now, out, memo);
    }

    /// Whether the nofail-forget shortcut may be taken ([`CompiledRegex::nofail_forget`]):
    /// when the line's connection has no live cached entry, the match would be dropped by
    /// `merge_failure` (a new dict both nofail and forget) and change nothing but the
    /// one-line buffer, which every hit empties, so whether it matches is all that is needed;
    /// and when no failregex after it can match ([`LaterStarts`]), not even that: a line
    /// without a hit changes nothing either.
    /// That holds in first-match mode with one-line buffers, without ignoreregexes (they
    /// would be asked about the match) and unless an undated line is dated now.
    fn forget_shortcut(&self, date: Option<f64>, no_date: bool) -> bool {
        !self.settings.check_all
            && self.maxlines == 1
            && self.ignoreregex.is_empty()
            && !(no_date && date.is_none() && self.settings.undated_is_now)
    }

    /// Whether the line `(prefix, suffix)` with its memo has a deferred nofail-forget
    /// candidate (`Memo::deferred`) whose connection has no live cached entry: the shortcut of
    /// `find_failure_with`, taken before the line is copied. An expired entry of the
    /// connection is dropped, as the lookup there would.
    fn forgettable(&mut self, m: &Memo, d: &Dated, prefix: &str, suffix: &str, now: f64) -> bool {
        let (Some(p), Some(caps), Some(_)) = (&self.prefregex, m.pref(), m.deferred) else {
            return false;
        };
        if !self.forget_shortcut(d.date, d.no_date) {
            return false;
        }
        // The text the searcher saw.
        let text = &mut self.scratch.org_text;
        text.clear();
        text.push_str(prefix);
        text.push_str(suffix);
        text.push('\n');
        p.group_text(caps, text, keys().mlfid)
            .is_some_and(|k| self.mlfid.get(k, now).is_none())
    }

    /// Server and `-o` mode: a line no failregex can match yields nothing and changes no state
    /// that matters with one-line buffers, so nothing more is done for it. (fail2ban-regex's
    /// report needs the prefregex and ignoreregex statistics of every line: checkAll mode runs
    /// everything.)
    fn rejected_early(&mut self, prefix: &str, suffix: &str) -> bool {
        self.line_first = None;
        if self.settings.check_all || self.maxlines != 1 {
            return false;
        }
        let Some(g) = &mut self.gates.line else {
            return false;
        };
        let v = g.judge(prefix, suffix);
        self.apply_verdict(v)
    }

    /// Takes the line gate's verdict: whether the line is rejected.
    fn apply_verdict(&mut self, v: Verdict) -> bool {
        match v {
            Verdict::Reject => true,
            Verdict::First(i) => {
                self.line_first = Some(i);
                false
            }
            Verdict::Unknown => false,
        }
    }

    /// The line gate and searches of this filter, for a thread of their own (see
    /// [`Searcher`]); `None` unless the filter runs first-match with one-line buffers.
    pub(crate) fn searcher(&self) -> Option<Searcher> {
        if self.settings.check_all || self.maxlines != 1 {
            return None;
        }
        Some(Searcher {
            gate: self.gates.line.as_ref().map(ComposedGate::fork),
            prefregex: self.prefregex.clone(),
            failregex: self.failregex.clone(),
            content: self.gates.content.clone(),
            later: self.gates.later.clone(),
            text: String::new(),
            cur_text: String::new(),
            cands: Vec::new(),
        })
    }

    /// fail2ban's `processLine((prefix, datetext, suffix), date)`: a line whose date is known
    /// (journal entries); no date detection.
    pub fn process_dated(&mut self, tuple: TupleLine, date: f64, now: f64) -> LineOutcome {
        self.last_time_text.clear();
        self.last_time_text.push_str(tuple.date());
        self.last_date = Some(date);
        // fail2ban's journal backend passes a float (`mktime(...) + microsecond / 1e6`).
        self.last_integral = false;
        self.date_integral = self.last_integral;
        let mut out = LineOutcome::default();
        if self.rejected_early(tuple.prefix(), tuple.suffix()) {
            out.reset(self.pref_matched);
            return out;
        }
        self.find_failure(tuple, Some(date), false, now, &mut out, None);
        out
    }

    /// The text the regexes see for `lines` (fail2ban's `_tupleLinesBuf`), written into `s`.
    fn buffer_text<'a>(lines: &[Line], s: &'a mut String) -> &'a str {
        s.clear();
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            s.push_str(l.prefix());
            s.push_str(l.suffix());
        }
        s.push('\n');
        s
    }

    /// [`Filter::buffer_text`], but a one-line buffer without prefix is read in place.
    fn org_text<'a>(lines: &'a [Line], s: &'a mut String) -> &'a str {
        if let [l] = lines {
            if let Some(t) = l.searched() {
                return t;
            }
        }
        Filter::buffer_text(lines, s)
    }

    /// fail2ban's `_ignoreLine`; returns whether an ignoreregex matched.
    fn ignore_line(
        &mut self,
        buf: &str,
        fail_hit: Option<&Hit>,
        outcome: &mut LineOutcome,
    ) -> bool {
        let mut owned = String::new();
        let buf = match fail_hit {
            Some(h) if self.maxlines > 1 => Filter::buffer_text(&h.matched, &mut owned),
            _ => buf,
        };
        let mut found = false;
        for (i, r) in self.ignoreregex.iter().enumerate() {
            if r.is_match(buf) {
                found = true;
                outcome.ignored.push(i);
                if !self.settings.check_all || self.maxlines > 1 {
                    if let Some(h) = fail_hit {
                        self.line_buffer = h.unmatched.clone();
                    }
                }
                if !self.settings.check_all {
                    break;
                }
            }
        }
        found
    }

    /// fail2ban's `findFailure`, into `out`.
    fn find_failure(
        &mut self,
        tuple: TupleLine,
        date: Option<f64>,
        no_date: bool,
        now: f64,
        out: &mut LineOutcome,
        memo: Option<&Memo>,
    ) {
        out.reset(self.pref_matched);
        let mut scratch = std::mem::take(&mut self.scratch);
        self.find_failure_with(tuple, date, no_date, now, out, &mut scratch, memo);
        self.scratch = scratch;
    }

    #[allow(clippy::too_many_arguments)]
    fn find_failure_with(
        &mut self,
        tuple: TupleLine,
        date: Option<f64>,
        no_date: bool,
        now: f64,
        out: &mut LineOutcome,
        scratch: &mut Scratch,
        memo: Option<&Memo>,
    ) {
        let check_all = self.settings.check_all;
        let raw_default = self.settings.usedns == UseDns::Raw || self.settings.raw_host;
        let def_kind = if raw_default {
            IdKind::Raw
        } else {
            IdKind::Unspec
        };
        let line = Arc::new(tuple);
        if self.maxlines > 1 {
            self.line_buffer.push(line);
            let n = self.line_buffer.len();
            if n > self.maxlines {
                self.line_buffer.drain(..n - self.maxlines);
            }
        } else {
            self.line_buffer.clear();
            self.line_buffer.push(line);
        }
        // The buffer as it was before this line's search (one line: that line, no copy).
        let org_one: [Line; 1];
        let org_many: Vec<Line>;
        let org: &[Line] = if self.maxlines == 1 {
            org_one = [self.line_buffer[0].clone()];
            &org_one
        } else {
            org_many = self.line_buffer.clone();
            &org_many
        };
        let Scratch {
            org_text,
            cur_text,
            cands,
        } = scratch;
        let org_text: &str = Filter::org_text(org, org_text);
        if !self.ignoreregex.is_empty()
            && self.ignoreregex.len() + 2 < self.failregex.len()
            && self.ignore_line(org_text, None, out)
        {
            return;
        }

        // The text the failregexes see: the buffer, or the prefregex's content.
        let mut cur: &str = org_text;
        let mut pre_groups: Groups = Vec::new();
        let (memo_pref, mut memo_fail) = match memo {
            // A deferred failregex is searched here (from the line gate's candidate on).
            Some(m) if m.deferred.is_some() => (Some(m.pref()), None),
            Some(m) => (Some(m.pref()), Some(m.fail())),
            None => (None, None),
        };
        if let Some(p) = &self.prefregex {
            // Its matched lines are not used: no line bookkeeping.
            let hit = match memo_pref {
                Some(caps) => caps.map(|c| p.hit(c, org_text, &[])),
                None => p.search(org_text, &[]),
            };
            self.pref_matched = hit.is_some();
            out.prefregex_matched = self.pref_matched;
            let Some(hit) = hit else {
                return;
            };
            pre_groups = hit.groups;
            if check_all {
                out.prefregex_groups
                    .extend(pre_groups.iter().map(|(n, v)| (*n, v.map(str::to_string))));
            }
            if let Some(c) = pop_group(&mut pre_groups, keys().content).filter(|c| !c.is_empty()) {
                // The content replaces the buffer. With a one-line buffer in first-match mode
                // nothing reads the buffer again before the next line replaces it (a hit empties
                // it, and an ignored hit ends the line), so it is not rebuilt.
                if check_all || self.maxlines > 1 {
                    self.line_buffer.clear();
                    self.line_buffer.push(Arc::new(TupleLine::new("", "", c)));
                }
                cur = content_text(org_text, c, cur_text);
            }
        }

        // Which failregexes may match the text they see: see `next_hit` (the searcher ran the
        // same for the first hit).
        let line_first = self.line_first.take();
        // Without a memo, the nofail-forget shortcut (`Filter::forget_shortcut`; with one,
        // `finish_line` took it) for the line gate's first candidate, now that the prefregex
        // has given the connection.
        let candidate = line_first.filter(|&i| memo.is_none() && self.failregex[i].nofail_forget);
        if let Some(i) = candidate {
            let uncached = self.forget_shortcut(date, no_date)
                && group(&pre_groups, keys().mlfid)
                    .is_some_and(|m| self.mlfid.get(m, now).is_none());
            // When no failregex after it can match, whether it matches changes nothing.
            if uncached
                && (self.gates.later.none_after(&self.failregex, i, cur)
                    || self.failregex[i].regex.is_match(cur))
            {
                self.line_buffer.clear();
                return;
            }
        }
        let mut gate = GateUse::NotAsked;
        // The buffer changed: the text is rebuilt from it before the next failregex.
        let mut rebuild = false;
        let mut from = 0;
        loop {
            if rebuild {
                rebuild = false;
                // No gate answer holds any more.
                gate = GateUse::Off;
                cur = Filter::buffer_text(&self.line_buffer, cur_text);
            }
            // The searcher's match is borrowed (its memory goes back to the thread that made it).
            let found = match memo_fail.take() {
                Some(f) => f.map(|(i, c)| (i, Cow::Borrowed(c))),
                None => {
                    let content = &self.gates.content;
                    let mut caps = pyre::Captures::default();
                    next_hit(
                        &self.failregex,
                        content,
                        cur,
                        from,
                        line_first,
                        &mut gate,
                        cands,
                        &mut caps,
                    )
                    .map(|i| (i, Cow::Owned(caps)))
                }
            };
            let Some((idx, caps)) = found else {
                break;
            };
            from = idx + 1;
            let mut hit = self.failregex[idx].hit(&caps, cur, org);
            if !self.ignoreregex.is_empty() && self.ignore_line(cur, Some(&hit), out) {
                if !check_all {
                    break;
                }
                rebuild = true;
                continue;
            }
            if no_date && date.is_none() && self.settings.undated_is_now {
                continue;
            }
            if !check_all || self.maxlines > 1 {
                self.line_buffer.clear();
                self.line_buffer.append(&mut hit.unmatched);
                rebuild = true;
            }
            // The prefregex groups under the failregex groups (None overwriting).
            let mut groups = if pre_groups.is_empty() {
                std::mem::take(&mut hit.groups)
            } else {
                let mut merged = Vec::with_capacity(pre_groups.len() + hit.groups.len());
                merged.extend_from_slice(&pre_groups);
                for &(k, v) in &hit.groups {
                    set_group(&mut merged, k, v);
                }
                merged
            };
            let matched = std::mem::take(&mut hit.matched);
            let mlfid = group(&groups, keys().mlfid);
            let mut dict = match mlfid {
                Some(m) => {
                    let Some(s) = self.merge_failure(m, &mut groups, matched, now) else {
                        return;
                    };
                    if !check_all && s.get(&self.mlfid).truthy_name(keys().nofail) {
                        return;
                    }
                    Dict::Mlfid(s)
                }
                None => Dict::Own(FailData {
                    groups: groups
                        .iter()
                        .map(|&(k, v)| (k, v.map(Value::new)))
                        .collect(),
                    matches: Some(matched),
                    ..FailData::default()
                }),
            };
            let fail = match &mut dict {
                Dict::Mlfid(s) => s.data(&mut self.mlfid),
                Dict::Own(f) => f,
            };
            let res =
                Filter::choose_ids(&self.settings, fail, mlfid.is_some(), def_kind, raw_default);
            let Ok(ids) = res else {
                tracing::error!(
                    "no group found in {cur:?} using {:?}",
                    self.failregex[idx].expanded
                );
                continue;
            };
            let data = match dict {
                Dict::Mlfid(s) => FindingData::Shared(s.share(&self.mlfid)),
                Dict::Own(f) => FindingData::Own(f),
            };
            let finding = |id: Option<FailId>, data: FindingData| Finding {
                regex: idx,
                id,
                time: date,
                time_integral: self.date_integral,
                data,
            };
            match ids {
                None => {
                    if !check_all && self.settings.ignore_pending {
                        return;
                    }
                    out.findings.push(finding(None, data));
                }
                Some(Ids::One(id)) => out.findings.push(finding(Some(id), data)),
                Some(Ids::Many(ids)) => {
                    let last = ids.len().saturating_sub(1);
                    let mut data = Some(data);
                    for (k, id) in ids.into_iter().enumerate() {
                        let data = if k == last { data.take() } else { data.clone() };
                        if let Some(data) = data {
                            out.findings.push(finding(Some(id), data));
                        }
                    }
                }
            }
            if !check_all {
                break;
            }
        }
    }

    /// The id part of `findFailure`: Ok(None) = pending, Ok(Some(ids)), Err = no id group.
    fn choose_ids(
        settings: &FilterSettings,
        fail: &mut FailData,
        has_mlfid: bool,
        def_kind: IdKind,
        raw_default: bool,
    ) -> Result<Option<Ids>, ()> {
        let keys = keys();
        let fid = fail.get_name(keys.fid);
        let cidr = fail.get_name(keys.cidr).filter(|c| !c.is_empty());
        let cidr_kind = |fam: IdKind| -> IdKind {
            match cidr.and_then(|c| c.trim().parse::<u32>().ok()) {
                Some(n) => IdKind::Prefix(n),
                None => fam,
            }
        };
        let (ip, kind, raw) = if let Some(ip) = fail.get_name(keys.ip4) {
            (Some(ip), cidr_kind(IdKind::V4), true)
        } else if let Some(ip) = fail.get_name(keys.ip6) {
            (Some(ip), cidr_kind(IdKind::V6), true)
        } else if let Some(ip) = fail.get_name(keys.dns) {
            (Some(ip), def_kind, raw_default)
        } else {
            if fid.is_none() && !has_mlfid {
                return Err(());
            }
            (fid, def_kind, true)
        };
        let Some(ip) = ip else {
            fail.mlfpending = true;
            return Ok(None);
        };
        if raw {
            if fid.is_none() || fid == Some(ip) {
                Ok(Some(Ids::One(FailId::new(ip, kind))))
            } else {
                let host = FailId::new(ip, kind);
                let id = FailId::new(fid.unwrap_or(""), def_kind);
                fail.ip = Some(host);
                Ok(Some(Ids::One(id)))
            }
        } else {
            let resolve = matches!(settings.usedns, UseDns::Yes | UseDns::Warn);
            let ids = text_to_ip(ip, resolve);
            if resolve && !ids.is_empty() && settings.usedns == UseDns::Warn {
                tracing::warn!("determined ip using dns lookup: {ip} = {ids:?}");
            }
            Ok(Some(Ids::Many(ids)))
        }
    }

    /// fail2ban's `_mergeFailure`: merges the failure `groups` (with its `matched` lines) into
    /// the cache entry of `mlfid`, or makes one. None in first-match mode for a nofail failure
    /// of a connection not in the cache that is forgotten at once (a successful login): the
    /// caller would drop it unseen, so it is not built.
    fn merge_failure(
        &mut self,
        mlfid: &str,
        groups: &mut Groups,
        matched: Vec<Line>,
        now: f64,
    ) -> Option<MlfSlot> {
        const NOFAIL: u8 = 1;
        const FORGET: u8 = 2;
        const PREV: u8 = 4;
        const GAINED: u8 = 8;
        let mut flags = 0u8;
        let keys = keys();
        if truthy(groups, keys.mlfgained) {
            flags |= GAINED | NOFAIL;
            if !truthy(groups, keys.nofail) {
                let g = group(groups, keys.mlfgained);
                set_group(groups, keys.nofail, g);
            }
        } else if truthy(groups, keys.nofail) {
            flags |= NOFAIL;
        }
        if pop_group(groups, keys.mlfforget).is_some_and(|v| !v.is_empty()) {
            flags |= FORGET;
        }
        let user = group(groups, keys.user).filter(|u| !u.is_empty());
        let users_len;
        let mut slot = match self.mlfid.get(mlfid, now) {
            Some(i) => {
                let e = Arc::make_mut(&mut self.mlfid.entries[i].data);
                if let Some(u) = user {
                    let set = e.users.get_or_insert_with(Vec::new);
                    if !set.iter().any(|x| x.as_str() == u) {
                        set.push(Value::new(u));
                    }
                }
                users_len = e.users.as_ref().map_or(0, Vec::len);
                if e.pop_name(keys.nofail).is_some_and(|v| !v.is_empty()) {
                    flags |= PREV;
                }
                if e.pop_name(keys.mlfgained).is_some_and(|v| !v.is_empty()) {
                    flags |= PREV;
                }
                if flags & GAINED != 0 {
                    e.mlfpending = false;
                }
                if flags & PREV == 0 && !e.mlfpending {
                    e.matches = None;
                }
                for &(k, v) in groups.iter() {
                    if let Some(v) = v {
                        e.set_str(k, v);
                    }
                }
                if flags & FORGET != 0 {
                    match self.mlfid.remove(i) {
                        Some(d) => MlfSlot::Detached(d),
                        None => MlfSlot::Cached(i),
                    }
                } else {
                    MlfSlot::Cached(i)
                }
            }
            None => {
                // A new dict is neither pending nor has several users: its nofail stays.
                if flags & (NOFAIL | FORGET) == NOFAIL | FORGET && !self.settings.check_all {
                    return None;
                }
                let fail = FailData {
                    groups: groups
                        .iter()
                        .map(|&(k, v)| (k, v.map(Value::new)))
                        .collect(),
                    users: user.map(|u| vec![Value::new(u)]),
                    ..FailData::default()
                };
                users_len = fail.users.as_ref().map_or(0, Vec::len);
                let s = Arc::new(fail);
                if flags & FORGET == 0 {
                    MlfSlot::Cached(self.mlfid.insert(mlfid, s, now))
                } else {
                    MlfSlot::Detached(s)
                }
            }
        };
        let f = slot.data(&mut self.mlfid);
        let pending = std::mem::take(&mut f.mlfpending);
        if pending || users_len > 1 {
            f.pop_name(keys.nofail);
            f.pop_name(keys.mlfgained);
            flags &= !(GAINED | NOFAIL);
        }
        // `a + b` as lists, reusing the buffer of `a`, or of `b` when `a` is empty.
        let join = |a: Option<Vec<Line>>, b: Option<Vec<Line>>| match (a, b) {
            (Some(a), Some(b)) if a.is_empty() => b,
            (Some(mut a), Some(b)) => {
                a.extend(b);
                a
            }
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => Vec::new(),
        };
        if flags & NOFAIL == 0 {
            let mut m = join(f.nofail_matches.take(), f.matches.take());
            if flags & GAINED == 0 {
                m = join(Some(m), Some(matched));
            }
            f.matches = Some(m);
        } else if flags & (NOFAIL | FORGET) == NOFAIL {
            f.nofail_matches = Some(join(f.nofail_matches.take(), Some(matched)));
        }
        Some(slot)
    }
}

impl Finding {
    /// The daemon's view of a real failure.
    pub fn into_failure(self, now: f64) -> Option<super::Failure> {
        let ip = self.ip().and_then(FailId::addr);
        let id = self.id?;
        let data = self.data.into_owned();
        let lines = data
            .match_lines()
            .iter()
            .map(|l| l.full().to_string())
            .collect();
        let mut tags = BTreeMap::new();
        for (k, v) in data.groups {
            if let Some(v) = v {
                tags.insert(k.to_string(), v.to_string());
            }
        }
        Some(super::Failure {
            id: id.to_string(),
            ip,
            time: self.time.unwrap_or(now),
            lines,
            tags,
            regex: self.regex,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_are_interned() {
        let a = GroupName::new("user");
        let b = GroupName::new(&String::from("user"));
        assert_eq!(a, b);
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_ne!(a, GroupName::new("ip4"));
        assert_eq!(format!("{a:?} {a}"), "\"user\" user");
        let mut d = FailData::default();
        d.set_str(GroupName::new("user"), "x");
        d.set_str(b, "y");
        assert_eq!(d.groups.len(), 1);
        assert_eq!(d.get("user"), Some("y"));
    }

    /// A nofail-forget candidate goes unconfirmed only when no later failregex can match:
    /// the starts of anchored patterns are listed, an unanchored or open-ended pattern after
    /// it, or non-ASCII text, rules nothing out.
    #[test]
    fn later_starts_rule_out_only_what_cannot_match() {
        let list: Vec<CompiledRegex> = [
            r"^Received disconnect from <HOST>: 11:",
            r"^(Connection (?:closed|reset)|Disconnected) by <HOST>",
            r"^Accepted \w+ for \S+ from <HOST>",
            r"error: (?:PAM: )?auth from <HOST>",
            r"^<F-USER>\S+</F-USER> from <HOST>",
        ]
        .iter()
        .map(|r| CompiledRegex::new(r, false, false).expect("compiles"))
        .collect();
        let starts = |i: usize| list[i].regex.ascii_starts();
        let all_start = |v: Option<Vec<Vec<u8>>>, with: &[&str]| {
            v.is_some_and(|v| {
                !v.is_empty()
                    && v.iter().all(|l| {
                        with.iter()
                            .any(|w| l.starts_with(w.as_bytes()) || w.as_bytes().starts_with(l))
                    })
            })
        };
        assert!(all_start(starts(0), &["Received disconnect from "]));
        assert!(all_start(
            starts(1),
            &["Connection closed", "Connection reset", "Disconnected"]
        ));
        assert!(all_start(starts(2), &["Accepted "]));
        assert_eq!(starts(3), None);
        assert_eq!(starts(4), None);
        let three = &list[..3];
        let later = LaterStarts::new(three.len());
        assert!(later.none_after(three, 0, "Received disconnect from 10.0.0.1: 11: bye\n"));
        assert!(later.none_after(three, 1, "Received disconnect from 10.0.0.1: 11: bye\n"));
        assert!(!later.none_after(three, 0, "Disconnected by 10.0.0.1\n"));
        assert!(!later.none_after(three, 0, "Received d\u{e9}connexion\n"));
        assert!(later.none_after(three, 2, "anything\n"));
        let five = LaterStarts::new(list.len());
        assert!(!five.none_after(&list, 0, "Received disconnect from 10.0.0.1: 11: bye\n"));
        assert!(!five.none_after(&list, 3, "Received disconnect from 10.0.0.1: 11: bye\n"));
    }

    #[test]
    fn mlfid_keys_spread_over_the_buckets() {
        // Keys that differ in one pid digit, or only in length, land in different buckets:
        // the bucket prefilter answers most lookups of uncached connections.
        let mut used = std::collections::BTreeSet::new();
        for n in 0..1000 {
            used.insert(bucket(key_hash(&format!("bastion sshd[{n}]: "))));
        }
        assert!(used.len() > 550, "{} buckets", used.len());
        assert_ne!(key_hash(""), key_hash("\0"));
        assert_ne!(key_hash("a"), key_hash("a\0"));
    }

    #[test]
    fn mlfid_cache_finds_evicts_removes_and_expires() {
        let entry = |k: &str| {
            let mut d = FailData::default();
            d.set_str(keys().mlfid, k);
            Arc::new(d)
        };
        let mut c = MlfidCache::default();
        assert_eq!(c.get("none", 0.0), None);
        for n in 0..150 {
            let k = format!("h sshd[{n}]: ");
            assert_eq!(c.get(&k, n as f64), None);
            c.insert(&k, entry(&k), n as f64);
        }
        // The 100 newest are kept.
        assert_eq!(c.get("h sshd[49]: ", 150.0), None);
        let i = c.get("h sshd[50]: ", 150.0).expect("kept");
        assert!(c.remove(i).is_some());
        assert_eq!(c.get("h sshd[50]: ", 150.0), None);
        assert!(c.get("h sshd[149]: ", 150.0).is_some());
        // An entry older than 300 s is dropped when looked up.
        assert_eq!(c.get("h sshd[51]: ", 351.5), None);
        assert_eq!(c.entries.len(), 98);
        assert_eq!(c.buckets.iter().map(|&n| n as usize).sum::<usize>(), 98);
    }
}
