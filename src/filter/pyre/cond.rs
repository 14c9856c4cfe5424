//! Conditionals `(?(g)yes|no)` rewritten into regular alternatives with the same priorities.
//!
//! Owns one exact rewrite of the tree: wherever the pattern reaches a conditional, the branch
//! is known statically once the pattern is split into alternatives according to whether group
//! `g` took part. It does not emit or match; `pyre::Regex::new` calls it before `mark.rs` and
//! `emit.rs`, and keeps the original tree for the gate and the backtracker.
//!
//! The rewrite distributes the rest of a sequence into the alternatives that decide a group's
//! participation, only as far as a later conditional still depends on it:
//! `(X|Y)R` becomes `XR|YR`, `X?R` becomes `XR|R`, `X??R` becomes `R|XR`, and
//! `(?P<g>A|B)R` becomes `(?P<g>A)R|(?P<g>B)R` (two copies of group `g`, each keeping
//! Python's index; at most one of them takes part in a match). A group taking part in an
//! alternative that follows it is set; groups not yet met are unset. Consecutive
//! alternatives that agree on every group a later conditional reads are merged again, so a
//! sequence is copied at most once per distinct outcome. The size of the result is bounded;
//! beyond it (or for a conditional whose group's participation depends on a repetition, a
//! lookaround or an atomic group) the rewrite is refused and the pattern keeps the
//! backtracking path.
//!
//! # Compatibility
//! Exact for Python 3.11's `re`: its backtracker tries `X` with every way of matching `R`
//! before `Y`, which is the order of `XR|YR`; on backtracking out of a group it restores the
//! group's previous state, so a group is set exactly on the alternatives that passed through
//! it; a conditional reads the state when it is reached. tests/pyre_python.rs compares the
//! result with the live Python.

use std::collections::{BTreeMap, BTreeSet};

use super::ast::{Ast, Group, GroupKind, Node, Repeat};

/// Largest number of alternatives a sequence may be split into at one time.
const MAX_PATHS: usize = 64;

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
    let mut r = Resolver { groups };
    let out = r
        .alts(&ast.root, &known, &BTreeSet::new())
        .and_then(|alts| {
            let root = alt_node(alts.into_iter().map(|(n, _)| n).collect());
            let limit = size(&ast.root) * MAX_GROWTH + 1000;
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

struct Resolver {
    /// Groups read by some conditional.
    groups: BTreeSet<usize>,
}

impl Resolver {
    /// Whether `n` needs rewriting: it holds a conditional or sets a group one reads.
    fn touches(&self, n: &Node) -> bool {
        n.any(&|m| match m {
            Node::Cond { .. } => true,
            Node::Group(g) => {
                matches!(&g.kind, GroupKind::Capture { index, .. } if self.groups.contains(index))
            }
            _ => false,
        })
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

    /// `n` (which sets no group a conditional reads) with its conditionals resolved.
    fn static_form(&mut self, n: &Node, known: &Known) -> Res<Node> {
        let everything = self.groups.clone();
        let alts = self.alts(n, known, &everything)?;
        Ok(alt_node(alts.into_iter().map(|(a, _)| a).collect()))
    }

    /// `n` as alternatives in priority order, each with the participation known after it.
    /// `later`: groups that conditionals after `n` read (alternatives agreeing on them are
    /// merged).
    fn alts(
        &mut self,
        n: &Node,
        known: &Known,
        later: &BTreeSet<usize>,
    ) -> Res<Vec<(Node, Known)>> {
        if !self.touches(n) {
            return Ok(vec![(n.clone(), known.clone())]);
        }
        let out = match n {
            Node::Cond { group, yes, no } => match known.get(group) {
                Some(true) => self.alts(yes, known, later)?,
                Some(false) => self.alts(no, known, later)?,
                None => return Err(Refused),
            },
            Node::Concat(v) => self.seq(v, known, later)?,
            Node::Alt(v) => {
                let mut out = vec![];
                for b in v {
                    out.extend(self.alts(b, known, later)?);
                }
                out
            }
            Node::Group(g) => match &g.kind {
                GroupKind::NonCapture => self.alts(&g.node, known, later)?,
                GroupKind::Atomic => return Err(Refused),
                GroupKind::Capture { index, .. } => {
                    let own = *index;
                    if g.node
                        .any(&|m| matches!(m, Node::Cond { group, .. } if *group == own))
                    {
                        return Err(Refused);
                    }
                    let mut out = vec![];
                    for (a, mut k) in self.alts(&g.node, known, later)? {
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
                let body = self.alts(&r.node, known, later)?;
                let skip = (Node::Empty, known.clone());
                if r.greedy {
                    body.into_iter().chain([skip]).collect()
                } else {
                    std::iter::once(skip).chain(body).collect()
                }
            }
            // A repetition (or lookaround, atomic group) whose conditionals read groups it
            // does not set: each conditional has one branch in every iteration.
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
        let out = merge(out, later);
        if out.len() > MAX_PATHS {
            return Err(Refused);
        }
        Ok(out)
    }

    /// A sequence as alternatives: each element's alternatives are distributed over what
    /// follows as long as a later conditional depends on them.
    fn seq(
        &mut self,
        items: &[Node],
        known: &Known,
        later: &BTreeSet<usize>,
    ) -> Res<Vec<(Node, Known)>> {
        let mut paths: Vec<(Vec<Node>, Known)> = vec![(vec![], known.clone())];
        for (i, e) in items.iter().enumerate() {
            let mut after = later.clone();
            for rest in &items[i + 1..] {
                after.extend(cond_groups(rest));
            }
            let mut next = vec![];
            for (prefix, k) in paths {
                for (a, k2) in self.alts(e, &k, &after)? {
                    let mut p = prefix.clone();
                    p.push(a);
                    next.push((p, k2));
                }
            }
            paths = merge_paths(next, &after);
            if paths.len() > MAX_PATHS {
                return Err(Refused);
            }
        }
        Ok(paths
            .into_iter()
            .map(|(p, k)| (concat_node(p), k))
            .collect())
    }
}

/// The groups of `later` as `k` knows them.
fn relevant(k: &Known, later: &BTreeSet<usize>) -> Vec<Option<bool>> {
    later.iter().map(|g| k.get(g).copied()).collect()
}

/// Merge consecutive paths (sequences) that agree on the groups in `later`, keeping their
/// common head once: `P X | P Y` becomes `P (?:X|Y)`.
fn merge_paths(paths: Vec<(Vec<Node>, Known)>, later: &BTreeSet<usize>) -> Vec<(Vec<Node>, Known)> {
    let mut runs: Vec<(Vec<Vec<Node>>, Known)> = vec![];
    for (p, k) in paths {
        match runs.last_mut() {
            Some((ps, lk)) if relevant(lk, later) == relevant(&k, later) => {
                ps.push(p);
                lk.retain(|g, v| k.get(g) == Some(v));
            }
            _ => runs.push((vec![p], k)),
        }
    }
    runs.into_iter()
        .map(|(mut ps, k)| {
            if ps.len() == 1 {
                return (ps.pop().unwrap_or_default(), k);
            }
            let common = (0..)
                .take_while(|&i| {
                    ps.iter()
                        .all(|p| p.len() > i + 1 && p.get(i) == ps[0].get(i))
                })
                .count();
            let mut head: Vec<Node> = ps[0][..common].to_vec();
            let tails = ps.into_iter().map(|p| concat_node(p[common..].to_vec()));
            head.push(alt_node(flatten_alts(tails.collect())));
            (head, k)
        })
        .collect()
}

/// Merge consecutive alternatives that agree on the groups in `later` (their order, and so
/// their priority, is kept).
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
    fn refusals() {
        for p in ["(?:(a)|b)+(?(1)c|d)", "(a(?(1)b|c))", "(?>(a)|b)(?(1)c|d)"] {
            assert!(resolved(p).expect("has a conditional").is_err(), "{p}");
        }
    }
}
