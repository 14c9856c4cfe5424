//! Chain captures: group spans from one DFA pass per top-level piece of the pattern, instead of
//! a backtracking pass over the whole match.
//!
//! Owns one optimisation of `Regex::search` on ASCII text. regex-automata's capture engines
//! cost tens of nanoseconds per byte, and fail2ban patterns spend most of a line inside
//! capture-free pieces (`.+`, `\S+`, literal text). The pattern's top-level sequence (with
//! non-capturing groups and nested sequences spliced in) is cut into pieces: runs without
//! capture groups and capture groups without nested groups (both resolved by an anchored search
//! of a small fully built DFA, a byte comparison for fixed text, or a byte-set loop for a greedy
//! run of one class), alternations (each branch cut into its own chain; the first branch whose
//! chain matches wins), and the remaining elements with nested groups (resolved by the exact
//! capture engine over that element only). A piece that is a repetition of one atom (`.*?`,
//! `[^:]+`, ...) followed by pieces that start with a literal is split with DFAs: its candidate
//! ends are the occurrences of that literal within its reach, tried in its priority order
//! against one DFA for all the pieces after it. Piece matchers are compiled on first use. It
//! never decides a result on its own: when a piece fails, it answers `None` and the caller runs
//! the full exact engine. Called by `pyre::Regex`.
//!
//! # Compatibility
//! Exact. Python's backtracking takes the first (priority-order) path of each element of a
//! sequence in turn and only revisits an element when a later one fails. So if, piece after
//! piece, the anchored leftmost-first match of each piece alone (its first path) exists, the
//! chain of those first paths is the match Python returns, with the same group spans: a
//! higher-priority complete match would differ from it first at some element, and there it
//! would be a path of that element alone (or an end after which the rest matches) that the
//! piece preferred. When a piece has no match, Python would backtrack into an earlier one: the
//! caller falls back. A repetition of one atom can end at every position of its reach, longest
//! first (greedy) or shortest first (lazy); Python keeps the first end after which the rest of
//! the sequence matches, which is what the split finds. An alternation's first path is that of
//! its first branch that matches alone: a branch whose chain matches is one (the branches
//! before it were shown not to match by their DFAs), and a branch that matches while its chain
//! gives up leaves the answer to the caller.

use std::sync::OnceLock;

use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::util::primitives::StateID;
use regex_automata::{Anchored, Input, MatchKind, meta};

use super::ast::{Assertion, Ast, GroupKind, Node, Repeat};
use super::cond::deterministic;
use super::emit::{Emitter, Target, has_lookbehind, suffix};

/// How a piece reports its groups.
#[derive(Debug, Clone)]
enum Kind {
    /// No groups.
    Plain,
    /// The piece is a capture group (possibly directly wrapped in more capture groups, all
    /// with the same span: the Python indices) with no other nested groups.
    Group(Vec<usize>),
    /// The piece holds groups: its own group k+1 is Python's group `map[k]` (a rewritten
    /// pattern can hold several copies of one group; at most one takes part in a match).
    Nested { map: Vec<usize> },
    /// An alternation: the first branch that matches here wins, and its own chain gives the
    /// spans.
    Branch(Vec<Alternative>),
}

/// One branch of a [`Kind::Branch`].
#[derive(Debug, Clone)]
struct Alternative {
    /// The text every match of the branch starts with, if any (a cheap first test).
    head: Option<Lit>,
    /// The branch without groups.
    re: Anch,
    /// Texts one of which ends every match (see [`Alternative::cannot_match`]), found on
    /// first use.
    tail: OnceLock<Option<Vec<memchr::memmem::Finder<'static>>>>,
    chain: Chain,
    /// The Python indices of the groups inside the branch (a chain that gives up may have
    /// set some: they are put back).
    groups: Vec<usize>,
}

/// How to split a one-atom repetition piece with DFAs.
#[derive(Debug, Clone)]
struct Split {
    greedy: bool,
    /// At least one atom.
    min1: bool,
    /// The repetition made greedy: its anchored match ends at the reach.
    reach: Anch,
    /// Every piece after this one, as one regex without groups.
    rest: Anch,
    /// The ASCII literal `rest` starts with (not empty).
    lit: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Piece {
    /// The piece as one regex without groups (pieces other than [`Kind::Nested`]).
    re: Option<Anch>,
    /// The piece with its groups ([`Kind::Nested`] only).
    caps: Option<meta::Regex>,
    kind: Kind,
    split: Option<Split>,
    /// A piece that is fixed text (see [`Lit`]): matched by comparing bytes.
    lit: Option<Lit>,
}

/// An anchored matcher for a piece without groups, compiled on first use (a filter has many
/// regexes, a log exercises few): a fully built DFA when the piece's DFA is small (no cache, no
/// pool, a few nanoseconds of set-up per call), else the lazy `meta` form; a greedy repetition
/// of one plain atom is a byte-set loop.
#[derive(Debug, Clone)]
struct Anch {
    syntax: String,
    /// The piece is a greedy repetition of one plain atom with these bounds.
    run: Option<(usize, usize)>,
    /// `None` inside: the syntax did not compile (the chain then leaves the search to the
    /// full engine).
    form: OnceLock<Option<Form>>,
}

/// A compiled [`Anch`].
#[derive(Debug, Clone)]
enum Form {
    Dense(Box<Dense>),
    Meta(meta::Regex),
    /// `.+`, `\S*`, `[^:]+`, `\[?`, `\d{1,3}`...: alone, it matches the longest run of bytes of
    /// the class up to `max`, if that has at least `min` of them.
    Run {
        set: Box<Class>,
        min: usize,
        max: usize,
    },
}

/// Bound on the memory of one piece's fully built DFA (and of its determinization): 1 MB lets the
/// prefregex's prefix part of the common filters be a dense DFA (about 6% of the sshd benchmark);
/// pieces are built on first use, so only the pieces a log exercises take memory.
const DENSE_LIMIT: usize = 1024 * 1024;

impl Anch {
    /// The matcher of ASCII-form syntax written by `emit`.
    fn new(syntax: String) -> Anch {
        Anch {
            syntax,
            run: None,
            form: OnceLock::new(),
        }
    }

    /// Like [`Anch::new`] for the node `n` that `syntax` was written from; `marked`: the
    /// text may hold lookahead markers (then no atom is plain).
    fn of_node(n: &Node, syntax: String, marked: bool) -> Anch {
        let run = one_atom_repeat(n).filter(|r| {
            r.greedy
                && !marked
                && matches!(
                    atom(&r.node),
                    Some(Node::Literal { .. } | Node::Dot { .. } | Node::Class(_))
                )
        });
        Anch {
            run: run.map(|r| (r.min as usize, r.max.map_or(usize::MAX, |m| m as usize))),
            ..Anch::new(syntax)
        }
    }

    fn form(&self) -> Option<&Form> {
        self.form.get_or_init(|| self.compile()).as_ref()
    }

    fn compile(&self) -> Option<Form> {
        let dense = dense::Builder::new()
            .configure(
                dense::Config::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .start_kind(StartKind::Anchored)
                    // `dense_find` walks every byte: accelerated states would only be more
                    // special states to branch on (and more work to build).
                    .accelerate(false)
                    .dfa_size_limit(Some(DENSE_LIMIT))
                    .determinize_size_limit(Some(DENSE_LIMIT)),
            )
            .syntax(
                regex_automata::util::syntax::Config::new()
                    .unicode(false)
                    .utf8(false),
            )
            .thompson(regex_automata::nfa::thompson::Config::new().utf8(false))
            .build(&self.syntax);
        let dfa = match dense {
            Ok(dfa) => dfa,
            Err(_) => {
                return super::build_meta(&[&self.syntax], true, false, MatchKind::LeftmostFirst)
                    .ok()
                    .map(Form::Meta);
            }
        };
        let Some((min, max)) = self.run else {
            return Some(Form::Dense(Box::new(Dense::new(dfa))));
        };
        // The class is read off the DFA (the bytes of which it matches `min` copies, at least
        // one), so it is the set the emitted syntax means, escapes and all.
        let n = min.max(1);
        if n > 64 || max < n {
            return Some(Form::Dense(Box::new(Dense::new(dfa))));
        }
        let mut set = [false; 256];
        for (b, slot) in set.iter_mut().enumerate() {
            let text = vec![b as u8; n];
            let input = Input::new(&text).anchored(Anchored::Yes);
            *slot = matches!(dfa.try_search_fwd(&input), Ok(Some(m)) if m.offset() == n);
        }
        Some(Form::Run {
            set: Box::new(Class::new(set)),
            min,
            max,
        })
    }

    /// The end of the leftmost-first match starting exactly at `at`.
    fn end(&self, hay: &[u8], at: usize) -> Option<usize> {
        match self.form()? {
            Form::Dense(dfa) => dense_find(dfa, hay, at, false)?,
            Form::Meta(re) => re
                .find(Input::new(hay).range(at..).anchored(Anchored::Yes))
                .map(|m| m.end()),
            Form::Run { set, min, max } => {
                let n = run_len(set, hay.get(at..)?, *max);
                (n >= *min).then_some(at + n)
            }
        }
    }

    /// Whether a match starts exactly at `at`; `None`: not known (the form did not compile).
    fn is_match(&self, hay: &[u8], at: usize) -> Option<bool> {
        Some(match self.form()? {
            Form::Dense(dfa) => dense_find(dfa, hay, at, true)?.is_some(),
            Form::Meta(re) => re.is_match(Input::new(hay).range(at..).anchored(Anchored::Yes)),
            Form::Run { set, min, .. } => run_len(set, hay.get(at..)?, *min) == *min,
        })
    }
}

/// At most this many texts in a [`tail_literals`] list (each is a memmem scan).
const MAX_TAILS: usize = 4;

/// Non-empty texts one of which occurs in the text of every match of `syntax` (ASCII-form
/// syntax written by `emit`); `None` when there is no such short list. regex-syntax's literal
/// extractor gives the texts every match ends with (classes are not expanded). When they are
/// too many, each is cut to its longest part between lookahead markers (the syntax has
/// optional markers, so a text often comes with and without them). A text that contains
/// another of the list is dropped.
fn tail_literals(syntax: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = super::ascii_hir(syntax)?;
    let seq = Extractor::new()
        .kind(ExtractKind::Suffix)
        .limit_class(1)
        .extract(&hir);
    let lits: Vec<&[u8]> = seq.literals()?.iter().map(|l| l.as_bytes()).collect();
    if let Some(kept) = fewest_texts(lits.iter().copied()) {
        return Some(kept);
    }
    // The first longest part of each (`max_by_key` would keep the last).
    fewest_texts(lits.iter().map(|l| {
        l.split(|&b| is_marker(b)).fold(
            &[][..],
            |best, p| if p.len() > best.len() { p } else { best },
        )
    }))
}

/// `texts` without those that contain another of them, when all are non-empty and at most
/// [`MAX_TAILS`] are left.
fn fewest_texts<'a>(texts: impl Iterator<Item = &'a [u8]>) -> Option<Vec<Vec<u8>>> {
    let mut all: Vec<&[u8]> = texts.collect();
    if all.is_empty() || all.iter().any(|t| t.is_empty()) {
        return None;
    }
    all.sort_by_key(|t| t.len());
    all.dedup();
    let mut kept: Vec<Vec<u8>> = Vec::new();
    for t in all {
        if !kept.iter().any(|k| memchr::memmem::find(t, k).is_some()) {
            kept.push(t.to_vec());
        }
    }
    (kept.len() <= MAX_TAILS).then_some(kept)
}

/// A piece's fully built DFA, with what the first byte of the text settles on its own.
#[derive(Debug, Clone)]
struct Dense {
    dfa: dense::DFA<Vec<u32>>,
    /// For each byte, the outcome of a search whose text starts with it, when that byte alone
    /// decides it; `None` when the DFA has no universal anchored start state (its start may
    /// depend on the text around: pieces with assertions such as `\A`, `\b` or `(?m:$)`).
    first: Option<Box<[First; 256]>>,
}

/// What the first byte of the text says of an anchored search (see [`Dense::first`]).
#[derive(Debug, Clone, Copy, PartialEq)]
enum First {
    /// Nothing: the search walks the text.
    Walk,
    /// No match: the byte leads to the dead state (so there is no empty match either).
    None,
    /// Only the empty match: the byte leads to a match state (the match ended before it)
    /// from which every byte leads to the dead state and the end of the text to no match.
    /// Most optional pieces (`(?:\[)?`, `(?:::f{4,6}:)?`, sshd's `(?:error: )?`) are absent
    /// from most lines: they cost a call, a start state and one step, and are settled here
    /// instead.
    Empty,
}

impl Dense {
    fn new(dfa: dense::DFA<Vec<u32>>) -> Dense {
        let first = dfa.universal_start_state(Anchored::Yes).map(|start| {
            // The states the first byte leads to that end in an empty match only (few).
            let mut ends: Vec<(StateID, bool)> = vec![];
            let mut first = Box::new([First::Walk; 256]);
            for (b, slot) in first.iter_mut().enumerate() {
                let next = dfa.next_state(start, b as u8);
                *slot = if dfa.is_dead_state(next) {
                    First::None
                } else if dfa.is_match_state(next) {
                    let only = match ends.iter().find(|(s, _)| *s == next) {
                        Some(&(_, only)) => only,
                        None => {
                            let only = (0..=255u8)
                                .all(|c| dfa.is_dead_state(dfa.next_state(next, c)))
                                && !dfa.is_match_state(dfa.next_eoi_state(next));
                            ends.push((next, only));
                            only
                        }
                    };
                    if only { First::Empty } else { First::Walk }
                } else {
                    First::Walk
                };
            }
            first
        });
        Dense { dfa, first }
    }
}

/// The end of the leftmost-first match of `d`'s DFA starting exactly at `at` (with `earliest`,
/// the end of the shortest one: enough to know there is one); `None` when the DFA gave up (it
/// has no quit bytes as built, so only in theory). The search loop of regex-automata's
/// `try_search_fwd` for an anchored search without a prefilter, without its set-up per call
/// (the pieces are a few bytes long, so the set-up was most of the cost), after the first
/// byte's own verdict ([`Dense::first`]).
fn dense_find(d: &Dense, hay: &[u8], at: usize, earliest: bool) -> Option<Option<usize>> {
    if let (Some(first), Some(&b)) = (&d.first, hay.get(at)) {
        match first[usize::from(b)] {
            First::None => return Some(None),
            First::Empty => return Some(Some(at)),
            First::Walk => {}
        }
    }
    let dfa = &d.dfa;
    let input = Input::new(hay).range(at..).anchored(Anchored::Yes);
    let mut sid = dfa.start_state_forward(&input).ok()?;
    let mut found = None;
    for (p, &b) in hay.iter().enumerate().skip(at) {
        sid = dfa.next_state(sid, b);
        if dfa.is_special_state(sid) {
            // Match states are entered one byte late: the match ends before `b`.
            if dfa.is_match_state(sid) {
                found = Some(p);
                if earliest {
                    return Some(found);
                }
            } else if dfa.is_dead_state(sid) {
                return Some(found);
            } else if dfa.is_quit_state(sid) {
                return None;
            }
        }
    }
    if dfa.is_match_state(dfa.next_eoi_state(sid)) {
        found = Some(hay.len());
    }
    Some(found)
}

/// A set of bytes, with the bytes outside it when they are at most three (`.` is every byte
/// but `\n`): a run of such a class ends at the first of them, which memchr finds.
#[derive(Debug, Clone)]
struct Class {
    set: [bool; 256],
    outside: Option<Vec<u8>>,
}

impl Class {
    fn new(set: [bool; 256]) -> Class {
        let out: Vec<u8> = (0..=255u8).filter(|&b| !set[b as usize]).collect();
        Class {
            set,
            outside: (out.len() <= 3).then_some(out),
        }
    }
}

/// How many bytes at the start of `hay` (at most `max`) are in `class`.
fn run_len(class: &Class, hay: &[u8], max: usize) -> usize {
    let hay = &hay[..hay.len().min(max)];
    let stop = match class.outside.as_deref() {
        Some([]) => None,
        Some(&[a]) => memchr::memchr(a, hay),
        Some(&[a, b]) => memchr::memchr2(a, b, hay),
        Some(&[a, b, c]) => memchr::memchr3(a, b, c, hay),
        _ => return hay.iter().take_while(|&&b| class.set[b as usize]).count(),
    };
    stop.unwrap_or(hay.len())
}

/// Fixed ASCII text, in front of each character of which the marked text may hold markers
/// (skipped: every atom of the text takes the markers in front of it).
#[derive(Debug, Clone)]
struct Lit {
    /// Only at offset 0 (`\A` first).
    start: bool,
    bytes: Vec<u8>,
}

impl Lit {
    /// The fixed text `n` is: `\A` (first only) and unconstrained, case-sensitive ASCII
    /// literals.
    fn of(n: &Node) -> Option<Lit> {
        let items = match n {
            Node::Concat(v) => v.as_slice(),
            one => std::slice::from_ref(one),
        };
        let mut lit = Lit {
            start: false,
            bytes: vec![],
        };
        for (i, e) in items.iter().enumerate() {
            match e {
                Node::Assert(Assertion::TextStart) if i == 0 => lit.start = true,
                Node::Literal { c, icase }
                    if c.is_ascii() && !(*icase && c.is_ascii_alphabetic()) =>
                {
                    lit.bytes.push(*c as u8);
                }
                _ => return None,
            }
        }
        (lit.start || !lit.bytes.is_empty()).then_some(lit)
    }

    /// The end of the text when it is found at `at`.
    fn matches(&self, hay: &[u8], at: usize) -> Option<usize> {
        if self.start && at != 0 {
            return None;
        }
        let mut p = at;
        for &b in &self.bytes {
            while hay.get(p).is_some_and(|&m| is_marker(m)) {
                p += 1;
            }
            if *hay.get(p)? != b {
                return None;
            }
            p += 1;
        }
        Some(p)
    }
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

/// The capture groups directly wrapping each other at the top of `n` (outermost first) and
/// the node inside them, when that node has no group.
fn plain_group(n: &Node) -> Option<(Vec<usize>, &Node)> {
    let mut indices = vec![];
    let mut cur = n;
    while let Node::Group(g) = cur {
        match g.kind {
            GroupKind::Capture { index, .. } => indices.push(index),
            GroupKind::NonCapture => {}
            GroupKind::Atomic => return None,
        }
        cur = &g.node;
    }
    (!indices.is_empty() && !cur.any(&is_capture)).then_some((indices, cur))
}

/// The repetition `n` is, if its body is one atom (through groups without captures), with
/// any bounds.
fn one_atom_repeat(n: &Node) -> Option<&Repeat> {
    let mut cur = n;
    loop {
        match cur {
            Node::Group(g) if g.kind != GroupKind::Atomic => cur = &g.node,
            Node::Concat(v) if v.len() == 1 => cur = &v[0],
            Node::Repeat(_) => break,
            _ => return None,
        }
    }
    let Node::Repeat(r) = cur else { return None };
    (atom(&r.node).is_some() && !r.possessive).then_some(r)
}

/// The repetition `n` is, if its body is one atom and it is `*`, `+` or their lazy forms.
fn atom_repeat(n: &Node) -> Option<&Repeat> {
    one_atom_repeat(n).filter(|r| r.min <= 1 && r.max.is_none())
}

/// The atom a repetition body is (through groups without captures and one-element
/// sequences).
fn atom(n: &Node) -> Option<&Node> {
    match n {
        Node::Group(g) if g.kind == GroupKind::NonCapture => atom(&g.node),
        Node::Concat(v) if v.len() == 1 => atom(&v[0]),
        Node::Literal { .. } | Node::Dot { .. } | Node::Class(_) | Node::Marked { .. } => Some(n),
        _ => None,
    }
}

/// The ASCII literal every match of `nodes` starts with (through groups).
fn leading_literal(nodes: &[Node]) -> Vec<u8> {
    fn walk(n: &Node, out: &mut Vec<u8>) -> bool {
        match n {
            Node::Literal { c, icase } if c.is_ascii() && !(*icase && c.is_ascii_alphabetic()) => {
                out.push(*c as u8);
                true
            }
            Node::Marked { atom, .. } => walk(atom, out),
            Node::Empty => true,
            Node::Group(g) if g.kind != GroupKind::Atomic => walk(&g.node, out),
            Node::Concat(v) => v.iter().all(|m| walk(m, out)),
            _ => false,
        }
    }
    let mut out = vec![];
    for n in nodes {
        if !walk(n, &mut out) {
            break;
        }
    }
    out
}

/// Marker bytes (see `mark.rs`) are the bytes that never occur in UTF-8.
pub(super) fn is_marker(b: u8) -> bool {
    b >= 0xF8
}

struct Builder<'a, 'm> {
    ast: &'a Ast,
    em: Emitter<'m>,
}

impl Builder<'_, '_> {
    fn emit(&self, n: &Node, before: &str, copy: bool) -> Option<String> {
        self.em.emit_node(self.ast, n, before, copy).ok()
    }

    /// The matcher of `n`, written as `syntax` (see [`Anch::of_node`]).
    fn anch(&self, n: &Node, syntax: String) -> Anch {
        Anch::of_node(n, syntax, !self.em.marks.is_empty())
    }

    fn build(syntax: &str) -> Result<meta::Regex, String> {
        super::build_meta(&[syntax], true, false, MatchKind::LeftmostFirst)
    }

    /// The chain of the sequence `v` after text ending with `before`; `None` when a piece
    /// has no exact ASCII form.
    fn chain(&self, v: &[Node], before: &str) -> Result<Option<Vec<Piece>>, String> {
        let v = &spliced(v);
        // Contexts matter only to lookbehinds: without any, none is worked out.
        let contexts = v.iter().any(has_lookbehind);
        // Cut into (nodes, kind) first.
        let mut cuts: Vec<(Vec<Node>, Option<Kind>)> = vec![];
        for (i, e) in v.iter().enumerate() {
            if !e.any(&is_capture) {
                match cuts.last_mut() {
                    Some((run, None)) => run.push(e.clone()),
                    _ => cuts.push((vec![e.clone()], None)),
                }
                continue;
            }
            let kind = if let Some((indices, _)) = plain_group(e) {
                Kind::Group(indices)
            } else if let Some(kind) = match alternatives(e) {
                Some(branches) if contexts => self.branch(branches, &before_of(v, i, before))?,
                Some(branches) => self.branch(branches, "")?,
                None => None,
            } {
                kind
            } else {
                Kind::Nested {
                    map: capture_order(e),
                }
            };
            cuts.push((vec![e.clone()], Some(kind)));
        }
        let mut pieces = vec![];
        let mut ctx = before.to_string();
        for (k, (nodes, kind)) in cuts.iter().enumerate() {
            let node = match nodes.as_slice() {
                [one] => one.clone(),
                many => Node::Concat(many.to_vec()),
            };
            let kind = kind.clone().unwrap_or(Kind::Plain);
            let copy = matches!(kind, Kind::Plain | Kind::Group(_) | Kind::Branch(_));
            let Some(syntax) = self.emit(&node, &ctx, copy) else {
                return Ok(None);
            };
            let after = if contexts {
                suffix(&node, &ctx)
            } else {
                String::new()
            };
            let split = if matches!(kind, Kind::Plain | Kind::Group(_)) {
                let rest: Vec<Node> = cuts[k + 1..].iter().flat_map(|(n, _)| n.clone()).collect();
                self.split(&node, &rest, &ctx, &after)?
            } else {
                None
            };
            let lit = match kind {
                Kind::Plain => Lit::of(&node),
                _ => None,
            };
            let (re, caps) = match kind {
                Kind::Nested { .. } => (None, Some(Self::build(&syntax)?)),
                _ => (Some(self.anch(&node, syntax)), None),
            };
            pieces.push(Piece {
                re,
                caps,
                kind,
                split,
                lit,
            });
            ctx = after;
        }
        Ok(Some(pieces))
    }

    /// An alternation as a [`Kind::Branch`], when it has few branches and each can be
    /// chained.
    fn branch(&self, branches: &[Node], before: &str) -> Result<Option<Kind>, String> {
        let flat = flat_branches(branches);
        if flat.len() > MAX_FLAT {
            return Ok(None);
        }
        let mut out = vec![];
        for nodes in flat {
            let groups = capture_order(&Node::Concat(nodes.clone()));
            if groups.len() > MAX_BRANCH_GROUPS {
                return Ok(None);
            }
            let Some(syntax) = self.emit(&Node::Concat(nodes.clone()), before, true) else {
                return Ok(None);
            };
            let Some(sub) = self.chain(&nodes, before)? else {
                return Ok(None);
            };
            let mut head = leading_literal(&nodes);
            self.truncate_at_markers(&mut head);
            out.push(Alternative {
                head: (!head.is_empty()).then_some(Lit {
                    start: false,
                    bytes: head,
                }),
                re: Anch::new(syntax),
                tail: OnceLock::new(),
                chain: Chain {
                    pieces: sub,
                    groups: self.ast.groups,
                    anchored: false,
                },
                groups,
            });
        }
        Ok(Some(Kind::Branch(out)))
    }

    /// Cut `lit` in front of its first character (after the first) that a marker may
    /// precede: only the first character may then have markers in front.
    fn truncate_at_markers(&self, lit: &mut Vec<u8>) {
        if let Some(k) = (1..lit.len()).find(|&k| {
            self.em
                .marks
                .iter()
                .flatten()
                .any(|&c| c as u32 == u32::from(lit[k]))
        }) {
            lit.truncate(k);
        }
    }

    /// The split of a one-atom repetition `node` followed by `rest`, when `rest` starts with
    /// a literal.
    fn split(
        &self,
        node: &Node,
        rest: &[Node],
        before: &str,
        after: &str,
    ) -> Result<Option<Split>, String> {
        let Some(r) = atom_repeat(node) else {
            return Ok(None);
        };
        let mut lit = leading_literal(rest);
        // A marker may sit in front of any character that can follow it: only the literal's
        // first character may have markers in front (the search backs over those).
        self.truncate_at_markers(&mut lit);
        if lit.is_empty() {
            return Ok(None);
        }
        let greedy = Node::Repeat(Box::new(Repeat {
            greedy: true,
            ..r.clone()
        }));
        let (Some(reach), Some(rest_syntax)) = (
            self.emit(&greedy, before, true),
            self.emit(&Node::Concat(rest.to_vec()), after, true),
        ) else {
            return Ok(None);
        };
        Ok(Some(Split {
            greedy: r.greedy,
            min1: r.min == 1,
            reach: self.anch(&greedy, reach),
            rest: Anch::new(rest_syntax),
            lit,
        }))
    }
}

/// The sequence `v` with nested sequences and non-capturing groups spliced in (`a(?:bc)d` is
/// the sequence `a b c d`; a group around an alternation leaves the alternation), so that the
/// elements with groups inside are as small as they can be.
fn spliced(v: &[Node]) -> Vec<Node> {
    fn into(n: &Node, out: &mut Vec<Node>) {
        match n {
            Node::Concat(v) => v.iter().for_each(|m| into(m, out)),
            Node::Group(g) if g.kind == GroupKind::NonCapture => into(&g.node, out),
            other => out.push(other.clone()),
        }
    }
    let mut out = Vec::with_capacity(v.len());
    v.iter().for_each(|n| into(n, &mut out));
    out
}

/// The context (`suffix`) in front of element `i` of `v`, after text ending with `before`.
fn before_of(v: &[Node], i: usize, before: &str) -> String {
    v[..i]
        .iter()
        .fold(before.to_string(), |ctx, e| suffix(e, &ctx))
}

/// The branches of an alternation as sequences, with nested alternations spliced in: a
/// branch that is an alternation, or a deterministic head followed by one, becomes its
/// branches (with the head in front of each), which keeps the priority order (a deterministic
/// head has one way to match, so the first path of the alternation is the first flat branch
/// that matches).
fn flat_branches(branches: &[Node]) -> Vec<Vec<Node>> {
    let mut out = vec![];
    for b in branches {
        let nodes = match b {
            Node::Concat(v) => v.clone(),
            other => vec![other.clone()],
        };
        let inner = nodes.split_last().and_then(|(last, head)| {
            (head.iter().all(deterministic) && out.len() < MAX_FLAT)
                .then(|| alternatives(last))
                .flatten()
        });
        match inner {
            Some(alts) => {
                let head = &nodes[..nodes.len() - 1];
                let spliced: Vec<Node> = alts
                    .iter()
                    .map(|a| {
                        let mut v = head.to_vec();
                        match a {
                            Node::Concat(av) => v.extend(av.iter().cloned()),
                            other => v.push(other.clone()),
                        }
                        Node::Concat(v)
                    })
                    .collect();
                out.extend(flat_branches(&spliced));
            }
            None => out.push(nodes),
        }
    }
    out
}

/// Bound on the groups of one branch of a [`Kind::Branch`] (they are saved on the stack while
/// the branch is tried; no stock branch has more than 8).
const MAX_BRANCH_GROUPS: usize = 8;

/// Bound on the branches [`flat_branches`] makes.
const MAX_FLAT: usize = 16;

/// The branches of an alternation (through groups without captures).
fn alternatives(n: &Node) -> Option<&[Node]> {
    match n {
        Node::Alt(v) => Some(v),
        Node::Group(g) if g.kind == GroupKind::NonCapture => alternatives(&g.node),
        _ => None,
    }
}

impl Chain {
    /// Cut `ast` into pieces; `None` when it has no useful cut or a piece has no exact ASCII
    /// form. `marks`: the lookahead markers of a rewritten tree (see `Emitter::marks`).
    pub(crate) fn new(ast: &Ast, marks: &[Vec<char>]) -> Result<Option<Chain>, String> {
        let Node::Concat(v) = &ast.root else {
            return Ok(None);
        };
        let b = Builder {
            ast,
            em: Emitter {
                target: Target::Exact,
                ascii: true,
                marks,
            },
        };
        let Some(pieces) = b.chain(v, "")? else {
            return Ok(None);
        };
        if pieces.len() < 2 {
            return Ok(None);
        }
        let anchored = matches!(v.first(), Some(Node::Assert(Assertion::TextStart)));
        Ok(Some(Chain {
            pieces,
            groups: ast.groups,
            anchored,
        }))
    }

    /// Group spans of the match starting at `start` (where the exact DFA found the leftmost
    /// match, or 0 for an anchored pattern) into `spans`; false when the caller must decide
    /// with the full engine (`spans` then unspecified). `expected_end`, when known, is checked
    /// against the computed end.
    pub(crate) fn spans(
        &self,
        hay: &[u8],
        start: usize,
        expected_end: Option<usize>,
        spans: &mut Vec<Option<(usize, usize)>>,
    ) -> bool {
        spans.clear();
        spans.resize(self.groups + 1, None);
        let Some(at) = self.run(hay, start, spans) else {
            return false;
        };
        if expected_end.is_some_and(|e| e != at) {
            return false;
        }
        spans[0] = Some((start, at));
        true
    }

    /// Match the pieces from `start`, filling `spans`; the end.
    fn run(&self, hay: &[u8], start: usize, spans: &mut [Option<(usize, usize)>]) -> Option<usize> {
        let mut at = start;
        for piece in &self.pieces {
            match &piece.kind {
                Kind::Plain | Kind::Group(_) => {
                    let end = match (&piece.split, &piece.lit, &piece.re) {
                        (Some(split), _, _) => split.end(hay, at)?,
                        (None, Some(lit), _) => lit.matches(hay, at)?,
                        (None, None, Some(re)) => re.end(hay, at)?,
                        (None, None, None) => return None,
                    };
                    if let Kind::Group(indices) = &piece.kind {
                        for &i in indices {
                            spans[i] = Some((at, end));
                        }
                    }
                    at = end;
                }
                Kind::Nested { map } => {
                    let re = piece.caps.as_ref()?;
                    let input = Input::new(hay).range(at..).anchored(Anchored::Yes);
                    let mut caps = re.create_captures();
                    re.search_captures(&input, &mut caps);
                    at = caps.get_match()?.end();
                    for (k, &index) in map.iter().enumerate() {
                        if let Some(s) = caps.get_group(k + 1) {
                            spans[index] = Some((s.start, s.end));
                        }
                    }
                }
                Kind::Branch(branches) => {
                    at = Chain::first_branch(branches, hay, at, spans)?;
                }
            }
        }
        Some(at)
    }

    /// The end of the first branch that matches at `at`, with its groups in `spans`. A
    /// branch whose chain matches does match (and that is its first path); one whose head
    /// text or ending texts ([`Alternative::cannot_match`]) are absent, or whose DFA finds no
    /// match after its chain gave up, is skipped; one that matches while its chain gives up leaves
    /// the answer unknown here (`None`). The DFA is asked only when the chain gives up: on
    /// the common lines the chain of the branch that matches is tried at once, and the late
    /// failing variants of sshd's rewritten conditional (which must end with `: `) are
    /// skipped by their ending texts.
    fn first_branch(
        branches: &[Alternative],
        hay: &[u8],
        at: usize,
        spans: &mut [Option<(usize, usize)>],
    ) -> Option<usize> {
        for b in branches {
            if b.head
                .as_ref()
                .is_some_and(|h| h.matches(hay, at).is_none())
            {
                continue;
            }
            if b.cannot_match(hay, at) {
                continue;
            }
            let mut saved = [None; MAX_BRANCH_GROUPS];
            for (k, &g) in b.groups.iter().enumerate() {
                saved[k] = spans[g];
            }
            if let Some(end) = b.chain.run(hay, at, spans) {
                return Some(end);
            }
            for (k, &g) in b.groups.iter().enumerate() {
                spans[g] = saved[k];
            }
            if b.re.is_match(hay, at)? {
                return None;
            }
        }
        None
    }
}

impl Alternative {
    /// Whether no match of the branch can start at `at` because none of the texts one of
    /// which ends every match occurs after it (a memmem scan instead of a DFA pass: the first variant of a
    /// rewritten conditional that must end with `: ` fails late, at the end of the line).
    /// `false` when the pattern has no such short list of texts.
    fn cannot_match(&self, hay: &[u8], at: usize) -> bool {
        let tail = self.tail.get_or_init(|| {
            let lits = tail_literals(&self.re.syntax)?;
            Some(
                lits.iter()
                    .map(|l| memchr::memmem::Finder::new(l).into_owned())
                    .collect(),
            )
        });
        match (tail, hay.get(at..)) {
            (Some(finders), Some(rest)) => finders.iter().all(|f| f.find(rest).is_none()),
            _ => false,
        }
    }
}

impl Split {
    /// Where the repetition starting at `at` ends in Python's match, if the rest matches
    /// after one of its candidate ends; a lone candidate is returned untested (the pieces
    /// after it test it).
    fn end(&self, hay: &[u8], at: usize) -> Option<usize> {
        let reach = self.reach.end(hay, at)?;
        // Candidate ends: occurrences of the literal (in front of their markers, at most 8)
        // within the reach, leaving at least one atom when one is required.
        let window = hay.get(at..(reach + 8 + self.lit.len()).min(hay.len()))?;
        // The first apart: a list is made only for a second one (rare).
        let (mut first, mut more) = (None, Vec::new());
        let mut from = 0;
        while let Some(i) = memchr::memmem::find(window.get(from..)?, &self.lit) {
            let mut p = at + from + i;
            while p > at && is_marker(hay[p - 1]) {
                p -= 1;
            }
            from += i + 1;
            if p > reach {
                break;
            }
            if self.min1 && hay[at..p].iter().all(|&b| is_marker(b)) {
                continue;
            }
            match first {
                None => first = Some(p),
                Some(f) => {
                    if more.is_empty() {
                        more.push(f);
                    }
                    more.push(p);
                }
            }
        }
        // One candidate needs no test: if the rest does not match after it, the pieces after
        // this one fail and the caller falls back.
        if more.is_empty() {
            return first;
        }
        if self.greedy {
            more.reverse();
        }
        for p in more {
            if self.rest.is_match(hay, p)? {
                return Some(p);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense(syntax: &str) -> Dense {
        match Anch::new(syntax.to_string()).compile() {
            Some(Form::Dense(d)) => *d,
            _ => panic!("{syntax}: no dense form"),
        }
    }

    /// The first byte's verdict agrees with the walk it replaces, at every start of every
    /// text, for whole and earliest searches; and it does settle the optional pieces it is
    /// meant for.
    #[test]
    fn first_byte_verdicts_agree_with_the_walk() {
        let pieces = [
            r"(?:\[)?",
            r"(?:(?:::(?:f){4,6}:))?",
            r"(?m:$)",
            r"(?:(?:(?:(?:error|fatal)): (?:(?:PAM: ))?))?",
            r"(?:(?:(?:(?:[0-9]){1,3}\.)){3}(?:[0-9]){1,3})",
            r"(?: (?:port (?:[0-9])+|on (?:[^ ])+)){0,2}",
            r"\A[iI](?:llegal|nvalid) user ",
            r"(?:[^:\x80-\xFF])+",
            r"a*",
            r"(?:)",
            r"\b(?:ab)",
        ];
        let texts: [&[u8]; 8] = [
            b"",
            b"\n",
            b"[1.2.3.4] port 22\n",
            b"::ffff:10.0.0.1 port 7 on eth0\n",
            b"error: PAM: fatal\n",
            b"Invalid user x from ab",
            b"aaa:b \xFF\x80",
            b"fatal: Illegal user ",
        ];
        for p in pieces {
            let with = dense(p);
            let without = Dense {
                first: None,
                ..with.clone()
            };
            for t in texts {
                for at in 0..=t.len() {
                    for earliest in [false, true] {
                        assert_eq!(
                            dense_find(&with, t, at, earliest),
                            dense_find(&without, t, at, earliest),
                            "{p} on {:?} at {at}, earliest {earliest}",
                            String::from_utf8_lossy(t)
                        );
                    }
                }
            }
        }
        let verdict = |p: &str, b: u8| dense(p).first.map(|f| f[usize::from(b)]);
        assert_eq!(verdict(r"(?:\[)?", b'x'), Some(First::Empty));
        assert_eq!(verdict(r"(?:\[)?", b'['), Some(First::Walk));
        let pref = r"(?:(?:(?:(?:error|fatal)): (?:(?:PAM: ))?))?";
        assert_eq!(verdict(pref, b'F'), Some(First::Empty));
        assert_eq!(verdict(pref, b'f'), Some(First::Walk));
        assert_eq!(
            verdict(r"[iI](?:llegal|nvalid) user ", b'F'),
            Some(First::None)
        );
        assert_eq!(verdict(r"(?:(?:::(?:f){4,6}:))?", b'1'), Some(First::Empty));
        // Pieces with assertions have no universal start state: no verdicts.
        assert_eq!(verdict(r"\A[iI](?:llegal|nvalid) user ", b'F'), None);
        assert_eq!(verdict(r"(?m:$)", b'\n'), None);
        assert_eq!(verdict(r"\b(?:ab)", b'a'), None);
    }
}
