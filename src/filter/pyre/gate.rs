//! GateSet: one combined DFA pass telling which of many patterns may match a text.
//!
//! Owns the multi-pattern rejection filter the filter engine runs on every line before any
//! capture work. It never confirms a match: a pattern it reports may still not match (its gate
//! is a superset), a pattern it does not report cannot match. Called by `filter`.
//!
//! # Compatibility
//! Sound for every pattern `pyre::Regex` accepts: each gate is a superset of the Python
//! pattern's matches, so no fail2ban match is lost.

use std::sync::OnceLock;

use regex_automata::{Input, MatchKind, PatternSet, meta};

use super::{PyreError, Regex};

/// Several patterns' gates compiled into one regex (ASCII and Unicode forms; the Unicode
/// form is compiled on the first non-ASCII text, or by [`GateSet::compile_all`]).
#[derive(Debug, Clone)]
pub struct GateSet {
    ascii: meta::Regex,
    unicode_syntax: Vec<String>,
    unicode: OnceLock<Result<meta::Regex, String>>,
    len: usize,
}

fn build(pats: &[&str], ascii: bool) -> Result<meta::Regex, PyreError> {
    super::build_meta(pats, ascii, false, MatchKind::All).map_err(|msg| PyreError::Compile {
        pattern: format!("<set of {} patterns>", pats.len()),
        what: if ascii { "ascii gate set" } else { "gate set" },
        source: msg.into(),
    })
}

impl GateSet {
    /// Combine the gates of `regexes`; index i of a result is `regexes[i]`.
    pub fn new(regexes: &[&Regex]) -> Result<GateSet, PyreError> {
        let ascii: Vec<&str> = regexes
            .iter()
            .map(|r| r.translation().ascii_gate.as_str())
            .collect();
        Ok(GateSet {
            ascii: build(&ascii, true)?,
            unicode_syntax: regexes
                .iter()
                .map(|r| r.translation().gate.clone())
                .collect(),
            unicode: OnceLock::new(),
            len: regexes.len(),
        })
    }

    fn unicode(&self) -> Result<&meta::Regex, PyreError> {
        let pats: Vec<&str> = self.unicode_syntax.iter().map(String::as_str).collect();
        self.unicode
            .get_or_init(|| build(&pats, false).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|msg| PyreError::Compile {
                pattern: format!("<set of {} patterns>", pats.len()),
                what: "gate set",
                source: msg.clone().into(),
            })
    }

    /// Compile the Unicode form now, so that no search meets a compile error later.
    pub fn compile_all(&self) -> Result<(), PyreError> {
        self.unicode().map(|_| ())
    }

    /// The regex for `hay`; `None` (after a warning) when the Unicode form cannot be built,
    /// in which case every pattern must be treated as a candidate.
    fn for_text(&self, hay: &str) -> Option<&meta::Regex> {
        if hay.is_ascii() {
            return Some(&self.ascii);
        }
        match self.unicode() {
            Ok(re) => Some(re),
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        }
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when built from no patterns.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Indices of the patterns that may match `hay` (searched as Python `search` would).
    pub fn candidates(&self, hay: &str) -> Vec<usize> {
        let Some(re) = self.for_text(hay) else {
            return (0..self.len).collect();
        };
        let mut set = PatternSet::new(self.len);
        re.which_overlapping_matches(&Input::new(hay), &mut set);
        set.iter().map(|p| p.as_usize()).collect()
    }

    /// Whether any pattern may match `hay`.
    pub fn may_match(&self, hay: &str) -> bool {
        self.for_text(hay)
            .is_none_or(|re| re.is_match(Input::new(hay)))
    }
}
