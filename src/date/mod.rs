//! date: finding and converting the date of a log line, exactly as fail2ban 1.0.2's
//! `DateDetector` (`matchTime` + `getTime`) does.
//!
//! This module owns the template list (built from `datepattern` or fail2ban's defaults, whose data
//! is in `table.rs`), the adaptive choice of a template per line with its reordering, and the
//! conversion of the date text to epoch seconds (`convert.rs`, `zone.rs`). It does not cut the
//! line or apply the "recent last date" fallbacks of `processLine`: the filter engine
//! (`crate::filter`) calls [`DateDetector::detect`] per line and does that with the [`DateHit`].
//! `fail2zig regex` reads [`DateDetector::template_stats`] for its "Date template hits" block.
//!
//! Speed: templates run on regex-automata (`pattern.rs`), and the hot default forms (ISO 8601,
//! syslog, apache; `fast.rs`) on hand-written matchers for ASCII text. The common line takes
//! the fast lane (`detect_repeat`): the last winner matches again at once, in its straight-line
//! shape, and its digits go straight to the conversion (day and clock memos, no `strptime`).
//! A line whose date moved or that has none takes fail2ban's full scan, where one multi-pattern
//! pass (`MatchSet`) first rules out the templates that cannot match. `tools/bench-date.sh`
//! prints ns/line.
//!
//! Set-up: the default template list is built once per process, and a default template's regex
//! is compiled at its first use (the hot ones have hand-written matchers, so on ASCII logs most
//! are never compiled; the general scan's `MatchSet` compiles them all). Templates from any
//! other datepattern are compiled in `new`, which reports their errors.
//!
//! # Compatibility
//! Identical to fail2ban 1.0.2 (spec §4): the 31-template default list, `{^LN-BEG}`, `{DEFAULT}`
//! (adds nothing), `{DATE}`, `{NONE}`, `EPOCH`, `LEPOCH`, `TAI64N`, `{EPOCH}` patterns, all strptime
//! directives, last-winner-first matching with boundary checks, collision handling and
//! bubble-up reordering, year and day inference, `logtimezone` and `%z`/`%Z`. Positions used by the
//! heuristics are counted in characters, as Python does. Differences: Python's Unicode `\d`/`\w`
//! classes differ slightly from regex-automata's; the per-template "matched" counter is per
//! detector where fail2ban shares it process-wide (spec §4.6 says it cannot change a result);
//! `lastUsed` is the engine clock, not the wall clock (same ordering in any run shorter than
//! five minutes of wall time per engine-clock step).

pub mod civil;
mod convert;
mod epoch;
mod fast;
mod pattern;
pub mod table;
mod zone;

pub use pattern::PatternError;
pub use zone::{TimeZone, ZoneError};

use convert::{Context, ConvError, FIELD_COUNT, Fields};
use pattern::{Engine, FieldMap, Found, Kind, LINE_BEGIN, LINE_END, MatchSet, Spec};

/// Why a date detector could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DateError {
    #[error("invalid datepattern {line:?}")]
    Pattern {
        line: String,
        #[source]
        source: PatternError,
    },
    #[error("there is already a template with name {0}")]
    Duplicate(String),
    #[error("invalid logtimezone {value:?}")]
    TimeZone {
        value: String,
        #[source]
        source: ZoneError,
    },
}

/// Why a matched date has no time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFail {
    /// Python ValueError (invalid calendar date, malformed zone text): the date text is still cut
    /// out of the line, but the line has no date.
    Invalid,
    /// Python KeyError/TypeError (a well-formed but unknown zone abbreviation, a pattern giving a
    /// month without a day): fail2ban aborts the whole line ("Failed to process line").
    UnknownZone,
}

/// The date found in one line.
#[derive(Debug, Clone, PartialEq)]
pub struct DateHit {
    /// Byte span of group 1 of the winning template (the date text to cut out); may be empty.
    pub span: (usize, usize),
    /// Index of the winning template in `template_names()` order at creation.
    pub template: usize,
    /// The converted time (epoch seconds), or why conversion failed.
    pub time: Result<f64, DateFail>,
    /// Python would hold the time as an `int` (a zone was applied, or TAI64N): `repr` prints no
    /// `.0`. Otherwise it is a float (`mktime`, epoch numbers).
    pub integral: bool,
}

struct Template {
    spec: Spec,
    /// The compiled regex and its field map; for a builtin template (`Spec::builtin`), None
    /// until first needed (see `compiled`).
    regex: Option<(Engine, FieldMap)>,
    /// Hand-written matcher for ASCII lines (hot default templates).
    fast: Option<fast::Fast>,
    /// Field spans of the last fast search (or copied from the engine), and whether the last
    /// search was fast.
    spans: convert::Spans,
    last_fast: bool,
    /// Index at creation (`DateHit::template`).
    id: usize,
    /// fail2ban's `DateTemplate.hits`: successful regex searches.
    matched: u64,
    /// fail2ban's `DateDetectorTemplate.hits/lastUsed/distance`.
    hits: u64,
    last_used: f64,
    distance: usize,
}

/// A template's compiled regex, compiled now if it waited (the hot default templates seldom need
/// theirs: their hand-written matchers answer on ASCII lines).
fn compiled<'a>(
    regex: &'a mut Option<(Engine, FieldMap)>,
    spec: &Spec,
) -> &'a mut (Engine, FieldMap) {
    regex.get_or_insert_with(|| Engine::compile(spec).unwrap_or_else(|_| Engine::unavailable()))
}

impl Template {
    fn anchored(&self) -> bool {
        self.spec.flags & (LINE_BEGIN | LINE_END) != 0
    }
    fn weight(&self) -> f64 {
        self.hits as f64 * self.spec.weight / (self.distance.max(1) as f64)
    }
}

/// `DateDetector::set`.
enum SetState {
    Unbuilt,
    Unavailable,
    Built(Box<MatchSet>),
}

/// A collision candidate of `match_time`: (match, char start, char end, index, byte range).
type Candidate = (Found, usize, usize, usize, (usize, usize));

/// fail2ban's `DateDetector`: an ordered, self-reordering list of date templates.
pub struct DateDetector {
    templates: Vec<Template>,
    names: Vec<String>,
    /// (start, char before start, char at start), positions in characters.
    last_pos: (usize, Option<char>, Option<char>),
    /// (end, last char, char after end).
    last_end: (usize, Option<char>, Option<char>),
    last_idx: Option<usize>,
    first_unused: usize,
    /// `logtimezone`, minutes east of UTC.
    default_tz: Option<i32>,
    local: TimeZone,
    mktime_hint: Option<i32>,
    /// Offset caches of the local zone: for `now`, and for `mktime`.
    now_cache: Option<zone::Span>,
    mktime_cache: Option<zone::Span>,
    /// (local day number, civil date) of the last `now`.
    now_ymd: (i64, (i64, i64, i64)),
    /// The last `now` (its bits) and its local naive value.
    now_memo: Option<(u64, f64)>,
    /// `Context::years`.
    year_memo: [(i64, i64, bool); 2],
    /// The prefilter of the general scan, built at its first use.
    set: SetState,
    default_pattern: Option<String>,
}

impl std::fmt::Debug for DateDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DateDetector")
            .field("templates", &self.names)
            .finish_non_exhaustive()
    }
}

/// One line's view for character-position arithmetic.
struct LineView<'a> {
    line: &'a str,
    /// Length of the leading run of bytes known to be ASCII (grown on demand, so a line is only
    /// scanned as far as the date needs).
    ascii: std::cell::Cell<usize>,
    /// The scan stopped at a non-ASCII byte.
    ascii_end: std::cell::Cell<bool>,
}

impl<'a> LineView<'a> {
    fn new(line: &'a str) -> LineView<'a> {
        LineView {
            line,
            ascii: std::cell::Cell::new(0),
            ascii_end: std::cell::Cell::new(false),
        }
    }

    /// Whether `line[..n]` is all ASCII (so byte and character positions agree there).
    fn ascii_through(&self, n: usize) -> bool {
        let n = n.min(self.line.len());
        let known = self.ascii.get();
        if n <= known {
            return true;
        }
        if self.ascii_end.get() {
            return false;
        }
        // Scan in blocks of 32 bytes (vectorized OR reduction).
        let b = self.line.as_bytes();
        let mut k = known;
        while k < n {
            let stop = (k + 32).min(b.len());
            if is_ascii(&b[k..stop]) {
                k = stop;
            } else {
                k += b[k..stop].iter().take_while(|c| c.is_ascii()).count();
                self.ascii.set(k);
                self.ascii_end.set(true);
                return n <= k;
            }
        }
        self.ascii.set(k);
        true
    }

    fn byte_of(&self, ci: usize) -> usize {
        if self.ascii_through(ci) {
            return ci.min(self.line.len());
        }
        self.line
            .char_indices()
            .nth(ci)
            .map(|(b, _)| b)
            .unwrap_or(self.line.len())
    }
    fn ci_of(&self, b: usize) -> usize {
        if self.ascii_through(b) {
            b
        } else {
            self.line[..b].chars().count()
        }
    }
    fn ch(&self, ci: usize) -> Option<char> {
        if self.ascii_through(ci + 1) {
            self.line.as_bytes().get(ci).map(|&c| char::from(c))
        } else {
            self.line.chars().nth(ci)
        }
    }
    /// Python `line[ci-1:ci]`.
    fn before(&self, ci: usize) -> Option<char> {
        if ci == 0 { None } else { self.ch(ci - 1) }
    }
    fn len_chars(&self) -> usize {
        self.ci_of(self.line.len())
    }
}

fn hit(
    span: (usize, usize),
    template: usize,
    conv: Result<convert::Converted, ConvError>,
) -> DateHit {
    let (time, integral) = match conv {
        Ok(c) => (Ok(c.time), c.integral),
        Err(ConvError::Value) => (Err(DateFail::Invalid), false),
        Err(ConvError::Abort) => (Err(DateFail::UnknownZone), false),
    };
    DateHit {
        span,
        template,
        time,
        integral,
    }
}

/// Branch-free OR reduction, eight bytes at a time (`str::is_ascii` loops per byte on short
/// strings, and a date prefix is short).
fn is_ascii(b: &[u8]) -> bool {
    let mut words = b.chunks_exact(8);
    let mut acc = 0u64;
    for w in &mut words {
        acc |= u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
    }
    let tail = words.remainder().iter().fold(0u8, |a, &c| a | c);
    acc & 0x8080_8080_8080_8080 == 0 && tail < 0x80
}

fn isalnum(c: Option<char>) -> bool {
    c.is_some_and(char::is_alphanumeric)
}

impl DateDetector {
    /// `datepattern`: the filter/jail option value (None = default templates). `timezone`:
    /// logtimezone (None = local via /etc/localtime or TZ env).
    pub fn new(
        datepattern: Option<&str>,
        timezone: Option<&str>,
    ) -> Result<DateDetector, DateError> {
        let default_tz = match timezone {
            None => None,
            Some(tz) => Some(
                TimeZone::parse(tz)
                    .map_err(|source| DateError::TimeZone {
                        value: tz.to_string(),
                        source,
                    })?
                    .fixed_offset()
                    .unwrap_or(0)
                    / 60,
            ),
        };
        let mut specs: Vec<Spec> = Vec::new();
        let mut known: Vec<String> = Vec::new();
        if let Some(dp) = datepattern {
            for line in dp.split('\n').map(str::trim).filter(|l| !l.is_empty()) {
                add_line(line, &mut specs, &mut known)?;
            }
        }
        if specs.is_empty() {
            // Unset, or only `{DEFAULT}`: the full default list.
            specs = pattern::full_defaults().map_err(|source| DateError::Pattern {
                line: "{DEFAULT}".into(),
                source,
            })?;
        }
        let mut templates = Vec::with_capacity(specs.len());
        for (id, spec) in specs.into_iter().enumerate() {
            // Compiling is most of the set-up cost: a builtin template (known to compile) waits
            // for its first use; any other is compiled now, so that an error shows here.
            let regex = if spec.builtin {
                None
            } else {
                Some(Engine::compile(&spec).map_err(|source| DateError::Pattern {
                    line: spec.pattern.clone().unwrap_or_else(|| spec.name.clone()),
                    source,
                })?)
            };
            let fast = pattern::fast_matcher(&spec);
            templates.push(Template {
                spec,
                regex,
                fast,
                spans: [None; FIELD_COUNT],
                last_fast: false,
                id,
                matched: 0,
                hits: 0,
                last_used: 0.0,
                distance: 0x7fff_ffff,
            });
        }
        let names = templates.iter().map(|t| t.spec.name.clone()).collect();
        Ok(DateDetector {
            templates,
            names,
            last_pos: (1, None, None),
            last_end: (0x7fff_ffff, None, None),
            last_idx: None,
            first_unused: 0,
            default_tz,
            local: TimeZone::local(),
            mktime_hint: None,
            now_cache: None,
            mktime_cache: None,
            now_ymd: (i64::MIN, (1970, 1, 1)),
            now_memo: None,
            year_memo: [(i64::MIN, 0, false); 2],
            set: SetState::Unbuilt,
            default_pattern: datepattern.map(str::to_string),
        })
    }

    /// Replaces the local zone used for dates without a zone (default: [`TimeZone::local`]).
    pub fn set_local_zone(&mut self, zone: TimeZone) {
        self.local = zone;
        self.mktime_hint = None;
        self.now_cache = None;
        self.mktime_cache = None;
        self.now_memo = None;
    }

    /// The template names in creation order (`DateHit::template` indexes this).
    pub fn template_names(&self) -> &[String] {
        &self.names
    }

    /// The datepattern this detector was built from.
    pub fn datepattern(&self) -> Option<&str> {
        self.default_pattern.as_deref()
    }

    /// fail2ban's matchTime + getTime on a whole line. `now` = the engine clock (epoch seconds),
    /// used for year inference, %ExY and lastUsed.
    pub fn detect(&mut self, line: &str, now: f64) -> Option<DateHit> {
        if let Some(hit) = self.detect_repeat(line, now) {
            return Some(hit);
        }
        self.detect_general(line, now)
    }

    /// `detect` when the fast lane does not apply (kept out of line: the lane stays small).
    #[inline(never)]
    fn detect_general(&mut self, line: &str, now: f64) -> Option<DateHit> {
        let view = LineView::new(line);
        let (i, m) = self.match_time(&view, now)?;
        let t = &self.templates[i];
        let kind = t.spec.kind;
        let id = t.id;
        let conv = match kind {
            Kind::Pattern => self.convert(i, line, now),
            Kind::Epoch { long, .. } => convert::epoch(&line[m.num.0..m.num.1], long),
            Kind::Tai64n => convert::tai64n(&line[m.g1.0..m.g1.1]),
        };
        Some(hit(m.g1, id, conv))
    }

    /// getTime for a pattern template: the fast matcher's values when its last search was fast,
    /// else the general strptime over the captured spans.
    fn convert(&mut self, i: usize, line: &str, now: f64) -> Result<convert::Converted, ConvError> {
        let t = &mut self.templates[i];
        if let Some(fast) = t.fast.as_ref().filter(|_| t.last_fast) {
            if let Some(v) = fast.values(line.as_bytes(), &t.spans) {
                return self.convert_values(&v, now);
            }
        }
        let now_local = self.clock(now);
        let t = &mut self.templates[i];
        let (engine, fields) = compiled(&mut t.regex, &t.spec);
        if !t.last_fast {
            t.spans = [None; FIELD_COUNT];
            engine.fields(fields, &mut t.spans);
        }
        let (lower_zone_last, has_ampm) = (fields.lower_zone_last, fields.has_ampm);
        let mut ctx = Context {
            cache: &mut self.mktime_cache,
            now_local,
            now_ymd: self.now_ymd.1,
            local: &self.local,
            default_tz: self.default_tz,
            mktime_hint: self.mktime_hint,
            years: &mut self.year_memo,
        };
        let f = Fields {
            line,
            spans: &self.templates[i].spans,
            lower_zone_last,
            has_ampm,
        };
        let r = convert::strptime(&f, &mut ctx);
        self.mktime_hint = ctx.mktime_hint;
        r
    }

    /// `now` as local naive seconds (Python's `MyTime.now()`); updates `now_ymd`. The engine
    /// clock repeats for many lines, so the last answer is kept.
    fn clock(&mut self, now: f64) -> f64 {
        if let Some((bits, local)) = self.now_memo {
            if bits == now.to_bits() {
                return local;
            }
        }
        let now_s = now.floor() as i64;
        let off = self.local.offset_cached(now_s, &mut self.now_cache);
        let now_local = now + f64::from(off);
        let days = (now_s + i64::from(off)).div_euclid(86_400);
        if self.now_ymd.0 != days {
            self.now_ymd = (days, civil::civil_from_days(days));
        }
        self.now_memo = Some((now.to_bits(), now_local));
        now_local
    }

    /// The common case in a hurry: the last winner has a hand-written matcher and wins again
    /// at once, within the ASCII start of the line. `match_time` accepts such a winner without
    /// looking at other templates when it is anchored, or when (unanchored) the text around its
    /// last position is unchanged and it matches exactly there again; this does the same
    /// bookkeeping (no reordering: the winner is `last_idx`) and the conversion. None (nothing
    /// changed but the template's scratch spans) sends the line the general way.
    fn detect_repeat(&mut self, line: &str, now: f64) -> Option<DateHit> {
        let i = self.last_idx?;
        let only = self.templates.len() == 1;
        let (d, e) = (self.last_pos.0, self.last_end.0);
        let (pos_chars, end_chars) = (self.last_pos, self.last_end);
        let t = self.templates.get_mut(i)?;
        let fast = t.fast.as_ref()?;
        let b = line.as_bytes();
        let ch = |k: usize| b.get(k).map(|&c| char::from(c));
        let before = |k: usize| k.checked_sub(1).and_then(ch);
        let anchored = t.anchored();
        let (hay, pos) = if anchored {
            (b, 0)
        } else {
            // Character positions are byte positions in an ASCII prefix.
            if d > e || e > b.len() || !is_ascii(&b[..(e + 1).min(b.len())]) {
                return None;
            }
            let left = before(d) == pos_chars.1 || (ch(d) == pos_chars.2 && !isalnum(pos_chars.2));
            let right = ch(e) == end_chars.2 || (before(e) == end_chars.1 && !isalnum(end_chars.1));
            if !(left && right) {
                return None;
            }
            (&b[..e], d)
        };
        // Spans are read only by `convert` after a `search`: the values suffice here.
        let (m, values) = match fast.quick::<false>(hay, pos, &mut t.spans) {
            Some((m, v)) => (m, Some(v)),
            None => (fast.search(hay, pos, &mut t.spans)?, None),
        };
        let exact = anchored || only || (m.start, m.end) == (d, e);
        if !exact || m.end == 0 || !is_ascii(&b[..(m.end + 1).min(b.len())]) {
            return None;
        }
        t.last_fast = true;
        t.matched += 1;
        t.hits += 1;
        t.last_used = now;
        t.distance = m.start;
        let id = t.id;
        if self.first_unused == i {
            self.first_unused += 1;
        }
        self.last_pos = (m.start, before(m.start), ch(m.start));
        self.last_end = (m.end, ch(m.end - 1), ch(m.end));
        let conv = match values {
            Some(v) => self.convert_values(&v, now),
            None => self.convert(i, line, now),
        };
        Some(hit(m.g1, id, conv))
    }

    /// getTime of the values a fast matcher read.
    #[inline]
    fn convert_values(
        &mut self,
        v: &fast::Values,
        now: f64,
    ) -> Result<convert::Converted, ConvError> {
        let now_local = self.clock(now);
        let mut ctx = Context {
            cache: &mut self.mktime_cache,
            now_local,
            now_ymd: self.now_ymd.1,
            local: &self.local,
            default_tz: self.default_tz,
            mktime_hint: self.mktime_hint,
            years: &mut self.year_memo,
        };
        let mut c = v.civil;
        if v.assume_year {
            c.year = ctx.now_ymd.0;
        }
        let r = convert::finish(&c, v.assume_year, false, v.zone, &mut ctx);
        self.mktime_hint = ctx.mktime_hint;
        r
    }

    /// Template names as fail2ban-regex prints them, and their hit counts, in fail2ban's report
    /// order (the detector's current order).
    pub fn template_stats(&self) -> Vec<(String, u64)> {
        self.templates
            .iter()
            .map(|t| (t.spec.name.clone(), t.hits))
            .collect()
    }

    /// For `--VD`: (name, weight, base weight, pattern, regex) in current order.
    pub fn template_details(&self) -> Vec<(String, f64, f64, Option<String>, String)> {
        self.templates
            .iter()
            .map(|t| {
                (
                    t.spec.name.clone(),
                    t.weight(),
                    t.spec.weight,
                    t.spec.pattern.clone(),
                    t.spec.regex.clone(),
                )
            })
            .collect()
    }

    fn search(&mut self, i: usize, view: &LineView<'_>, pos: usize, end: usize) -> Option<Found> {
        let t = &mut self.templates[i];
        let num_group = match t.spec.kind {
            Kind::Epoch { group, .. } => group,
            _ => 1,
        };
        // The hand-written matcher is exact on ASCII text: trust it when every byte it may have
        // looked at is ASCII (through the char after a match; the whole range for no match).
        let mut f = None;
        let mut done = false;
        if let Some(fast) = &t.fast {
            let r = fast.search(&view.line.as_bytes()[..end], pos, &mut t.spans);
            let seen = r.map_or(end, |m| (m.end + 1).min(end));
            if view.ascii_through(seen) {
                f = r;
                done = true;
                t.last_fast = true;
            }
        }
        if !done {
            t.last_fast = false;
            let (engine, _) = compiled(&mut t.regex, &t.spec);
            f = engine.search(view.line, pos, end, num_group);
        }
        if f.is_some() {
            t.matched += 1;
        }
        f
    }

    /// fail2ban's `matchTime`: the winning template index (current order) and its match.
    fn match_time(&mut self, view: &LineView<'_>, now: f64) -> Option<(usize, Found)> {
        let n = self.templates.len();
        let len = view.line.len();
        let mut found: Option<Candidate> = None;
        let mut ignore = usize::MAX;
        let mut winner: Option<(Found, usize)> = None;
        if let Some(i) = self.last_idx.filter(|&i| i < n) {
            let range = if self.templates[i].anchored() {
                ignore = i;
                (0, len)
            } else {
                let (d, e) = (self.last_pos.0, self.last_end.0);
                let left = view.before(d) == self.last_pos.1
                    || (view.ch(d) == self.last_pos.2 && !isalnum(self.last_pos.2));
                let right = view.ch(e) == self.last_end.2
                    || (view.before(e) == self.last_end.1 && !isalnum(self.last_end.1));
                if left && right {
                    (view.byte_of(d), view.byte_of(e))
                } else {
                    ignore = i;
                    (0, len)
                }
            };
            let m = if range.0 <= range.1 {
                self.search(i, view, range.0, range.1)
            } else {
                None
            };
            if let Some(m) = m {
                let (ds, de) = (view.ci_of(m.start), view.ci_of(m.end));
                if n == 1
                    || self.templates[i].anchored()
                    || (ds == self.last_pos.0 && de == self.last_end.0)
                {
                    winner = Some((m, i));
                } else {
                    found = Some((m, ds, de, i, range));
                }
            }
        }
        if winner.is_none() {
            // After two templates, one pass finds which of the rest can match at all (ASCII
            // lines: on others the set would leave its DFA).
            let mut tried = 0;
            let use_set = view.ascii_through(len);
            for i in 0..n {
                if i == ignore {
                    continue;
                }
                tried += 1;
                if use_set && tried > 2 && !self.may_match(i, view.line, tried == 3) {
                    continue;
                }
                let Some(m) = self.search(i, view, 0, len) else {
                    continue;
                };
                let ds = view.ci_of(m.start);
                let t = &self.templates[i];
                let accept = i + 1 >= n
                    || t.anchored()
                    || (ds == 0 && t.hits > 0 && self.templates[i + 1].matched == 0)
                    || !(ds > t.distance || ds > self.last_pos.0);
                if accept {
                    winner = Some((m, i));
                    break;
                }
                if found.as_ref().is_none_or(|f| ds < f.1) {
                    found = Some((m, ds, view.ci_of(m.end), i, (0, len)));
                }
            }
            if winner.is_none() {
                if let Some((m, _, _, i, range)) = found {
                    // Re-run so the engine's captures belong to this match.
                    let again = self.search(i, view, range.0, range.1);
                    if again.is_some() {
                        self.templates[i].matched -= 1;
                    }
                    winner = Some((again.unwrap_or(m), i));
                }
            }
        }
        let (m, i) = winner?;
        let (ds, de) = (view.ci_of(m.start), view.ci_of(m.end));
        let t = &mut self.templates[i];
        t.hits += 1;
        t.last_used = now;
        t.distance = ds;
        if self.first_unused == i {
            self.first_unused += 1;
        }
        self.last_pos = (ds, view.before(ds), view.ch(ds));
        let last_char = if de >= 1 {
            view.ch(de - 1)
        } else {
            view.len_chars().checked_sub(1).and_then(|c| view.ch(c))
        };
        self.last_end = (de, last_char, view.ch(de));
        let mut i = i;
        if i != 0 && Some(i) != self.last_idx {
            i = self.reorder(i);
        }
        self.last_idx = Some(i);
        Some((i, m))
    }

    /// Whether template `i` (current order) may match `line` according to the set (true when
    /// there is none); `fresh` runs the set over `line` first.
    fn may_match(&mut self, i: usize, line: &str, fresh: bool) -> bool {
        if let SetState::Unbuilt = self.set {
            // The set covers the templates whose engine is regex-automata's: all are compiled now.
            for t in &mut self.templates {
                compiled(&mut t.regex, &t.spec);
            }
            let mut specs: Vec<(&Spec, bool)> = Vec::with_capacity(self.templates.len());
            let mut by_id: Vec<&Template> = self.templates.iter().collect();
            by_id.sort_by_key(|t| t.id);
            specs.extend(
                by_id
                    .iter()
                    .map(|t| (&t.spec, t.regex.as_ref().is_some_and(|r| r.0.is_meta()))),
            );
            self.set = match MatchSet::new(&specs) {
                Some(s) => SetState::Built(Box::new(s)),
                None => SetState::Unavailable,
            };
        }
        let SetState::Built(set) = &mut self.set else {
            return true;
        };
        if fresh {
            set.scan(line);
        }
        set.may_match(self.templates[i].id)
    }

    /// fail2ban's `_reorderTemplate` (bubble up).
    fn reorder(&mut self, num: usize) -> usize {
        let t = &self.templates[num];
        let untime = t.last_used - 300.0;
        let weight = t.weight();
        let moveable = |d: &DateDetector, pos: usize| {
            let p = &d.templates[pos];
            weight > p.weight() || untime > p.last_used
        };
        let mut pos = if self.first_unused < num {
            self.first_unused
        } else {
            num / 2
        };
        if !moveable(self, pos) {
            if pos == num - 1 {
                return num;
            }
            pos = num - 1;
            if !moveable(self, pos) {
                return num;
            }
        }
        let t = self.templates.remove(num);
        self.templates.insert(pos, t);
        while self.first_unused < self.templates.len() && self.templates[self.first_unused].hits > 0
        {
            self.first_unused += 1;
        }
        pos
    }
}

/// fail2ban's `appendTemplate` for one datepattern line.
fn add_line(line: &str, specs: &mut Vec<Spec>, known: &mut Vec<String>) -> Result<(), DateError> {
    let key = if line.contains('%') {
        line.to_string()
    } else {
        line.to_uppercase()
    };
    let err = |source| DateError::Pattern {
        line: line.to_string(),
        source,
    };
    let new: Vec<Spec> = match key.as_str() {
        "{^LN-BEG}" => {
            let all = pattern::full_defaults().map_err(err)?;
            let ignore_dup = !specs.is_empty();
            for s in all.into_iter().filter(|s| s.flags & LINE_BEGIN != 0) {
                push(s, specs, known, ignore_dup)?;
            }
            return Ok(());
        }
        // fail2ban 1.0.2 adds nothing for `{DEFAULT}` (its filter returns None for every template).
        "{DEFAULT}" => return Ok(()),
        "{NONE}" => vec![pattern::pattern_spec("{UNB}^").map_err(err)?],
        _ if key.contains("{DATE}") => {
            let ignore_dup = !specs.is_empty();
            for s in pattern::date_expansion(line).map_err(err)? {
                push(s, specs, known, ignore_dup)?;
            }
            return Ok(());
        }
        _ => {
            let mut spec = pattern::template_spec(line).map_err(err)?;
            // fail2ban caches templates by key and sets weight 100 on the cached line-anchored
            // defaults: a datepattern line with the same key gets that very object.
            if pattern::anchored_default_keys().contains(&key) {
                spec.weight = 100.0;
            }
            vec![spec]
        }
    };
    for s in new {
        push(s, specs, known, false)?;
    }
    Ok(())
}

fn push(
    s: Spec,
    specs: &mut Vec<Spec>,
    known: &mut Vec<String>,
    ignore_dup: bool,
) -> Result<(), DateError> {
    if known.contains(&s.name) {
        if ignore_dup {
            return Ok(());
        }
        return Err(DateError::Duplicate(s.name));
    }
    known.push(s.name.clone());
    specs.push(s);
    Ok(())
}
