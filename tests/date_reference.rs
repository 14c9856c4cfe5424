//! Differential test: fail2zig's `DateDetector` against the installed fail2ban 1.0.2's own
//! `DateDetector` (driven by `tools/date-reference.py` at test time), on generated lines that
//! exercise every default template, `{^LN-BEG}`, `-d` patterns, `--timezone` and local zones.

#[path = "../tools/date_gen.rs"]
#[allow(dead_code)]
mod date_gen;

use std::io::Write;
use std::process::{Command, Stdio};

use fail2zig::date::{DateDetector, DateFail, TimeZone};

#[derive(serde::Serialize)]
struct Job<'a> {
    datepattern: Option<&'a str>,
    timezone: Option<&'a str>,
    now: f64,
    lines: &'a [String],
}

fn reference(tz: &str, jobs: &[Job<'_>]) -> Vec<serde_json::Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/date-reference.py");
    let mut child = Command::new("/usr/bin/python3")
        .arg(script)
        .env("TZ", tz)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run /usr/bin/python3 tools/date-reference.py (fail2ban must be installed)");
    let mut input = String::new();
    for j in jobs {
        input.push_str(&serde_json::to_string(j).unwrap());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "reference driver failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn py_repr(t: f64, integral: bool) -> String {
    if integral {
        format!("{}", t as i64)
    } else if t.fract() == 0.0 {
        format!("{t:.1}")
    } else {
        format!("{t}")
    }
}

fn ours(job: &Job<'_>, tz: &str) -> serde_json::Value {
    let mut det = DateDetector::new(job.datepattern, job.timezone).unwrap();
    det.set_local_zone(TimeZone::from_tz_value(tz).unwrap());
    let names: Vec<String> = det.template_names().to_vec();
    let mut results = Vec::new();
    for line in job.lines {
        let v = match det.detect(line, job.now) {
            None => {
                serde_json::json!({"template": null, "span": null, "time": null, "error": null})
            }
            Some(h) => {
                let empty = h.span.0 == h.span.1;
                let (time, error) = match (empty, h.time) {
                    (true, _) => (None, None),
                    (false, Ok(t)) => (Some(py_repr(t, h.integral)), None),
                    (false, Err(DateFail::Invalid)) => (None, Some("value")),
                    (false, Err(DateFail::UnknownZone)) => (None, Some("abort")),
                };
                serde_json::json!({"template": names[h.template], "span": [h.span.0, h.span.1],
                    "time": time, "error": error})
            }
        };
        results.push(v);
    }
    // Name, hits, fail2ban's regex (what `--VD` prints) and base weight, in current order.
    let stats: Vec<serde_json::Value> = det
        .template_stats()
        .into_iter()
        .zip(det.template_details())
        .map(|((n, h), (_, _, weight, _, regex))| serde_json::json!([n, h, regex, weight]))
        .collect();
    serde_json::json!({"results": results, "stats": stats})
}

fn compare(tz: &str, jobs: &[Job<'_>]) {
    let refs = reference(tz, jobs);
    assert_eq!(refs.len(), jobs.len());
    let mut failures = Vec::new();
    for (job, want) in jobs.iter().zip(&refs) {
        let got = ours(job, tz);
        for (i, line) in job.lines.iter().enumerate() {
            let (g, w) = (&got["results"][i], &want["results"][i]);
            if g != w {
                failures.push(format!(
                    "TZ={tz} dp={:?} tz={:?} line {i} {line:?}\n   want {w}\n    got {g}",
                    job.datepattern, job.timezone
                ));
            }
        }
        if failures.is_empty() && got["stats"] != want["stats"] {
            failures.push(format!(
                "TZ={tz} dp={:?}: template order/hits differ\n   want {}\n    got {}",
                job.datepattern, want["stats"], got["stats"]
            ));
        }
    }
    let n = failures.len();
    failures.truncate(25);
    assert!(n == 0, "{n} differences:\n{}", failures.join("\n"));
}

const HARNESS_TZ: &str = "CET-01CEST-02,M3.5.0,M10.5.0";
const TEST_NOW: f64 = 1_124_013_600.0;

#[test]
fn default_templates_match_fail2ban() {
    let lines = date_gen::lines(0x5eed, 1500);
    let jobs = [
        Job {
            datepattern: None,
            timezone: None,
            now: TEST_NOW,
            lines: &lines,
        },
        Job {
            datepattern: Some("{^LN-BEG}"),
            timezone: None,
            now: TEST_NOW,
            lines: &lines,
        },
        Job {
            datepattern: None,
            timezone: Some("UTC+0200"),
            now: TEST_NOW,
            lines: &lines,
        },
        Job {
            datepattern: Some("{^LN-BEG}"),
            timezone: Some("-04:30"),
            now: TEST_NOW,
            lines: &lines,
        },
    ];
    compare(HARNESS_TZ, &jobs);
}

#[test]
fn system_zones_match_fail2ban() {
    let lines = date_gen::lines(0xbeef, 600);
    for tz in ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"] {
        let jobs = [
            Job {
                datepattern: None,
                timezone: None,
                now: 1_700_000_000.0,
                lines: &lines,
            },
            Job {
                datepattern: Some("{^LN-BEG}"),
                timezone: None,
                now: 1_711_850_000.0,
                lines: &lines,
            },
        ];
        compare(tz, &jobs);
    }
}

#[test]
fn datepatterns_match_fail2ban() {
    let lines = date_gen::lines(0xd00d, 400);
    let patterns = [
        "^%Y-%m-%d %H:%M:%S",
        "{UNB}%Y-%m-%d",
        "%d/%b/%Y:%H:%M:%S %z",
        "^[^\\[]*\\[({DATE})",
        "^{DATE}",
        "^<W>{DATE}",
        "EPOCH",
        "{^LN-BEG}Epoch\n{^LN-BEG}",
        "{^LN-BEG}TAI64N\n{^LN-BEG}",
        "LEPOCH",
        "^LEPOCH",
        "{NONE}",
        "{DEFAULT}",
        "^%b %d %H:%M:%S",
        "%ExY-%Exm-%Exd %ExH:%ExM:%ExS",
        "^%Exy%Exm%Exd %k:%M:%S",
        "%a %b %d %H:%M:%S %Y",
        "%A, %B %d %Y %I:%M:%S %p",
        "%b %d %Y %l:%M:%S %p %Z",
        "%Y-%m-%dT%H:%M:%S%Exz",
        "%Y-%m-%d %H:%M:%S %ExZ",
        "%j %Y %H:%M",
        "%Y %U %w %H:%M:%S",
        "%Y %W %a %H:%M:%S",
        "%c",
        "%x %X",
        "\\[%d/%b/%Y %H:%M:%S\\]",
        "^(?P<_sep>[-/])%d",
        "^\\[{EPOCH}\\]",
        "ISO8601",
        "%H:%M:%S",
        "^(?:=[^=]+={3,} )?(%ExY(?P<_sep>[-/.])%m(?P=_sep)%d[T ]%H:%M:%S(?:\\.%f)?(?:%z)?)",
    ];
    let mut jobs = Vec::new();
    for p in &patterns {
        jobs.push(Job {
            datepattern: Some(p),
            timezone: None,
            now: TEST_NOW,
            lines: &lines,
        });
        jobs.push(Job {
            datepattern: Some(p),
            timezone: Some("CET"),
            now: TEST_NOW,
            lines: &lines,
        });
    }
    compare(HARNESS_TZ, &jobs);
}
