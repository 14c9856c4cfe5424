//! fail2zig-client against the installed fail2ban-client (the reference) for everything that
//! needs no running server: options, usage, versions, time expressions, client-side argument
//! checks and the errors when no server answers. The cases are testdata/client/differential.txt.

mod common;

use std::path::Path;
use std::process::{Command, Output};

const CASES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/client/differential.txt"
);
const REFERENCE: &str = "/usr/bin/fail2ban-client";

fn run(program: &Path, args: &[String]) -> Output {
    Command::new(program)
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()))
}

/// fail2ban-client -v also logs where it found its settings; those lines are fail2ban's
/// configuration reading, which fail2zig-client does not do.
fn without_config_lines(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|l| {
            !(l.contains("fail2ban.configreader")
                || l.contains("fail2ban.configparserinc")
                || l.contains("Using pid file"))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn same_as_fail2ban_client_without_a_server() {
    assert!(
        Path::new(REFERENCE).exists(),
        "the reference fail2ban-client is not installed (apt-get install fail2ban)"
    );
    let dir = tempfile::tempdir().unwrap();
    let none = dir.path().join("absent.sock");
    let stale = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let ours = common::client_as(dir.path(), "fail2ban-client");
    let text = std::fs::read_to_string(CASES).unwrap();
    let mut failures = Vec::new();
    let mut n = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        n += 1;
        let line = line
            .replace("{none}", &none.to_string_lossy())
            .replace("{stale}", &stale.to_string_lossy());
        let args = fail2zig::client::split_words(&line).expect("balanced quotes");
        let (want, got) = (run(Path::new(REFERENCE), &args), run(&ours, &args));
        if want.stdout != got.stdout {
            failures.push(format!(
                "{line}: stdout\n--- fail2zig\n{}--- fail2ban\n{}",
                String::from_utf8_lossy(&got.stdout),
                String::from_utf8_lossy(&want.stdout)
            ));
        }
        let norm = |o: &Output| {
            common::normalize_log(&without_config_lines(&String::from_utf8_lossy(&o.stderr)))
        };
        if norm(&want) != norm(&got) {
            failures.push(format!(
                "{line}: stderr\n--- fail2zig\n{}--- fail2ban\n{}",
                norm(&got),
                norm(&want)
            ));
        }
        if want.status.code() != got.status.code() {
            failures.push(format!(
                "{line}: rc {:?}, fail2ban {:?}",
                got.status.code(),
                want.status.code()
            ));
        }
    }
    assert!(n >= 40, "only {n} cases");
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
