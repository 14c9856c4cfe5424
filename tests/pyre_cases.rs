//! Data-driven cases for `filter::pyre`: testdata/pyre/*.jsonl, each line a pattern, flags,
//! text and Python's own answer (filled by tools/pyre-cases.py; tests/pyre_python.rs checks the
//! answers against the live Python as well).

use fail2zig::filter::pyre::{Options, Regex};
use serde_json::Value;

fn options(flags: &str) -> Options {
    Options {
        ignore_case: flags.contains('i'),
        multiline: flags.contains('m'),
        dotall: flags.contains('s'),
    }
}

/// Our answer in the oracle's shape: spans, null, or "error".
fn ours(case: &Value) -> Value {
    let re = case["re"].as_str().unwrap_or_default();
    let flags = case["flags"].as_str().unwrap_or_default();
    let hay = case["hay"].as_str().unwrap_or_default();
    let pos = case["pos"].as_u64().unwrap_or(0) as usize;
    let endpos = case["endpos"].as_u64().map_or(hay.len(), |e| e as usize);
    let Ok(r) = Regex::new(re, &options(flags)) else {
        return Value::from("error");
    };
    match r.search_range(hay, pos, endpos) {
        None => Value::Null,
        Some(c) => Value::Array(
            (0..c.len())
                .map(|i| match c.get(i) {
                    Some((s, e)) => serde_json::json!([s, e]),
                    None => Value::Null,
                })
                .collect(),
        ),
    }
}

/// Patterns listed in testdata/pyre/divergences.txt (pattern, tab, reason).
fn divergences(dir: &str) -> Vec<String> {
    let text = std::fs::read_to_string(format!("{dir}/divergences.txt")).expect("divergences");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (pat, reason) = l.split_once('\t').expect("pattern<TAB>reason");
            assert!(!reason.trim().is_empty(), "divergence without reason: {l}");
            pat.to_string()
        })
        .collect()
}

#[test]
fn cases_match_python_answers() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/pyre");
    let known = divergences(dir);
    let mut n = 0;
    let mut failures = vec![];
    for entry in std::fs::read_dir(dir).expect("testdata/pyre") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read cases");
        for (lineno, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let case: Value = serde_json::from_str(line).expect("case is JSON");
            let got = ours(&case);
            n += 1;
            if known.iter().any(|k| case["re"] == k.as_str()) {
                // tests/pyre_python.rs checks that each listed divergence still shows.
                continue;
            }
            if got != case["expect"] {
                failures.push(format!(
                    "{}:{}: {} on {:?}: expected {}, got {}",
                    path.display(),
                    lineno + 1,
                    case["re"],
                    case["hay"],
                    case["expect"],
                    got
                ));
            }
        }
    }
    assert!(n > 100, "only {n} cases found");
    assert!(
        failures.is_empty(),
        "{} of {n} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn catastrophic_backtracking_is_bounded_and_reported() {
    // Needs the backtracker (lookbehind), and backtracks exponentially on this text.
    let r = Regex::new(r"^(\w+\s?)*$(?<=x)", &Options::default()).expect("compiles");
    // The gate (lookbehind dropped) accepts it; the backtracker then tries every split.
    let hay = "a".repeat(40);
    let err = r
        .try_search_range(&hay, 0, hay.len())
        .expect_err("budget exhausted");
    assert!(err.to_string().contains("backtracking budget"), "{err}");
    assert!(r.search(&hay).is_none());
}

#[test]
fn errors_name_the_offset_and_the_problem() {
    for (pattern, pos, msg) in [
        ("ab(c", 2, "missing ), unterminated subpattern"),
        ("a**", 2, "multiple repeat"),
        ("x(?i)y", 1, "global flags not at the start"),
        ("[z-a]", 1, "bad character range"),
        (r"(?P<n>a)(?P=m)", 12, "unknown group name"),
    ] {
        let err = Regex::new(pattern, &Options::default()).expect_err(pattern);
        let text = err.to_string();
        assert!(
            text.contains(msg) && text.contains(&format!("at position {pos}")),
            "{pattern}: {text}"
        );
    }
}

/// The patterns of testdata/pyre/rewrites.jsonl run without the backtracker on ASCII text
/// (conditionals and literal lookaheads rewritten exactly), except those listed in
/// testdata/pyre/refused.txt, which must still need it.
#[test]
fn rewritten_patterns_need_no_backtracker() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/pyre");
    let refused: Vec<String> = std::fs::read_to_string(format!("{dir}/refused.txt"))
        .expect("refused.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (pat, reason) = l.split_once('\t').expect("pattern<TAB>reason");
            assert!(!reason.trim().is_empty(), "refusal without reason: {l}");
            pat.to_string()
        })
        .collect();
    let text = std::fs::read_to_string(format!("{dir}/rewrites.jsonl")).expect("rewrites.jsonl");
    let mut seen = std::collections::BTreeSet::new();
    let mut failures = vec![];
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let case: Value = serde_json::from_str(line).expect("case is JSON");
        let re = case["re"].as_str().unwrap_or_default().to_string();
        let flags = case["flags"].as_str().unwrap_or_default();
        if !seen.insert(re.clone()) {
            continue;
        }
        let r = Regex::new(&re, &options(flags)).expect("compiles");
        let exact = r.translation().ascii_exact.is_some();
        if exact == refused.contains(&re) {
            failures.push(format!("{re:?}: exact form {exact}"));
        }
    }
    for r in &refused {
        assert!(
            seen.contains(r),
            "refused.txt lists {r:?}, not in rewrites.jsonl"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
