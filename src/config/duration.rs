//! Time expressions as fail2ban writes them: `600`, `10m`, `1h30m`, `1d 12h`, `1w`, `-1`.
//!
//! # Compatibility
//! Identical to fail2ban's `MyTime.str2seconds` (fail2ban-runtime.md §1.6): a space is inserted
//! between a letter and a following digit, unit words that follow a digit or a space become
//! `*seconds`, digit-space-digit becomes `+`, and the result is evaluated as an arithmetic
//! expression (`+ - * /`, parentheses, floats). fail2ban evaluates it with Python's `eval`; we use
//! a small expression parser that accepts exactly numbers, the four operators and parentheses.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Why a time expression was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid time expression {text:?}: {reason}")]
pub struct DurationError {
    pub text: String,
    pub reason: &'static str,
}

/// fail2ban's unit words (whole alphabetic runs, case-insensitive) and their seconds.
const UNITS: &[(&[&str], f64)] = &[
    (&["days", "day", "da", "dd", "d"], 86400.0),
    (&["weeks", "week", "wee", "we", "ww", "w"], 604800.0),
    (&["months", "month", "mon", "mo"], 2629800.0),
    (&["years", "year", "yea", "ye", "yy", "y"], 31557600.0),
    (&["seconds", "second", "sec", "se", "ss", "s"], 1.0),
    (&["minutes", "minute", "min", "mi", "mm", "m"], 60.0),
    (&["hours", "hour", "hou", "ho", "hh", "h"], 3600.0),
];

fn unit_seconds(word: &str) -> Option<f64> {
    let w = word.to_ascii_lowercase();
    UNITS
        .iter()
        .find(|(names, _)| names.contains(&w.as_str()))
        .map(|(_, s)| *s)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    Num(f64),
    Op(u8),
}

/// Converts a fail2ban time expression to seconds.
pub fn str2seconds(text: &str) -> Result<f64, DurationError> {
    let err = |reason| DurationError {
        text: text.to_string(),
        reason,
    };
    let t = text.trim();
    if let Ok(v) = t.parse::<f64>() {
        if v.is_finite() {
            return Ok(v);
        }
    }
    let tokens = tokenize(t).map_err(err)?;
    let mut p = Parser {
        tokens: &tokens,
        pos: 0,
    };
    let v = p.expr().map_err(err)?;
    if p.pos != tokens.len() {
        return Err(err("unexpected text after the expression"));
    }
    if !v.is_finite() {
        return Err(err("not a finite number"));
    }
    Ok(v)
}

/// Splits into numbers and operators, applying fail2ban's unit and juxtaposition rules.
fn tokenize(t: &str) -> Result<Vec<Token>, &'static str> {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Whether the previous token ended with a digit (for "digit whitespace digit" = plus), and
    // whether whitespace separated it from the current position.
    let mut prev_digit = false;
    let mut prev_char: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            prev_char = Some(b' ');
            continue;
        }
        if c.is_ascii_digit() || c == b'.' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            let n: f64 = t[start..i].parse().map_err(|_| "malformed number")?;
            if prev_digit && prev_char == Some(b' ') {
                out.push(Token::Op(b'+'));
            }
            out.push(Token::Num(n));
            prev_digit = true;
            prev_char = Some(b'0');
            continue;
        }
        if c.is_ascii_alphabetic() {
            let start = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            // A unit must follow a digit or whitespace and end at a word boundary.
            let after_ok = i >= b.len() || !(b[i].is_ascii_alphabetic() || b[i] == b'_');
            let before_ok = matches!(prev_char, Some(b'0') | Some(b' '));
            let secs = unit_seconds(&t[start..i]).ok_or("unknown unit")?;
            if !after_ok || !before_ok || out.is_empty() {
                return Err("a unit must follow a number");
            }
            out.push(Token::Op(b'*'));
            out.push(Token::Num(secs));
            // "1d12h": fail2ban inserts a space between a letter and a digit.
            prev_digit = true;
            prev_char = Some(b' ');
            if i < b.len() && b[i].is_ascii_digit() {
                continue;
            }
            prev_char = Some(b'0');
            continue;
        }
        if matches!(c, b'+' | b'-' | b'*' | b'/' | b'(' | b')') {
            out.push(Token::Op(c));
            prev_digit = false;
            prev_char = Some(c);
            i += 1;
            continue;
        }
        return Err("unexpected character");
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<Token> {
        self.tokens.get(self.pos).copied()
    }

    fn expr(&mut self) -> Result<f64, &'static str> {
        let mut v = self.term()?;
        while let Some(Token::Op(op @ (b'+' | b'-'))) = self.peek() {
            self.pos += 1;
            let r = self.term()?;
            v = if op == b'+' { v + r } else { v - r };
        }
        Ok(v)
    }

    fn term(&mut self) -> Result<f64, &'static str> {
        let mut v = self.factor()?;
        while let Some(Token::Op(op @ (b'*' | b'/'))) = self.peek() {
            self.pos += 1;
            let r = self.factor()?;
            if op == b'/' && r == 0.0 {
                return Err("division by zero");
            }
            v = if op == b'*' { v * r } else { v / r };
        }
        Ok(v)
    }

    fn factor(&mut self) -> Result<f64, &'static str> {
        match self.peek() {
            Some(Token::Num(n)) => {
                self.pos += 1;
                Ok(n)
            }
            Some(Token::Op(b'-')) => {
                self.pos += 1;
                Ok(-self.factor()?)
            }
            Some(Token::Op(b'+')) => {
                self.pos += 1;
                self.factor()
            }
            Some(Token::Op(b'(')) => {
                self.pos += 1;
                let v = self.expr()?;
                if self.peek() != Some(Token::Op(b')')) {
                    return Err("missing ')'");
                }
                self.pos += 1;
                Ok(v)
            }
            _ => Err("expected a number"),
        }
    }
}

/// A duration option (`bantime`, `findtime`, ...): whole seconds, `-1` meaning permanent where
/// the option allows it. Written in TOML as an integer or a fail2ban time expression string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeSpan(pub i64);

impl TimeSpan {
    /// `-1`: permanent (for `bantime`).
    pub const PERMANENT: TimeSpan = TimeSpan(-1);

    pub fn parse(text: &str) -> Result<TimeSpan, DurationError> {
        str2seconds(text).map(|s| TimeSpan(s.round() as i64))
    }

    pub fn seconds(self) -> i64 {
        self.0
    }

    pub fn is_permanent(self) -> bool {
        self.0 == -1
    }
}

impl fmt::Display for TimeSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for TimeSpan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for TimeSpan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TimeSpan;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("seconds or a time expression such as \"10m\", \"1h30m\", \"1w\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TimeSpan, E> {
                Ok(TimeSpan(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TimeSpan, E> {
                i64::try_from(v)
                    .map(TimeSpan)
                    .map_err(|_| E::custom("duration too large"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<TimeSpan, E> {
                Ok(TimeSpan(v.round() as i64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TimeSpan, E> {
                TimeSpan::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The measured table of fail2ban-runtime.md §1.6.
    #[test]
    fn fail2ban_table() {
        let cases: &[(&str, f64)] = &[
            ("600", 600.0),
            ("-1", -1.0),
            ("10m", 600.0),
            ("1h", 3600.0),
            ("1d", 86400.0),
            ("1w", 604800.0),
            ("1mo", 2629800.0),
            ("1y", 31557600.0),
            ("1d12h", 129600.0),
            ("1h 30m", 5400.0),
            ("1hour+30min", 5400.0),
            ("0d 1h 30m", 5400.0),
            ("1year-6mo", 15778800.0),
            ("6 months", 15778800.0),
            ("2 weeks", 1209600.0),
            ("3 days", 259200.0),
            ("90s", 90.0),
            ("1.5h", 5400.0),
            ("5m*2", 600.0),
            ("10 m", 600.0),
            ("1D", 86400.0),
            ("1H", 3600.0),
            ("1M", 60.0),
            ("1W", 604800.0),
            ("1Y", 31557600.0),
            ("1s", 1.0),
            ("1 sec", 1.0),
            ("1 min", 60.0),
            ("-1d", -86400.0),
            ("0", 0.0),
        ];
        for (text, want) in cases {
            assert_eq!(str2seconds(text), Ok(*want), "{text}");
        }
    }

    #[test]
    fn refuses_garbage() {
        for bad in ["", "10x", "m", "15m;x", "1h)", "abc", "1/0"] {
            assert!(str2seconds(bad).is_err(), "{bad}");
        }
    }
}
