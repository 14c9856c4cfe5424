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
