//! fail2ban's recursive `<tag>` substitution over a map of options (`substituteRecursiveTags`).
//!
//! Owns the replacement loop only; where replacement values come from besides the map itself is
//! the caller's `fallback` (a filter or action reader looking the name up in its config). Called
//! by `reader.rs`.
//!
//! # Compatibility
//!
//! Identical to fail2ban 1.0.2 `helpers.substituteRecursiveTags` without the conditional
//! argument: a tag is `<X>` with X free of space, `<` and `>`, so `<mdre-<mode>>` resolves from
//! the inside; the map's own value wins over the fallback; a missing tag is left in place; after
//! a replacement (of every occurrence) the scan restarts at the same position; values are
//! re-processed while any of them changed and still holds a tag; a tag replaced in its own value
//! or more than 25 times within one option is an error; names in `ignore` are neither replaced
//! nor processed.

use std::collections::{HashMap, HashSet};

use super::Fail2banError;
use super::ini::OrderedMap;

/// fail2ban's `MAX_TAG_REPLACE_COUNT`.
const MAX_TAG_REPLACE_COUNT: usize = 25;

/// The first tag `<X>` at or after byte `from`: (start, end, name).
pub fn find_tag(value: &str, from: usize) -> Option<(usize, usize, &str)> {
    let bytes = value.as_bytes();
    let mut pos = from;
    while let Some(i) = value.get(pos..)?.find('<') {
        let start = pos + i;
        let mut j = start + 1;
        while j < bytes.len() && !matches!(bytes[j], b' ' | b'<' | b'>') {
            j += 1;
        }
        if j > start + 1 && j < bytes.len() && bytes[j] == b'>' {
            return Some((start, j + 1, &value[start + 1..j]));
        }
        pos = start + 1;
    }
    None
}

/// Substitute tags in every value of `tags`, in place.
///
/// `fallback(name)` supplies a value for a tag that is not a key of the map (`Ok(None)`: leave
/// the tag). `what` names the definition in errors.
pub fn substitute(
    tags: &mut OrderedMap<String>,
    ignore: &HashSet<String>,
    fallback: &mut dyn FnMut(&str) -> Result<Option<String>, Fail2banError>,
    what: &str,
) -> Result<(), Fail2banError> {
    let keys: Vec<String> = tags.keys().map(str::to_string).collect();
    let mut done: HashSet<String> = HashSet::new();
    let mut rep_counts: HashMap<String, HashMap<String, usize>> = HashMap::new();
    loop {
        let mut repeat = false;
        for tag in &keys {
            if ignore.contains(tag) || done.contains(tag) {
                continue;
            }
            let orig = tags.get(tag).cloned().unwrap_or_default();
            let had_counts = rep_counts.contains_key(tag);
            let mut counts = rep_counts.get(tag).cloned().unwrap_or_default();
            let mut value = orig.clone();
            let mut pos = 0;
            while let Some((start, end, name)) = find_tag(&value, pos) {
                let name = name.to_string();
                if ignore.contains(&name) {
                    pos = end;
                    continue;
                }
                if name == *tag || counts.get(&name).copied().unwrap_or(1) > MAX_TAG_REPLACE_COUNT {
                    return Err(Fail2banError::RecursiveTag {
                        what: what.to_string(),
                        key: tag.clone(),
                        tag: name,
                    });
                }
                let repl = match tags.get(&name) {
                    Some(v) => Some(v.clone()),
                    None => fallback(&name)?,
                };
                let Some(repl) = repl else {
                    pos = end;
                    continue;
                };
                value = value.replace(&format!("<{name}>"), &repl);
                *counts.entry(name).or_insert(0) += 1;
                pos = start;
            }
            if value != orig {
                if find_tag(&value, 0).is_some() {
                    rep_counts.insert(tag.clone(), counts);
                    repeat = true;
                } else if had_counts {
                    rep_counts.insert(tag.clone(), counts);
                }
                tags.insert(tag.clone(), value.clone());
            } else if had_counts {
                rep_counts.insert(tag.clone(), counts);
            }
            if !value.contains('<') {
                done.insert(tag.clone());
            }
        }
        if !repeat {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pairs: &[(&str, &str)]) -> Result<OrderedMap<String>, Fail2banError> {
        let mut m = OrderedMap::new();
        for (k, v) in pairs {
            m.insert(k.to_string(), v.to_string());
        }
        substitute(&mut m, &HashSet::new(), &mut |_| Ok(None), "test")?;
        Ok(m)
    }

    #[test]
    fn nested_and_missing() {
        let m = run(&[
            ("failregex", "<mdre-<mode>> <HOST>"),
            ("mode", "normal"),
            ("mdre-normal", "x<a>"),
            ("a", "1"),
        ])
        .unwrap();
        assert_eq!(m.get("failregex").unwrap(), "x1 <HOST>");
    }

    #[test]
    fn self_reference_fails() {
        assert!(run(&[("a", "<b>"), ("b", "<a>")]).is_err());
        assert!(run(&[("a", "x<a>")]).is_err());
    }

    #[test]
    fn tag_grammar() {
        assert_eq!(find_tag("<a b> <c>", 0).map(|t| t.2), Some("c"));
        assert_eq!(find_tag("<<x>>", 0).map(|t| (t.0, t.2)), Some((1, "x")));
        assert_eq!(find_tag("<>", 0), None);
    }
}
