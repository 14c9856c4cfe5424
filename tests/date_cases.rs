//! Data-driven date cases: `testdata/date/*.cases` (line → time, date text, template), checked
//! against fail2zig's `DateDetector` without Python. The expected columns were computed with the
//! installed fail2ban 1.0.2 by `tools/date-cases.py`. Every template of fail2ban's full default
//! list must win at least one case of `default.cases`, and every `{^LN-BEG}` one in `lnbeg.cases`.

use std::collections::BTreeSet;
use std::path::Path;

use fail2zig::date::{DateDetector, DateFail, TimeZone};

struct CaseFile {
    name: String,
    datepattern: Vec<String>,
    timezone: Option<String>,
    tz: String,
    now: f64,
    /// (time, date text, template, line)
    cases: Vec<(String, String, String, String)>,
}

fn read(path: &Path) -> CaseFile {
    let text = std::fs::read_to_string(path).unwrap();
    let mut f = CaseFile {
        name: path.file_name().unwrap().to_string_lossy().into_owned(),
        datepattern: Vec::new(),
        timezone: None,
        tz: "CET-01CEST-02,M3.5.0,M10.5.0".into(),
        now: 1_124_013_600.0,
        cases: Vec::new(),
    };
    for (n, line) in text.lines().enumerate() {
        if let Some(h) = line.strip_prefix("# ") {
            if let Some((k, v)) = h.split_once(": ") {
                match k {
                    "datepattern" => f.datepattern.push(v.to_string()),
                    "timezone" => f.timezone = Some(v.to_string()),
                    "tz" => f.tz = v.to_string(),
                    "now" => f.now = v.parse().unwrap(),
                    _ => {}
                }
            }
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.splitn(4, '\t').collect();
        assert_eq!(
            cols.len(),
            4,
            "{}:{}: want 4 tab-separated columns",
            f.name,
            n + 1
        );
        f.cases.push((
            cols[0].into(),
            cols[1].into(),
            cols[2].into(),
            cols[3].into(),
        ));
    }
    f
}

fn repr(t: f64, integral: bool) -> String {
    if integral {
        format!("{}", t as i64)
    } else if t.fract() == 0.0 {
        format!("{t:.1}")
    } else {
        format!("{t}")
    }
}

/// Runs one file; returns the winning template names.
fn run(f: &CaseFile, failures: &mut Vec<String>) -> (Vec<String>, BTreeSet<String>) {
    let dp = (!f.datepattern.is_empty()).then(|| f.datepattern.join("\n"));
    let mut det = DateDetector::new(dp.as_deref(), f.timezone.as_deref()).unwrap();
    det.set_local_zone(TimeZone::from_tz_value(&f.tz).unwrap());
    let names = det.template_names().to_vec();
    let mut won = BTreeSet::new();
    for (want_time, want_text, want_tpl, line) in &f.cases {
        let got = match det.detect(line, f.now) {
            None => ("none".to_string(), String::new(), String::new()),
            Some(h) => {
                let text = line[h.span.0..h.span.1].to_string();
                let time = match h.time {
                    _ if h.span.0 == h.span.1 => "empty".to_string(),
                    Ok(t) => repr(t, h.integral),
                    Err(DateFail::Invalid) => "invalid".into(),
                    Err(DateFail::UnknownZone) => "abort".into(),
                };
                won.insert(names[h.template].clone());
                (time, text, names[h.template].clone())
            }
        };
        let want = (want_time.clone(), want_text.clone(), want_tpl.clone());
        if got != want {
            failures.push(format!(
                "{}: {line:?}\n   want {want:?}\n    got {got:?}",
                f.name
            ));
        }
    }
    (names, won)
}

#[test]
fn date_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/date");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cases"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "case files missing in {}", dir.display());
    let mut failures = Vec::new();
    let mut count = 0;
    for path in &files {
        let f = read(path);
        count += f.cases.len();
        let (names, won) = run(&f, &mut failures);
        if f.name == "default.cases" || f.name == "lnbeg.cases" {
            for n in &names {
                if !won.contains(n) {
                    failures.push(format!("{}: template {n:?} wins no case", f.name));
                }
            }
        }
    }
    assert!(count > 100, "only {count} cases");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
