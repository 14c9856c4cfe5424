//! Data-driven importer cases: each `testdata/import/<case>/` holds
//! * `tree/`: a fail2ban configuration directory, or files laid over a copy of the installed
//!   /etc/fail2ban when the case has a `stock` file (nothing of fail2ban's is in the repository);
//! * `strict` (optional): import with `--strict`;
//! * `expected.error`: text the error chain must contain, or
//! * `expected.toml` and `expected.report`: for a `tree/` of its own, the exact output and report;
//!   for a stock case, the `[global]`/`[defaults]` tables and the listed jails and filters must be
//!   equal, and every line of `expected.report` must be in the report.
//!
//! `<DIR>` in expected files stands for the imported directory. `IMPORT_BLESS=1` rewrites the
//! expected files of non-stock cases, and the listed entries of stock ones, from the output.

use std::path::{Path, PathBuf};

use fail2zig::import::{check_toml, import_dir, render_toml};

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn subset_toml(expected: &str, actual: &str, case: &str, failures: &mut Vec<String>) -> String {
    let exp: toml::Table = expected
        .parse()
        .unwrap_or_else(|e| panic!("{case}: expected.toml: {e}"));
    let act: toml::Table = actual.parse().expect("output is toml");
    let mut blessed = toml::Table::new();
    for (key, ev) in &exp {
        let av = act
            .get(key)
            .cloned()
            .unwrap_or(toml::Value::Table(Default::default()));
        match key.as_str() {
            "jails" | "filters" => {
                let (Some(et), Some(at)) = (ev.as_table(), av.as_table()) else {
                    failures.push(format!("{case}: [{key}] is not a table"));
                    continue;
                };
                let mut b = toml::Table::new();
                for (name, entry) in et {
                    let got = at.get(name);
                    if got != Some(entry) {
                        failures.push(format!(
                            "{case}: [{key}.{name}]\n  expected {entry}\n  got      {got:?}"
                        ));
                    }
                    if let Some(g) = got {
                        b.insert(name.clone(), g.clone());
                    }
                }
                blessed.insert(key.clone(), toml::Value::Table(b));
            }
            _ => {
                if &av != ev {
                    failures.push(format!("{case}: [{key}]\n  expected {ev}\n  got      {av}"));
                }
                blessed.insert(key.clone(), av);
            }
        }
    }
    toml::to_string_pretty(&blessed).unwrap_or_default()
}

fn run_case(case_dir: &Path, failures: &mut Vec<String>) {
    let case = case_dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    let bless = std::env::var_os("IMPORT_BLESS").is_some();
    let stock = case_dir.join("stock").exists();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("fail2ban");
    if stock {
        copy_tree(Path::new("/etc/fail2ban"), &dir);
    }
    copy_tree(&case_dir.join("tree"), &dir);
    let norm = |s: &str| s.replace(&dir.display().to_string(), "<DIR>");
    let strict = case_dir.join("strict").exists();
    let result = import_dir(&dir, strict);
    let err_file = case_dir.join("expected.error");
    if err_file.exists() {
        let want = read(&err_file).trim().to_string();
        match result {
            Ok((_, report)) => failures.push(format!(
                "{case}: imported, expected error {want:?}\n{report}"
            )),
            Err(e) => {
                let got = norm(&chain(&e));
                if !got.contains(&want) {
                    failures.push(format!("{case}: error {got:?} does not contain {want:?}"));
                }
            }
        }
        return;
    }
    let (config, report) = match result {
        Ok(r) => r,
        Err(e) => {
            failures.push(format!("{case}: {}", norm(&chain(&e))));
            return;
        }
    };
    let text = render_toml(&config, &report);
    if let Err(e) = check_toml(&text, Path::new("imported.toml")) {
        failures.push(format!("{case}: output does not load: {}", chain(&e)));
    }
    let text = norm(&text);
    let report_text = norm(&report.to_string());
    let toml_path = case_dir.join("expected.toml");
    let report_path = case_dir.join("expected.report");
    if stock {
        let blessed = subset_toml(&read(&toml_path), &text, &case, failures);
        let lines: Vec<&str> = report_text.lines().collect();
        for want in read(&report_path).lines().filter(|l| !l.trim().is_empty()) {
            if !lines.contains(&want) {
                failures.push(format!("{case}: report lacks line {want:?}\n{report_text}"));
            }
        }
        if bless {
            std::fs::write(&toml_path, blessed).expect("bless");
            println!("==== {case}\n{report_text}");
        }
    } else if bless {
        std::fs::write(&toml_path, &text).expect("bless");
        std::fs::write(&report_path, &report_text).expect("bless");
    } else {
        if read(&toml_path) != text {
            failures.push(format!("{case}: toml differs, got:\n{text}"));
        }
        if read(&report_path) != report_text {
            failures.push(format!("{case}: report differs, got:\n{report_text}"));
        }
    }
}

#[test]
fn import_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/import");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("testdata/import")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("tree").is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        run_case(c, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
