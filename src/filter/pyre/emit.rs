//! Writing an [`Ast`] back out: as Rust regex syntax (exact, or a superset "gate") for
//! regex-automata, and as fancy-regex syntax for the bounded backtracking confirmation.
//!
//! It owns the meaning-preserving translation of every Python construct. It does not compile
//! or match; `pyre::Regex::new` calls it and compiles the strings.
//!
//! # Compatibility
//! Python's `\w` is `[\p{L}\p{N}_]` (letters, every `N*` number, `_`; no marks), its `\s` is
//! Rust's `\s` plus `\x1c`–`\x1f`, its `\d` is `\p{Nd}`, and its `\b` is defined on that `\w`.
//! Rust's Unicode `\b` uses another `\w`, so an exact Unicode translation with `\b` does not
//! exist; on ASCII text both agree, which the ASCII targets use. Python `$` (no MULTILINE) is
//! written `(?m:$)` in Rust syntax, which is exact only when no `\n` precedes the last
//! character of the searched text; the caller checks that per search. A positive lookbehind
//! for a literal that the text before it provably always ends with (the `(?<=:)` in fail2ban's
//! `<HOST>`) is dropped as always true; this is a proof over the tree, not a textual match.

use std::fmt::Write;

use super::ast::{Assertion, Ast, Class, ClassItem, GroupKind, Node, PerlKind, Repeat};

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// Rust syntax with exactly Python's meaning; fails on constructs without one.
    Exact,
    /// Rust syntax matching a superset of what Python matches (same capture numbering).
    Gate,
    /// fancy-regex syntax with exactly Python's meaning.
    Fancy,
}

/// The writer's settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Emitter<'m> {
    pub target: Target,
    /// Only ASCII haystacks will be searched: classes may be written in their ASCII form.
    pub ascii: bool,
    /// Lookahead markers (`mark.rs`), for the exact targets of a rewritten tree: for marker j,
    /// the characters that can follow it in the marked text. Every atom that may consume one
    /// of them is written with marker j optional (or required / absent for a
    /// [`Node::Marked`] atom) in front. Empty: the text is searched as it is.
    pub marks: &'m [Vec<char>],
}

/// A construct the target cannot express.
#[derive(Debug)]
pub(crate) struct NotExpressible;

type R = Result<(), NotExpressible>;

impl Emitter<'_> {
    /// Write the whole pattern.
    pub fn emit(&self, ast: &Ast) -> Result<String, NotExpressible> {
        self.emit_node(ast, &ast.root, "", false)
    }

    /// Write one node of `ast`, after text proven to end with `before`; `copy` writes its
    /// capture groups as non-capturing.
    pub fn emit_node(
        &self,
        ast: &Ast,
        node: &Node,
        before: &str,
        copy: bool,
    ) -> Result<String, NotExpressible> {
        let mut out = String::new();
        self.node(&mut out, node, ast, before, copy)?;
        Ok(out)
    }

    /// `before`: text this node is proven to follow; `copy`: inside a backreference copy (no
    /// capture groups may be written).
    fn node(&self, out: &mut String, n: &Node, ast: &Ast, before: &str, copy: bool) -> R {
        match n {
            Node::Empty => {}
            Node::Literal { .. } | Node::Dot { .. } | Node::Class(_) => self.atom(out, n, 0, 0)?,
            Node::Marked { need, forbid, atom } => match self.target {
                _ if !self.marks.is_empty() => self.atom(out, atom, *need, *forbid)?,
                Target::Gate => self.atom(out, atom, 0, 0)?,
                Target::Exact | Target::Fancy => return Err(NotExpressible),
            },
            Node::Assert(a) => self.assertion(out, *a)?,
            Node::Group(g) => {
                let open = match (&g.kind, copy, self.target) {
                    (GroupKind::Capture { .. }, false, _) => "(",
                    (GroupKind::Atomic, _, Target::Exact) => return Err(NotExpressible),
                    (GroupKind::Atomic, _, Target::Fancy) => "(?>",
                    _ => "(?:",
                };
                out.push_str(open);
                self.node(out, &g.node, ast, before, copy)?;
                out.push(')');
            }
            Node::Repeat(r) => self.repeat(out, r, ast, before, copy)?,
            Node::Concat(v) => {
                // Contexts matter only to the lookbehinds: none are worked out past the last.
                let last = v.iter().rposition(has_lookbehind);
                let mut ctx = before.to_string();
                for (i, e) in v.iter().enumerate() {
                    self.node(out, e, ast, &ctx, copy)?;
                    ctx = match last {
                        Some(l) if i < l => suffix(e, &ctx),
                        _ => String::new(),
                    };
                }
            }
            Node::Alt(v) => {
                out.push_str("(?:");
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        out.push('|');
                    }
                    self.node(out, e, ast, before, copy)?;
                }
                out.push(')');
            }
            Node::Backref { group, icase } => match self.target {
                Target::Exact => return Err(NotExpressible),
                Target::Fancy => {
                    if *icase {
                        let _ = write!(out, "(?i:\\k<{group}>)");
                    } else {
                        let _ = write!(out, "\\k<{group}>");
                    }
                }
                Target::Gate => {
                    let target = ast.root.find_group(*group).ok_or(NotExpressible)?;
                    out.push_str(if *icase { "(?i:" } else { "(?:" });
                    self.node(out, target, ast, "", true)?;
                    out.push(')');
                }
            },
            Node::Cond { group, yes, no } => match self.target {
                Target::Exact => return Err(NotExpressible),
                Target::Fancy => {
                    let _ = write!(out, "(?({group})");
                    self.node(out, yes, ast, before, copy)?;
                    out.push('|');
                    self.node(out, no, ast, before, copy)?;
                    out.push(')');
                }
                Target::Gate => {
                    out.push_str("(?:");
                    self.node(out, yes, ast, before, copy)?;
                    out.push('|');
                    self.node(out, no, ast, before, copy)?;
                    out.push(')');
                }
            },
            Node::Look {
                behind,
                negate,
                node,
            } => {
                let redundant = *behind
                    && !*negate
                    && fixed_literal(node).is_some_and(|s| before.ends_with(s.as_str()));
                match self.target {
                    _ if redundant => {}
                    Target::Gate => {}
                    Target::Exact => return Err(NotExpressible),
                    Target::Fancy => {
                        out.push_str(match (behind, negate) {
                            (false, false) => "(?=",
                            (false, true) => "(?!",
                            (true, false) => "(?<=",
                            (true, true) => "(?<!",
                        });
                        self.node(out, node, ast, "", copy)?;
                        out.push(')');
                    }
                }
            }
        }
        Ok(())
    }

    /// A one-character atom, after the lookahead markers in front of it (when there are
    /// markers): marker j is required if bit j of `need` is set, absent if bit j of `forbid`
    /// is, optional otherwise; markers that can never precede a character the atom matches
    /// are left out.
    fn atom(&self, out: &mut String, n: &Node, need: u8, forbid: u8) -> R {
        for (j, follow) in self.marks.iter().enumerate() {
            let bit = 1u8 << j;
            if !follow.iter().any(|&c| may_match(n, c)) {
                if need & bit != 0 {
                    out.push_str(NEVER);
                    return Ok(());
                }
                continue;
            }
            if forbid & bit != 0 {
                if need & bit != 0 {
                    out.push_str(NEVER);
                    return Ok(());
                }
                continue;
            }
            let _ = write!(out, "(?-u:\\x{:02X})", marker_byte(j));
            if need & bit == 0 {
                out.push('?');
            }
        }
        match n {
            Node::Literal { c, icase } => self.literal(out, *c, *icase),
            Node::Dot { dotall } => out.push_str(match (dotall, self.high_free()) {
                (true, true) => "[\\x00-\\x7F]",
                (false, true) => "[^\\n\\x80-\\xFF]",
                (true, false) => "(?s:.)",
                (false, false) => ".",
            }),
            Node::Class(c) => self.class(out, c),
            _ => return Err(NotExpressible),
        }
        Ok(())
    }

    /// Byte-oriented ASCII form of a marked text: no atom may consume a byte >= 0x80 (the
    /// markers are such bytes; the text itself is ASCII).
    fn high_free(&self) -> bool {
        self.ascii && !self.marks.is_empty()
    }

    fn repeat(&self, out: &mut String, r: &Repeat, ast: &Ast, before: &str, copy: bool) -> R {
        let atomic = r.possessive && self.target == Target::Fancy;
        if r.possessive && self.target == Target::Exact {
            return Err(NotExpressible);
        }
        if atomic {
            out.push_str("(?>");
        }
        out.push_str("(?:");
        let ctx = if has_lookbehind(&r.node) {
            repeat_context(r, before)
        } else {
            String::new()
        };
        self.node(out, &r.node, ast, &ctx, copy)?;
        out.push(')');
        match (r.min, r.max) {
            (0, None) => out.push('*'),
            (1, None) => out.push('+'),
            (0, Some(1)) => out.push('?'),
            (m, None) => {
                let _ = write!(out, "{{{m},}}");
            }
            (m, Some(x)) if m == x => {
                let _ = write!(out, "{{{m}}}");
            }
            (m, Some(x)) => {
                let _ = write!(out, "{{{m},{x}}}");
            }
        }
        if !r.greedy {
            out.push('?');
        }
        if atomic {
            out.push(')');
        }
        Ok(())
    }

    fn literal(&self, out: &mut String, c: char, icase: bool) {
        if self.ascii && !c.is_ascii() {
            // ASCII forms are compiled byte-oriented and only see ASCII text.
            match icase.then(|| ascii_fold(c)).flatten() {
                Some(a) => {
                    let _ = write!(out, "(?i:{a})");
                }
                None => out.push_str(NEVER),
            }
            return;
        }
        if icase && !self.ascii && matches!(c, 'i' | 'I' | '\u{130}' | '\u{131}') {
            // Python also equates dotless and dotted i with i; simple case folding does not.
            out.push_str("[iI\u{130}\u{131}]");
            return;
        }
        let folds = icase && has_case(c);
        if folds {
            out.push_str("(?i:");
        }
        push_char(out, c, false);
        if folds {
            out.push(')');
        }
    }

    /// Whether classes are written by their ASCII part: in ASCII forms (exact there), and in
    /// every gate, where the non-ASCII part is widened to "any non-ASCII character" (a cheap
    /// superset: Unicode class tables are what makes compiling slow and big).
    fn ascii_classes(&self) -> bool {
        self.ascii || self.target == Target::Gate
    }

    fn class(&self, out: &mut String, c: &Class) {
        let mut body = String::new();
        for item in &c.items {
            match *item {
                ClassItem::Range(a, b) if self.ascii_classes() => {
                    if a.is_ascii() {
                        push_range(&mut body, a, b.min('\x7f'));
                    }
                    if c.icase {
                        for (special, folded) in ASCII_FOLDS {
                            if (a..=b).contains(&special) {
                                push_range(&mut body, folded, folded);
                            }
                        }
                    }
                }
                ClassItem::Range(a, b) => push_range(&mut body, a, b),
                ClassItem::Perl {
                    kind,
                    negated,
                    ascii,
                } => {
                    let inner = self.perl_body(kind, ascii);
                    if negated && self.ascii_classes() {
                        // Only the ASCII part, so that a negated class around it stays a
                        // superset in a gate.
                        let _ = write!(body, "[\\x00-\\x7F&&[^{inner}]]");
                    } else if negated {
                        let _ = write!(body, "[^{inner}]");
                    } else {
                        body.push_str(inner);
                    }
                }
            }
        }
        if !self.ascii && self.target == Target::Gate && !c.negated {
            body.push_str("\\x{80}-\\x{10FFFF}");
        }
        if body.is_empty() {
            // Only non-ASCII members, in an ASCII form.
            out.push_str(match (c.negated, self.high_free()) {
                (true, true) => "[\\x00-\\x7F]",
                (true, false) => "(?s:.)",
                (false, _) => NEVER,
            });
            return;
        }
        if c.negated && self.high_free() {
            body.push_str("\\x80-\\xFF");
        }
        if c.icase {
            out.push_str("(?i:");
        }
        out.push('[');
        if c.negated {
            out.push('^');
        }
        out.push_str(&body);
        out.push(']');
        if c.icase {
            out.push(')');
        }
    }

    /// The inside of a class for a Python shorthand (`flag_ascii`: the `a` flag was on).
    fn perl_body(&self, kind: PerlKind, flag_ascii: bool) -> &'static str {
        let ascii = flag_ascii || self.ascii_classes();
        match (kind, ascii, flag_ascii) {
            (PerlKind::Digit, true, _) => "0-9",
            (PerlKind::Digit, false, _) => "\\d",
            (PerlKind::Word, true, _) => "0-9A-Za-z_",
            (PerlKind::Word, false, _) => "\\p{L}\\p{N}_",
            (PerlKind::Space, true, true) => "\\t-\\r ",
            (PerlKind::Space, true, false) => "\\t-\\r\\x{1C}-\\x{20}",
            (PerlKind::Space, false, _) => "\\s\\x{1C}-\\x{1F}",
        }
    }

    fn assertion(&self, out: &mut String, a: Assertion) -> R {
        let fancy = self.target == Target::Fancy;
        let s: String = match a {
            Assertion::TextStart => "\\A".into(),
            Assertion::LineStart => "(?m:^)".into(),
            Assertion::PyEnd if fancy => "(?=\\n?\\z)".into(),
            Assertion::PyEnd | Assertion::LineEnd => "(?m:$)".into(),
            Assertion::TextEnd => "\\z".into(),
            Assertion::WordBoundary { ascii } | Assertion::NotWordBoundary { ascii } => {
                let not = matches!(a, Assertion::NotWordBoundary { .. });
                if fancy {
                    let w = format!("[{}]", self.perl_body(PerlKind::Word, ascii));
                    if not {
                        format!("(?:(?<={w})(?={w})|(?<!{w})(?!{w}))")
                    } else {
                        format!("(?:(?<={w})(?!{w})|(?<!{w})(?={w}))")
                    }
                } else if ascii || self.ascii {
                    // On ASCII text Rust's Unicode `\b` equals Python's; with the `a` flag
                    // Python's `\b` is ASCII whatever the text.
                    if ascii && !self.ascii {
                        if self.target == Target::Exact {
                            return Err(NotExpressible);
                        }
                        String::new()
                    } else if not {
                        "(?-u:\\B)".into()
                    } else {
                        "(?-u:\\b)".into()
                    }
                } else if self.target == Target::Exact {
                    return Err(NotExpressible);
                } else {
                    String::new()
                }
            }
        };
        out.push_str(&s);
        Ok(())
    }
}

/// Matches nothing (an empty byte class: the ASCII forms, and the marker forms, which are all
/// compiled without the UTF-8 requirement).
const NEVER: &str = "(?-u:[^\\x00-\\xFF])";

/// The byte standing for lookahead marker `j` in a marked text: bytes from 0xFF down, which
/// never occur in UTF-8.
pub(crate) fn marker_byte(j: usize) -> u8 {
    0xFF - j as u8
}

/// Whether the one-character atom `n` may match `c` (true when unsure).
pub(crate) fn may_match(n: &Node, c: char) -> bool {
    match n {
        Node::Literal { c: l, icase } => *l == c || (*icase && (has_case(*l) || !c.is_ascii())),
        Node::Dot { dotall } => *dotall || c != '\n',
        Node::Class(class) => {
            if class.icase && (has_case(c) || !c.is_ascii()) {
                return true;
            }
            let mut known = Some(false);
            for item in &class.items {
                let hit = match *item {
                    ClassItem::Range(a, b) => Some((a..=b).contains(&c)),
                    ClassItem::Perl { kind, negated, .. } if c.is_ascii() => {
                        let b = c as u8;
                        let is = match kind {
                            PerlKind::Digit => b.is_ascii_digit(),
                            PerlKind::Word => b.is_ascii_alphanumeric() || b == b'_',
                            PerlKind::Space => matches!(b, b'\t'..=b'\r' | 0x1C..=0x20),
                        };
                        Some(is != negated)
                    }
                    ClassItem::Perl { .. } => None,
                };
                known = match (known, hit) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                };
            }
            known.is_none_or(|k| k != class.negated)
        }
        Node::Marked { atom, .. } => may_match(atom, c),
        _ => true,
    }
}

/// Non-ASCII characters Python's IGNORECASE equates with an ASCII letter.
const ASCII_FOLDS: [(char, char); 4] = [
    ('\u{130}', 'i'),
    ('\u{131}', 'i'),
    ('\u{17F}', 's'),
    ('\u{212A}', 'k'),
];

fn ascii_fold(c: char) -> Option<char> {
    ASCII_FOLDS.iter().find(|(s, _)| *s == c).map(|(_, a)| *a)
}

fn push_range(out: &mut String, a: char, b: char) {
    push_char(out, a, true);
    if b != a {
        out.push('-');
        push_char(out, b, true);
    }
}

pub(crate) fn has_case(c: char) -> bool {
    c.to_lowercase().ne(std::iter::once(c))
        || c.to_uppercase().ne(std::iter::once(c))
        || matches!(
            c,
            'k' | 's' | 'K' | 'S' | '\u{17F}' | '\u{212A}' | '\u{3B9}' | '\u{345}'
        )
}

/// Write one character so that both regex-syntax and fancy-regex read it as itself.
fn push_char(out: &mut String, c: char, in_class: bool) {
    let special = if in_class {
        matches!(c, '[' | ']' | '\\' | '-' | '^' | '&' | '~')
    } else {
        regex_syntax::is_meta_character(c)
    };
    if special {
        out.push('\\');
        out.push(c);
    } else if c == ' '
        || c.is_ascii_graphic()
        || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
    {
        out.push(c);
    } else {
        let _ = write!(out, "\\x{{{:X}}}", c as u32);
    }
}

/// The string `node` always matches, if it matches exactly one case-sensitive string.
fn fixed_literal(node: &Node) -> Option<String> {
    match node {
        Node::Literal { c, icase: false } => Some(c.to_string()),
        Node::Literal { c, icase: true } if !has_case(*c) => Some(c.to_string()),
        Node::Empty => Some(String::new()),
        Node::Group(g) if g.kind != GroupKind::Atomic => fixed_literal(&g.node),
        Node::Concat(v) => v.iter().map(fixed_literal).collect(),
        _ => None,
    }
}

/// The longest common suffix of two strings.
fn common_suffix(a: &str, b: &str) -> String {
    let n = a
        .chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let start = a
        .char_indices()
        .rev()
        .nth(n.wrapping_sub(1))
        .map_or(a.len(), |(i, _)| i);
    if n == 0 {
        String::new()
    } else {
        a[start..].to_string()
    }
}

/// Keep proofs short: only the last few characters matter for a lookbehind.
const SUFFIX_KEEP: usize = 16;

fn trim(s: String) -> String {
    let n = s.chars().count();
    if n <= SUFFIX_KEEP {
        return s;
    }
    s.chars().skip(n - SUFFIX_KEEP).collect()
}

/// A string that the text matched so far always ends with, once `node` has matched after text
/// that always ends with `before`. The empty string means nothing is known.
pub(crate) fn suffix(node: &Node, before: &str) -> String {
    match node {
        Node::Empty | Node::Assert(_) | Node::Look { .. } => before.to_string(),
        Node::Literal { .. } => match fixed_literal(node) {
            Some(s) => trim(format!("{before}{s}")),
            None => String::new(),
        },
        Node::Dot { .. } | Node::Class(_) | Node::Backref { .. } => String::new(),
        Node::Marked { atom, .. } => suffix(atom, before),
        Node::Group(g) => suffix(&g.node, before),
        Node::Concat(v) => v.iter().fold(before.to_string(), |ctx, e| suffix(e, &ctx)),
        Node::Alt(v) => {
            let mut it = v.iter().map(|b| suffix(b, before));
            let first = it.next().unwrap_or_default();
            it.fold(first, |acc, s| common_suffix(&acc, &s))
        }
        Node::Cond { yes, no, .. } => common_suffix(&suffix(yes, before), &suffix(no, before)),
        Node::Repeat(r) => {
            let max = r.max.map_or(u64::MAX, u64::from);
            iterate_common(&r.node, before, u64::from(r.min), max)
        }
    }
}

/// Whether `n` holds a lookbehind (the only construct that reads the proven context).
pub(crate) fn has_lookbehind(n: &Node) -> bool {
    n.any(&|m| matches!(m, Node::Look { behind: true, .. }))
}

/// Context before any iteration of `r`'s body: `before`, or the text after some iterations.
fn repeat_context(r: &Repeat, before: &str) -> String {
    let max = r.max.map_or(u64::MAX, |m| u64::from(m).saturating_sub(1));
    iterate_common(&r.node, before, 0, max)
}

/// With T_0 = `before` and T_k = suffix(node, T_{k-1}): the common suffix of T_lo ..= T_hi.
/// A fixed point ends the iteration; without one in a few steps nothing is claimed.
fn iterate_common(node: &Node, before: &str, lo: u64, hi: u64) -> String {
    const STEPS: u64 = 8;
    let mut t = before.to_string();
    let mut k = 0;
    while k < lo {
        let n = suffix(node, &t);
        if n == t {
            break;
        }
        if k >= STEPS {
            return String::new();
        }
        t = n;
        k += 1;
    }
    let mut acc = t.clone();
    let mut k = lo;
    while k < hi {
        let n = suffix(node, &t);
        if n == t {
            return acc;
        }
        if k - lo >= STEPS {
            return String::new();
        }
        acc = common_suffix(&acc, &n);
        t = n;
        k += 1;
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::pyre::parse;

    fn exact(p: &str) -> Option<String> {
        let ast = parse(p).expect("pattern parses");
        Emitter {
            target: Target::Exact,
            ascii: false,
            marks: &[],
        }
        .emit(&ast)
        .ok()
    }

    #[test]
    fn ipv6_lookbehind_is_proven_redundant() {
        let ip6 = "(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)";
        let out = exact(ip6).expect("exact translation exists");
        assert!(!out.contains("(?<="), "{out}");
    }

    #[test]
    fn unprovable_lookbehinds_stay_python_only() {
        for p in [
            "(?:a|b)(?<=:):",
            "a?(?<=a)b",
            "(?:a:|b)(?<=:)",
            "(?<=:)x",
            "x(?<!x)",
        ] {
            assert_eq!(exact(p), None, "{p}");
        }
        assert!(exact("a:(?<=:)b").is_some());
        assert!(exact("(?:x:|y::)+(?<=:)").is_some());
    }

    #[test]
    fn suffix_of_repeats_and_alternatives() {
        let ast = parse("(?:ab|cb)+").expect("parses");
        assert_eq!(suffix(&ast.root, ""), "b");
        let ast = parse("(?:ab)?").expect("parses");
        assert_eq!(suffix(&ast.root, "xb"), "b");
        let ast = parse("a{0,3}").expect("parses");
        assert_eq!(suffix(&ast.root, ""), "");
    }
}
