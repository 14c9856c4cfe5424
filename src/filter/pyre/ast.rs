//! The syntax tree of a Python `re` pattern, with flags already resolved into the nodes.
//!
//! `parse` builds it; `emit` writes it back as Rust regex syntax (exact or superset) and as
//! fancy-regex syntax. Nothing here matches text.
//!
//! # Compatibility
//! Every node keeps the meaning Python 3.11's `re` gives it on a `str` pattern: `^`/`$`
//! already carry their MULTILINE reading, literals and classes carry IGNORECASE, `.` carries
//! DOTALL and the class shorthands carry whether the ASCII flag was in force.

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Ast {
    /// The root node.
    pub root: Node,
    /// Number of capture groups (excluding group 0), numbered as Python numbers them.
    pub groups: usize,
    /// Named groups: (Python index, name), in index order.
    pub names: Vec<(usize, String)>,
}

/// One node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Matches the empty string.
    Empty,
    /// One character; `icase` when IGNORECASE was in force.
    Literal { c: char, icase: bool },
    /// `.`; `dotall` when DOTALL was in force (then it also matches `\n`).
    Dot { dotall: bool },
    /// A character class, including the shorthands `\d` `\w` `\s` and their negations.
    Class(Class),
    /// A zero-width assertion.
    Assert(Assertion),
    /// A group: capturing, non-capturing or atomic.
    Group(Box<Group>),
    /// A quantified node.
    Repeat(Box<Repeat>),
    /// A sequence.
    Concat(Vec<Node>),
    /// Alternatives, tried left to right.
    Alt(Vec<Node>),
    /// `\N` or `(?P=name)`: the text group N last matched; `icase` when IGNORECASE was on.
    Backref { group: usize, icase: bool },
    /// `(?(group)yes|no)`.
    Cond {
        group: usize,
        yes: Box<Node>,
        no: Box<Node>,
    },
    /// `(?=…)` `(?!…)` `(?<=…)` `(?<!…)`.
    Look {
        behind: bool,
        negate: bool,
        node: Box<Node>,
    },
    /// Never written by the parser: a one-character atom (literal, dot or class) that a
    /// lookahead rewrite constrains (see `mark.rs`). On the marked text, the atom is consumed
    /// together with the lookahead markers in front of its character: those in `need` must be
    /// there, those in `forbid` must not (bit j = marker j).
    Marked {
        need: u8,
        forbid: u8,
        atom: Box<Node>,
    },
}

/// Zero-width assertions other than lookarounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assertion {
    /// `\A`, or `^` without MULTILINE.
    TextStart,
    /// `^` with MULTILINE: start, or after any `\n`.
    LineStart,
    /// `$` without MULTILINE: the end, or just before a final `\n`.
    PyEnd,
    /// `$` with MULTILINE: the end, or before any `\n`.
    LineEnd,
    /// `\Z`: the absolute end.
    TextEnd,
    /// `\b`; `ascii` when the ASCII flag was in force.
    WordBoundary { ascii: bool },
    /// `\B`; `ascii` when the ASCII flag was in force.
    NotWordBoundary { ascii: bool },
}

/// A character class `[...]` or a shorthand.
#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    pub negated: bool,
    pub icase: bool,
    pub items: Vec<ClassItem>,
}

/// One member of a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassItem {
    /// An inclusive range (a single character is `Range(c, c)`).
    Range(char, char),
    /// `\d` `\w` `\s` (`negated`: `\D` `\W` `\S`); `ascii` when the ASCII flag was in force.
    Perl {
        kind: PerlKind,
        negated: bool,
        ascii: bool,
    },
}

/// The three Python class shorthands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerlKind {
    Digit,
    Word,
    Space,
}

/// What kind of group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKind {
    /// Capture group with its Python index and optional name.
    Capture { index: usize, name: Option<String> },
    /// `(?:…)` or a scoped-flags group (flags are already applied to the children).
    NonCapture,
    /// `(?>…)`.
    Atomic,
}

/// A group node.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub kind: GroupKind,
    pub node: Node,
}

/// A quantifier.
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    pub min: u32,
    /// `None` = unbounded.
    pub max: Option<u32>,
    pub greedy: bool,
    /// `*+`, `++`, `?+`, `{m,n}+` (Python 3.11).
    pub possessive: bool,
    pub node: Node,
}

impl Node {
    /// Whether the node contains a construct a DFA cannot express exactly.
    pub fn has_fancy(&self) -> bool {
        match self {
            Node::Backref { .. } | Node::Cond { .. } | Node::Look { .. } => true,
            Node::Group(g) => g.kind == GroupKind::Atomic || g.node.has_fancy(),
            Node::Repeat(r) => r.possessive || r.node.has_fancy(),
            Node::Concat(v) | Node::Alt(v) => v.iter().any(Node::has_fancy),
            _ => false,
        }
    }

    /// Whether any part of the node satisfies `f`.
    pub fn any(&self, f: &dyn Fn(&Node) -> bool) -> bool {
        if f(self) {
            return true;
        }
        match self {
            Node::Group(g) => g.node.any(f),
            Node::Repeat(r) => r.node.any(f),
            Node::Concat(v) | Node::Alt(v) => v.iter().any(|n| n.any(f)),
            Node::Cond { yes, no, .. } => yes.any(f) || no.any(f),
            Node::Look { node, .. } => node.any(f),
            Node::Marked { atom, .. } => atom.any(f),
            _ => false,
        }
    }

    /// The fewest characters a match of this node takes (0 where unsure: references,
    /// markers).
    pub fn min_len(&self) -> usize {
        match self {
            Node::Literal { .. } | Node::Dot { .. } | Node::Class(_) => 1,
            Node::Group(g) => g.node.min_len(),
            Node::Repeat(r) => (r.min as usize).saturating_mul(r.node.min_len()),
            Node::Concat(v) => v.iter().map(Node::min_len).fold(0, usize::saturating_add),
            Node::Alt(v) => v.iter().map(Node::min_len).min().unwrap_or(0),
            Node::Cond { yes, no, .. } => yes.min_len().min(no.min_len()),
            Node::Empty
            | Node::Assert(_)
            | Node::Backref { .. }
            | Node::Look { .. }
            | Node::Marked { .. } => 0,
        }
    }

    /// Adds the capture groups that take part in every match of this node with a non-empty
    /// span: groups reached through sequences and groups only (an alternation, repetition,
    /// conditional or lookaround may leave a group out, so nothing below one is added).
    pub fn sure_groups(&self, out: &mut Vec<usize>) {
        match self {
            Node::Concat(v) => v.iter().for_each(|n| n.sure_groups(out)),
            Node::Group(g) => {
                if let GroupKind::Capture { index, .. } = g.kind {
                    if g.node.min_len() > 0 {
                        out.push(index);
                    }
                }
                g.node.sure_groups(out);
            }
            _ => {}
        }
    }

    /// Find the capture group with Python index `index`.
    pub fn find_group(&self, index: usize) -> Option<&Node> {
        match self {
            Node::Group(g) => {
                if matches!(&g.kind, GroupKind::Capture { index: i, .. } if *i == index) {
                    return Some(&g.node);
                }
                g.node.find_group(index)
            }
            Node::Repeat(r) => r.node.find_group(index),
            Node::Concat(v) | Node::Alt(v) => v.iter().find_map(|n| n.find_group(index)),
            Node::Cond { yes, no, .. } => yes.find_group(index).or_else(|| no.find_group(index)),
            Node::Look { node, .. } => node.find_group(index),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sure_groups_are_the_non_empty_groups_every_match_takes() {
        let ast = super::super::parse(
            r"^(?P<a>x)(?:(?P<b>y)|z)(?P<c>\w*)(?P<d>(?P<e>ab))(?P<f>q)?(?:(?P<g>r))+(?P<h>s|tt)",
        )
        .expect("parses");
        let mut sure = Vec::new();
        ast.root.sure_groups(&mut sure);
        // b: in an alternation; c: may be empty; f: optional; g: repeated.
        assert_eq!(sure, [1, 4, 5, 8]);
    }
}
