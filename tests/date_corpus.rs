//! fail2ban's sample corpus, date side: every failJSON "time" of the installed fail2ban 1.0.2
//! samples must equal the date fail2zig's `DateDetector` gives the line (with processLine's
//! "recent last date" fallbacks), under the harness TZ and clock (spec §5.2). The evaluations are
//! listed by `tools/date-corpus.py`, which reads fail2ban's own files at test time.

use std::collections::HashMap;
use std::process::Command;

use fail2zig::date::{DateDetector, DateFail, TimeZone};

const HARNESS_TZ: &str = "CET-01CEST-02,M3.5.0,M10.5.0";
const TEST_NOW: f64 = 1_124_013_600.0;

#[derive(serde::Deserialize)]
struct Eval {
    test: String,
    engine: String,
    datepattern: Option<String>,
    journal: bool,
    line: String,
    want: Option<f64>,
}

struct Engine {
    det: DateDetector,
    last_date: Option<f64>,
}

/// fail2ban's `processLine` date choice (spec §3.2) with checkFindTime off. `Err` = line aborted.
fn line_date(e: &mut Engine, line: &str, now: f64) -> Result<Option<f64>, DateFail> {
    let recent = |d: Option<f64>| d.filter(|&d| d != 0.0 && d > now - 60.0);
    let mut date = None;
    if let Some(hit) = e.det.detect(line, now) {
        if hit.span.0 != hit.span.1 {
            match hit.time {
                Ok(t) => {
                    date = Some(t);
                    e.last_date = Some(t);
                }
                Err(DateFail::Invalid) => {}
                Err(DateFail::UnknownZone) => return Err(DateFail::UnknownZone),
            }
        } else {
            date = Some(recent(e.last_date).unwrap_or(now));
        }
    }
    if date.is_none() {
        date = recent(e.last_date);
    }
    Ok(date)
}

#[test]
fn corpus_times_match() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/date-corpus.py");
    let out = Command::new("/usr/bin/python3")
        .arg(script)
        .env("TZ", HARNESS_TZ)
        .output()
        .expect("run tools/date-corpus.py (fail2ban must be installed)");
    assert!(
        out.status.success(),
        "date-corpus.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let evals: Vec<Eval> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(evals.len() > 1500, "only {} evaluations", evals.len());
    let local = TimeZone::from_tz_value(HARNESS_TZ).unwrap();
    let mut engines: HashMap<String, Engine> = HashMap::new();
    let (mut checked, mut failures) = (0, Vec::new());
    for ev in &evals {
        let e = engines.entry(ev.engine.clone()).or_insert_with(|| {
            let mut det = DateDetector::new(ev.datepattern.as_deref(), None)
                .unwrap_or_else(|err| panic!("{}: {err}", ev.test));
            det.set_local_zone(local.clone());
            Engine {
                det,
                last_date: None,
            }
        });
        if ev.journal {
            e.last_date = Some(TEST_NOW);
            continue;
        }
        let got = line_date(e, &ev.line, TEST_NOW);
        if let Some(want) = ev.want {
            checked += 1;
            if got != Ok(Some(want)) {
                failures.push(format!(
                    "{}: {:?}\n   want {want}, got {got:?}",
                    ev.test, ev.line
                ));
            }
        }
    }
    assert!(checked > 800, "only {checked} time checks");
    assert!(
        failures.is_empty(),
        "{} of {checked} times differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
