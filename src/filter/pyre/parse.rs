//! A recursive-descent parser for Python 3.11 `re` syntax (`str` patterns) into [`Ast`].
//!
//! It owns the syntax only: which text is a group, a class, an escape, a quantifier, and which
//! errors Python raises for it. It does not match anything. Called by `pyre::parse` and
//! `pyre::Regex::new`.
//!
//! # Compatibility
//! Follows `re/_parser.py` of CPython 3.11: `{` that does not start a valid quantifier is a
//! literal, `{,n}` is `{0,n}`, `\<` `\>` are literals, `\b` in a class is a backspace, octal and
//! group-reference escapes are told apart as Python does, global flags are accepted only at the
//! start of the pattern, scoped flags `(?i:…)` apply to their group only, `(?x)` enables verbose
//! syntax. Error positions are character offsets like Python's. Differences: `\N{name}` is
//! rejected (no Unicode name table is shipped) and `\u`/`\U` escapes naming a surrogate are
//! rejected (a Rust `str` cannot hold one).

use std::collections::HashMap;

use super::PyreError;
use super::ast::{Assertion, Ast, Class, ClassItem, Group, GroupKind, Node, PerlKind, Repeat};

/// Flags in force while parsing.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Flags {
    pub i: bool,
    pub m: bool,
    pub s: bool,
    pub x: bool,
    pub a: bool,
}

/// Nesting limit, so a hostile pattern cannot exhaust the stack.
const MAX_DEPTH: usize = 200;

/// Python's MAXREPEAT on 64-bit builds; Rust engines refuse far smaller counts anyway.
const MAX_REPEAT: u64 = 4_294_967_295;

struct Parser<'p> {
    pattern: &'p str,
    chars: Vec<char>,
    pos: usize,
    groups: usize,
    names: HashMap<String, usize>,
    name_list: Vec<(usize, String)>,
    closed: Vec<bool>,
    /// Numeric conditional references, checked once all groups are known.
    cond_refs: Vec<(usize, usize)>,
    global: Flags,
}

/// Parse `pattern` with the initial flags `flags`.
pub(crate) fn parse_with(pattern: &str, flags: Flags) -> Result<Ast, PyreError> {
    let mut p = Parser {
        pattern,
        chars: pattern.chars().collect(),
        pos: 0,
        groups: 0,
        names: HashMap::new(),
        name_list: Vec::new(),
        closed: vec![true],
        cond_refs: Vec::new(),
        global: flags,
    };
    let root = p.parse_alt(None, 0)?;
    if p.pos < p.chars.len() {
        // Only a stray `)` stops the top level early.
        return Err(p.err(p.pos, "unbalanced parenthesis"));
    }
    for &(g, at) in &p.cond_refs {
        if g > p.groups {
            return Err(p.err(at, &format!("invalid group reference {g}")));
        }
    }
    Ok(Ast {
        root,
        groups: p.groups,
        names: p.name_list,
    })
}

fn is_identifier(s: &str) -> bool {
    let mut it = s.chars();
    match it.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    it.all(|c| c.is_alphanumeric() || c == '_')
}

impl Parser<'_> {
    fn err(&self, pos: usize, msg: &str) -> PyreError {
        PyreError::Parse {
            pattern: self.pattern.to_string(),
            pos,
            msg: msg.to_string(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    /// Alternatives until `)` or the end. `flags` is `None` at the top level (then the global
    /// flags apply, and may still be set by a leading `(?flags)`).
    fn parse_alt(&mut self, flags: Option<Flags>, depth: usize) -> Result<Node, PyreError> {
        if depth > MAX_DEPTH {
            return Err(self.err(self.pos, "too many nested groups"));
        }
        let mut branches = vec![];
        loop {
            let first = flags.is_none() && branches.is_empty();
            branches.push(self.parse_concat(flags, depth, first)?);
            if !self.eat('|') {
                break;
            }
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Empty)
        } else {
            Node::Alt(branches)
        })
    }

    fn skip_verbose(&mut self) {
        while let Some(c) = self.peek() {
            if matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c') {
                self.pos += 1;
            } else if c == '#' {
                while let Some(c) = self.bump() {
                    if c == '\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    /// One sequence of items until `|`, `)` or the end.
    fn parse_concat(
        &mut self,
        flags: Option<Flags>,
        depth: usize,
        first: bool,
    ) -> Result<Node, PyreError> {
        let mut items: Vec<Node> = vec![];
        // Set when the last item came from a quantifier (for "multiple repeat").
        let mut last_is_repeat = false;
        loop {
            let f = flags.unwrap_or(self.global);
            if f.x {
                self.skip_verbose();
            }
            let Some(c) = self.peek() else { break };
            if c == '|' || c == ')' {
                break;
            }
            let start = self.pos;
            if matches!(c, '*' | '+' | '?' | '{') {
                if let Some((min, max)) = self.parse_quantifier()? {
                    let Some(item) = items.pop() else {
                        return Err(self.err(start, "nothing to repeat"));
                    };
                    if matches!(item, Node::Assert(_)) {
                        return Err(self.err(start, "nothing to repeat"));
                    }
                    if last_is_repeat {
                        return Err(self.err(start, "multiple repeat"));
                    }
                    let (greedy, possessive) = if self.eat('?') {
                        (false, false)
                    } else if self.eat('+') {
                        (true, true)
                    } else {
                        (true, false)
                    };
                    items.push(Node::Repeat(Box::new(Repeat {
                        min,
                        max,
                        greedy,
                        possessive,
                        node: item,
                    })));
                    last_is_repeat = true;
                    continue;
                }
                // `{` that is not a quantifier: a literal.
                self.pos += 1;
                items.push(Node::Literal { c: '{', icase: f.i });
                last_is_repeat = false;
                continue;
            }
            last_is_repeat = false;
            self.pos += 1;
            let node = match c {
                '\\' => self.parse_escape(f, start)?,
                '[' => self.parse_class(f, start)?,
                '.' => Node::Dot { dotall: f.s },
                '^' => Node::Assert(if f.m {
                    Assertion::LineStart
                } else {
                    Assertion::TextStart
                }),
                '$' => Node::Assert(if f.m {
                    Assertion::LineEnd
                } else {
                    Assertion::PyEnd
                }),
                '(' => {
                    let global_ok = first && items.is_empty();
                    match self.parse_group(f, start, depth, global_ok)? {
                        Some(n) => n,
                        None => continue,
                    }
                }
                c => Node::Literal { c, icase: f.i },
            };
            items.push(node);
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.pop().unwrap_or(Node::Empty),
            _ => Node::Concat(items),
        })
    }

    /// `*` `+` `?` or a valid `{m,n}`; `None` (position unchanged) for a literal `{`.
    fn parse_quantifier(&mut self) -> Result<Option<(u32, Option<u32>)>, PyreError> {
        let start = self.pos;
        let c = self.bump().unwrap_or('{');
        match c {
            '*' => return Ok(Some((0, None))),
            '+' => return Ok(Some((1, None))),
            '?' => return Ok(Some((0, Some(1)))),
            _ => {}
        }
        let digits = |p: &mut Self| {
            let mut s = String::new();
            while let Some(d) = p.peek().filter(char::is_ascii_digit) {
                s.push(d);
                p.pos += 1;
            }
            s
        };
        let lo = digits(self);
        let hi = if self.eat(',') {
            Some(digits(self))
        } else {
            None
        };
        if !self.eat('}') || (lo.is_empty() && hi.is_none()) {
            self.pos = start;
            return Ok(None);
        }
        let num = |s: &str, p: &Self| -> Result<u32, PyreError> {
            match s.parse::<u64>() {
                Ok(n) if n < MAX_REPEAT => {
                    u32::try_from(n).map_err(|_| p.err(start, "the repetition number is too large"))
                }
                _ => Err(p.err(start, "the repetition number is too large")),
            }
        };
        let min = if lo.is_empty() { 0 } else { num(&lo, self)? };
        let max = match &hi {
            None => Some(min),
            Some(h) if h.is_empty() => None,
            Some(h) => Some(num(h, self)?),
        };
        if let Some(m) = max
            && m < min
        {
            return Err(self.err(start, "min repeat greater than max repeat"));
        }
        Ok(Some((min, max)))
    }

    fn perl(c: char, f: Flags) -> Option<ClassItem> {
        let (kind, negated) = match c {
            'd' => (PerlKind::Digit, false),
            'D' => (PerlKind::Digit, true),
            'w' => (PerlKind::Word, false),
            'W' => (PerlKind::Word, true),
            's' => (PerlKind::Space, false),
            'S' => (PerlKind::Space, true),
            _ => return None,
        };
        Some(ClassItem::Perl {
            kind,
            negated,
            ascii: f.a,
        })
    }

    fn simple_escape(c: char) -> Option<char> {
        Some(match c {
            'a' => '\x07',
            'f' => '\x0c',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\x0b',
            '\\' => '\\',
            _ => return None,
        })
    }

    /// `\x..` `\u....` `\U........` after the letter; `start` is the backslash.
    fn hex_escape(&mut self, letter: char, start: usize) -> Result<char, PyreError> {
        let n = match letter {
            'x' => 2,
            'u' => 4,
            _ => 8,
        };
        let mut s = String::new();
        while s.len() < n {
            match self.peek().filter(char::is_ascii_hexdigit) {
                Some(d) => {
                    s.push(d);
                    self.pos += 1;
                }
                None => break,
            }
        }
        if s.len() != n {
            return Err(self.err(start, &format!("incomplete escape \\{letter}{s}")));
        }
        let v = u32::from_str_radix(&s, 16).map_err(|_| self.err(start, "bad escape"))?;
        char::from_u32(v).ok_or_else(|| {
            self.err(
                start,
                &format!("escape \\{letter}{s} is not a Unicode scalar value (unsupported)"),
            )
        })
    }

    fn octal(&mut self, first: char, max_more: usize, start: usize) -> Result<char, PyreError> {
        let mut s = String::from(first);
        while s.len() <= max_more {
            match self.peek().filter(|c| ('0'..='7').contains(c)) {
                Some(d) => {
                    s.push(d);
                    self.pos += 1;
                }
                None => break,
            }
        }
        let v = u32::from_str_radix(&s, 8).map_err(|_| self.err(start, "bad escape"))?;
        if v > 0o377 {
            return Err(self.err(
                start,
                &format!("octal escape value \\{s} outside of range 0-0o377"),
            ));
        }
        char::from_u32(v).ok_or_else(|| self.err(start, "bad escape"))
    }

    /// An escape outside a class; the backslash at `start` is consumed.
    fn parse_escape(&mut self, f: Flags, start: usize) -> Result<Node, PyreError> {
        let Some(c) = self.bump() else {
            return Err(self.err(start, "bad escape (end of pattern)"));
        };
        let lit = |c: char| Node::Literal { c, icase: f.i };
        if let Some(item) = Self::perl(c, f) {
            return Ok(Node::Class(Class {
                negated: false,
                icase: f.i,
                items: vec![item],
            }));
        }
        let assertion = match c {
            'A' => Some(Assertion::TextStart),
            'Z' => Some(Assertion::TextEnd),
            'b' => Some(Assertion::WordBoundary { ascii: f.a }),
            'B' => Some(Assertion::NotWordBoundary { ascii: f.a }),
            _ => None,
        };
        if let Some(a) = assertion {
            return Ok(Node::Assert(a));
        }
        if let Some(e) = Self::simple_escape(c) {
            return Ok(lit(e));
        }
        match c {
            'x' | 'u' | 'U' => Ok(lit(self.hex_escape(c, start)?)),
            'N' => Err(self.err(start, "named Unicode escapes \\N{...} are not supported")),
            '0' => Ok(lit(self.octal('0', 2, start)?)),
            '1'..='9' => self.parse_numeric_escape(c, f, start),
            c if c.is_ascii_alphabetic() => Err(self.err(start, &format!("bad escape \\{c}"))),
            c => Ok(lit(c)),
        }
    }

    /// `\1`…`\99` or a three-digit octal escape.
    fn parse_numeric_escape(&mut self, c: char, f: Flags, start: usize) -> Result<Node, PyreError> {
        let mut s = String::from(c);
        if let Some(d) = self.peek().filter(char::is_ascii_digit) {
            self.pos += 1;
            s.push(d);
            let octal = |x: char| ('0'..='7').contains(&x);
            if octal(c) && octal(d) && self.peek().is_some_and(octal) {
                let e = self.bump().unwrap_or('0');
                s.push(e);
                let v = u32::from_str_radix(&s, 8).map_err(|_| self.err(start, "bad escape"))?;
                if v > 0o377 {
                    return Err(self.err(
                        start,
                        &format!("octal escape value \\{s} outside of range 0-0o377"),
                    ));
                }
                let c = char::from_u32(v).ok_or_else(|| self.err(start, "bad escape"))?;
                return Ok(Node::Literal { c, icase: f.i });
            }
        }
        let group: usize = s.parse().map_err(|_| self.err(start, "bad escape"))?;
        if group <= self.groups {
            if !self.closed[group] {
                return Err(self.err(start, "cannot refer to an open group"));
            }
            return Ok(Node::Backref { group, icase: f.i });
        }
        Err(self.err(start + 1, &format!("invalid group reference {group}")))
    }

    /// A class escape; the backslash at `start` is consumed.
    fn parse_class_escape(&mut self, f: Flags, start: usize) -> Result<ClassItem, PyreError> {
        let Some(c) = self.bump() else {
            return Err(self.err(start, "bad escape (end of pattern)"));
        };
        let one = |c: char| ClassItem::Range(c, c);
        if c == 'b' {
            return Ok(one('\x08'));
        }
        if let Some(e) = Self::simple_escape(c) {
            return Ok(one(e));
        }
        if let Some(item) = Self::perl(c, f) {
            return Ok(item);
        }
        match c {
            'x' | 'u' | 'U' => Ok(one(self.hex_escape(c, start)?)),
            'N' => Err(self.err(start, "named Unicode escapes \\N{...} are not supported")),
            '0'..='7' => Ok(one(self.octal(c, 2, start)?)),
            c if c.is_ascii_alphanumeric() => Err(self.err(start, &format!("bad escape \\{c}"))),
            c => Ok(one(c)),
        }
    }

    /// A class; the `[` at `start` is consumed.
    fn parse_class(&mut self, f: Flags, start: usize) -> Result<Node, PyreError> {
        let negated = self.eat('^');
        let mut items: Vec<ClassItem> = vec![];
        let unterminated = |p: &Self| p.err(start, "unterminated character set");
        loop {
            let at = self.pos;
            let Some(c) = self.bump() else {
                return Err(unterminated(self));
            };
            if c == ']' && !items.is_empty() {
                break;
            }
            let first = if c == '\\' {
                self.parse_class_escape(f, at)?
            } else {
                ClassItem::Range(c, c)
            };
            if self.peek() == Some('-') {
                self.pos += 1;
                let at2 = self.pos;
                let Some(d) = self.bump() else {
                    return Err(unterminated(self));
                };
                if d == ']' {
                    items.push(first);
                    items.push(ClassItem::Range('-', '-'));
                    break;
                }
                let second = if d == '\\' {
                    self.parse_class_escape(f, at2)?
                } else {
                    ClassItem::Range(d, d)
                };
                match (first, second) {
                    (ClassItem::Range(lo, l2), ClassItem::Range(h1, hi))
                        if lo == l2 && h1 == hi =>
                    {
                        if hi < lo {
                            return Err(self.err(at, "bad character range"));
                        }
                        items.push(ClassItem::Range(lo, hi));
                    }
                    _ => return Err(self.err(at, "bad character range")),
                }
            } else {
                items.push(first);
            }
        }
        Ok(Node::Class(Class {
            negated,
            icase: f.i,
            items,
        }))
    }

    /// Characters up to `end` (consumed), for a group name.
    fn name_until(&mut self, end: char, start: usize) -> Result<String, PyreError> {
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err(start, &format!("missing {end}, unterminated name"))),
                Some(c) if c == end => break,
                Some(c) => s.push(c),
            }
        }
        if s.is_empty() {
            return Err(self.err(start, "missing group name"));
        }
        Ok(s)
    }

    fn check_name(&self, name: &str, at: usize) -> Result<(), PyreError> {
        if is_identifier(name) {
            Ok(())
        } else {
            Err(self.err(at, &format!("bad character in group name {name:?}")))
        }
    }

    /// A group; `(` at `start` is consumed. `None` for a comment or global flags.
    fn parse_group(
        &mut self,
        f: Flags,
        start: usize,
        depth: usize,
        global_ok: bool,
    ) -> Result<Option<Node>, PyreError> {
        if !self.eat('?') {
            return self.capture(f, start, depth, None).map(Some);
        }
        let Some(c) = self.bump() else {
            return Err(self.err(start, "unexpected end of pattern"));
        };
        match c {
            'P' => {
                if self.eat('<') {
                    let at = self.pos;
                    let name = self.name_until('>', at)?;
                    self.check_name(&name, at)?;
                    return self.capture(f, start, depth, Some(name)).map(Some);
                }
                if self.eat('=') {
                    let at = self.pos;
                    let name = self.name_until(')', at)?;
                    self.check_name(&name, at)?;
                    let Some(&group) = self.names.get(&name) else {
                        return Err(self.err(at, &format!("unknown group name {name:?}")));
                    };
                    if !self.closed[group] {
                        return Err(self.err(at, "cannot refer to an open group"));
                    }
                    return Ok(Some(Node::Backref { group, icase: f.i }));
                }
                Err(self.err(start, "unknown extension ?P"))
            }
            ':' => self.sub_group(f, start, depth, GroupKind::NonCapture),
            '>' => self.sub_group(f, start, depth, GroupKind::Atomic),
            '#' => {
                loop {
                    match self.bump() {
                        None => return Err(self.err(start, "missing ), unterminated comment")),
                        Some(')') => break,
                        Some(_) => {}
                    }
                }
                Ok(None)
            }
            '=' | '!' => self.look(f, start, depth, false, c == '!'),
            '<' => match self.bump() {
                Some(d @ ('=' | '!')) => self.look(f, start, depth, true, d == '!'),
                _ => Err(self.err(start, "unknown extension ?<")),
            },
            '(' => self.conditional(f, start, depth),
            c if "aiLmsux-".contains(c) => self.flags_group(f, start, depth, global_ok, c),
            c => Err(self.err(start, &format!("unknown extension ?{c}"))),
        }
    }

    fn close(&mut self, start: usize) -> Result<(), PyreError> {
        if self.eat(')') {
            Ok(())
        } else {
            Err(self.err(start, "missing ), unterminated subpattern"))
        }
    }

    fn capture(
        &mut self,
        f: Flags,
        start: usize,
        depth: usize,
        name: Option<String>,
    ) -> Result<Node, PyreError> {
        self.groups += 1;
        let index = self.groups;
        if let Some(n) = &name {
            if self.names.contains_key(n) {
                return Err(self.err(start, &format!("redefinition of group name {n:?}")));
            }
            self.names.insert(n.clone(), index);
            self.name_list.push((index, n.clone()));
        }
        self.closed.push(false);
        let node = self.parse_alt(Some(f), depth + 1)?;
        self.close(start)?;
        self.closed[index] = true;
        Ok(Node::Group(Box::new(Group {
            kind: GroupKind::Capture { index, name },
            node,
        })))
    }

    fn sub_group(
        &mut self,
        f: Flags,
        start: usize,
        depth: usize,
        kind: GroupKind,
    ) -> Result<Option<Node>, PyreError> {
        let node = self.parse_alt(Some(f), depth + 1)?;
        self.close(start)?;
        Ok(Some(Node::Group(Box::new(Group { kind, node }))))
    }

    fn look(
        &mut self,
        f: Flags,
        start: usize,
        depth: usize,
        behind: bool,
        negate: bool,
    ) -> Result<Option<Node>, PyreError> {
        let node = self.parse_alt(Some(f), depth + 1)?;
        self.close(start)?;
        if behind && fixed_width(&node).is_none() {
            return Err(self.err(start, "look-behind requires fixed-width pattern"));
        }
        Ok(Some(Node::Look {
            behind,
            negate,
            node: Box::new(node),
        }))
    }

    fn conditional(
        &mut self,
        f: Flags,
        start: usize,
        depth: usize,
    ) -> Result<Option<Node>, PyreError> {
        let at = self.pos;
        let name = self.name_until(')', at)?;
        let group = if is_identifier(&name) {
            match self.names.get(&name) {
                Some(&g) => g,
                None => return Err(self.err(at, &format!("unknown group name {name:?}"))),
            }
        } else {
            match name.parse::<usize>() {
                Ok(0) => return Err(self.err(at, "bad group number")),
                Ok(g) if name.chars().all(|c| c.is_ascii_digit()) => {
                    self.cond_refs.push((g, at));
                    g
                }
                _ => {
                    return Err(self.err(at, &format!("bad character in group name {name:?}")));
                }
            }
        };
        let yes = self.parse_concat(Some(f), depth + 1, false)?;
        let no = if self.eat('|') {
            let no = self.parse_concat(Some(f), depth + 1, false)?;
            if self.peek() == Some('|') {
                return Err(self.err(start, "conditional backref with more than two branches"));
            }
            no
        } else {
            Node::Empty
        };
        self.close(start)?;
        Ok(Some(Node::Cond {
            group,
            yes: Box::new(yes),
            no: Box::new(no),
        }))
    }

    /// `(?flags)` or `(?flags-flags:…)`; the first flag character `c` is consumed.
    fn flags_group(
        &mut self,
        f: Flags,
        start: usize,
        depth: usize,
        global_ok: bool,
        mut c: char,
    ) -> Result<Option<Node>, PyreError> {
        let mut add = Flags::default();
        let mut del = Flags::default();
        let mut typed = None;
        let set = |fl: &mut Flags, c: char| match c {
            'i' => fl.i = true,
            'm' => fl.m = true,
            's' => fl.s = true,
            'x' => fl.x = true,
            'a' => fl.a = true,
            _ => {}
        };
        if c != '-' {
            loop {
                match c {
                    'L' => {
                        return Err(self.err(
                            start,
                            "bad inline flags: cannot use 'L' flag with a str pattern",
                        ));
                    }
                    'a' | 'u' => {
                        if typed.is_some_and(|t| t != c) {
                            return Err(self.err(
                                start,
                                "bad inline flags: flags 'a', 'u' and 'L' are incompatible",
                            ));
                        }
                        typed = Some(c);
                    }
                    _ => {}
                }
                set(&mut add, c);
                c = match self.bump() {
                    None => return Err(self.err(start, "missing -, : or )")),
                    Some(c) => c,
                };
                if c == ')' || c == '-' || c == ':' {
                    break;
                }
                if !"imsxau".contains(c) {
                    return Err(self.err(start, "unknown flag"));
                }
            }
        }
        if c == ')' {
            if !global_ok {
                return Err(self.err(start, "global flags not at the start of the expression"));
            }
            let g = &mut self.global;
            g.i |= add.i;
            g.m |= add.m;
            g.s |= add.s;
            g.x |= add.x;
            g.a |= add.a;
            return Ok(None);
        }
        if c == '-' {
            loop {
                c = match self.bump() {
                    None => return Err(self.err(start, "missing :")),
                    Some(c) => c,
                };
                if c == ':' {
                    break;
                }
                if "aLu".contains(c) {
                    return Err(self.err(
                        start,
                        "bad inline flags: cannot turn off flags 'a', 'u' and 'L'",
                    ));
                }
                if !"imsx".contains(c) {
                    return Err(self.err(start, "unknown flag"));
                }
                set(&mut del, c);
            }
        }
        if (add.i && del.i) || (add.m && del.m) || (add.s && del.s) || (add.x && del.x) {
            return Err(self.err(start, "bad inline flags: flag turned on and off"));
        }
        let mut inner = f;
        inner.i = (inner.i || add.i) && !del.i;
        inner.m = (inner.m || add.m) && !del.m;
        inner.s = (inner.s || add.s) && !del.s;
        inner.x = (inner.x || add.x) && !del.x;
        if typed == Some('a') {
            inner.a = true;
        } else if typed == Some('u') {
            inner.a = false;
        }
        self.sub_group(inner, start, depth, GroupKind::NonCapture)
    }
}

/// The width in characters of every match of `node`, if fixed.
pub(crate) fn fixed_width(node: &Node) -> Option<usize> {
    match node {
        Node::Empty | Node::Assert(_) | Node::Look { .. } => Some(0),
        Node::Literal { .. } | Node::Dot { .. } | Node::Class(_) | Node::Marked { .. } => Some(1),
        Node::Group(g) => fixed_width(&g.node),
        Node::Repeat(r) => {
            if r.max == Some(r.min) {
                fixed_width(&r.node)?.checked_mul(r.min as usize)
            } else {
                None
            }
        }
        Node::Concat(v) => v
            .iter()
            .try_fold(0usize, |a, n| a.checked_add(fixed_width(n)?)),
        Node::Alt(v) => {
            let w = fixed_width(v.first()?)?;
            v.iter().all(|n| fixed_width(n) == Some(w)).then_some(w)
        }
        Node::Backref { .. } => None,
        Node::Cond { yes, no, .. } => {
            let w = fixed_width(yes)?;
            (fixed_width(no) == Some(w)).then_some(w)
        }
    }
}
