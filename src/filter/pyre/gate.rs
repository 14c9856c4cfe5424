//! GateSet: one combined DFA pass telling which of many patterns may match a text.
//!
//! Owns the multi-pattern rejection filter the filter engine runs on every line before any
//! capture work. It never confirms a match: a pattern it reports may still not match (its gate
//! is a superset), a pattern it does not report cannot match. Called by `filter`.
//!
//! # Compatibility
//! Sound for every pattern `pyre::Regex` accepts: each gate is a superset of the Python
//! pattern's matches, so no fail2ban match is lost.

use regex_automata::{Input, MatchKind, PatternSet, meta};

use super::{PyreError, Regex};

/// Several patterns' gates compiled into one regex (ASCII and Unicode forms).
#[derive(Debug, Clone)]
pub struct GateSet {
    ascii: meta::Regex,
    unicode: meta::Regex,
    len: usize,
}

fn build(pats: &[&str]) -> Result<meta::Regex, PyreError> {
    meta::Regex::builder()
        .configure(meta::Config::new().match_kind(MatchKind::All))
        .build_many(pats)
        .map_err(|e| PyreError::Compile {
            pattern: pats.join(" | "),
            what: "gate set",
            source: Box::new(e),
        })
}

impl GateSet {
    /// Combine the gates of `regexes`; index i of a result is `regexes[i]`.
    pub fn new(regexes: &[&Regex]) -> Result<GateSet, PyreError> {
        let ascii: Vec<&str> = regexes
            .iter()
            .map(|r| r.translation().ascii_gate.as_str())
            .collect();
        let unicode: Vec<&str> = regexes
            .iter()
            .map(|r| r.translation().gate.as_str())
            .collect();
        Ok(GateSet {
            ascii: build(&ascii)?,
            unicode: build(&unicode)?,
            len: regexes.len(),
        })
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
        let mut set = PatternSet::new(self.len);
        let re = if hay.is_ascii() {
            &self.ascii
        } else {
            &self.unicode
        };
        re.which_overlapping_matches(&Input::new(hay), &mut set);
        set.iter().map(|p| p.as_usize()).collect()
    }

    /// Whether any pattern may match `hay`.
    pub fn may_match(&self, hay: &str) -> bool {
        let re = if hay.is_ascii() {
            &self.ascii
        } else {
            &self.unicode
        };
        re.is_match(Input::new(hay))
    }
}
