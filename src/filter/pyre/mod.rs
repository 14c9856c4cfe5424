//! pyre: Python `re` patterns run on regex-automata, with Python's exact results.
//!
//! Owns parsing Python 3.11 regex syntax ([`parse`]), translating it to regex-automata
//! syntax, and searching with Python's `pattern.search` semantics: leftmost start, then
//! backtracking priority, group numbering and last-iteration captures. It does not know about
//! fail2ban tags, dates or failures; `filter` calls it with the fully expanded patterns.
//!
//! How a search runs: a pattern without Python-only constructs is compiled exactly to a
//! `meta::Regex` twice, once with ASCII classes (used when the searched text is ASCII, which is
//! cheaper to compile and faster to run) and once with Unicode classes. A pattern with
//! lookarounds, backreferences, conditionals, atomic groups or possessive quantifiers gets a
//! superset "gate" regex (lookarounds dropped, a backreference replaced by a copy of its group,
//! a conditional by both branches); only text the gate accepts is confirmed by fancy-regex
//! with a bounded backtracking budget. No text is ever given to an unbounded backtracker.
//!
//! # Compatibility
//! Identical to Python's `re` for `str` patterns except: `\N{name}` escapes are refused;
//! IGNORECASE uses Unicode simple case folding (Python adds a few special folds, e.g. for
//! `ı`); Unicode tables are those of the Rust crates, not of the running Python. Offsets are
//! byte offsets into the UTF-8 text, where Python counts characters. A search that exhausts the
//! backtracking budget is reported by [`Regex::try_search_range`] and counts as no match in
//! [`Regex::search`] (logged with `tracing::warn!`).

mod ast;
mod emit;
mod gate;
mod parse;

use std::sync::Arc;

use regex_automata::{Input, meta};

pub use ast::{Assertion, Ast, Class, ClassItem, Group, GroupKind, Node, PerlKind, Repeat};
pub use gate::GateSet;

use emit::{Emitter, Target};

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

/// The translations of one pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// Rust syntax with exactly Python's meaning on any text, if one exists. When the pattern
    /// has a Python `$` ([`Translation::py_end`]), it is exact only for text with no `\n`
    /// before its last character.
    pub exact: Option<String>,
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
#[derive(Debug, Clone)]
pub struct Regex {
    pattern: String,
    groups: usize,
    names: Arc<Vec<(usize, String)>>,
    translation: Translation,
    exact: Option<meta::Regex>,
    ascii_exact: Option<meta::Regex>,
    gate: meta::Regex,
    fancy: Option<fancy_regex::Regex>,
}

/// The groups of one match: byte spans, group 0 is the whole match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captures {
    spans: Vec<Option<(usize, usize)>>,
    names: Arc<Vec<(usize, String)>>,
}

/// Parse a Python pattern (no flags) into its tree.
pub fn parse(pattern: &str) -> Result<Ast, PyreError> {
    parse::parse_with(pattern, parse::Flags::default())
}

fn compile_meta(pattern: &str, syntax: &str, what: &'static str) -> Result<meta::Regex, PyreError> {
    meta::Regex::new(syntax).map_err(|e| PyreError::Compile {
        pattern: pattern.to_string(),
        what,
        source: Box::new(e),
    })
}

impl Regex {
    /// Compile `pattern` as Python's `re.compile(pattern, flags)` would.
    pub fn new(pattern: &str, opts: &Options) -> Result<Regex, PyreError> {
        let flags = parse::Flags {
            i: opts.ignore_case,
            m: opts.multiline,
            s: opts.dotall,
            ..Default::default()
        };
        let ast = parse::parse_with(pattern, flags)?;
        let translation = translate(&ast);
        let exact = match &translation.exact {
            Some(s) => Some(compile_meta(pattern, s, "exact")?),
            None => None,
        };
        let ascii_exact = match &translation.ascii_exact {
            Some(s) => Some(compile_meta(pattern, s, "ascii exact")?),
            None => None,
        };
        let gate = compile_meta(pattern, &translation.gate, "gate")?;
        let fancy = if exact.is_none() || ascii_exact.is_none() || translation.py_end {
            let f = fancy_regex::RegexBuilder::new(&translation.fancy)
                .backtrack_limit(BACKTRACK_LIMIT)
                .build()
                .map_err(|e| PyreError::Compile {
                    pattern: pattern.to_string(),
                    what: "backtracking",
                    source: Box::new(e),
                })?;
            Some(f)
        } else {
            None
        };
        Ok(Regex {
            pattern: pattern.to_string(),
            groups: ast.groups,
            names: Arc::new(ast.names),
            translation,
            exact,
            ascii_exact,
            gate,
            fancy,
        })
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

    /// Number of groups excluding group 0 (Python `pattern.groups`).
    pub fn group_count(&self) -> usize {
        self.groups
    }

    /// Named groups with their Python index (Python `pattern.groupindex`).
    pub fn group_names(&self) -> Vec<(usize, String)> {
        self.names.as_ref().clone()
    }

    /// The translations, for diagnostics and for building sets.
    pub fn translation(&self) -> &Translation {
        &self.translation
    }

    /// The exact engine usable on `hay[pos..]`, if any.
    fn exact_for(&self, hay: &str, pos: usize) -> Option<&meta::Regex> {
        let re = if hay.is_ascii() {
            self.ascii_exact.as_ref()
        } else {
            self.exact.as_ref()
        }?;
        if self.translation.py_end {
            let body = hay
                .as_bytes()
                .get(pos..hay.len().saturating_sub(1))
                .unwrap_or(&[]);
            if body.contains(&b'\n') {
                return None;
            }
        }
        Some(re)
    }

    /// Like [`Regex::search_range`], reporting an exhausted backtracking budget.
    pub fn try_search_range(
        &self,
        hay: &str,
        pos: usize,
        endpos: usize,
    ) -> Result<Option<Captures>, PyreError> {
        let (hay, pos) = clamp(hay, pos, endpos);
        if let Some(re) = self.exact_for(hay, pos) {
            let mut caps = re.create_captures();
            re.search_captures(&Input::new(hay).range(pos..), &mut caps);
            if !caps.is_match() {
                return Ok(None);
            }
            let spans = (0..=self.groups)
                .map(|i| caps.get_group(i).map(|s| (s.start, s.end)))
                .collect();
            return Ok(Some(self.captures(spans)));
        }
        if !self.gate.is_match(Input::new(hay).range(pos..)) {
            return Ok(None);
        }
        let fancy = self.fancy_or_bug()?;
        let input = fancy_regex::RegexInput::new(hay).from_pos(pos);
        let caps = fancy.captures_input(input).map_err(|_| self.budget())?;
        Ok(caps.map(|c| {
            let spans = (0..=self.groups)
                .map(|i| c.get(i).map(|m| (m.start(), m.end())))
                .collect();
            self.captures(spans)
        }))
    }

    /// Like [`Regex::is_match`], reporting an exhausted backtracking budget.
    pub fn try_is_match(&self, hay: &str) -> Result<bool, PyreError> {
        if let Some(re) = self.exact_for(hay, 0) {
            return Ok(re.is_match(hay));
        }
        if !self.gate.is_match(hay) {
            return Ok(false);
        }
        let fancy = self.fancy_or_bug()?;
        fancy.is_match(hay).map_err(|_| self.budget())
    }

    fn fancy_or_bug(&self) -> Result<&fancy_regex::Regex, PyreError> {
        // `new` builds the backtracker whenever an exact form is missing or `$` needs it.
        self.fancy.as_ref().ok_or_else(|| PyreError::Compile {
            pattern: self.pattern.clone(),
            what: "backtracking",
            source: "backtracking form missing".into(),
        })
    }

    fn budget(&self) -> PyreError {
        PyreError::Budget {
            pattern: self.pattern.clone(),
            limit: BACKTRACK_LIMIT,
        }
    }

    fn captures(&self, spans: Vec<Option<(usize, usize)>>) -> Captures {
        Captures {
            spans,
            names: Arc::clone(&self.names),
        }
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

fn translate(ast: &Ast) -> Translation {
    let write = |target, ascii| Emitter { target, ascii }.emit(ast);
    let exact = write(Target::Exact, false).ok();
    let gate = write(Target::Gate, false).unwrap_or_default();
    let fancy = write(Target::Fancy, false).unwrap_or_default();
    Translation {
        needs_confirm: exact.is_none(),
        exact,
        gate,
        ascii_exact: write(Target::Exact, true).ok(),
        ascii_gate: write(Target::Gate, true).unwrap_or_default(),
        fancy,
        py_end: ast
            .root
            .any(&|n| matches!(n, Node::Assert(Assertion::PyEnd))),
    }
}

impl Captures {
    /// Span of group `i` (0 = whole match), if it participated.
    pub fn get(&self, i: usize) -> Option<(usize, usize)> {
        self.spans.get(i).copied().flatten()
    }

    /// Span of the group named `name`, if it exists and participated.
    pub fn name(&self, name: &str) -> Option<(usize, usize)> {
        let (i, _) = self.names.iter().find(|(_, n)| n == name)?;
        self.get(*i)
    }

    /// Text of group `i` in `hay` (the text that was searched).
    pub fn get_str<'h>(&self, hay: &'h str, i: usize) -> Option<&'h str> {
        self.get(i).and_then(|(s, e)| hay.get(s..e))
    }

    /// Text of the group named `name` in `hay` (the text that was searched).
    pub fn name_str<'h>(&self, hay: &'h str, name: &str) -> Option<&'h str> {
        self.name(name).and_then(|(s, e)| hay.get(s..e))
    }

    /// Number of groups including group 0.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Never true: group 0 always exists.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Named groups with their index.
    pub fn names(&self) -> &[(usize, String)] {
        &self.names
    }
}
