//! The line gate (`filter::composed`) never changes a result: every stock filter of the installed
//! fail2ban, in its default mode and in every mode its `mode` option lists, runs over its sample
//! log in server (first-match) mode with and without the gate, and the findings must be equal.
//! Also run on the generated benchmark shapes of `testdata/filter/gate-lines.log`.

use std::collections::BTreeMap;
use std::path::Path;

use fail2zig::filter::engine::{Filter, FilterSettings, UseDns};

const CONFDIR: &str = "/etc/fail2ban";
const LOGS: &str = "/usr/lib/python3/dist-packages/fail2ban/tests/files/logs";

fn settings() -> FilterSettings {
    FilterSettings {
        usedns: UseDns::No,
        ..FilterSettings::default()
    }
}

/// The findings of every line, as comparable text.
fn run(f: &mut Filter, lines: &[String]) -> Vec<String> {
    let now = 1_700_000_000.0;
    let mut out = Vec::new();
    for (n, l) in lines.iter().enumerate() {
        for x in f.process(l, now).findings {
            out.push(format!(
                "{n}: regex {} id {:?} time {:?} {:?}",
                x.regex,
                x.id.map(|i| i.to_string()),
                x.time,
                x.data.groups
            ));
        }
    }
    out
}

/// fail2ban's stock modes; a filter without one fails to read and is skipped.
const MODES: [&str; 7] = [
    "normal",
    "ddos",
    "extra",
    "aggressive",
    "more",
    "auth",
    "fallback",
];

#[test]
fn gate_never_changes_a_result() {
    assert!(
        Path::new(CONFDIR).join("filter.d").is_dir() && Path::new(LOGS).is_dir(),
        "fail2ban is not installed (tools/setup.sh installs it)"
    );
    let mut shapes = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/filter/gate-lines.log"),
    )
    .expect("testdata/filter/gate-lines.log");
    shapes.push('\n');
    let mut compared = 0;
    let mut names: Vec<_> = std::fs::read_dir(Path::new(CONFDIR).join("filter.d"))
        .expect("filter.d")
        .filter_map(|e| {
            let p = e.ok()?.path();
            let n = p.file_name()?.to_str()?.strip_suffix(".conf")?.to_string();
            Some(n)
        })
        .collect();
    names.sort();
    for name in names {
        let log = Path::new(LOGS).join(&name);
        let mut text = std::fs::read_to_string(&log).unwrap_or_default();
        text.push_str(&shapes);
        let lines: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(str::to_string)
            .collect();
        let modes = std::iter::once(None).chain(MODES.iter().map(|m| Some(m.to_string())));
        for mode in modes {
            let mut opts = BTreeMap::new();
            if let Some(m) = &mode {
                opts.insert("mode".to_string(), m.clone());
            }
            let Ok(def) = fail2zig::fail2ban::read_filter_with(Path::new(CONFDIR), &name, &opts)
            else {
                continue;
            };
            let (Ok(mut gated), Ok(mut plain)) = (
                Filter::new(&def, &BTreeMap::new(), &settings()),
                Filter::new(&def, &BTreeMap::new(), &settings()),
            ) else {
                continue;
            };
            plain.disable_line_gate();
            let (a, b) = (run(&mut gated, &lines), run(&mut plain, &lines));
            assert_eq!(
                a, b,
                "filter {name} mode {mode:?}: the gate changed a result"
            );
            compared += 1;
        }
    }
    assert!(compared > 150, "only {compared} filter/mode pairs compared");
}
