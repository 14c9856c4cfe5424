//! value: the text of a failure's group (an address, a user, a connection key), kept inline
//! when short.
//!
//! Owns one optimisation of the failure dicts `engine` builds for every failure: most group
//! values (addresses, user names, `host sshd[pid]: ` keys) are a few dozen bytes at most, and a
//! heap string per value was most of the allocations of a failure line. A value of up to
//! [`INLINE`] bytes is stored in place; a longer one in a boxed `str`. It behaves as a `str`.

use std::ops::Deref;

/// The longest value stored in place (the enum is as large as a `String`).
const INLINE: usize = 22;

/// An immutable string, in place when short.
#[derive(Clone)]
pub struct Value(Repr);

#[derive(Clone)]
enum Repr {
    /// The first `len` bytes of `bytes`, a copy of a `str`.
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Heap(Box<str>),
}

impl Value {
    /// The value `s`.
    pub fn new(s: &str) -> Value {
        let b = s.as_bytes();
        if b.len() > INLINE {
            return Value(Repr::Heap(s.into()));
        }
        let mut bytes = [0; INLINE];
        bytes[..b.len()].copy_from_slice(b);
        Value(Repr::Inline {
            len: b.len() as u8,
            bytes,
        })
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Always valid (a copy of a `str`, made only by `new`): the check reads at most
            // 22 bytes and never fails.
            Repr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Repr::Heap(s) => s,
        }
    }
}

impl Deref for Value {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_text_inline_or_not() {
        let long = "x".repeat(INLINE + 1);
        for s in [
            "",
            "10.0.0.1",
            "bastion sshd[42132]: ",
            "ü-nicode é",
            &long,
            &long[1..],
        ] {
            let v = Value::new(s);
            assert_eq!(v.as_str(), s);
            assert_eq!(&*v, s);
            assert_eq!(format!("{v}"), s);
            assert_eq!(format!("{v:?}"), format!("{s:?}"));
            let inline = matches!(v.0, Repr::Inline { .. });
            assert_eq!(inline, s.len() <= INLINE, "{s:?}");
        }
        assert_eq!(Value::new("a"), Value::new("a"));
        assert_ne!(Value::new("a"), Value::new("b"));
        assert_eq!(
            std::mem::size_of::<Option<Value>>(),
            std::mem::size_of::<String>()
        );
    }
}
