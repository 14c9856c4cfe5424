//! The values a command returns: fail2ban's Python result objects (`None`, `True`, `3`,
//! `'pong'`, `['a', 'b']`, `[('Number of jail', 1)]`, `[{'sshd': []}]`) as one Rust enum, with
//! Python's `repr()`/`str()` rendering and a plain JSON form for `--json`.
//!
//! Owned by `ipc`; produced by `ipc::execute` (and the daemon's `Control` implementation for
//! option values), carried in frames, rendered by `client`.
//!
//! # Compatibility
//! `repr()` follows CPython 3.11: strings take single quotes unless they contain a `'` and no
//! `"`; `\\`, the quote, `\t`, `\n`, `\r` and other control characters are escaped; floats use
//! the shortest round-trip digits with Python's exponent form (`1e+16`, `1e-05`) outside
//! `[1e-4, 1e16)`; one-element tuples end with `,`. Non-ASCII characters are printed as they are
//! except C1 controls, U+00A0 and U+00AD, which Python also escapes; rarer non-printable code
//! points (other Unicode separators and format characters) are printed unescaped.

pub use crate::fail2ban::python::{float_repr, str_repr};
use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

/// A Python-like value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// A Python `int`.
    Int(i64),
    /// A Python `float`.
    Float(f64),
    /// A Python `str`.
    Str(String),
    /// A Python `list`.
    List(Vec<Value>),
    /// A Python `tuple`.
    Tuple(Vec<Value>),
    /// A Python `dict`, in insertion order.
    Dict(Vec<(Value, Value)>),
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    /// A list of strings.
    pub fn str_list<I, S>(items: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Value::List(items.into_iter().map(|s| Value::Str(s.into())).collect())
    }

    /// A `(name, value)` pair, as fail2ban's status entries are.
    pub fn pair(name: &str, value: Value) -> Value {
        Value::Tuple(vec![Value::str(name), value])
    }

    /// The string inside, if this is a `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, if this is a `List` or a `Tuple`.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// Python's `repr(value)`.
    pub fn repr(&self) -> String {
        let mut out = String::new();
        self.write_repr(&mut out);
        out
    }

    /// Python's `str(value)`: strings as they are, everything else as `repr`.
    pub fn to_py_str(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            other => other.repr(),
        }
    }

    fn write_repr(&self, out: &mut String) {
        match self {
            Value::None => out.push_str("None"),
            Value::Bool(true) => out.push_str("True"),
            Value::Bool(false) => out.push_str("False"),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&float_repr(*f)),
            Value::Str(s) => out.push_str(&str_repr(s)),
            Value::List(items) => {
                out.push('[');
                write_items(out, items);
                out.push(']');
            }
            Value::Tuple(items) => {
                out.push('(');
                write_items(out, items);
                if items.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
            Value::Dict(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    k.write_repr(out);
                    out.push_str(": ");
                    v.write_repr(out);
                }
                out.push('}');
            }
        }
    }

    /// The plain JSON form used by `fail2zig-client --json`: `None` is `null`, lists and tuples
    /// are arrays, dicts are objects (keys rendered with Python's `str()`).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::None => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::List(items) | Value::Tuple(items) => {
                J::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Dict(pairs) => J::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_py_str(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

impl fmt::Display for Value {
    /// Python's `print(value)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_py_str())
    }
}

fn write_items(out: &mut String, items: &[Value]) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        item.write_repr(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_like_python() {
        assert_eq!(Value::str("pong").repr(), "'pong'");
        assert_eq!(Value::str("it's").repr(), "\"it's\"");
        assert_eq!(Value::str("a'b\"c").repr(), "'a\\'b\"c'");
        assert_eq!(Value::str("a\\b\n\t\x01").repr(), "'a\\\\b\\n\\t\\x01'");
        assert_eq!(Value::Tuple(vec![Value::str("x")]).repr(), "('x',)");
        assert_eq!(
            Value::Tuple(vec![Value::Int(2), Value::str("No such file or directory")]).repr(),
            "(2, 'No such file or directory')"
        );
        let banned = Value::List(vec![Value::Dict(vec![(
            Value::str("sshd"),
            Value::str_list(["192.0.2.10"]),
        )])]);
        assert_eq!(banned.repr(), "[{'sshd': ['192.0.2.10']}]");
        assert_eq!(Value::List(vec![]).repr(), "[]");
        assert_eq!(Value::None.to_string(), "None");
        assert_eq!(Value::Bool(true).to_string(), "True");
        assert_eq!(Value::str("x y").to_string(), "x y");
    }

    #[test]
    fn floats_like_python() {
        assert_eq!(float_repr(2629800.0), "2629800.0");
        assert_eq!(float_repr(5400.0), "5400.0");
        assert_eq!(float_repr(1.5), "1.5");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(1.5e-5), "1.5e-05");
        assert_eq!(float_repr(-0.0), "-0.0");
        assert_eq!(float_repr(0.1), "0.1");
        assert_eq!(float_repr(f64::INFINITY), "inf");
    }

    #[test]
    fn json_form() {
        let v = Value::List(vec![Value::Dict(vec![(
            Value::str("sshd"),
            Value::str_list(["1.2.3.4"]),
        )])]);
        assert_eq!(v.to_json().to_string(), r#"[{"sshd":["1.2.3.4"]}]"#);
        assert_eq!(Value::None.to_json(), serde_json::Value::Null);
    }
}
