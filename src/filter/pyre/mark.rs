//! Lookahead markers: `(?!L)` and `(?=L)` for literal `L` (or a set of literals) made regular
//! by marking the text instead of looking ahead.
//!
//! Owns the rewrite of forward lookaheads on literal sets and the matching text transform. It
//! does not emit syntax (`emit.rs` writes the marked atoms) or search; `pyre::Regex` calls
//! [`rewrite`] once per pattern and [`Marks::mark`] per search.
//!
//! Idea: before searching, a marker byte that never occurs in UTF-8 (0xFF for marker 0, 0xFE
//! for marker 1, ...) is inserted in front of every occurrence of one of the marker's
//! literals, overlapping occurrences included; several markers at one position come in
//! marker order. A position of the original text stands for the position in front of its
//! markers. Every atom of the pattern consumes the markers in front of its character
//! (optionally), except an atom right after a lookahead: after `(?!L)` it must not find L's
//! marker, after `(?=L)` it must. The lookahead is thereby moved onto the first atom(s) that
//! can follow it: into groups, into every branch of an alternation, into the first iteration
//! of a repetition (`X{m,n}` becomes `X' X{m-1,n-1}` when X has no groups). Spans found in the
//! marked text are mapped back by subtracting the markers in front of them.
//!
//! Refused (the pattern keeps the backtracking path) when the lookahead could be satisfied
//! without a following atom (at the end of a sequence, or followed by something that can
//! match empty), when its body is not a set of case-sensitive literals, when a literal starts
//! with `\n` (`$` looks at that character), when a word boundary is used and a literal starts
//! with a word character (`\b` would see the marker), and when an unanchored pattern can start
//! with a constrained atom (the search could start after the marker).
//!
//! # Compatibility
//! Exact for Python 3.11's `re`: `(?!L)` at position p is true iff no literal of L starts at p
//! iff the marked text has no L-marker in front of p's character, and the atom that consumes
//! the character at p is the only one that can see those markers. Lookaheads consume nothing
//! and set no group, so the priority order of the paths is unchanged. Checked against the live
//! Python by tests/pyre_python.rs.

use std::borrow::Cow;

use super::ast::{Assertion, Ast, GroupKind, Node, Repeat};
use super::emit::{has_case, marker_byte};

/// At most this many distinct lookahead literal sets (marker bytes 0xFF down to 0xF8).
const MAX_MARKS: usize = 8;

/// The rewrite does not apply.
#[derive(Debug)]
pub(crate) struct Refused;

type Res<T> = Result<T, Refused>;

/// The literal sets of a rewritten pattern's lookaheads; marker j stands for `sets[j]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    sets: Vec<Vec<String>>,
}

/// A text with its markers inserted.
#[derive(Debug)]
pub(crate) struct MarkedText<'h> {
    pub bytes: Cow<'h, [u8]>,
    /// Offsets in `bytes` of the marker bytes, increasing.
    at: Vec<usize>,
}

impl Marks {
    /// The literal sets, by marker.
    pub fn sets(&self) -> &[Vec<String>] {
        &self.sets
    }

    /// True when the pattern has no lookahead markers.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// For each marker, the characters that can follow it (the literals' first characters).
    pub(crate) fn follow(&self) -> Vec<Vec<char>> {
        self.sets
            .iter()
            .map(|set| {
                let mut v: Vec<char> = set.iter().filter_map(|l| l.chars().next()).collect();
                v.sort_unstable();
                v.dedup();
                v
            })
            .collect()
    }

    /// `hay` with the markers inserted (borrowed when no literal occurs in it).
    pub(crate) fn mark<'h>(&self, hay: &'h str) -> MarkedText<'h> {
        let mut found: Vec<(usize, usize)> = vec![];
        for (j, set) in self.sets.iter().enumerate() {
            for lit in set {
                let step = lit.chars().next().map_or(1, char::len_utf8);
                let mut from = 0;
                while let Some(i) = hay.get(from..).and_then(|h| h.find(lit.as_str())) {
                    found.push((from + i, j));
                    from += i + step;
                }
            }
        }
        if found.is_empty() {
            return MarkedText {
                bytes: Cow::Borrowed(hay.as_bytes()),
                at: vec![],
            };
        }
        found.sort_unstable();
        found.dedup();
        let src = hay.as_bytes();
        let mut bytes = Vec::with_capacity(src.len() + found.len());
        let mut at = Vec::with_capacity(found.len());
        let mut copied = 0;
        for (p, j) in found {
            bytes.extend_from_slice(&src[copied..p]);
            copied = p;
            at.push(bytes.len());
            bytes.push(marker_byte(j));
        }
        bytes.extend_from_slice(&src[copied..]);
        MarkedText {
            bytes: Cow::Owned(bytes),
            at,
        }
    }
}

impl MarkedText<'_> {
    /// The marked offset standing for original offset `p` (in front of p's markers).
    pub(crate) fn to_marked(&self, p: usize) -> usize {
        // The i-th marker sits in front of original offset at[i] - i.
        p + self
            .at
            .iter()
            .enumerate()
            .take_while(|&(i, &a)| a - i < p)
            .count()
    }

    /// The original offset of marked offset `q`.
    pub(crate) fn to_original(&self, q: usize) -> usize {
        q - self.at.partition_point(|&a| a < q)
    }

    /// True when markers were inserted (offsets need mapping).
    pub(crate) fn has_markers(&self) -> bool {
        !self.at.is_empty()
    }
}

/// The tree with its forward lookaheads moved onto atoms, and the markers they use; `None`
/// when the tree has no forward lookahead.
pub(crate) fn rewrite(ast: &Ast) -> Option<Res<(Ast, Marks)>> {
    if !ast
        .root
        .any(&|n| matches!(n, Node::Look { behind: false, .. }))
    {
        return None;
    }
    let mut m = Rewriter { sets: vec![] };
    let out = m.node(&ast.root).and_then(|root| {
        let marks = Marks { sets: m.sets };
        check(&root, &marks)?;
        Ok((
            Ast {
                root,
                groups: ast.groups,
                names: ast.names.clone(),
            },
            marks,
        ))
    });
    Some(out)
}

/// The conditions under which the marked text keeps every other construct's meaning.
fn check(root: &Node, marks: &Marks) -> Res<()> {
    let word_boundary = root.any(&|n| {
        matches!(
            n,
            Node::Assert(Assertion::WordBoundary { .. } | Assertion::NotWordBoundary { .. })
        )
    });
    for lit in marks.sets.iter().flatten() {
        let first = lit.chars().next().ok_or(Refused)?;
        let word = first.is_alphanumeric() || first == '_' || !first.is_ascii();
        if first == '\n' || (word_boundary && word) {
            return Err(Refused);
        }
    }
    if !starts_anchored(root) && first_constrained(root) {
        return Err(Refused);
    }
    Ok(())
}

/// Whether every match must start at a `\A` or `^` (then never just after a marker).
fn starts_anchored(n: &Node) -> bool {
    match n {
        Node::Assert(Assertion::TextStart | Assertion::LineStart) => true,
        Node::Concat(v) => v
            .iter()
            .find(|e| !matches!(e, Node::Empty))
            .is_some_and(starts_anchored),
        Node::Alt(v) => v.iter().all(starts_anchored),
        Node::Group(g) => starts_anchored(&g.node),
        _ => false,
    }
}

/// Whether the first character a match of `n` consumes may be a constrained atom's.
fn first_constrained(n: &Node) -> bool {
    match n {
        Node::Marked { need, forbid, .. } => need | forbid != 0,
        Node::Concat(v) => {
            for e in v {
                if first_constrained(e) {
                    return true;
                }
                if !nullable(e) {
                    return false;
                }
            }
            false
        }
        Node::Alt(v) => v.iter().any(first_constrained),
        Node::Group(g) => first_constrained(&g.node),
        Node::Repeat(r) => first_constrained(&r.node),
        Node::Cond { yes, no, .. } => first_constrained(yes) || first_constrained(no),
        _ => false,
    }
}

/// Whether `n` can match the empty string (true when unsure).
fn nullable(n: &Node) -> bool {
    match n {
        Node::Literal { .. } | Node::Dot { .. } | Node::Class(_) | Node::Marked { .. } => false,
        Node::Group(g) => nullable(&g.node),
        Node::Repeat(r) => r.min == 0 || nullable(&r.node),
        Node::Concat(v) => v.iter().all(nullable),
        Node::Alt(v) => v.iter().any(nullable),
        _ => true,
    }
}

/// One literal string of case-sensitive characters, if `n` is one.
fn literal(n: &Node) -> Option<String> {
    match n {
        Node::Literal { c, icase } if !*icase || !has_case(*c) => Some(c.to_string()),
        Node::Concat(v) => v.iter().map(literal).collect(),
        Node::Group(g) if g.kind == GroupKind::NonCapture => literal(&g.node),
        _ => None,
    }
}

/// The literals a lookahead body is an alternation of.
fn literal_set(n: &Node) -> Option<Vec<String>> {
    let mut set: Vec<String> = match n {
        Node::Alt(v) => v.iter().map(literal).collect::<Option<_>>()?,
        Node::Group(g) if g.kind == GroupKind::NonCapture => return literal_set(&g.node),
        n => vec![literal(n)?],
    };
    if set.iter().any(String::is_empty) {
        return None;
    }
    set.sort();
    set.dedup();
    Some(set)
}

struct Rewriter {
    sets: Vec<Vec<String>>,
}

impl Rewriter {
    fn marker(&mut self, set: Vec<String>) -> Res<usize> {
        if let Some(j) = self.sets.iter().position(|s| *s == set) {
            return Ok(j);
        }
        if self.sets.len() == MAX_MARKS {
            return Err(Refused);
        }
        self.sets.push(set);
        Ok(self.sets.len() - 1)
    }

    fn node(&mut self, n: &Node) -> Res<Node> {
        Ok(match n {
            Node::Concat(v) => {
                let mut v: Vec<Node> = v
                    .iter()
                    .map(|e| match e {
                        Node::Look { behind: false, .. } => Ok(e.clone()),
                        _ => self.node(e),
                    })
                    .collect::<Res<_>>()?;
                let mut i = v.len();
                while i > 0 {
                    i -= 1;
                    if let Node::Look {
                        behind: false,
                        negate,
                        node,
                    } = &v[i]
                    {
                        let negate = *negate;
                        let j = self.marker(literal_set(node).ok_or(Refused)?)?;
                        v.remove(i);
                        constrain_list(&mut v[i..], 1 << j, negate)?;
                    }
                }
                Node::Concat(v)
            }
            Node::Look { behind: false, .. } | Node::Cond { .. } => return Err(Refused),
            Node::Alt(v) => Node::Alt(v.iter().map(|e| self.node(e)).collect::<Res<_>>()?),
            Node::Group(g) => {
                let mut g = (**g).clone();
                g.node = self.node(&g.node)?;
                Node::Group(Box::new(g))
            }
            Node::Repeat(r) => {
                let mut r = (**r).clone();
                r.node = self.node(&r.node)?;
                Node::Repeat(Box::new(r))
            }
            other => other.clone(),
        })
    }
}

/// Constrain the first atom of the sequence `v` (which must consume one).
fn constrain_list(v: &mut [Node], bit: u8, negate: bool) -> Res<()> {
    for n in v.iter_mut() {
        match n {
            Node::Empty | Node::Assert(_) | Node::Look { behind: true, .. } => continue,
            _ if nullable(n) => return Err(Refused),
            _ => return constrain(n, bit, negate),
        }
    }
    Err(Refused)
}

/// Constrain every first atom of `n`, which cannot match empty.
fn constrain(n: &mut Node, bit: u8, negate: bool) -> Res<()> {
    match n {
        Node::Literal { .. } | Node::Dot { .. } | Node::Class(_) => {
            let (need, forbid) = if negate { (0, bit) } else { (bit, 0) };
            *n = Node::Marked {
                need,
                forbid,
                atom: Box::new(n.clone()),
            };
        }
        Node::Marked { need, forbid, .. } => {
            if negate {
                *forbid |= bit;
            } else {
                *need |= bit;
            }
        }
        Node::Group(g) if g.kind != GroupKind::Atomic => constrain(&mut g.node, bit, negate)?,
        Node::Concat(v) => constrain_list(v, bit, negate)?,
        Node::Alt(v) => {
            for b in v.iter_mut() {
                if nullable(b) {
                    return Err(Refused);
                }
                constrain(b, bit, negate)?;
            }
        }
        Node::Repeat(r)
            if r.min >= 1
                && !r.possessive
                && !r
                    .node
                    .any(&|m| matches!(m, Node::Group(g) if g.kind != GroupKind::NonCapture)) =>
        {
            let mut first = r.node.clone();
            constrain(&mut first, bit, negate)?;
            let rest = Repeat {
                min: r.min - 1,
                max: r.max.map(|m| m - 1),
                ..(**r).clone()
            };
            *n = if rest.max == Some(0) {
                first
            } else {
                Node::Concat(vec![first, Node::Repeat(Box::new(rest))])
            };
        }
        _ => return Err(Refused),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::pyre::parse;

    fn marks(p: &str) -> Option<Res<(Ast, Marks)>> {
        rewrite(&parse(p).expect("parses"))
    }

    #[test]
    fn literal_lookaheads_become_markers() {
        for p in [
            "^(?:(?! from ).)*$",
            "^a(?!- )\\S+",
            "^(?!ab|cd)(?:x|y)+",
            "^x(?=\")[^a]",
        ] {
            let (ast, m) = marks(p).expect("has a lookahead").expect("rewritten");
            assert!(!ast.root.any(&|n| matches!(n, Node::Look { .. })), "{p}");
            assert_eq!(m.sets().len(), 1);
        }
    }

    #[test]
    fn refusals() {
        for p in [
            "a(?!b)",
            "^(?!a)b?c",
            "(?!a).",
            "^(?!a|b*)c",
            "^(?!a)(b)+",
            "^(?!\\na).",
            "^\\b(?!ab).",
        ] {
            assert!(marks(p).expect("has a lookahead").is_err(), "{p}");
        }
    }

    #[test]
    fn marking_and_mapping() {
        let (_, m) = marks("^(?:(?!aa).)*")
            .expect("lookahead")
            .expect("rewritten");
        let t = m.mark("xaaab");
        assert_eq!(t.bytes.as_ref(), b"x\xFFa\xFFaab");
        assert_eq!(t.to_original(0), 0);
        assert_eq!(t.to_original(2), 1);
        assert_eq!(t.to_original(4), 2);
        assert_eq!(t.to_original(7), 5);
        assert_eq!(t.to_marked(1), 1);
        assert_eq!(t.to_marked(2), 3);
        assert_eq!(t.to_marked(3), 5);
        assert_eq!(t.to_marked(5), 7);
        assert!(!m.mark("xyz").has_markers());
    }
}
