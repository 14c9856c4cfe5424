//! Chain captures: group spans from one DFA pass per top-level piece of the pattern, instead of
//! a backtracking pass over the whole match.
//!
//! Owns one optimisation of `Regex::search` on ASCII text. regex-automata's capture engines
//! cost tens of nanoseconds per byte, and fail2ban patterns spend most of a line inside
//! capture-free pieces (`.+`, `\S+`, literal text). The pattern's top-level sequence is cut
//! into pieces: runs without capture groups, capture groups without nested groups (both
//! resolved by an anchored lazy-DFA search), and the remaining elements with nested groups
//! (resolved by the exact capture engine over that element only). It never decides a result on
//! its own: when a piece fails, it answers `None` and the caller runs the full exact engine.
//! Called by `pyre::Regex`.
//!
//! # Compatibility
//! Exact. Python's backtracking takes the first (priority-order) path of each element of a
//! sequence in turn and only revisits an element when a later one fails. So if, piece after
//! piece, the anchored leftmost-first match of each piece alone (its first path) exists, the
//! chain of those first paths is the match Python returns, with the same group spans. When a
//! piece has no match, Python would backtrack into an earlier one: the caller falls back.

use regex_automata::{Anchored, Input, MatchKind, meta};

use super::ast::{Assertion, Ast, GroupKind, Node};
use super::emit::{Emitter, Target, suffix};

/// How a piece reports its groups.
#[derive(Debug, Clone)]
enum Kind {
    /// No groups.
    Plain,
    /// The piece is capture group `index` with no nested groups.
    Group(usize),
    /// The piece holds groups: its own group k+1 is Python's group `map[k]` (a rewritten
    /// pattern can hold several copies of one group; at most one takes part in a match).
    Nested { map: Vec<usize> },
}

#[derive(Debug, Clone)]
struct Piece {
    re: meta::Regex,
    kind: Kind,
}

/// A pattern cut into pieces (ASCII forms).
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    pieces: Vec<Piece>,
    groups: usize,
    /// The pattern starts with `\A` (or `^` without MULTILINE): the match can only start at
    /// 0, so no DFA pass is needed to find the start.
    pub(crate) anchored: bool,
}

fn is_capture(n: &Node) -> bool {
    matches!(n, Node::Group(g) if matches!(g.kind, GroupKind::Capture { .. }))
}

/// The Python index of every capture group inside `n`, in the order their parentheses open
/// (which is how the emitted syntax numbers them).
pub(crate) fn capture_order(n: &Node) -> Vec<usize> {
    fn walk(n: &Node, found: &mut Vec<usize>) {
        match n {
            Node::Group(g) => {
                if let GroupKind::Capture { index, .. } = g.kind {
                    found.push(index);
                }
                walk(&g.node, found);
            }
            Node::Repeat(r) => walk(&r.node, found),
            Node::Concat(v) | Node::Alt(v) => v.iter().for_each(|m| walk(m, found)),
            Node::Cond { yes, no, .. } => {
                walk(yes, found);
                walk(no, found);
            }
            Node::Look { node, .. } => walk(node, found),
            _ => {}
        }
    }
    let mut found = vec![];
    walk(n, &mut found);
    found
}

impl Chain {
    /// Cut `ast` into pieces; `None` when it has no useful cut or a piece has no exact ASCII
    /// form. `marks`: the lookahead markers of a rewritten tree (see `Emitter::marks`).
    pub(crate) fn new(ast: &Ast, marks: &[Vec<char>]) -> Result<Option<Chain>, String> {
        let Node::Concat(v) = &ast.root else {
            return Ok(None);
        };
        let em = Emitter {
            target: Target::Exact,
            ascii: true,
            marks,
        };
        let mut pieces = vec![];
        let mut run: Vec<Node> = vec![];
        let mut before = String::new();
        let flush = |run: &mut Vec<Node>, before: &mut String, pieces: &mut Vec<(String, Kind)>| {
            if run.is_empty() {
                return Some(());
            }
            let node = Node::Concat(std::mem::take(run));
            let syntax = em.emit_node(ast, &node, before, false).ok()?;
            *before = suffix(&node, before);
            pieces.push((syntax, Kind::Plain));
            Some(())
        };
        let mut syntaxes: Vec<(String, Kind)> = vec![];
        for e in v {
            if !e.any(&is_capture) {
                run.push(e.clone());
                continue;
            }
            if flush(&mut run, &mut before, &mut syntaxes).is_none() {
                return Ok(None);
            }
            let kind = match e {
                Node::Group(g) if !g.node.any(&is_capture) => match g.kind {
                    GroupKind::Capture { index, .. } => Kind::Group(index),
                    _ => return Ok(None),
                },
                _ => Kind::Nested {
                    map: capture_order(e),
                },
            };
            let copy = matches!(kind, Kind::Group(_));
            let Ok(syntax) = em.emit_node(ast, e, &before, copy) else {
                return Ok(None);
            };
            before = suffix(e, &before);
            syntaxes.push((syntax, kind));
        }
        if flush(&mut run, &mut before, &mut syntaxes).is_none() || syntaxes.len() < 2 {
            return Ok(None);
        }
        for (syntax, kind) in syntaxes {
            let re = super::build_meta(&[&syntax], true, false, MatchKind::LeftmostFirst)?;
            pieces.push(Piece { re, kind });
        }
        let anchored = matches!(v.first(), Some(Node::Assert(Assertion::TextStart)));
        Ok(Some(Chain {
            pieces,
            groups: ast.groups,
            anchored,
        }))
    }

    /// Group spans of the match starting at `start` (where the exact DFA found the leftmost
    /// match, or 0 for an anchored pattern), or `None` when the caller must decide with the
    /// full engine. `expected_end`, when known, is checked against the computed end.
    pub(crate) fn spans(
        &self,
        hay: &[u8],
        start: usize,
        expected_end: Option<usize>,
    ) -> Option<Vec<Option<(usize, usize)>>> {
        let mut spans = vec![None; self.groups + 1];
        let mut at = start;
        for piece in &self.pieces {
            let input = Input::new(hay).range(at..).anchored(Anchored::Yes);
            match &piece.kind {
                Kind::Plain => at = piece.re.find(input)?.end(),
                Kind::Group(index) => {
                    let end = piece.re.find(input)?.end();
                    spans[*index] = Some((at, end));
                    at = end;
                }
                Kind::Nested { map } => {
                    let mut caps = piece.re.create_captures();
                    piece.re.search_captures(&input, &mut caps);
                    at = caps.get_match()?.end();
                    for (k, &index) in map.iter().enumerate() {
                        if let Some(s) = caps.get_group(k + 1) {
                            spans[index] = Some((s.start, s.end));
                        }
                    }
                }
            }
        }
        if expected_end.is_some_and(|e| e != at) {
            return None;
        }
        spans[0] = Some((start, at));
        Some(spans)
    }
}
