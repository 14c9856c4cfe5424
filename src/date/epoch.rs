//! Hand-written matchers for the `EPOCH` and `LEPOCH` keyword templates (line-begin and
//! unanchored forms). Called by `pattern::Engine::search`.
//!
//! # Compatibility
//! Same matches as fail2ban 1.0.2's regexes (spec §4.2, §4.7): the unanchored form starts at the
//! line start, right after a `[` at the line start, or right after `audit(` (word boundary before
//! `audit`); its trailing `]`/`:nn)` conditionals are never enforced, and neither is the `]` of the
//! line-begin form, because an optional empty group lets Python's backtracking skip them. Digits
//! are ASCII only (Python's `\d` also takes other Unicode decimal digits).

use super::pattern::Found;

pub(crate) fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn char_at(hay: &str, i: usize) -> Option<char> {
    hay.get(i..).and_then(|s| s.chars().next())
}

fn char_before(hay: &str, i: usize) -> Option<char> {
    hay.get(..i).and_then(|s| s.chars().next_back())
}

/// `(?=\b|\W|$)` at byte `e` of `hay`.
fn end_boundary(hay: &str, e: usize) -> bool {
    let prev = char_before(hay, e).is_some_and(is_word);
    let next = char_at(hay, e).is_some_and(is_word);
    !(prev && next)
}

fn digits(b: &[u8], from: usize) -> usize {
    b.get(from..)
        .map(|s| s.iter().take_while(|c| c.is_ascii_digit()).count())
        .unwrap_or(0)
}

/// The end of the epoch number starting at byte `p`, as the regex's backtracking finds it.
fn number(hay: &str, p: usize, long: bool) -> Option<usize> {
    let b = hay.as_bytes();
    let n = digits(b, p);
    for a in [11, 10] {
        if n < a {
            continue;
        }
        let int_end = p + a;
        if !long {
            // \d{10,11}\b: the digits must end there, followed by a non-word char or the end.
            if n != a || char_at(hay, int_end).is_some_and(is_word) {
                continue;
            }
            if b.get(int_end) == Some(&b'.') {
                let k = digits(b, int_end + 1);
                for l in (3..=k.min(6)).rev() {
                    let e = int_end + 1 + l;
                    if end_boundary(hay, e) {
                        return Some(e);
                    }
                }
            }
            return Some(int_end);
        }
        if n >= a + 3 {
            let b3 = int_end + 3;
            if b.get(b3) == Some(&b'.') {
                let k = digits(b, b3 + 1);
                for l in (1..=k.min(6)).rev() {
                    if end_boundary(hay, b3 + 1 + l) {
                        return Some(b3 + 1 + l);
                    }
                }
            }
            if n >= a + 6 && end_boundary(hay, b3 + 3) {
                return Some(b3 + 3);
            }
            if end_boundary(hay, b3) {
                return Some(b3);
            }
        }
        if end_boundary(hay, int_end) {
            return Some(int_end);
        }
    }
    None
}

/// Python `search(line, pos, endpos)` with the keyword epoch regex.
pub(crate) fn search(
    line: &str,
    pos: usize,
    endpos: usize,
    line_begin: bool,
    long: bool,
) -> Option<Found> {
    let hay = line.get(..endpos)?;
    let found = |start: usize, p: usize, e: usize| Found {
        start,
        end: e,
        g1: (p, e),
        num: (p, e),
    };
    if line_begin {
        if pos != 0 {
            return None;
        }
        let mut p = 0;
        for _ in 0..2 {
            match char_at(hay, p) {
                Some(c) if !is_word(c) => p += c.len_utf8(),
                _ => break,
            }
        }
        return number(hay, p, long).map(|e| found(0, p, e));
    }
    let mut cands: Vec<usize> = Vec::new();
    if pos == 0 {
        cands.push(0);
    }
    if pos <= 1 && hay.starts_with('[') {
        cands.push(1);
    }
    let mut from = pos.saturating_sub(6);
    while let Some(i) = hay.get(from..).and_then(|s| s.find("audit(")) {
        let a = from + i;
        let p = a + 6;
        if p >= pos && !char_before(hay, a).is_some_and(is_word) {
            cands.push(p);
        }
        from = a + 1;
    }
    cands.sort_unstable();
    cands
        .into_iter()
        .find_map(|p| number(hay, p, long).map(|e| found(p, p, e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_forms() {
        let f = search("1124013600 x", 0, 12, false, false).unwrap();
        assert_eq!((f.start, f.g1), (0, (0, 10)));
        let f = search("[1124013600.123] x", 0, 18, false, false).unwrap();
        assert_eq!((f.start, f.g1), (1, (1, 15)));
        let f = search(
            "type=X msg=audit(1124013600.123:45): x",
            0,
            38,
            false,
            false,
        )
        .unwrap();
        assert_eq!(f.g1, (17, 31));
        assert!(search("x 1124013600", 0, 12, false, false).is_none());
        assert!(search("112401360012345", 0, 15, false, false).is_none());
        let f = search("1124013600123 x", 0, 15, false, true).unwrap();
        assert_eq!(f.g1, (0, 13));
        let f = search("[ 1124013600 x", 0, 14, true, false).unwrap();
        assert_eq!((f.start, f.g1), (0, (2, 12)));
    }
}
