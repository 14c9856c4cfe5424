//! Conditionals `(?(g)yes|no)` rewritten into regular alternatives with the same priorities.
//!
//! Owns one exact rewrite of the tree: wherever the pattern reaches a conditional, the branch
//! is known statically once the pattern is split into alternatives according to whether group
//! `g` took part. It does not emit or match; `pyre::Regex::new` calls it before `mark.rs` and
//! `emit.rs`, and keeps the original tree for the gate and the backtracker.
//!
//! The rewrite walks the pattern as one sequence to its end. When an element decides the
//! participation of a group that a later conditional reads, the rest of the sequence is
//! distributed into the element's parts: `(X|Y)R` becomes `XR|YR`, `X?R` becomes `XR|R`,
//! `X??R` becomes `R|XR`, and `(?P<g>A|B)R` becomes `(?P<g>A)R|(?P<g>B)R` (two copies of
//! group `g`, each keeping Python's index; at most one of them takes part in a match). Only
//! what follows an element is ever copied into its parts, never what precedes it (that
//! would change priorities when the preceding part can match in several ways). The parts of a
//! group's contents must be contiguous in priority order: alternatives, optional elements,
//! and a sequence whose only splitting element follows elements with one way to match.
//! Consecutive parts that agree on every group a later conditional reads are kept together,
//! and an element whose outcome no later conditional reads is resolved in place. A group is
//! set after it closes; groups not yet met are unset. The size of the result is bounded;
//! beyond it (or for a conditional whose group's participation depends on a repetition, a
//! lookaround or an atomic group, or that is read inside its own group) the rewrite is
//! refused and the pattern keeps the backtracking path.
//!
//! # Compatibility
//! Exact for Python 3.11's `re`: its backtracker tries `X` with every way of matching `R`
//! before `Y`, which is the order of `XR|YR`; on backtracking out of a group it restores the
//! group's previous state, so a group is set exactly on the alternatives that passed through
//! it; a conditional reads the state when it is reached. tests/pyre_python.rs compares the
//! result with the live Python.

use std::collections::{BTreeMap, BTreeSet};

use super::ast::{Ast, Group, GroupKind, Node, Repeat};

/// Largest number of parts a group's contents may be split into.
const MAX_PARTS: usize = 16;

/// Most sequences resolved for one pattern.
const MAX_CALLS: usize = 4096;

/// Largest growth of the tree, in nodes: the original size times this, plus a constant.
const MAX_GROWTH: usize = 8;

/// The rewrite does not apply (the pattern keeps the backtracking path).
#[derive(Debug)]
pub(crate) struct Refused;

type Res<T> = Result<T, Refused>;

/// Participation of the groups conditionals read: true = set. A group not listed is unknown.
type Known = BTreeMap<usize, bool>;

/// The tree with every conditional replaced by one of its branches; `None` when the tree has
/// no conditional, `Some(Err)` when it cannot be rewritten exactly within the size bound.
pub(crate) fn resolve(ast: &Ast) -> Option<Res<Ast>> {
    let groups = cond_groups(&ast.root);
    if groups.is_empty() {
        return None;
    }
    let known: Known = groups.iter().map(|&g| (g, false)).collect();
    let limit = size(&ast.root) * MAX_GROWTH + 1000;
    let mut r = Resolver {
        groups,
        limit,
        calls: 0,
    };
    let out = r
        .seq(std::slice::from_ref(&ast.root), &known)
        .and_then(|root| {
            if size(&root) > limit {
                return Err(Refused);
            }
            Ok(Ast {
                root,
                groups: ast.groups,
                names: ast.names.clone(),
            })
        });
    Some(out)
}

/// Groups read by a conditional.
fn cond_groups(n: &Node) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    walk(n, &mut |m| {
        if let Node::Cond { group, .. } = m {
            out.insert(*group);
        }
    });
    out
}

fn walk(n: &Node, f: &mut dyn FnMut(&Node)) {
    f(n);
    match n {
        Node::Group(g) => walk(&g.node, f),
        Node::Repeat(r) => walk(&r.node, f),
        Node::Concat(v) | Node::Alt(v) => v.iter().for_each(|m| walk(m, f)),
        Node::Cond { yes, no, .. } => {
            walk(yes, f);
            walk(no, f);
        }
        Node::Look { node, .. } => walk(node, f),
        Node::Marked { atom, .. } => walk(atom, f),
        _ => {}
    }
}

/// Number of nodes.
pub(crate) fn size(n: &Node) -> usize {
    let mut k = 0;
    walk(n, &mut |_| k += 1);
    k
}

/// One node as alternatives, or the node itself for one.
fn alt_node(mut v: Vec<Node>) -> Node {
    if v.len() == 1 {
        v.pop().unwrap_or(Node::Empty)
    } else {
        Node::Alt(v)
    }
}

fn concat_node(mut v: Vec<Node>) -> Node {
    if v.len() == 1 {
        v.pop().unwrap_or(Node::Empty)
    } else {
        Node::Concat(v)
    }
}

/// Whether `n` has exactly one way to match at a given start (then a sequence starting with
/// it can be split by what follows without changing priorities).
pub(crate) fn deterministic(n: &Node) -> bool {
    match n {
        Node::Empty
        | Node::Literal { .. }
        | Node::Dot { .. }
        | Node::Class(_)
        | Node::Marked { .. }
        | Node::Assert(_) => true,
        Node::Group(g) => g.kind != GroupKind::Atomic && deterministic(&g.node),
        Node::Concat(v) => v.iter().all(deterministic),
        Node::Repeat(r) => Some(r.min) == r.max && deterministic(&r.node),
        _ => false,
    }
}

struct Resolver {
    /// Groups read by some conditional.
    groups: BTreeSet<usize>,
    /// Size bound of any intermediate tree.
    limit: usize,
    /// Sequences resolved so far (bounds the work on hostile patterns).
    calls: usize,
}

impl Resolver {
    /// Whether `n` needs rewriting: it holds a conditional or sets a group one reads.
    fn touches(&self, n: &Node) -> bool {
        n.any(&|m| matches!(m, Node::Cond { .. })) || self.sets_group(n)
    }

    /// Whether `n` holds a group a conditional reads.
    fn sets_group(&self, n: &Node) -> bool {
        n.any(&|m| match m {
            Node::Group(g) => {
                matches!(&g.kind, GroupKind::Capture { index, .. } if self.groups.contains(index))
            }
            _ => false,
        })
    }

    fn check(&self, n: &Node) -> Res<()> {
        if size(n) > self.limit {
            return Err(Refused);
        }
        Ok(())
    }

    /// `n`, which sets no group a conditional reads, with its conditionals resolved.
    fn static_form(&mut self, n: &Node, known: &Known) -> Res<Node> {
        let mut parts = self.parts(n, known)?;
        if parts.len() == 1 {
            return Ok(parts.pop().map(|(n, _)| n).unwrap_or(Node::Empty));
        }
        Ok(alt_node(parts.into_iter().map(|(n, _)| n).collect()))
    }

    /// The sequence `items` (to the end of the pattern) with every conditional resolved.
    /// Whenever an element's outcome decides a group that a later conditional reads, the
    /// rest of the sequence is distributed into the element's parts.
    fn seq(&mut self, items: &[Node], known: &Known) -> Res<Node> {
        self.calls += 1;
        if self.calls > MAX_CALLS {
            return Err(Refused);
        }
        let mut head = vec![];
        for (i, e) in items.iter().enumerate() {
            let rest = &items[i + 1..];
            if !self.touches(e) {
                head.push(e.clone());
                continue;
            }
            // Sequences and plain groups are transparent: continue inside them.
            let inner = match e {
                Node::Concat(v) => Some(v.clone()),
                Node::Group(g) if g.kind == GroupKind::NonCapture => Some(vec![g.node.clone()]),
                _ => None,
            };
            if let Some(v) = inner {
                let all: Vec<Node> = v.into_iter().chain(rest.iter().cloned()).collect();
                head.push(self.seq(&all, known)?);
                return Ok(concat_node(head));
            }
            let read_later: BTreeSet<usize> = rest.iter().flat_map(cond_groups).collect();
            let decides = self.sets_group(e)
                && e.any(&|m| {
                    matches!(m, Node::Group(g) if matches!(&g.kind,
                        GroupKind::Capture { index, .. } if read_later.contains(index)))
                });
            if !decides {
                // Its outcome matters to no later conditional: resolve it in place if its
                // parts allow (else distribute the rest, which is exact too).
                if let Ok(n) = self.static_form(e, known) {
                    head.push(n);
                    continue;
                }
            }
            let with_rest = |first: Node| -> Vec<Node> {
                std::iter::once(first).chain(rest.iter().cloned()).collect()
            };
            let tail = match e {
                Node::Cond { group, yes, no } => match known.get(group) {
                    Some(true) => self.seq(&with_rest((**yes).clone()), known)?,
                    Some(false) => self.seq(&with_rest((**no).clone()), known)?,
                    None => return Err(Refused),
                },
                // `(X|Y)R` is `XR|YR`.
                Node::Alt(v) => {
                    let mut out = vec![];
                    for b in v {
                        out.push(self.seq(&with_rest(b.clone()), known)?);
                    }
                    alt_node(out)
                }
                // `X?R` is `XR|R`, `X??R` is `R|XR`.
                Node::Repeat(r) if r.min == 0 && r.max == Some(1) && !r.possessive => {
                    let take = self.seq(&with_rest(r.node.clone()), known)?;
                    let skip = self.seq(rest, known)?;
                    if r.greedy {
                        Node::Alt(vec![take, skip])
                    } else {
                        Node::Alt(vec![skip, take])
                    }
                }
                // `(?P<g>A|B)R` is `(?P<g>A)R|(?P<g>B)R`.
                Node::Group(g) => {
                    let GroupKind::Capture { index, .. } = g.kind else {
                        return Err(Refused);
                    };
                    let own = index;
                    if g.node
                        .any(&|m| matches!(m, Node::Cond { group, .. } if *group == own))
                    {
                        return Err(Refused);
                    }
                    let parts = merge(self.parts(&g.node, known)?, &read_later);
                    let mut out = vec![];
                    for (part, mut k) in parts {
                        if self.groups.contains(&own) {
                            k.insert(own, true);
                        }
                        let group = Node::Group(Box::new(Group {
                            kind: g.kind.clone(),
                            node: part,
                        }));
                        let tail = self.seq(rest, &k)?;
                        out.push(concat_node(vec![group, tail]));
                    }
                    alt_node(out)
                }
                _ => return Err(Refused),
            };
            self.check(&tail)?;
            head.push(tail);
            return Ok(concat_node(head));
        }
        Ok(concat_node(head))
    }

    /// `n` as contiguous parts of its paths in priority order (matching `n` is matching
    /// the first part that matches), each with the participation known after it.
    fn parts(&mut self, n: &Node, known: &Known) -> Res<Vec<(Node, Known)>> {
        if !self.touches(n) {
            return Ok(vec![(n.clone(), known.clone())]);
        }
        let out = match n {
            Node::Cond { group, yes, no } => match known.get(group) {
                Some(true) => self.parts(yes, known)?,
                Some(false) => self.parts(no, known)?,
                None => return Err(Refused),
            },
            Node::Alt(v) => {
                let mut out = vec![];
                for b in v {
                    out.extend(self.parts(b, known)?);
                }
                out
            }
            Node::Group(g) => match &g.kind {
                GroupKind::NonCapture => self.parts(&g.node, known)?,
                GroupKind::Atomic => return Err(Refused),
                GroupKind::Capture { index, .. } => {
                    let own = *index;
                    if g.node
                        .any(&|m| matches!(m, Node::Cond { group, .. } if *group == own))
                    {
                        return Err(Refused);
                    }
                    let mut out = vec![];
                    for (a, mut k) in self.parts(&g.node, known)? {
                        if self.groups.contains(&own) {
                            k.insert(own, true);
                        }
                        let node = Node::Group(Box::new(Group {
                            kind: g.kind.clone(),
                            node: a,
                        }));
                        out.push((node, k));
                    }
                    out
                }
            },
            Node::Repeat(r) if r.min == 0 && r.max == Some(1) && !r.possessive => {
                let body = self.parts(&r.node, known)?;
                let skip = (Node::Empty, known.clone());
                if r.greedy {
                    body.into_iter().chain([skip]).collect()
                } else {
                    std::iter::once(skip).chain(body).collect()
                }
            }
            Node::Concat(v) => self.concat_parts(v, known)?,
            // A repetition or lookaround whose conditionals read groups it does not set: each
            // conditional has one branch in every iteration.
            Node::Repeat(r) if !self.sets_group(&r.node) => {
                let body = self.static_form(&r.node, known)?;
                let node = Node::Repeat(Box::new(Repeat {
                    node: body,
                    ..(**r).clone()
                }));
                vec![(node, known.clone())]
            }
            Node::Look {
                behind,
                negate,
                node,
            } if !self.sets_group(node) => {
                let node = Node::Look {
                    behind: *behind,
                    negate: *negate,
                    node: Box::new(self.static_form(node, known)?),
                };
                vec![(node, known.clone())]
            }
            _ => return Err(Refused),
        };
        let everything = self.groups.clone();
        let out = merge(out, &everything);
        if out.len() > MAX_PARTS {
            return Err(Refused);
        }
        Ok(out)
    }

    /// Parts of a sequence: only one element may split, after deterministic elements (so
    /// the parts stay contiguous in priority order); the elements after it are resolved with
    /// each part's knowledge and must not split.
    fn concat_parts(&mut self, v: &[Node], known: &Known) -> Res<Vec<(Node, Known)>> {
        let mut head = vec![];
        let mut k = known.clone();
        for (i, e) in v.iter().enumerate() {
            let mut parts = self.parts(e, &k)?;
            if parts.len() == 1 {
                let (n, k2) = parts.pop().ok_or(Refused)?;
                head.push(n);
                k = k2;
                continue;
            }
            if !head.iter().all(deterministic) {
                return Err(Refused);
            }
            let mut out = vec![];
            for (part, kp) in parts {
                let mut nodes = head.clone();
                nodes.push(part);
                let mut kk = kp;
                for after in &v[i + 1..] {
                    let mut p = self.parts(after, &kk)?;
                    if p.len() != 1 {
                        return Err(Refused);
                    }
                    let (n, k2) = p.pop().ok_or(Refused)?;
                    nodes.push(n);
                    kk = k2;
                }
                out.push((concat_node(nodes), kk));
            }
            return Ok(out);
        }
        Ok(vec![(concat_node(head), k)])
    }
}

/// The groups of `later` as `k` knows them.
fn relevant(k: &Known, later: &BTreeSet<usize>) -> Vec<Option<bool>> {
    later.iter().map(|g| k.get(g).copied()).collect()
}

/// Merge consecutive parts that agree on the groups in `later` (their order, and so their
/// priority, is kept).
fn merge(alts: Vec<(Node, Known)>, later: &BTreeSet<usize>) -> Vec<(Node, Known)> {
    let mut out: Vec<(Vec<Node>, Known)> = vec![];
    for (n, k) in alts {
        match out.last_mut() {
            Some((nodes, lk)) if relevant(lk, later) == relevant(&k, later) => {
                nodes.push(n);
                // Keep only what both agree on.
                lk.retain(|g, v| k.get(g) == Some(v));
            }
            _ => out.push((vec![n], k)),
        }
    }
    out.into_iter()
        .map(|(v, k)| (alt_node(flatten_alts(v)), k))
        .collect()
}

/// Alternatives of alternatives, as one list (same order).
fn flatten_alts(v: Vec<Node>) -> Vec<Node> {
    let mut out = vec![];
    for n in v {
        match n {
            Node::Alt(inner) => out.extend(inner),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::pyre::parse;

    fn resolved(p: &str) -> Option<Res<Ast>> {
        resolve(&parse(p).expect("parses"))
    }

    #[test]
    fn no_conditional_no_rewrite() {
        assert!(resolved("a(b)?c").is_none());
    }

    #[test]
    fn conditionals_disappear() {
        for p in [
            "(a)?(?(1)b|c)",
            "(?P<x>a)?x(?(x)b|c)d",
            "(?:(?P<u>\\S+)|.*?) from (?(u): |$)",
            "(?P<i>inv )?(?P<u>(?P<c>\\S+)|(?(i).*?|[^:]+)) f(?(c):|$)",
            "(?(1)a|b)(x)",
        ] {
            let ast = resolved(p).expect("has a conditional").expect("rewritten");
            assert!(
                !ast.root.any(&|n| matches!(n, Node::Cond { .. })),
                "{p}: {:?}",
                ast.root
            );
        }
    }

    #[test]
    fn many_independent_conditionals_are_bounded() {
        let mut p = String::new();
        for i in 0..40 {
            p.push_str(&format!("(?P<g{i}>a)?"));
        }
        for i in 0..40 {
            p.push_str(&format!("(?(g{i})b|c)"));
        }
        assert!(resolved(&p).expect("has conditionals").is_err());
    }

    #[test]
    fn refusals() {
        for p in ["(?:(a)|b)+(?(1)c|d)", "(a(?(1)b|c))", "(?>(a)|b)(?(1)c|d)"] {
            assert!(resolved(p).expect("has a conditional").is_err(), "{p}");
        }
    }
}
