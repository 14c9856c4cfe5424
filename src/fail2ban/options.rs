//! Option lists: `name[k=v, k2="v, 2"][k3='x']` (filter, action, backend specs) and the split
//! of a jail's `action` value into such specs.
//!
//! Owns the grammar only; what the names mean is the caller's business (`reader.rs`,
//! `crate::import`).
//!
//! # Compatibility
//!
//! Uses fail2ban 1.0.2's own grammar (`helpers.OPTION_CRE`, `OPTION_EXTRACT_CRE`,
//! `OPTION_SPLIT_CRE`, fail2ban-runtime.md §1.5.1–1.5.2) on a backtracking engine with Python's
//! leftmost-first semantics, so odd inputs split and fail exactly where fail2ban's do. The error
//! texts are fail2ban's.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use fancy_regex::Regex;

use super::Fail2banError;
use super::ini::OrderedMap;

static OPTION_CRE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)^([^\[]+)(?:\[(.*)\])?\s*$").expect("valid regex"));

static OPTION_EXTRACT_CRE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?s)\s*([\w\-_\.]+)=(?:"([^"]*)"|'([^']*)'|([^,\]]*))(?:,|\]\s*\[|$|(?P<wrngA>.+))|,?\s*$|(?P<wrngB>.+)"#,
    )
    .expect("valid regex")
});

static OPTION_SPLIT_CRE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?s)(?:[^\[\s]+(?:\s*\[\s*(?:[\w\-_\.]+=(?:"[^"]*"|'[^']*'|[^,\]]*)\s*(?:,|\]\s*\[)?\s*)*\])?\s*|\S+)(?=\n\s*|\s+|$)"#,
    )
    .expect("valid regex")
});

fn list_error(spec: &str, message: String) -> Fail2banError {
    Fail2banError::OptionList {
        spec: spec.to_string(),
        message,
    }
}

fn regex_error(spec: &str, e: fancy_regex::Error) -> Fail2banError {
    list_error(spec, format!("regex engine failed: {e}"))
}

/// Python's `s[i:i+25]` on a `str`.
fn snippet(s: &str) -> String {
    s.chars().take(25).collect()
}

/// fail2ban `extractOptions`: the name and its options in written order.
pub fn extract_options(spec: &str) -> Result<(String, OrderedMap<String>), Fail2banError> {
    let caps = OPTION_CRE
        .captures(spec)
        .map_err(|e| regex_error(spec, e))?
        .ok_or_else(|| list_error(spec, "unexpected option syntax".to_string()))?;
    let name = caps.get(1).map_or("", |m| m.as_str()).to_string();
    let mut opts = OrderedMap::new();
    let Some(optstr) = caps.get(2).map(|m| m.as_str()).filter(|s| !s.is_empty()) else {
        return Ok((name, opts));
    };
    for m in OPTION_EXTRACT_CRE.captures_iter(optstr) {
        let m = m.map_err(|e| regex_error(spec, e))?;
        let key = m.get(1).map(|k| k.as_str());
        if let Some(w) = m.name("wrngA") {
            return Err(list_error(
                spec,
                format!(
                    "unexpected syntax at {} after option '{}': {}",
                    w.start(),
                    key.unwrap_or_default(),
                    snippet(w.as_str())
                ),
            ));
        }
        if let Some(w) = m.name("wrngB") {
            return Err(list_error(
                spec,
                format!(
                    "expected option, wrong syntax at {}: {}",
                    w.start(),
                    snippet(w.as_str())
                ),
            ));
        }
        let Some(key) = key else { continue };
        let value = [2, 3, 4]
            .into_iter()
            .find_map(|i| m.get(i))
            .map_or("", |v| v.as_str());
        opts.insert(key.trim().to_string(), value.trim().to_string());
    }
    Ok((name, opts))
}

/// fail2ban `splitWithOptions`: the specs of a multi-line `action` value.
pub fn split_with_options(value: &str) -> Result<Vec<String>, Fail2banError> {
    let mut out = Vec::new();
    for m in OPTION_SPLIT_CRE.find_iter(value) {
        let m = m.map_err(|e| regex_error(value, e))?;
        out.push(m.as_str().to_string());
    }
    Ok(out)
}

/// Parse `name[k=v, k2="v"]` (fail2ban-runtime.md §1.5.1) into the name and its options.
pub fn parse_option_list(s: &str) -> Result<(String, BTreeMap<String, String>), Fail2banError> {
    let (name, opts) = extract_options(s)?;
    Ok((
        name,
        opts.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(s: &str) -> (String, Vec<(String, String)>) {
        let (n, o) = extract_options(s).expect("parses");
        (
            n,
            o.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        )
    }

    #[test]
    fn option_lists() {
        assert_eq!(ex("sshd").0, "sshd");
        let (n, o) = ex(r#"sshd[mode=aggressive, a="x, ]y", b='z'][c=d ]"#);
        assert_eq!(n, "sshd");
        assert_eq!(
            o,
            vec![
                ("mode".into(), "aggressive".into()),
                ("a".into(), "x, ]y".into()),
                ("b".into(), "z".into()),
                ("c".into(), "d".into()),
            ]
        );
        assert!(extract_options("x[a=1]b]").is_err());
        assert!(extract_options("x[a=\"1\" b]").is_err());
        assert!(extract_options("x[,,]").is_err());
        assert!(extract_options("[a=1]").is_err());
    }

    #[test]
    fn action_split() {
        let v = "iptables[name=x, port=\"a b\"]\n  sendmail-whois[dest=\"r@x\",\n  sender=x]\nfoo";
        assert_eq!(
            split_with_options(v).unwrap(),
            vec![
                "iptables[name=x, port=\"a b\"]\n ",
                "sendmail-whois[dest=\"r@x\",\n  sender=x]",
                "foo"
            ]
        );
    }
}
