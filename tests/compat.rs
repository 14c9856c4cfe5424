//! The fail2ban sample corpus (failJSON-annotated logs of the installed fail2ban package) against
//! the stock filter.d, through `fail2zig::filter::compat`. Prints one line per filter and the final
//! `N passed, M failed` line. The harness runs in fail2ban's test time zone, so the test re-runs
//! itself with `TZ` set (the date module reads the process zone from `TZ`).

use std::path::Path;
use std::process::Command;

use fail2zig::filter::compat::{self, CorpusPaths, HARNESS_TZ, Source};

const INNER: &str = "FAIL2ZIG_COMPAT_INNER";

fn in_harness_zone(test: &str) -> bool {
    if std::env::var(INNER).is_ok() {
        return true;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("TZ", HARNESS_TZ)
        .env(INNER, "1")
        .output()
        .expect("re-run the test binary");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{test} failed in the harness zone");
    false
}

fn report(source: Source, only: Option<&[&str]>) -> (usize, usize, Vec<String>) {
    let paths = CorpusPaths::default();
    assert!(
        paths.tests.join("files/logs").is_dir(),
        "the fail2ban package (its tests/files/logs) must be installed"
    );
    let mut out = Vec::new();
    let (reports, passed, failed) = compat::run_all(&paths, source, only, &mut out);
    print!("{}", String::from_utf8_lossy(&out));
    let failing = reports
        .iter()
        .filter(|r| !r.failures.is_empty())
        .map(|r| r.name.clone())
        .collect();
    (passed, failed, failing)
}

#[test]
fn compat_stock_filters() {
    if !in_harness_zone("compat_stock_filters") {
        return;
    }
    // FAIL2ZIG_COMPAT_ONLY=sshd,postfix limits the run (for debugging a filter).
    let only_var = std::env::var("FAIL2ZIG_COMPAT_ONLY").ok();
    let only: Option<Vec<&str>> = only_var.as_deref().map(|s| s.split(',').collect());
    let (passed, failed, failing) = report(Source::Stock, only.as_deref());
    if only.is_some() {
        return;
    }
    let listed = compat::read_divergences(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("compat/divergences.txt"),
    );
    for name in &failing {
        assert!(
            listed.contains_key(name),
            "{name} fails ({failed} failed checks in all) and is not listed in compat/divergences.txt"
        );
    }
    for name in listed.keys() {
        assert!(
            failing.contains(name),
            "{name} is listed in compat/divergences.txt but passes: remove it"
        );
    }
    assert!(passed > 0);
}

#[test]
fn compat_builtin_filters() {
    if !in_harness_zone("compat_builtin_filters") {
        return;
    }
    let only_var = std::env::var("FAIL2ZIG_COMPAT_ONLY").ok();
    let names: Vec<&str> = match only_var.as_deref() {
        Some(s) => s.split(',').collect(),
        None => fail2zig::filter::builtin::names(),
    };
    let (passed, failed, failing) = report(Source::Builtin, Some(&names));
    let listed = compat::read_divergences(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("compat/divergences.txt"),
    );
    for name in &failing {
        assert!(
            listed.contains_key(&format!("builtin/{name}")),
            "built-in {name} fails ({failed} failed checks in all) and builtin/{name} is not listed in compat/divergences.txt"
        );
    }
    assert!(passed > 0);
}
