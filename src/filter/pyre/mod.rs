//! pyre: Python `re` patterns run on regex-automata, with Python's exact results.
//!
//! Owns parsing Python 3.11 regex syntax ([`parse()`]), translating it to regex-automata
//! syntax, and searching with Python's `pattern.search` semantics: leftmost start, then
//! backtracking priority, group numbering and last-iteration captures. It does not know about
//! fail2ban tags, dates or failures; `filter` calls it with the fully expanded patterns.
//!
//! How a search runs: a pattern without Python-only constructs is compiled exactly to a
//! `meta::Regex` twice, once with ASCII classes (used when the searched text is ASCII, which is
//! cheaper to compile and faster to run) and once with Unicode classes (on first use). Two exact
//! rewrites make more patterns regular: conditionals `(?(g)yes|no)` are resolved by
//! distributing the rest of the pattern into the alternatives that decide `g` (`cond.rs`), and
//! lookaheads on literals `(?!L)` `(?=L)` become constraints on the next atom, checked against
//! marker bytes inserted into the text in front of every occurrence of `L` (`mark.rs`).
//! A pattern with other lookarounds, backreferences, atomic groups or possessive quantifiers
//! (or a rewrite beyond its size bounds) gets a superset "gate" regex (lookarounds dropped, a
//! backreference replaced by a copy of its group, a conditional by both branches); only text
//! the gate accepts is confirmed by fancy-regex with a bounded backtracking budget. No text is
//! ever given to an unbounded backtracker.
//!
//! On ASCII text (almost every log line), the exact form is byte-oriented with ASCII classes,
//! and group spans come from `chain.rs` (DFA passes per top-level piece) before falling back
//! to regex-automata's capture engines; non-ASCII text uses the Unicode forms. [`GateSet`]
//! runs many patterns' gates in one pass for the filter engine.
//!
//! # Compatibility
//! Same group numbering, spans and `search`/`search(pos, endpos)` results as Python 3.11's `re`
//! on `str` patterns (checked against the live Python on our cases, generated texts, and every
//! stock fail2ban regex on fail2ban's sample logs, by tests/pyre_python.rs), except:
//! `\N{name}` escapes are refused; IGNORECASE uses Unicode simple case folding plus Python's
//! i/ı/İ equivalence for literals (not inside classes); Unicode tables are the Rust crates',
//! not the running Python's; a repeated group that can match empty records Python's extra
//! empty iteration differently (testdata/pyre/divergences.txt). Offsets are byte offsets into
//! the UTF-8 text, where Python counts characters. A search that exhausts the backtracking
//! budget is reported by [`Regex::try_search_range`] and counts as no match in
//! [`Regex::search`] (logged with `tracing::warn!`).

mod ast;
mod chain;
mod cond;
mod emit;
mod gate;
mod mark;
mod parse;

use std::sync::{Arc, OnceLock};

use regex_automata::{Input, MatchKind, meta};

pub use ast::{Assertion, Ast, Class, ClassItem, Group, GroupKind, Node, PerlKind, Repeat};
pub use gate::GateSet;
pub use mark::Marks;

use emit::{Emitter, NotExpressible, Target};

/// Steps fancy-regex may backtrack on one search before giving up.
pub const BACKTRACK_LIMIT: usize = 200_000;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum PyreError {
    /// The pattern is not valid Python `re` syntax (or uses an unsupported escape).
    #[error("{msg} at position {pos} of pattern {pattern:?}")]
    Parse {
        pattern: String,
        /// Offset in characters, as Python reports it.
        pos: usize,
        msg: String,
    },
    /// A translation could not be compiled (e.g. it exceeds the size limits).
    #[error("cannot compile the {what} form of pattern {pattern:?}")]
    Compile {
        pattern: String,
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The bounded backtracker gave up on one search.
    #[error("backtracking budget of {limit} steps exhausted searching with pattern {pattern:?}")]
    Budget { pattern: String, limit: usize },
}

/// Python compile flags (`re.IGNORECASE`, `re.MULTILINE`, `re.DOTALL`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    pub ignore_case: bool,
    pub multiline: bool,
    pub dotall: bool,
}

impl Options {
    fn flags(&self) -> parse::Flags {
        parse::Flags {
            i: self.ignore_case,
            m: self.multiline,
            s: self.dotall,
            ..Default::default()
        }
    }
}

/// The translations of one pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// Rust syntax with exactly Python's meaning on any text, if one exists. When the pattern
    /// has a Python `$` ([`Translation::py_end`]), it is exact only for text with no `\n`
    /// before its last character. Conditionals are rewritten (`cond.rs`), so its groups can
    /// be copies of one Python group ([`Translation::group_map`]); when
    /// [`Translation::marks`] is not empty it applies to the text with lookahead markers
    /// inserted (`mark.rs`) and is compiled without the UTF-8 requirement.
    pub exact: Option<String>,
    /// Python's index of each capture group of the exact forms (entry k for group k+1).
    pub group_map: Vec<usize>,
    /// The lookahead markers the exact forms expect in the text.
    pub marks: Marks,
    /// Rust syntax matching a superset of Python's matches, same group numbering.
    pub gate: String,
    /// True when `exact` is `None`: matches need the bounded backtracker.
    pub needs_confirm: bool,
    /// Like `exact`, valid only for ASCII text (ASCII classes).
    pub ascii_exact: Option<String>,
    /// Like `gate`, valid only for ASCII text.
    pub ascii_gate: String,
    /// fancy-regex syntax with exactly Python's meaning.
    pub fancy: String,
    /// The pattern has a `$` without MULTILINE.
    pub py_end: bool,
}

/// A compiled Python pattern.
///
/// The ASCII exact form is compiled by [`Regex::new`]; the Unicode forms, the gates and the
/// backtracker are compiled on first use (most log text is ASCII) or by
/// [`Regex::compile_all`].
#[derive(Debug, Clone)]
pub struct Regex {
    pattern: String,
    groups: usize,
    /// Groups that take part, non-empty, in every match ([`Node::sure_groups`]).
    sure: Vec<usize>,
    names: Vec<(usize, String)>,
    translation: Translation,
    ascii_exact: Option<meta::Regex>,
    chain: Option<Arc<LazyChain>>,
    ascii_gate: Lazy<meta::Regex>,
    exact: Lazy<meta::Regex>,
    gate: Lazy<meta::Regex>,
    fancy: Lazy<fancy_regex::Regex>,
}

/// The chain captures of a pattern ([`chain::Chain`]), cut on first use (a filter has many
/// regexes, a log reaches few) and shared by the regex's clones (the searcher threads). The
/// chain is only a faster way to the exact form's answer: one that cannot be cut leaves the
/// search to the exact form.
#[derive(Debug)]
struct LazyChain {
    ast: Ast,
    marks: Vec<Vec<char>>,
    chain: OnceLock<Option<chain::Chain>>,
}

impl LazyChain {
    fn get(&self) -> Option<&chain::Chain> {
        self.chain
            .get_or_init(|| {
                chain::Chain::new(&self.ast, &self.marks).unwrap_or_else(|msg| {
                    tracing::debug!("no chain captures: {msg}");
                    None
                })
            })
            .as_ref()
    }
}

/// A form compiled on first use; a failure is kept as its message.
type Lazy<T> = OnceLock<Result<T, String>>;

/// The groups of one match: byte spans, group 0 is the whole match (names are the
/// pattern's: [`Regex::group_index`]). It holds no reference to the pattern, so making and
/// dropping one touches no memory another thread's matches share.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captures {
    spans: Vec<Option<(usize, usize)>>,
}

/// The gate forms of a Python pattern (`Translation::ascii_gate` and `Translation::gate`),
/// without the other translations or compiling anything (for a caller that builds its own
/// automaton from them).
pub fn translate_gates(pattern: &str, opts: &Options) -> Result<(String, String), PyreError> {
    let ast = parse::parse_with(pattern, opts.flags())?;
    let gate = |ascii| write(Target::Gate, ascii, &ast, &[]).unwrap_or_default();
    Ok((gate(true), gate(false)))
}

/// Parse a Python pattern (no flags) into its tree.
pub fn parse(pattern: &str) -> Result<Ast, PyreError> {
    parse::parse_with(pattern, parse::Flags::default())
}

/// The message of an error and all its sources.
fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

/// Compile Rust syntax written by `emit`; `ascii` forms are byte-oriented (ASCII text only);
/// `marked` forms search a text with lookahead markers (not UTF-8).
pub(crate) fn build_meta(
    syntax: &[&str],
    ascii: bool,
    marked: bool,
    kind: MatchKind,
) -> Result<meta::Regex, String> {
    let mut b = meta::Regex::builder();
    b.configure(meta::Config::new().match_kind(kind).utf8_empty(!ascii));
    if ascii {
        b.syntax(
            regex_automata::util::syntax::Config::new()
                .unicode(false)
                .utf8(false),
        );
    } else if marked {
        b.syntax(regex_automata::util::syntax::Config::new().utf8(false));
    }
    b.build_many(syntax).map_err(|e| chain(&e))
}

fn build_fancy(syntax: &str) -> Result<fancy_regex::Regex, String> {
    fancy_regex::RegexBuilder::new(syntax)
        .backtrack_limit(BACKTRACK_LIMIT)
        .build()
        .map_err(|e| chain(&e))
}

impl Regex {
    /// Compile `pattern` as Python's `re.compile(pattern, flags)` would.
    pub fn new(pattern: &str, opts: &Options) -> Result<Regex, PyreError> {
        let ast = parse::parse_with(pattern, opts.flags())?;
        let mut sure = Vec::new();
        ast.root.sure_groups(&mut sure);
        let (translation, exact_ast) = translate(&ast);
        let ascii_exact = match &translation.ascii_exact {
            Some(syntax) => Some(
                build_meta(&[syntax], true, false, MatchKind::LeftmostFirst).map_err(|msg| {
                    PyreError::Compile {
                        pattern: pattern.to_string(),
                        what: "ascii exact",
                        source: msg.into(),
                    }
                })?,
            ),
            None => None,
        };
        let chain = match (&ascii_exact, exact_ast) {
            (Some(_), Some(exact_ast)) => Some(Arc::new(LazyChain {
                marks: translation.marks.follow(),
                ast: exact_ast,
                chain: OnceLock::new(),
            })),
            _ => None,
        };
        Ok(Regex {
            pattern: pattern.to_string(),
            groups: ast.groups,
            sure,
            names: ast.names,
            translation,
            ascii_exact,
            chain,
            ascii_gate: OnceLock::new(),
            exact: OnceLock::new(),
            gate: OnceLock::new(),
            fancy: OnceLock::new(),
        })
    }

    /// Compile every form now, so that no search can meet a compile error later.
    pub fn compile_all(&self) -> Result<(), PyreError> {
        if self.translation.exact.is_some() {
            self.exact_form()?;
        }
        self.gate_form(true)?;
        self.gate_form(false)?;
        if self.translation.needs_confirm || self.ascii_exact.is_none() || self.translation.py_end {
            self.fancy_form()?;
        }
        Ok(())
    }

    fn lazy<'a, T>(
        &self,
        cell: &'a Lazy<T>,
        what: &'static str,
        build: impl FnOnce() -> Result<T, String>,
    ) -> Result<&'a T, PyreError> {
        cell.get_or_init(build)
            .as_ref()
            .map_err(|msg| PyreError::Compile {
                pattern: self.pattern.clone(),
                what,
                source: msg.clone().into(),
            })
    }

    /// The Unicode exact form (only when `translation.exact` is set).
    fn exact_form(&self) -> Result<&meta::Regex, PyreError> {
        let syntax = self.translation.exact.as_deref().unwrap_or_default();
        let marked = !self.translation.marks.is_empty();
        self.lazy(&self.exact, "exact", || {
            build_meta(&[syntax], false, marked, MatchKind::LeftmostFirst)
        })
    }

    /// The gate for ASCII or any text (the exact form where there is one).
    fn gate_form(&self, ascii: bool) -> Result<&meta::Regex, PyreError> {
        if ascii {
            if let Some(re) = &self.ascii_exact {
                return Ok(re);
            }
            let syntax = self.translation.ascii_gate.as_str();
            return self.lazy(&self.ascii_gate, "ascii gate", || {
                build_meta(&[syntax], true, false, MatchKind::LeftmostFirst)
            });
        }
        if self.translation.exact.is_some() {
            return self.exact_form();
        }
        let syntax = self.translation.gate.as_str();
        self.lazy(&self.gate, "gate", || {
            build_meta(&[syntax], false, false, MatchKind::LeftmostFirst)
        })
    }

    fn fancy_form(&self) -> Result<&fancy_regex::Regex, PyreError> {
        let syntax = self.translation.fancy.as_str();
        self.lazy(&self.fancy, "backtracking", || build_fancy(syntax))
    }

    /// The pattern text as given.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Python `pattern.search(hay)`.
    pub fn search(&self, hay: &str) -> Option<Captures> {
        self.search_range(hay, 0, hay.len())
    }

    /// Python `pattern.search(hay, pos, endpos)` with byte offsets: `^`/`\A` still match only
    /// at 0 (and after `\n` with MULTILINE); the text is treated as ending at `endpos`.
    /// Offsets are clamped to the text and moved down to a character boundary.
    pub fn search_range(&self, hay: &str, pos: usize, endpos: usize) -> Option<Captures> {
        match self.try_search_range(hay, pos, endpos) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        }
    }

    /// Python `pattern.search(hay) is not None`.
    pub fn is_match(&self, hay: &str) -> bool {
        match self.try_is_match(hay) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("{e}");
                false
            }
        }
    }

    /// Texts one of which starts every match on ASCII text, when the pattern matches only at
    /// the start of the text (`\A`, or `^` without MULTILINE) and regex-syntax's prefix
    /// extractor finds a finite list of them, none empty; `None` otherwise. Read off the
    /// ASCII gate form (a superset of the matches), with lookahead marker bytes left out.
    pub(crate) fn ascii_starts(&self) -> Option<Vec<Vec<u8>>> {
        use regex_syntax::hir::Look;
        use regex_syntax::hir::literal::{ExtractKind, Extractor};
        let hir = ascii_hir(&self.translation.ascii_gate)?;
        if !hir.properties().look_set_prefix().contains(Look::Start) {
            return None;
        }
        let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
        let starts: Vec<Vec<u8>> = seq
            .literals()?
            .iter()
            .map(|l| {
                l.as_bytes()
                    .iter()
                    .copied()
                    .filter(|&b| !chain::is_marker(b))
                    .collect()
            })
            .collect();
        (!starts.iter().any(Vec::is_empty)).then_some(starts)
    }

    /// Groups that take part in every match with a non-empty span (a sound subset: groups
    /// in sequence from the top of the pattern, outside alternations, repetitions and
    /// conditionals).
    pub fn sure_groups(&self) -> &[usize] {
        &self.sure
    }

    /// Number of groups excluding group 0 (Python `pattern.groups`).
    pub fn group_count(&self) -> usize {
        self.groups
    }

    /// Named groups with their Python index (Python `pattern.groupindex`).
    pub fn group_names(&self) -> Vec<(usize, String)> {
        self.names.clone()
    }

    /// The translations, for diagnostics and for building sets.
    pub fn translation(&self) -> &Translation {
        &self.translation
    }

    /// The exact engine usable on `hay[pos..]`, if any.
    fn exact_for(
        &self,
        hay: &str,
        pos: usize,
        ascii: bool,
    ) -> Result<Option<&meta::Regex>, PyreError> {
        if self.translation.py_end {
            let body = hay
                .as_bytes()
                .get(pos..hay.len().saturating_sub(1))
                .unwrap_or(&[]);
            if body.contains(&b'\n') {
                return Ok(None);
            }
        }
        if ascii {
            return Ok(self.ascii_exact.as_ref());
        }
        if self.translation.exact.is_some() {
            return self.exact_form().map(Some);
        }
        Ok(None)
    }

    /// Like [`Regex::search_range`], reporting an exhausted backtracking budget or a form
    /// that failed to compile.
    pub fn try_search_range(
        &self,
        hay: &str,
        pos: usize,
        endpos: usize,
    ) -> Result<Option<Captures>, PyreError> {
        let mut caps = Captures::default();
        let found = self.try_search_range_into(hay, pos, endpos, &mut caps)?;
        Ok(found.then_some(caps))
    }

    /// Python `pattern.search(hay)` into `caps`, whose buffer is reused (a searcher that
    /// keeps its results allocates nothing per match); false: no match, `caps` unspecified.
    /// An exhausted budget or a form that failed to compile counts as no match, as in
    /// [`Regex::search`].
    pub fn search_into(&self, hay: &str, caps: &mut Captures) -> bool {
        match self.try_search_range_into(hay, 0, hay.len(), caps) {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!("{e}");
                false
            }
        }
    }

    /// [`Regex::try_search_range`] into `caps` (see [`Regex::search_into`]).
    fn try_search_range_into(
        &self,
        hay: &str,
        pos: usize,
        endpos: usize,
        caps: &mut Captures,
    ) -> Result<bool, PyreError> {
        let (hay, pos) = clamp(hay, pos, endpos);
        let ascii = hay.is_ascii();
        let spans = &mut caps.spans;
        if let Some(re) = self.exact_for(hay, pos, ascii)? {
            let text = self.translation.marks.mark(hay);
            if !self.exact_spans(re, &text.bytes, text.to_marked(pos), ascii, spans) {
                return Ok(false);
            }
            if text.has_markers() {
                for (s, e) in spans.iter_mut().flatten() {
                    *s = text.to_original(*s);
                    *e = text.to_original(*e);
                }
            }
            return Ok(true);
        }
        if !self
            .gate_form(ascii)?
            .is_match(Input::new(hay).range(pos..))
        {
            return Ok(false);
        }
        let input = fancy_regex::RegexInput::new(hay).from_pos(pos);
        let found = self
            .fancy_form()?
            .captures_input(input)
            .map_err(|_| self.budget())?;
        let Some(c) = found else {
            return Ok(false);
        };
        spans.clear();
        spans.extend((0..=self.groups).map(|i| c.get(i).map(|m| (m.start(), m.end()))));
        Ok(true)
    }

    /// Group spans (offsets in `hay`, Python's numbering) of the exact form's match in
    /// `hay[pos..]` into `spans` (false: no match); `hay` is the text with this pattern's
    /// markers.
    fn exact_spans(
        &self,
        re: &meta::Regex,
        hay: &[u8],
        pos: usize,
        ascii: bool,
        spans: &mut Vec<Option<(usize, usize)>>,
    ) -> bool {
        if let (true, Some(chain)) = (ascii, self.chain.as_deref().and_then(LazyChain::get)) {
            let found = if chain.anchored {
                // `\A` matches only at 0: the head fixes the start, no DFA pass needed.
                if pos > 0 {
                    return false;
                }
                chain.spans(hay, 0, None, spans)
            } else {
                let Some(m) = re.find(Input::new(hay).range(pos..)) else {
                    return false;
                };
                chain.spans(hay, m.start(), Some(m.end()), spans)
            };
            if found {
                return true;
            }
        }
        let mut caps = re.create_captures();
        re.search_captures(&Input::new(hay).range(pos..), &mut caps);
        let Some(whole) = caps.get_match() else {
            return false;
        };
        spans.clear();
        spans.resize(self.groups + 1, None);
        spans[0] = Some((whole.start(), whole.end()));
        for (k, &index) in self.translation.group_map.iter().enumerate() {
            if let Some(s) = caps.get_group(k + 1) {
                spans[index] = Some((s.start, s.end));
            }
        }
        true
    }

    /// Like [`Regex::is_match`], reporting an exhausted backtracking budget or a form that
    /// failed to compile.
    pub fn try_is_match(&self, hay: &str) -> Result<bool, PyreError> {
        let ascii = hay.is_ascii();
        if let Some(re) = self.exact_for(hay, 0, ascii)? {
            let text = self.translation.marks.mark(hay);
            return Ok(re.is_match(Input::new(text.bytes.as_ref())));
        }
        if !self.gate_form(ascii)?.is_match(hay) {
            return Ok(false);
        }
        self.fancy_form()?.is_match(hay).map_err(|_| self.budget())
    }

    fn budget(&self) -> PyreError {
        PyreError::Budget {
            pattern: self.pattern.clone(),
            limit: BACKTRACK_LIMIT,
        }
    }

    /// The index of the group named `name`, if there is one.
    pub fn group_index(&self, name: &str) -> Option<usize> {
        self.names.iter().find(|(_, n)| n == name).map(|&(i, _)| i)
    }
}

/// `hay[..endpos]` and `pos`, both clamped and on character boundaries.
fn clamp(hay: &str, pos: usize, endpos: usize) -> (&str, usize) {
    let mut end = endpos.min(hay.len());
    while !hay.is_char_boundary(end) {
        end -= 1;
    }
    let hay = &hay[..end];
    let mut pos = pos.min(end);
    while !hay.is_char_boundary(pos) {
        pos -= 1;
    }
    (hay, pos)
}

/// The tree regex-syntax reads from ASCII-form syntax written by `emit` (no Unicode classes,
/// any bytes), for literal extraction.
fn ascii_hir(syntax: &str) -> Option<regex_syntax::hir::Hir> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(syntax)
        .ok()
}

/// `tree` written as regex syntax for `target`.
fn write(
    target: Target,
    ascii: bool,
    tree: &Ast,
    marks: &[Vec<char>],
) -> Result<String, NotExpressible> {
    Emitter {
        target,
        ascii,
        marks,
    }
    .emit(tree)
}

/// The translations of `ast`, and the tree the exact forms were written from (when they
/// exist): `ast` itself, or its rewrite without conditionals and forward lookaheads.
fn translate(ast: &Ast) -> (Translation, Option<Ast>) {
    let (exact_ast, marks) = match exact_tree(ast) {
        Some((tree, marks)) => (Some(tree), marks),
        None => (None, Marks::default()),
    };
    let follow = marks.follow();
    let (exact, ascii_exact) = match &exact_ast {
        Some(tree) => (
            write(Target::Exact, false, tree, &follow).ok(),
            write(Target::Exact, true, tree, &follow).ok(),
        ),
        None => (None, None),
    };
    let group_map = match &exact_ast {
        Some(tree) => chain::capture_order(&tree.root),
        None => (1..=ast.groups).collect(),
    };
    let translation = Translation {
        needs_confirm: exact.is_none(),
        exact,
        group_map,
        marks,
        gate: write(Target::Gate, false, ast, &[]).unwrap_or_default(),
        ascii_exact,
        ascii_gate: write(Target::Gate, true, ast, &[]).unwrap_or_default(),
        fancy: write(Target::Fancy, false, ast, &[]).unwrap_or_default(),
        py_end: ast
            .root
            .any(&|n| matches!(n, Node::Assert(Assertion::PyEnd))),
    };
    (translation, exact_ast)
}

/// The tree to write exact forms from: conditionals resolved (`cond.rs`), then forward
/// lookaheads on literals turned into markers (`mark.rs`); `None` when a rewrite is refused.
fn exact_tree(ast: &Ast) -> Option<(Ast, Marks)> {
    let resolved = match cond::resolve(ast) {
        None => ast.clone(),
        Some(r) => r.ok()?,
    };
    match mark::rewrite(&resolved) {
        None => Some((resolved, Marks::default())),
        Some(r) => r.ok(),
    }
}

impl Captures {
    /// Span of group `i` (0 = whole match), if it participated.
    pub fn get(&self, i: usize) -> Option<(usize, usize)> {
        self.spans.get(i).copied().flatten()
    }

    /// Text of group `i` in `hay` (the text that was searched).
    pub fn get_str<'h>(&self, hay: &'h str, i: usize) -> Option<&'h str> {
        self.get(i).and_then(|(s, e)| hay.get(s..e))
    }

    /// Number of groups including group 0.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Never true: group 0 always exists.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}
