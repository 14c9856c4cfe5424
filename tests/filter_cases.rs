//! The daemon's view of the filter engine (`Filter::process_line`, first match wins), driven by
//! the cases in `testdata/filter/*.toml` (see the README there).

use std::collections::BTreeMap;
use std::path::Path;

use fail2zig::config::FilterDef;
use fail2zig::filter::{Failure, Filter, FilterSettings, UseDns, builtin_filter};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    now: f64,
    builtin: Option<String>,
    def: Option<FilterDef>,
    #[serde(default)]
    options: BTreeMap<String, String>,
    #[serde(default)]
    settings: Settings,
    line: Vec<Line>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Settings {
    usedns: Option<String>,
    check_all: Option<bool>,
    raw_host: Option<bool>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    text: String,
    #[serde(default)]
    failures: Vec<Want>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Want {
    id: String,
    ip: Option<String>,
    regex: Option<usize>,
    time: Option<f64>,
    user: Option<String>,
    lines: Option<usize>,
}

fn check(want: &Want, got: &Failure) -> Result<(), String> {
    let mut errs = Vec::new();
    if got.id != want.id {
        errs.push(format!("id {:?} != {:?}", got.id, want.id));
    }
    if let Some(ip) = &want.ip {
        if got.ip.map(|i| i.to_string()).as_deref() != Some(ip.as_str()) {
            errs.push(format!("ip {:?} != {ip:?}", got.ip));
        }
    }
    if want.regex.is_some_and(|r| r != got.regex) {
        errs.push(format!("regex {} != {:?}", got.regex, want.regex));
    }
    if want.time.is_some_and(|t| t != got.time) {
        errs.push(format!("time {} != {:?}", got.time, want.time));
    }
    if let Some(u) = &want.user {
        if got.tags.get("user") != Some(u) {
            errs.push(format!("user {:?} != {u:?}", got.tags.get("user")));
        }
    }
    if want.lines.is_some_and(|n| n != got.lines.len()) {
        errs.push(format!("{} lines != {:?}", got.lines.len(), want.lines));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join(", "))
    }
}

fn run_case(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let case: Case = toml::from_str(&text).map_err(|e| e.to_string())?;
    let def = match (&case.builtin, &case.def) {
        (Some(n), None) => builtin_filter(n).ok_or(format!("no built-in filter {n}"))?,
        (None, Some(d)) => d.clone(),
        _ => return Err("give exactly one of `builtin` and `[def]`".into()),
    };
    let defaults = FilterSettings::default();
    let settings = FilterSettings {
        usedns: case
            .settings
            .usedns
            .as_deref()
            .map_or(defaults.usedns, UseDns::parse),
        check_all: case.settings.check_all.unwrap_or(defaults.check_all),
        raw_host: case.settings.raw_host.unwrap_or(defaults.raw_host),
        ..defaults
    };
    let mut filter = Filter::new(&def, &case.options, &settings).map_err(|e| e.to_string())?;
    for (i, l) in case.line.iter().enumerate() {
        let got = filter.process_line(&l.text, case.now);
        if got.len() != l.failures.len() {
            return Err(format!(
                "line {}: {} failures, want {}: {got:?}",
                i + 1,
                got.len(),
                l.failures.len()
            ));
        }
        for (w, g) in l.failures.iter().zip(&got) {
            check(w, g).map_err(|e| format!("line {}: {e}", i + 1))?;
        }
    }
    Ok(())
}

#[test]
fn filter_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/filter");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("testdata/filter")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    let failed: Vec<String> = paths
        .iter()
        .filter_map(|p| run_case(p).err().map(|e| format!("{}: {e}", p.display())))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
