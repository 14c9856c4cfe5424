//! Building date templates: a `datepattern` line (or a default pattern from `table.rs`) becomes a
//! display name, fail2ban's Python regex (what `--VD` prints), flags and a weight; the Python regex
//! is then compiled to a matcher.
//!
//! Called by `DateDetector::new` (via `build_list`). It does not choose among templates or convert
//! times (`mod.rs`, `convert.rs`).
//!
//! # Compatibility
//! The name, regex and flags are built exactly as fail2ban 1.0.2's `DatePatternRegex.setRegex`,
//! `DateTemplate.setRegex`, `DateEpoch` and `DateTai64n` do (spec §4.2); the construction helpers
//! are the same regexes, evaluated with fancy-regex. Matching then runs on regex-automata: the
//! boundary lookaheads fail2ban adds are rewritten to `\b|\b{end-half}` (equal except, for the
//! begin boundary, at the very end of the text), and a backreference to a one-character class
//! group (`(?P<_sep>[-/.])…(?P=_sep)`) is expanded into one branch per character. Patterns that
//! still need lookaround, conditionals or backreferences run on fancy-regex. The default `EPOCH`
//! and `LEPOCH` matchers are hand-written (their lookbehinds and never-enforced conditionals).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use fancy_regex::Regex as Fancy;
use regex_automata::meta;

use super::convert::{FIELD_COUNT, Field};
use super::table::{DEFAULT_PATTERNS, DIRECTIVES};

pub(crate) const LINE_BEGIN: u8 = 8;
pub(crate) const LINE_END: u8 = 4;
pub(crate) const WORD_BEGIN: u8 = 2;
pub(crate) const WORD_END: u8 = 1;

/// Why a date pattern could not be turned into a template.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatternError {
    #[error(
        "failed to set datepattern {pattern:?} (may be an invalid format or unescaped percent char)"
    )]
    Format { pattern: String },
    #[error("cannot compile date regex {regex:?}: {reason}")]
    Compile { regex: String, reason: String },
}

/// How the begin boundary is added (fail2ban's `wordBegin`: False, True, 'start').
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Begin {
    No,
    Word,
    Start,
}

/// What the date text means once matched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Pattern,
    /// Epoch number; `group` is the capture holding the number.
    Epoch {
        long: bool,
        group: usize,
    },
    Tai64n,
}

/// A template before compilation: everything fail2ban shows about it.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub(crate) name: String,
    /// The datepattern text for pattern templates (fail2ban's `template.pattern`).
    pub(crate) pattern: Option<String>,
    /// The regex in Python syntax, as fail2ban builds it.
    pub(crate) regex: String,
    pub(crate) flags: u8,
    pub(crate) weight: f64,
    pub(crate) kind: Kind,
    /// Default `EPOCH`/`LEPOCH` keyword templates: hand-written matcher (line-begin form?).
    pub(crate) epoch_keyword: Option<bool>,
    /// One of fail2ban's default templates (`full_defaults`): known to compile
    /// (`tests::defaults_compile`), so `DateDetector` compiles it at its first search.
    pub(crate) builtin: bool,
}

struct Helpers {
    grouped: Fancy,
    group: Fancy,
    globalflags: Fancy,
    no_wrd_bound_beg: Fancy,
    no_wrd_bound_end: Fancy,
    del_wrd_bounds: Fancy,
    line_bound_beg: Fancy,
    line_bound_end: Fancy,
    alpha_pattern: Fancy,
    epoch_pattern: Fancy,
    date_prematch: Fancy,
    exsanc_bound_beg: Fancy,
    exeanc_bound_beg: Fancy,
    exy: String,
}

fn helpers() -> &'static Helpers {
    static H: OnceLock<Helpers> = OnceLock::new();
    H.get_or_init(|| {
        let re = |s: &str| Fancy::new(s).unwrap_or_else(|e| panic!("bad builtin regex {s}: {e}"));
        Helpers {
            grouped: re(r"(?<!(?:\(\?))(?<!\\)\((?!\?)"),
            group: re(r"^((?:\(\?\w+\))?\^?(?:\(\?\w+\))?)(.*?)(\$?)$"),
            globalflags: re(r"((?:^|(?!<\\))\(\?[a-z]+\))"),
            no_wrd_bound_beg: re(r"^\(*(?:\(\?\w+\))?(?:\^|\(*\*\*|\((?:\?:)?\^)"),
            no_wrd_bound_end: re(r"(?<!\\)(?:\$\)?|\\b|\\s|\*\*\)*)$"),
            del_wrd_bounds: re(r"^\(*(?:\(\?\w+\))?\(*\*\*|(?<!\\)\*\*\)*$"),
            line_bound_beg: re(r"^(?:\(\?\w+\))?(?:\^|\((?:\?:)?\^(?!\|))"),
            line_bound_end: re(r"(?<![\\\|])(?:\$\)?)$"),
            alpha_pattern: re(r"(?<!\%)\%[aAbBpc]"),
            epoch_pattern: re(r"(?i)(?<!\\)\{L?EPOCH\}"),
            date_prematch: re(r"(?i)(?<!\\)\{DATE\}"),
            exsanc_bound_beg: re(r"^\((?:\?:)?\^\|\\b\|\\W\)"),
            exeanc_bound_beg: re(r"\(\?=\\b\|\\W\|\$\)$"),
            exy: exy_regex(wall_year()),
        }
    })
}

fn wall_year() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    // fail2ban uses the local year; a few hours of difference on New Year's Eve do not matter
    // unless the set of decades changes exactly then.
    super::civil::year_of(secs)
}

/// `%ExY` for a wall-clock year (spec §4.9): first three digits of year−1, year+3, and of every
/// 2000 + 3k up to the year, grouped as fail2ban writes it.
pub(crate) fn exy_regex(year: i64) -> String {
    let mut set: Vec<String> = vec![
        (year - 1).to_string()[..3].to_string(),
        (year + 3).to_string()[..3].to_string(),
    ];
    let mut y = 2000;
    while y < year + 1 {
        set.push(y.to_string()[..3].to_string());
        y += 3;
    }
    set.sort();
    set.dedup();
    format!("(?P<Y>{}\\d)", group_prefixes(&set))
}

/// fail2ban's `grp`: factor a common prefix, then a class or alternation.
fn group_prefixes(set: &[String]) -> String {
    if set.len() > 1 {
        let common = |n: usize| -> Option<String> {
            let c: String = set[0].chars().take(n).collect();
            (!c.is_empty() && set.iter().all(|s| s.starts_with(&c) && s.len() > c.len()))
                .then_some(c)
        };
        let all_but_last = set[0].len().saturating_sub(1);
        let c = common(all_but_last)
            .filter(|c| set.iter().all(|s| s[..s.len() - 1] == *c))
            .or_else(|| common(1));
        if let Some(c) = c {
            let rest: Vec<String> = set.iter().map(|s| s[c.len()..].to_string()).collect();
            return format!("{c}{}", group_prefixes(&rest));
        }
        if set[0].len() > 1 {
            return format!("(?:{})", set.join("|"));
        }
        return format!("[{}]", set.concat());
    }
    set.concat()
}

fn directive_regex(key: &str) -> &'static str {
    if key == "ExY" {
        return &helpers().exy;
    }
    DIRECTIVES
        .iter()
        .find(|d| d.key == key)
        .map(|d| d.regex)
        .unwrap_or("")
}

/// Replaces `%` directives; returns (regex, name) or `None` for an unknown `%` sequence.
fn substitute(pattern: &str) -> Option<(String, String)> {
    let mut regex = String::with_capacity(pattern.len() * 4);
    let mut name = String::with_capacity(pattern.len() * 2);
    let mut rest = pattern;
    while let Some(i) = rest.find('%') {
        regex.push_str(&rest[..i]);
        name.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let d = DIRECTIVES
            .iter()
            .filter(|d| d.key.len() > 1)
            .find(|d| after.starts_with(d.key))
            .or_else(|| {
                DIRECTIVES
                    .iter()
                    .filter(|d| d.key.len() == 1)
                    .find(|d| after.starts_with(d.key))
            })?;
        regex.push_str(directive_regex(d.key));
        name.push_str(d.name);
        rest = &after[d.key.len()..];
    }
    regex.push_str(rest);
    name.push_str(rest);
    Some((regex, name))
}

fn search(re: &Fancy, s: &str) -> bool {
    re.is_match(s).unwrap_or(false)
}

/// fail2ban's `DateTemplate.setRegex`: returns (regex, flags, name).
fn set_regex(regex: &str, name: &str, begin: Begin, word_end: bool) -> (String, u8, String) {
    let h = helpers();
    let mut regex = regex.trim().to_string();
    let mut name = name.to_string();
    let gf = h.globalflags.captures(&regex).ok().flatten().and_then(|c| {
        c.get(1)
            .map(|m| (m.start(), m.end(), m.as_str().to_string()))
    });
    if let Some((s, e, _)) = &gf {
        regex.replace_range(*s..*e, "");
    }
    let bound_begin = begin != Begin::No && !search(&h.no_wrd_bound_beg, &regex);
    let bound_end = word_end && !search(&h.no_wrd_bound_end, &regex);
    if !search(&h.grouped, &regex) {
        if let Ok(Some(c)) = h.group.captures(&regex) {
            let g = |i| c.get(i).map(|m| m.as_str()).unwrap_or("");
            regex = format!("{}({}){}", g(1), g(2), g(3));
        }
    }
    let mut flags = 0;
    if bound_begin {
        if begin == Begin::Start {
            flags |= LINE_BEGIN;
            regex = format!(r"^(?:\W{{0,2}})?{regex}");
            if !name.starts_with("{^LN-BEG}") {
                name = format!("{{^LN-BEG}}{name}");
            }
        } else {
            flags |= WORD_BEGIN;
            regex = format!(r"(?=^|\b|\W){regex}");
        }
    }
    if bound_end {
        flags |= WORD_END;
        regex.push_str(r"(?=\b|\W|$)");
    }
    if flags & LINE_BEGIN == 0 && search(&h.line_bound_beg, &regex) {
        flags |= LINE_BEGIN;
    }
    if flags & LINE_END == 0 && search(&h.line_bound_end, &regex) {
        flags |= LINE_END;
    }
    regex = replace_all(&h.del_wrd_bounds, &regex, |m| m.replace("**", ""));
    if let Some((_, _, g)) = gf {
        regex = format!("{g}{regex}");
    }
    (regex, flags, name)
}

fn replace_all(re: &Fancy, s: &str, f: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for m in re.find_iter(s).flatten() {
        out.push_str(&s[last..m.start()]);
        out.push_str(&f(m.as_str()));
        last = m.end();
    }
    out.push_str(&s[last..]);
    out
}

/// fail2ban's `DatePatternRegex(pattern)`.
pub(crate) fn pattern_spec(pattern: &str) -> Result<Spec, PatternError> {
    let mut p = pattern;
    let mut begin = Begin::Word;
    let mut word_end = true;
    if let Some(rest) = p.strip_prefix("{UNB}") {
        p = rest;
        begin = Begin::No;
        word_end = false;
    }
    if begin != Begin::No {
        if let Some(rest) = p.strip_prefix("{^LN-BEG}") {
            p = rest;
            begin = Begin::Start;
        }
    }
    let err = || PatternError::Format {
        pattern: pattern.to_string(),
    };
    let (mut regex, name) = substitute(p).ok_or_else(err)?;
    if search(&helpers().alpha_pattern, p) {
        regex = format!("(?iu){regex}");
    }
    let (regex, flags, name) = set_regex(&regex, &name, begin, word_end);
    Ok(Spec {
        name,
        pattern: Some(pattern.to_string()),
        regex,
        flags,
        weight: 1.0,
        kind: Kind::Pattern,
        epoch_keyword: None,
        builtin: false,
    })
}

const EPOCH_RE: &str = r"\d{10,11}\b(?:\.\d{3,6})?";
const LEPOCH_RE: &str = r"\d{10,11}(?:\d{3}(?:\.\d{1,6}|\d{3})?)?";

/// fail2ban's `DateEpoch(lineBeginOnly, pattern, longFrm)`.
pub(crate) fn epoch_spec(line_begin: bool, pattern: Option<&str>, long: bool) -> Spec {
    let num = if long { LEPOCH_RE } else { EPOCH_RE };
    let mut name = match (pattern, long) {
        (Some(p), _) => p.to_string(),
        (None, true) => "LongEpoch".to_string(),
        (None, false) => "Epoch".to_string(),
    };
    let (regex, flags, group, keyword) = if let Some(p) = pattern {
        let body = replace_all(&helpers().epoch_pattern, p, |_| format!("({num})"));
        let (r, f, n) = set_regex(&format!("({body})"), &name, Begin::Word, true);
        name = n;
        (r, f, 2, None)
    } else if !line_begin {
        let r = r"((?:^|(?P<square>(?<=^\[))|(?P<selinux>(?<=\baudit\()))%s)(?:(?(selinux)(?=:\d+\)))|(?(square)(?=\])))".replace("%s", num);
        let (r, f, n) = set_regex(&r, &name, Begin::No, true);
        name = n;
        (r, f, 1, Some(false))
    } else {
        let r = r"((?P<square>(?<=^\[))?%s)(?(square)(?=\]))".replace("%s", num);
        let (r, f, n) = set_regex(&r, &name, Begin::Start, true);
        name = n;
        (r, f, 1, Some(true))
    };
    Spec {
        name,
        pattern: None,
        regex,
        flags,
        weight: 1.0,
        kind: Kind::Epoch { long, group },
        epoch_keyword: keyword,
        builtin: false,
    }
}

/// fail2ban's `DateTai64n(wordBegin)`.
pub(crate) fn tai64n_spec(line_begin: bool) -> Spec {
    let begin = if line_begin { Begin::Start } else { Begin::No };
    let (regex, flags, name) = set_regex("@[0-9a-f]{24}", "TAI64N", begin, true);
    Spec {
        name,
        pattern: None,
        regex,
        flags,
        weight: 1.0,
        kind: Kind::Tai64n,
        epoch_keyword: None,
        builtin: false,
    }
}

/// fail2ban's `_getPatternTemplate`: a keyword or a pattern.
pub(crate) fn template_spec(pattern: &str) -> Result<Spec, PatternError> {
    let key = if pattern.contains('%') {
        pattern.to_string()
    } else {
        pattern.to_uppercase()
    };
    if key.contains("EPOCH") {
        if search(&helpers().epoch_pattern, pattern) {
            return Ok(epoch_spec(false, Some(pattern), key.contains("LEPOCH")));
        }
        match key.as_str() {
            "EPOCH" | "{^LN-BEG}EPOCH" | "^EPOCH" => {
                return Ok(epoch_spec(key != "EPOCH", None, false));
            }
            "LEPOCH" | "{^LN-BEG}LEPOCH" | "^LEPOCH" => {
                return Ok(epoch_spec(key != "LEPOCH", None, true));
            }
            _ => {}
        }
    }
    match key.as_str() {
        "TAI64N" | "{^LN-BEG}TAI64N" | "^TAI64N" => Ok(tai64n_spec(key != "TAI64N")),
        _ => pattern_spec(pattern),
    }
}

/// fail2ban's `unboundPattern`: the bare pattern used for `{DATE}`.
fn unbound_pattern(p: &str) -> String {
    let h = helpers();
    let p = p.strip_prefix("{UNB}").unwrap_or(p);
    let p = p.strip_prefix("{^LN-BEG}").unwrap_or(p);
    let p = replace_first(&h.exsanc_bound_beg, p, "");
    replace_first(&h.exeanc_bound_beg, &p, "")
}

fn replace_first(re: &Fancy, s: &str, with: &str) -> String {
    match re.find(s).ok().flatten() {
        Some(m) => format!("{}{with}{}", &s[..m.start()], &s[m.end()..]),
        None => s.to_string(),
    }
}

/// The 17 base default templates (built once per process: the helpers that build them cost
/// about 1M instructions per template).
pub(crate) fn base_defaults() -> Result<Vec<Spec>, PatternError> {
    static BASES: OnceLock<Result<Vec<Spec>, PatternError>> = OnceLock::new();
    BASES
        .get_or_init(|| DEFAULT_PATTERNS.iter().map(|p| template_spec(p)).collect())
        .clone()
}

/// fail2ban's `_getAnchoredTemplate` with the `{^LN-BEG}` wrap.
fn anchored(spec: &Spec) -> Result<Spec, PatternError> {
    match &spec.pattern {
        Some(p) => template_spec(&format!("{{^LN-BEG}}{p}")),
        None => template_spec(&format!("{{^LN-BEG}}{}", spec.name)),
    }
}

/// Cache keys of the line-anchored default copies (`{^LN-BEG}` + pattern, upper-cased keywords).
pub(crate) fn anchored_default_keys() -> Vec<String> {
    DEFAULT_PATTERNS
        .iter()
        .filter(|p| !p.starts_with("{^LN-BEG}") && !p.starts_with('^'))
        .map(|p| {
            if p.contains('%') {
                format!("{{^LN-BEG}}{p}")
            } else {
                format!("{{^LN-BEG}}{}", p.to_uppercase())
            }
        })
        .collect()
}

/// The full default list (31 templates): the anchored copies (weight 100), then the bases.
/// Built once per process, like `base_defaults`.
pub(crate) fn full_defaults() -> Result<Vec<Spec>, PatternError> {
    static FULL: OnceLock<Result<Vec<Spec>, PatternError>> = OnceLock::new();
    FULL.get_or_init(|| {
        let bases = base_defaults()?;
        let mut first = Vec::new();
        for b in &bases {
            if !b.name.starts_with("{^LN-BEG}") && !b.name.starts_with('^') {
                let mut a = anchored(b)?;
                if a.name != b.name {
                    a.weight = 100.0;
                    first.push(a);
                }
            }
        }
        first.extend(bases);
        for s in &mut first {
            s.builtin = true;
        }
        Ok(first)
    })
    .clone()
}

/// The `{DATE}` expansion of a datepattern line: one template per base default.
pub(crate) fn date_expansion(line: &str) -> Result<Vec<Spec>, PatternError> {
    let h = helpers();
    let wrap = |s: &str| replace_all(&h.date_prematch, line, |_| unbound_pattern(s));
    let mut out = Vec::new();
    for b in base_defaults()? {
        match &b.pattern {
            Some(p) => out.push(template_spec(&wrap(p))?),
            None => out.push(template_spec(&wrap(&b.name))?),
        }
    }
    Ok(out)
}

/// The hand-written matcher for a spec, when it is one of the hot default templates (or a
/// `^{DATE}` / `^[^\[]*\[({DATE})` expansion of one).
pub(crate) fn fast_matcher(spec: &Spec) -> Option<super::fast::Fast> {
    use super::fast::{Base, Fast, Prefix};
    let p = spec.pattern.as_deref()?;
    for (b, base) in [(0, Base::Iso), (1, Base::Syslog), (4, Base::Apache)] {
        let d = DEFAULT_PATTERNS[b];
        let forms = [
            (Prefix::Word, d.to_string(), WORD_BEGIN | WORD_END),
            (
                Prefix::LineBegin,
                format!("{{^LN-BEG}}{d}"),
                LINE_BEGIN | WORD_END,
            ),
            (Prefix::Start, format!("^{d}"), LINE_BEGIN | WORD_END),
            (
                Prefix::UntilBracket,
                format!(r"^[^\[]*\[({d})"),
                LINE_BEGIN | WORD_END,
            ),
        ];
        for (prefix, text, flags) in forms {
            if p == text && spec.flags == flags {
                return Some(Fast {
                    base,
                    prefix,
                    years: year_prefixes(),
                });
            }
        }
    }
    None
}

/// The three-digit prefixes `%ExY` accepts, read back from its regex (once per process).
fn year_prefixes() -> &'static [[u8; 3]] {
    static YEARS: OnceLock<Vec<[u8; 3]>> = OnceLock::new();
    YEARS.get_or_init(|| {
        let exy = &helpers().exy;
        let re =
            regex_automata::meta::Regex::new(&format!("^(?:{})$", exy.replace("(?P<Y>", "(?:")))
                .ok();
        let mut out = Vec::new();
        for n in 0..1000u32 {
            let s = format!("{n:03}0");
            if re.as_ref().is_some_and(|r| r.is_match(&s)) {
                let b = s.as_bytes();
                out.push([b[0], b[1], b[2]]);
            }
        }
        out
    })
}

/// A compiled matcher. Keeps the captures of its last search for `fields`.
pub(crate) enum Engine {
    Meta {
        re: meta::Regex,
        caps: regex_automata::util::captures::Captures,
    },
    Fancy {
        re: Fancy,
        /// Group spans of the last successful search.
        last: Vec<Option<(usize, usize)>>,
    },
    /// Hand-written default `EPOCH`/`LEPOCH`.
    EpochKeyword { line_begin: bool, long: bool },
    /// A builtin template whose regex did not compile at its first use (never happens: every
    /// default compiles, `tests::defaults_compile`). Matches nothing.
    Unavailable,
}

/// A compiled regex, shareable between detectors.
#[derive(Clone)]
pub(crate) enum Compiled {
    Meta(meta::Regex),
    Fancy(Box<Fancy>),
}

impl Compiled {
    fn engine(self) -> Engine {
        match self {
            Compiled::Meta(re) => {
                let caps = re.create_captures();
                Engine::Meta { re, caps }
            }
            Compiled::Fancy(re) => Engine::Fancy {
                re: *re,
                last: Vec::new(),
            },
        }
    }
}

/// One multi-pattern pass telling which templates' regexes match anywhere in a line, so that
/// the general scan of `match_time` (every template over the whole line: the slow path, taken
/// by lines without a date or whose date moved) searches only those. Exact: the patterns are
/// the very regex texts of the templates' own `Meta` engines, and an overlapping search with
/// `MatchKind::All` reports every pattern that has a match. Templates it does not cover
/// (fancy-regex, hand-written epoch) are always searched.
pub(crate) struct MatchSet {
    /// Shared by every detector with the same templates, and so is its search cache (one per
    /// thread, about 3 MB for the default list): a cache per detector would cost that per jail.
    re: std::sync::Arc<meta::Regex>,
    found: regex_automata::PatternSet,
    /// Pattern of each template, by creation index.
    pattern: Vec<Option<regex_automata::PatternID>>,
}

impl MatchSet {
    /// The set for these templates (creation order, each with whether its engine is `Meta`),
    /// or None when fewer than two are covered or it cannot be built.
    pub(crate) fn new(specs: &[(&Spec, bool)]) -> Option<MatchSet> {
        let mut texts = Vec::new();
        let mut pattern = Vec::with_capacity(specs.len());
        for &(spec, meta) in specs {
            let rust = meta.then(|| to_rust_syntax(&spec.regex)).flatten();
            pattern.push(rust.map(|r| {
                texts.push(r);
                regex_automata::PatternID::new_unchecked(texts.len() - 1)
            }));
        }
        if texts.len() < 2 {
            return None;
        }
        type Cache = Mutex<HashMap<Vec<String>, std::sync::Arc<meta::Regex>>>;
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
        let cached = cache.lock().ok().and_then(|m| m.get(&texts).cloned());
        let re = match cached {
            Some(re) => re,
            None => {
                let re = meta::Regex::builder()
                    .configure(
                        meta::Config::new()
                            .match_kind(regex_automata::MatchKind::All)
                            .which_captures(regex_automata::nfa::thompson::WhichCaptures::None),
                    )
                    .build_many(&texts)
                    .ok()?;
                let re = std::sync::Arc::new(re);
                if let Ok(mut m) = cache.lock() {
                    m.insert(texts, re.clone());
                }
                re
            }
        };
        Some(MatchSet {
            found: regex_automata::PatternSet::new(re.pattern_len()),
            re,
            pattern,
        })
    }

    /// Finds which patterns match anywhere in `line`.
    pub(crate) fn scan(&mut self, line: &str) {
        self.found.clear();
        let input = regex_automata::Input::new(line);
        self.re.which_overlapping_matches(&input, &mut self.found);
    }

    /// Whether template `id` (creation index) may match the last scanned line.
    pub(crate) fn may_match(&self, id: usize) -> bool {
        match self.pattern.get(id).copied().flatten() {
            Some(p) => self.found.contains(p),
            None => true,
        }
    }
}

/// Which capture group index holds which field, for one compiled template.
#[derive(Clone)]
pub(crate) struct FieldMap {
    pub(crate) groups: Vec<(usize, Field)>,
    pub(crate) lower_zone_last: bool,
    /// A group is `p` (AM/PM).
    pub(crate) has_ampm: bool,
}

/// A successful search: whole-match bounds, group 1 and the number group (byte offsets).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Found {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) g1: (usize, usize),
    /// For epoch templates: the span of the number.
    pub(crate) num: (usize, usize),
}

impl Engine {
    /// Whether this is a regex-automata engine (compiled from `to_rust_syntax` of the regex).
    pub(crate) fn is_meta(&self) -> bool {
        matches!(self, Engine::Meta { .. })
    }

    /// The engine of a builtin template that failed to compile at first use, and its field map.
    pub(crate) fn unavailable() -> (Engine, FieldMap) {
        let map = FieldMap {
            groups: Vec::new(),
            lower_zone_last: false,
            has_ampm: false,
        };
        (Engine::Unavailable, map)
    }

    /// Compiles a spec; returns the engine and its field map.
    pub(crate) fn compile(spec: &Spec) -> Result<(Engine, FieldMap), PatternError> {
        if let (Some(line_begin), Kind::Epoch { long, .. }) = (spec.epoch_keyword, spec.kind) {
            return Ok((
                Engine::EpochKeyword { line_begin, long },
                FieldMap {
                    groups: Vec::new(),
                    lower_zone_last: false,
                    has_ampm: false,
                },
            ));
        }
        // Compiled regexes are shared process-wide by their text (fail2ban caches its templates
        // too): every jail using the default list would otherwise compile 31 regexes.
        type Cache = Mutex<HashMap<String, (Compiled, FieldMap)>>;
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
        if let Some((c, map)) = cache.lock().ok().and_then(|m| m.get(&spec.regex).cloned()) {
            return Ok((c.engine(), map));
        }
        let (c, map) = Engine::compile_uncached(spec)?;
        if let Ok(mut m) = cache.lock() {
            m.insert(spec.regex.clone(), (c.clone(), map.clone()));
        }
        Ok((c.engine(), map))
    }

    fn compile_uncached(spec: &Spec) -> Result<(Compiled, FieldMap), PatternError> {
        if let Some(rust) = to_rust_syntax(&spec.regex) {
            if let Ok(re) = meta::Regex::new(&rust) {
                let map = field_map(
                    re.group_info()
                        .pattern_names(regex_automata::PatternID::ZERO)
                        .enumerate()
                        .map(|(i, n)| (i, n.map(|s| s.to_string()))),
                );
                return Ok((Compiled::Meta(re), map));
            }
        }
        let re = Fancy::new(&spec.regex).map_err(|e| PatternError::Compile {
            regex: spec.regex.clone(),
            reason: e.to_string(),
        })?;
        let map = field_map(
            re.capture_names()
                .enumerate()
                .map(|(i, n)| (i, n.map(|s| s.to_string()))),
        );
        Ok((Compiled::Fancy(Box::new(re)), map))
    }

    /// Python `search(line, pos, endpos)`; positions in bytes. `num_group` is the epoch group.
    pub(crate) fn search(
        &mut self,
        line: &str,
        pos: usize,
        endpos: usize,
        num_group: usize,
    ) -> Option<Found> {
        let hay = line.get(..endpos)?;
        if pos > endpos {
            return None;
        }
        match self {
            Engine::Meta { re, caps } => {
                let input = regex_automata::Input::new(hay).span(pos..endpos);
                re.search_captures(&input, caps);
                let m = caps.get_match()?;
                let g1 = caps
                    .get_group(1)
                    .map(|s| (s.start, s.end))
                    .unwrap_or((m.start(), m.start()));
                let num = caps
                    .get_group(num_group)
                    .map(|s| (s.start, s.end))
                    .unwrap_or(g1);
                Some(Found {
                    start: m.start(),
                    end: m.end(),
                    g1,
                    num,
                })
            }
            Engine::Fancy { re, last } => {
                let c = re.captures_from_pos(hay, pos).ok()??;
                let m = c.get(0)?;
                let g1 = c
                    .get(1)
                    .map(|s| (s.start(), s.end()))
                    .unwrap_or((m.start(), m.start()));
                let num = c.get(num_group).map(|s| (s.start(), s.end())).unwrap_or(g1);
                last.clear();
                last.extend((0..c.len()).map(|i| c.get(i).map(|s| (s.start(), s.end()))));
                Some(Found {
                    start: m.start(),
                    end: m.end(),
                    g1,
                    num,
                })
            }
            Engine::EpochKeyword { line_begin, long } => {
                super::epoch::search(line, pos, endpos, *line_begin, *long)
            }
            Engine::Unavailable => None,
        }
    }

    /// The field spans of the last successful search.
    pub(crate) fn fields(&self, map: &FieldMap, out: &mut [Option<(usize, usize)>; FIELD_COUNT]) {
        for &(i, f) in &map.groups {
            let span = match self {
                Engine::Meta { caps, .. } => caps.get_group(i).map(|s| (s.start, s.end)),
                Engine::Fancy { last, .. } => last.get(i).copied().flatten(),
                Engine::EpochKeyword { .. } | Engine::Unavailable => None,
            };
            if span.is_some() {
                out[f as usize] = span;
            }
        }
    }
}

fn field_map(names: impl Iterator<Item = (usize, Option<String>)>) -> FieldMap {
    let mut groups = Vec::new();
    let (mut upper_z, mut lower_z) = (None, None);
    for (i, n) in names {
        let Some(n) = n else { continue };
        let base = n.split("__").next().unwrap_or(&n);
        if let Some(f) = Field::from_name(base) {
            if f == Field::Z {
                upper_z = Some(i);
            }
            if f == Field::LowZ {
                lower_z = Some(i);
            }
            groups.push((i, f));
        }
    }
    let has_ampm = groups.iter().any(|g| g.1 == Field::P);
    FieldMap {
        groups,
        lower_zone_last: lower_z > upper_z,
        has_ampm,
    }
}

/// Rewrites fail2ban's Python regex into regex-automata syntax, or `None` when it needs
/// lookaround, conditionals or backreferences that cannot be rewritten exactly.
pub(crate) fn to_rust_syntax(py: &str) -> Option<String> {
    let mut s = py
        .replace(r"(?=^|\b|\W)", r"(?:\b|\b{end-half})")
        .replace(r"(?=\b|\W|$)", r"(?:\b|\b{end-half})");
    while let Some(expanded) = expand_one_backref(&s) {
        s = expanded;
    }
    let s = python_space_classes(&s);
    if s.contains("(?=")
        || s.contains("(?!")
        || s.contains("(?<=")
        || s.contains("(?<!")
        || s.contains("(?(")
        || s.contains("(?P=")
        || s.contains(r"\Z")
    {
        return None;
    }
    Some(s)
}

/// Python's `\s` also matches `\x1c`-`\x1f` (they are `str.isspace()`); regex's does not.
fn python_space_classes(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('s') => out.push_str(r"[\s\x1c-\x1f]"),
            Some('S') => out.push_str(r"[^\s\x1c-\x1f]"),
            Some(n) => {
                out.push('\\');
                out.push(n);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Expands the first `(?P<name>[chars])…(?P=name)` (same nesting level, not group 1, name not a
/// field) into `(?:c1…c1|c2…c2|…)`, renaming named groups in the copies (`x__1`, `x__2`, …).
fn expand_one_backref(s: &str) -> Option<String> {
    let back = s.find("(?P=")?;
    let name_end = back + s[back..].find(')')?;
    let name = &s[back + 4..name_end];
    if Field::from_name(name).is_some() {
        return None;
    }
    let open = format!("(?P<{name}>[");
    let g = s[..back].find(&open)?;
    let class_start = g + open.len();
    let class_end = class_start + s[class_start..].find("])")?;
    let chars = class_chars(&s[class_start..class_end])?;
    let group_end = class_end + 2;
    // Group 1 must open before the group (otherwise the copies would shift group numbers).
    if !s[..g].contains('(') || first_capture_open(s)? >= g {
        return None;
    }
    let between = &s[group_end..back];
    if !balanced(between) {
        return None;
    }
    let mut out = String::with_capacity(s.len() * 4);
    out.push_str(&s[..g]);
    out.push_str("(?:");
    for (k, c) in chars.iter().enumerate() {
        if k > 0 {
            out.push('|');
        }
        let lit = regex_syntax::escape(&c.to_string());
        out.push_str(&lit);
        out.push_str("(?:");
        out.push_str(&rename_groups(between, k));
        out.push(')');
        out.push_str(&lit);
    }
    out.push(')');
    out.push_str(&s[name_end + 1..]);
    Some(out)
}

fn first_capture_open(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'(' if b.get(i + 1) != Some(&b'?') || s[i..].starts_with("(?P<") => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn balanced(s: &str) -> bool {
    let b = s.as_bytes();
    let (mut depth, mut i, mut in_class) = (0i32, 0, false);
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class => depth += 1,
            b')' if !in_class => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            b'|' if !in_class && depth == 0 => return false,
            _ => {}
        }
        i += 1;
    }
    depth == 0 && !in_class
}

fn class_chars(class: &str) -> Option<Vec<char>> {
    let mut out = Vec::new();
    let mut it = class.chars().peekable();
    let mut first = true;
    while let Some(c) = it.next() {
        match c {
            '\\' => out.push(it.next()?),
            '^' if first => return None,
            '-' if !first && it.peek().is_some() => return None,
            '[' => return None,
            c => out.push(c),
        }
        first = false;
    }
    (!out.is_empty()).then_some(out)
}

fn rename_groups(s: &str, k: usize) -> String {
    if k == 0 {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s;
    while let Some(i) = rest.find("(?P<") {
        let j = i + 4 + rest[i + 4..].find('>').unwrap_or(0);
        out.push_str(&rest[..j]);
        out.push_str(&format!("__{k}"));
        rest = &rest[j..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exy_by_year() {
        assert_eq!(exy_regex(2026), r"(?P<Y>20[012]\d)");
        assert_eq!(exy_regex(2027), r"(?P<Y>20[0123]\d)");
    }

    #[test]
    fn default_names() {
        let specs = full_defaults().unwrap();
        assert_eq!(specs.len(), 31);
        assert_eq!(
            specs[1].name,
            r"{^LN-BEG}(?:DAY )?MON Day %k:Minute:Second(?:\.Microseconds)?(?: ExYear)?"
        );
        assert_eq!(specs[7].name, "{^LN-BEG}Epoch");
        assert_eq!(specs[13].name, "{^LN-BEG}TAI64N");
    }

    /// `DateDetector` compiles builtin templates at first use and cannot report an error then.
    #[test]
    fn defaults_compile() {
        for spec in full_defaults().unwrap() {
            assert!(spec.builtin);
            assert!(Engine::compile(&spec).is_ok(), "{}", spec.regex);
        }
        for year in [2026, 2030, 2099, 2100, 2999] {
            let exy = exy_regex(year);
            for spec in full_defaults().unwrap() {
                let spec = Spec {
                    regex: spec.regex.replace(&helpers().exy, &exy),
                    ..spec
                };
                assert!(
                    Engine::compile_uncached(&spec).is_ok(),
                    "{year}: {}",
                    spec.regex
                );
            }
        }
    }

    #[test]
    fn unknown_directive_is_an_error() {
        assert!(pattern_spec("%Q").is_err());
        assert!(pattern_spec("%%").is_ok());
    }
}
