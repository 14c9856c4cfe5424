//! Shared by the fail2ban reader tests: running the reference (installed fail2ban) and putting
//! both sides into the same canonical form of fail2ban's filter command stream.
#![allow(dead_code)] // each test crate uses a different part of this module

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use fail2zig::config::FilterDef;
use serde_json::{Value, json};

/// The Python interpreter fail2ban is installed for.
pub const PYTHON: &str = "/usr/bin/python3";

/// One reference result: the filter name, its options and the canonical stream (or error).
pub struct Reference {
    pub name: String,
    pub options: BTreeMap<String, String>,
    pub result: Value,
}

/// Run `testdata/fail2ban/reference_filter.py BASE [SPEC...]`.
pub fn reference(base: &Path, specs: &[String]) -> Vec<Reference> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fail2ban/reference_filter.py");
    let out = Command::new(PYTHON)
        .arg(&script)
        .arg(base)
        .args(specs)
        .output()
        .expect("run the fail2ban reference (python3 with fail2ban installed)");
    assert!(
        out.status.success(),
        "reference failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("json line");
            Reference {
                name: v["name"].as_str().expect("name").to_string(),
                options: serde_json::from_value(v["options"].clone()).expect("options"),
                result: v["result"].clone(),
            }
        })
        .collect()
}

/// Python `shlex.split` (POSIX mode) for journalmatch lines.
pub fn shlex_split(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    cur.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => cur.push(e),
                            Some(e) => {
                                cur.push('\\');
                                cur.push(e);
                            }
                            None => {}
                        },
                        q => cur.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(e) = chars.next() {
                    cur.push(e);
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// Our definition in the reference's canonical form.
pub fn canonical(def: &FilterDef, usedns: Option<&str>) -> Value {
    json!({
        "prefregex": def.prefregex,
        "maxlines": def.maxlines,
        "failregex": def.failregex,
        "ignoreregex": def.ignoreregex,
        "datepattern": def.datepattern,
        "journalmatch": def.journalmatch.iter().map(|l| shlex_split(l)).collect::<Vec<_>>(),
        "usedns": usedns,
    })
}
