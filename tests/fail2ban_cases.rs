//! Data-driven reader cases: each `testdata/fail2ban/<case>/` is a fail2ban configuration
//! directory with `expected.json`, a list of `{"spec", "result"}` (the canonical filter command
//! stream) or `{"spec", "error"}` (a substring of our error, naming file and line). Every entry is
//! also run through the installed fail2ban, which must agree with the expected result (or fail
//! too), unless the entry records a `"diverges"` reason.

mod fail2ban_common;

use std::path::Path;

use fail2ban_common::{canonical, reference};
use fail2zig::fail2ban::{extract_options, reader};
use serde_json::Value;

fn ours(base: &Path, spec: &str) -> Result<Value, String> {
    let (name, opts) = extract_options(spec).map_err(|e| e.to_string())?;
    let f = reader::resolve_filter(base, &name, &opts, &Default::default())
        .map_err(|e| e.to_string())?;
    Ok(canonical(&f.def, f.usedns.as_deref()))
}

#[test]
fn reader_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fail2ban");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("testdata/fail2ban")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 2, "no cases under {}", root.display());
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in &dirs {
        let text = std::fs::read_to_string(dir.join("expected.json")).expect("expected.json");
        let entries: Vec<Value> = serde_json::from_str(&text).expect("expected.json is json");
        let specs: Vec<String> = entries
            .iter()
            .map(|e| e["spec"].as_str().expect("spec").to_string())
            .collect();
        let refs = reference(dir, &specs);
        assert_eq!(
            refs.len(),
            entries.len(),
            "reference output for {}",
            dir.display()
        );
        for (entry, r) in entries.iter().zip(&refs) {
            let spec = entry["spec"].as_str().unwrap_or_default();
            let case = format!(
                "{} {spec}",
                dir.file_name().unwrap_or_default().to_string_lossy()
            );
            let got = ours(dir, spec);
            match (
                entry.get("result"),
                entry.get("error").and_then(Value::as_str),
            ) {
                (Some(expected), _) => {
                    if got.as_ref() != Ok(expected) {
                        failures.push(format!("{case}: expected {expected}\n  got {got:?}"));
                    }
                    if &r.result != expected {
                        failures.push(format!("{case}: fail2ban gives {}", r.result));
                    }
                }
                (None, Some(err)) => {
                    match &got {
                        Err(e) if e.contains(err) => {}
                        other => failures.push(format!(
                            "{case}: expected error containing {err:?}, got {other:?}"
                        )),
                    }
                    if entry.get("diverges").is_none() && r.result.get("error").is_none() {
                        failures.push(format!("{case}: fail2ban accepts it: {}", r.result));
                    }
                }
                _ => failures.push(format!("{case}: entry needs \"result\" or \"error\"")),
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 15, "only {checked} entries");
}

/// An absolute file name is read alone with its includes, as fail2ban-regex reads a filter file
/// outside filter.d.
#[test]
fn absolute_filter_file_is_read_explicitly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fail2ban/layering");
    let file = root.join("filter.d/loop.conf");
    let def = fail2zig::fail2ban::read_filter_with(
        Path::new("/nonexistent"),
        &file.to_string_lossy(),
        &Default::default(),
    )
    .expect("explicit file");
    let by_name = fail2zig::fail2ban::read_filter(&root, "loop").expect("by name");
    assert_eq!(def, by_name);
    assert_eq!(def.failregex, vec!["^loop <HOST>".to_string()]);
}
