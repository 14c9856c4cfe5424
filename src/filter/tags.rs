//! tags: fail2ban's regex tags turned into Python regex text, before compilation.
//!
//! Owns three text-to-text steps: the `<name>` option substitution for native filters (fail2ban's
//! `[Init]`/filter options), the regex tag expansion of `Regex._resolveHostTag` (`<HOST>`,
//! `<ADDR>`, `<F-USER>`…`</F-USER>`, `<SKIPLINES>`, …) and the global-to-local inline flag rewrite.
//! It compiles nothing (that is `pyre`) and is called by the engine (`super::engine`).
//!
//! # Compatibility
//! The expansions are fail2ban 1.0.2's, character for character (spec §2.1–§2.5): `<HOST>` depends
//! on `usedns` (`no` drops the DNS branch), closing `</F-X>` tags only close an opened `<F-X>`,
//! `F-` names are upper-case only, `id`→`fid` and `port`→`fport`, the k-th `<SKIPLINES>` becomes
//! group `skiplinesk`, and `((?i)…)`/`(?:(?i)…)` become `(?i:…)`. The option substitution follows
//! §1.6 for the keys it is given (exact-case lookup; fail2ban's case-insensitive fallback through
//! the INI sections is the business of `crate::fail2ban`).

use std::collections::BTreeMap;

use super::FilterError;

const IP4: &str = r"(?:\d{1,3}\.){3}\d{1,3}";
const IP6: &str = r"(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)";

/// fail2ban's `R_HOST` expansions.
fn g4() -> String {
    format!(r"(?:::f{{4,6}}:)?(?P<ip4>{IP4})")
}
fn g6() -> String {
    format!(r"(?P<ip6>{IP6})")
}
const GDNS: &str = r"(?P<dns>[\w\-.^_]*\w)";
fn addr() -> String {
    format!(r"\[?(?:{}|{})\]?", g4(), g6())
}

/// The expansion of `<HOST>`: with the DNS branch unless `usedns` is `no`.
pub fn host_expansion(usedns_no: bool) -> String {
    if usedns_no {
        addr()
    } else {
        format!("(?:{}|{GDNS})", addr())
    }
}

/// The fixed tags (`RH4TAG`): tag text between `<` and `>` → expansion.
fn fixed_tag(tn: &str) -> Option<String> {
    Some(match tn {
        "IP4" | "F-IP4/" => g4(),
        "IP6" | "F-IP6/" => g6(),
        "ADDR" | "F-ADDR/" => addr(),
        "CIDR" | "F-CIDR/" => r"(?P<cidr>\d+)".to_string(),
        "SUBNET" | "F-SUBNET/" => format!(r"\[?(?:{}|{})(?:/(?P<cidr>\d+))?\]?", g4(), g6()),
        "DNS" | "F-DNS/" => GDNS.to_string(),
        "F-ID/" => r"(?P<fid>\S+)".to_string(),
        "F-PORT/" => r"(?P<fport>\w+)".to_string(),
        _ => return None,
    })
}

/// fail2ban's `mapTag2Opt`: lower-case, then `id`→`fid`, `port`→`fport`.
pub fn map_tag_to_opt(tag: &str) -> String {
    let t = tag.to_lowercase();
    match t.as_str() {
        "id" => "fid".to_string(),
        "port" => "fport".to_string(),
        _ => t,
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Finds the next match of `</?[\w\-]+/?>` at or after byte `from`: (start, end).
fn next_ftag(s: &str, from: usize) -> Option<(usize, usize)> {
    let mut pos = from;
    while let Some(rel) = s[pos..].find('<') {
        let start = pos + rel;
        let rest = &s[start + 1..];
        let mut it = rest.char_indices().peekable();
        let mut n = 0usize;
        if let Some(&(_, '/')) = it.peek() {
            it.next();
            n = 1;
        }
        let mut word = 0;
        while let Some(&(i, c)) = it.peek() {
            if is_word(c) || c == '-' {
                word += 1;
                n = i + c.len_utf8();
                it.next();
            } else {
                break;
            }
        }
        if word > 0 {
            if let Some(&(i, '/')) = it.peek() {
                n = i + 1;
                it.next();
            }
            if let Some(&(i, '>')) = it.peek() {
                let _ = n;
                return Some((start, start + 1 + i + 1));
            }
        }
        pos = start + 1;
    }
    None
}

/// `^(/?)F-([A-Z0-9_\-]+)$` → (closing, NAME).
fn custom_tag(tn: &str) -> Option<(bool, &str)> {
    let (closing, rest) = match tn.strip_prefix('/') {
        Some(r) => (true, r),
        None => (false, tn),
    };
    let name = rest.strip_prefix("F-")?;
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        Some((closing, name))
    } else {
        None
    }
}

/// fail2ban's `Regex._resolveHostTag`: expands the regex tags of one regex.
pub fn expand_regex_tags(regex: &str, usedns_no: bool) -> String {
    let mut out = String::with_capacity(regex.len() * 2);
    let mut open: Vec<String> = Vec::new();
    let mut skiplines = 0usize;
    let mut pos = 0;
    while let Some((s, e)) = next_ftag(regex, pos) {
        out.push_str(&regex[pos..s]);
        let tag = &regex[s..e];
        let tn = &tag[1..tag.len() - 1];
        if tn == "HOST" {
            out.push_str(&host_expansion(usedns_no));
        } else if tn == "SKIPLINES" {
            out.push_str(&format!(r"\n(?P<skiplines{skiplines}>(?:(?:.*\n)*?))"));
            skiplines += 1;
        } else if let Some(x) = fixed_tag(tn) {
            out.push_str(&x);
        } else if let Some((closing, name)) = custom_tag(tn) {
            if closing {
                if open.iter().any(|o| o == name) {
                    out.push(')');
                } else {
                    out.push_str(tag);
                }
            } else {
                open.push(name.to_string());
                out.push_str(&format!("(?P<{}>", map_tag_to_opt(name)));
            }
        } else {
            out.push_str(tag);
        }
        pos = e;
    }
    out.push_str(&regex[pos..]);
    out
}

/// fail2ban's `R_GLOB2LOCFLAGS`: `(?<!\\)\((?:\?:)?(\(\?[a-z]+)\)` → `\1:`.
pub fn glob_to_local_flags(regex: &str) -> String {
    let b = regex.as_bytes();
    let mut out = String::with_capacity(regex.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if b[i] == b'(' && (i == 0 || b[i - 1] != b'\\') {
            let mut j = i + 1;
            if b[j..].starts_with(b"?:") {
                j += 2;
            }
            if b[j..].starts_with(b"(?") {
                let fs = j + 2;
                let mut k = fs;
                while k < b.len() && b[k].is_ascii_lowercase() {
                    k += 1;
                }
                if k > fs && k < b.len() && b[k] == b')' {
                    out.push_str(&regex[copied..i]);
                    out.push_str(&regex[j..k]);
                    out.push(':');
                    i = k + 1;
                    copied = i;
                    continue;
                }
            }
        }
        i += 1;
    }
    out.push_str(&regex[copied..]);
    out
}

/// Substitutes `<name>` tags that name a key of `opts` (fail2ban §1.6, exact-case lookup),
/// innermost first, re-scanning inserted text. Unknown tags stay as they are.
pub fn substitute_options(
    value: &str,
    opts: &BTreeMap<String, String>,
) -> Result<String, FilterError> {
    if opts.is_empty() || !value.contains('<') {
        return Ok(value.to_string());
    }
    let mut s = value.to_string();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    loop {
        let mut replaced = false;
        let mut pos = 0;
        while let Some((start, end, name)) = next_option_tag(&s, pos) {
            match opts.get(name) {
                Some(v) => {
                    let name = name.to_string();
                    let c = counts.entry(name.clone()).or_insert(0);
                    *c += 1;
                    if *c > 25 || v.contains(&format!("<{name}>")) {
                        return Err(FilterError::SelfReference { tag: name });
                    }
                    s.replace_range(start..end, v);
                    pos = start;
                    replaced = true;
                }
                None => pos = start + 1,
            }
        }
        if !replaced || !s.contains('<') {
            return Ok(s);
        }
    }
}

/// The next `<X>` with X = one or more characters other than space, `<`, `>`.
fn next_option_tag(s: &str, from: usize) -> Option<(usize, usize, &str)> {
    let mut pos = from;
    while let Some(rel) = s[pos..].find('<') {
        let start = pos + rel;
        let rest = &s[start + 1..];
        let len = rest.find([' ', '<', '>']).unwrap_or(rest.len());
        if len > 0 && rest[len..].starts_with('>') {
            return Some((start, start + 1 + len + 1, &rest[..len]));
        }
        pos = start + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_tag_is_fail2bans() {
        assert_eq!(
            expand_regex_tags("<HOST>", false),
            r"(?:\[?(?:(?:::f{4,6}:)?(?P<ip4>(?:\d{1,3}\.){3}\d{1,3})|(?P<ip6>(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)))\]?|(?P<dns>[\w\-.^_]*\w))"
        );
        assert!(!expand_regex_tags("<HOST>", true).contains("dns"));
    }

    #[test]
    fn custom_tags_close_only_when_open() {
        assert_eq!(
            expand_regex_tags(
                "</F-USER>a<F-USER>b</F-USER></F-USER><F-user><F-ID/><F-X/>",
                false
            ),
            r"</F-USER>a(?P<user>b))<F-user>(?P<fid>\S+)<F-X/>"
        );
        assert_eq!(expand_regex_tags("<F-ID>x</F-ID>", false), "(?P<fid>x)");
        assert_eq!(
            expand_regex_tags("a<SKIPLINES>b<SKIPLINES>", false),
            r"a\n(?P<skiplines0>(?:(?:.*\n)*?))b\n(?P<skiplines1>(?:(?:.*\n)*?))"
        );
    }

    #[test]
    fn flags_become_local() {
        assert_eq!(
            glob_to_local_flags(r"SASL ((?i)LOGIN|PLAIN) (?:(?i)expn|vrfy) \((?i)x)"),
            r"SASL (?i:LOGIN|PLAIN) (?i:expn|vrfy) \((?i)x)"
        );
    }

    #[test]
    fn options_substitute_innermost_first() {
        let mut o = BTreeMap::new();
        o.insert("mode".to_string(), "normal".to_string());
        o.insert("re-normal".to_string(), "A<x>".to_string());
        o.insert("x".to_string(), "B".to_string());
        assert_eq!(
            substitute_options("<re-<mode>> <HOST>", &o).unwrap(),
            "AB <HOST>"
        );
        o.insert("x".to_string(), "<x>".to_string());
        assert!(substitute_options("<x>", &o).is_err());
    }
}
