//! `--str2sec` and `--timeout`: fail2ban time expressions with Python's int/float distinction.
//!
//! `1d12h` prints `129600` but `1mo` prints `2629800.0`: the result type matters for the
//! output, so this evaluator keeps ints and floats apart the way Python's `eval` does (`/`
//! gives a float, a float anywhere makes the result a float).
//!
//! # Compatibility
//! The text rewriting is fail2ban's `MyTime.str2seconds` (runtime spec §1.6), step by step:
//! a space before a digit that follows a letter, unit words after a digit or a space become
//! `*<seconds>` (months and years as float constants), `digit spaces digit` becomes
//! `digit+digit`, then the arithmetic is evaluated. Python's `eval` accepts any expression;
//! this accepts numbers, `+ - * /`, unary signs and parentheses, and refuses the rest.
//! `crate::config::duration::str2seconds` computes the same numbers as `f64` for the config.

use std::sync::OnceLock;

use fancy_regex::Regex;

use crate::ipc::Value;

/// A time expression that cannot be evaluated; the message is the one Python's `eval` gives
/// for the common mistakes (`name 'abc' is not defined`, `invalid syntax (<string>, line 1)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Str2SecError {
    /// The expression as given.
    pub text: String,
    /// What is wrong with it.
    pub message: String,
}

const SYNTAX: &str = "invalid syntax (<string>, line 1)";

struct Rules {
    prep: Regex,
    parts: Vec<(Regex, &'static str)>,
    fini: Regex,
}

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        let part = |words: &str| {
            Regex::new(&format!(r"(?i)(?<=[\d\s])({words})\b")).expect("valid unit regex")
        };
        Rules {
            prep: Regex::new(r"(?i)(?<=[a-z])(\d)").expect("valid regex"),
            parts: vec![
                (part("days?|da|dd?"), "*86400"),
                (part("weeks?|wee?|ww?"), "*604800"),
                (part("months?|mon?"), "*2629800.0"),
                (part("years?|yea?|yy?"), "*31557600.0"),
                (part("seconds?|sec?|ss?"), "*1"),
                (part("minutes?|min?|mm?"), "*60"),
                (part("hours?|hou?|hh?"), "*3600"),
            ],
            fini: Regex::new(r"(\d)\s+(\d)").expect("valid regex"),
        }
    })
}

/// The rewritten arithmetic for a time expression (before evaluation).
pub fn rewrite(text: &str) -> String {
    let r = rules();
    let mut s = r.prep.replace_all(text, " $1").into_owned();
    for (re, rpl) in &r.parts {
        s = re.replace_all(&s, *rpl).into_owned();
    }
    r.fini.replace_all(&s, "$1+$2").into_owned()
}

/// Converts a time expression to seconds: `Value::Int` or `Value::Float`.
pub fn str2seconds(text: &str) -> Result<Value, Str2SecError> {
    let expr = rewrite(text);
    let err = |message: &str| Str2SecError {
        text: text.to_string(),
        message: message.to_string(),
    };
    if expr.trim().is_empty() {
        return Err(err("invalid syntax (<string>, line 0)"));
    }
    let tokens = tokenize(&expr).map_err(|r| err(&r))?;
    let mut p = Parser { t: &tokens, i: 0 };
    let v = p.sum().map_err(|r| err(&r))?;
    if p.i != tokens.len() {
        return Err(err(SYNTAX));
    }
    Ok(match v {
        Num::I(i) => Value::Int(i),
        Num::F(f) => Value::Float(f),
    })
}

/// Seconds as a float (for `--timeout`).
pub fn seconds_f64(text: &str) -> Result<f64, Str2SecError> {
    Ok(match str2seconds(text)? {
        Value::Int(i) => i as f64,
        Value::Float(f) => f,
        _ => 0.0,
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Num {
    I(i64),
    F(f64),
}

impl Num {
    fn f(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Num(Num),
    Op(u8),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if b"+-*/()".contains(&c) {
            out.push(Tok::Op(c));
            i += 1;
        } else if c.is_ascii_digit() || c == b'.' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                let mut j = i + 1;
                if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    i = j;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            if i < b.len() && (b[i].is_ascii_alphabetic() || b[i] == b'_') {
                return Err("invalid decimal literal (<string>, line 1)".into());
            }
            let lit: String = s[start..i].chars().filter(|c| *c != '_').collect();
            let is_float = lit.contains(['.', 'e', 'E']);
            let n = if is_float {
                Num::F(lit.parse().map_err(|_| SYNTAX.to_string())?)
            } else {
                Num::I(lit.parse().map_err(|_| SYNTAX.to_string())?)
            };
            out.push(Tok::Num(n));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            return Err(format!("name '{}' is not defined", &s[start..i]));
        } else {
            return Err(SYNTAX.into());
        }
    }
    Ok(out)
}

struct Parser<'a> {
    t: &'a [Tok],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<Tok> {
        self.t.get(self.i).copied()
    }

    fn sum(&mut self) -> Result<Num, String> {
        let mut v = self.product()?;
        while let Some(Tok::Op(op @ (b'+' | b'-'))) = self.peek() {
            self.i += 1;
            let r = self.product()?;
            v = arith(v, op, r)?;
        }
        Ok(v)
    }

    fn product(&mut self) -> Result<Num, String> {
        let mut v = self.unary()?;
        while let Some(Tok::Op(op @ (b'*' | b'/'))) = self.peek() {
            self.i += 1;
            let r = self.unary()?;
            v = arith(v, op, r)?;
        }
        Ok(v)
    }

    fn unary(&mut self) -> Result<Num, String> {
        match self.peek() {
            Some(Tok::Op(b'-')) => {
                self.i += 1;
                arith(Num::I(0), b'-', self.unary()?)
            }
            Some(Tok::Op(b'+')) => {
                self.i += 1;
                self.unary()
            }
            Some(Tok::Op(b'(')) => {
                self.i += 1;
                let v = self.sum()?;
                if self.peek() != Some(Tok::Op(b')')) {
                    return Err(if self.i == self.t.len() {
                        "'(' was never closed (<string>, line 1)".into()
                    } else {
                        SYNTAX.into()
                    });
                }
                self.i += 1;
                Ok(v)
            }
            Some(Tok::Num(n)) => {
                self.i += 1;
                Ok(n)
            }
            _ => Err(SYNTAX.into()),
        }
    }
}

fn arith(a: Num, op: u8, b: Num) -> Result<Num, String> {
    if op == b'/' {
        if b.f() == 0.0 {
            return Err("division by zero".into());
        }
        return Ok(Num::F(a.f() / b.f()));
    }
    if let (Num::I(x), Num::I(y)) = (a, b) {
        let r = match op {
            b'+' => x.checked_add(y),
            b'-' => x.checked_sub(y),
            _ => x.checked_mul(y),
        };
        // Python ints do not overflow; past i64 this evaluator gives up.
        return r.map(Num::I).ok_or_else(|| "number too large".into());
    }
    let (x, y) = (a.f(), b.f());
    Ok(Num::F(match op {
        b'+' => x + y,
        b'-' => x - y,
        _ => x * y,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table fail2ban itself produced (testdata/client/str2seconds_table.txt, a copy of
    /// captures/121_str2seconds_table.txt).
    #[test]
    fn fail2ban_table() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/client/str2seconds_table.txt"
        );
        let table = std::fs::read_to_string(path).expect("str2seconds table");
        let mut n = 0;
        for line in table.lines() {
            let Some((lhs, rhs)) = line.split_once(" -> ") else {
                continue;
            };
            let lhs = lhs.trim();
            if !(lhs.starts_with('\'') && lhs.ends_with('\'')) {
                continue;
            }
            let input = &lhs[1..lhs.len() - 1];
            let got = str2seconds(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got.repr(), rhs.trim(), "{input}");
            n += 1;
        }
        assert!(n >= 25, "only {n} cases read");
    }

    #[test]
    fn errors_like_python_eval() {
        let msg = |t: &str| str2seconds(t).unwrap_err().message;
        assert_eq!(msg("abc"), "name 'abc' is not defined");
        assert_eq!(msg("1/0"), "division by zero");
        assert_eq!(msg(""), "invalid syntax (<string>, line 0)");
        assert_eq!(msg("1+"), "invalid syntax (<string>, line 1)");
        assert_eq!(msg("(1"), "'(' was never closed (<string>, line 1)");
        assert_eq!(msg("1x"), "invalid decimal literal (<string>, line 1)");
    }
}
