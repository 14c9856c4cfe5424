//! fail2zig-client against the captures of the real fail2ban-client: for every case of
//! testdata/client/cases.toml a canned server answers with the value fail2ban's server
//! returned, the built client runs under the name `fail2ban-client`, and its stdout, stderr
//! (time stamps and pids masked) and exit status must equal the capture's bytes.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use fail2zig::ipc::{ErrorKind, RemoteError, Response, Value};
use serde::Deserialize;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/client");
/// The socket path the captures were made with (it does not exist here).
const CAPTURED_SOCKET: &str = "/srv/f2btest/run/fail2ban.sock";

#[derive(Deserialize)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    capture: String,
    #[serde(default)]
    options: Vec<String>,
    args: Vec<String>,
    server: Option<String>,
    rc: Option<i32>,
    divergence: Option<String>,
    #[serde(default)]
    exchange: Vec<Exchange>,
}

#[derive(Deserialize)]
struct Exchange {
    wire: Vec<String>,
    reply: Option<String>,
    error: Option<ErrorSpec>,
}

#[derive(Deserialize)]
struct ErrorSpec {
    kind: String,
    args: String,
    message: String,
}

#[derive(Deserialize)]
struct Divergences {
    filter: BTreeMap<String, Filter>,
    not_reproduced: Vec<NotReproduced>,
}

#[derive(Deserialize)]
struct Filter {
    #[allow(dead_code)]
    reason: String,
    drop_lines_containing: String,
}

#[derive(Deserialize)]
struct NotReproduced {
    capture: String,
    #[allow(dead_code)]
    reason: String,
}

fn response(ex: &Exchange) -> Response {
    match (&ex.reply, &ex.error) {
        (Some(r), None) => Response::Ok(common::py(r)),
        (None, Some(e)) => {
            let kind: ErrorKind =
                serde_json::from_value(serde_json::Value::String(e.kind.clone())).unwrap();
            let Value::Tuple(args) = common::py(&e.args) else {
                panic!("error args must be a tuple: {}", e.args)
            };
            Response::Err(RemoteError {
                kind,
                args,
                message: e.message.clone(),
            })
        }
        _ => panic!("an exchange needs exactly one of reply / error"),
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs one case; returns a description of each mismatch.
fn run_case(case: &Case, div: &Divergences, bin_dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let caps = Path::new(DATA).join("captures");
    let stale_dir = tempfile::tempdir().unwrap();
    let mut canned = None;
    let socket: PathBuf = match case.server.as_deref() {
        Some("none") => {
            assert!(!Path::new(CAPTURED_SOCKET).exists());
            CAPTURED_SOCKET.into()
        }
        Some("stale") => {
            let p = stale_dir.path().join("fail2ban.sock");
            drop(std::os::unix::net::UnixListener::bind(&p).unwrap());
            p
        }
        Some(other) => panic!("unknown server mode {other}"),
        None => {
            let s = common::CannedServer::start(case.exchange.iter().map(response).collect());
            let p = s.path.clone();
            canned = Some(s);
            p
        }
    };
    let client = common::client_as(bin_dir, "fail2ban-client");
    let out = Command::new(&client)
        .args(["-c", "/srv/f2btest/etc", "-s"])
        .arg(&socket)
        .args(&case.options)
        .args(&case.args)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    if let Some(s) = canned {
        let received = s.finish();
        let expected: Vec<Vec<String>> = case.exchange.iter().map(|e| e.wire.clone()).collect();
        if received != expected {
            problems.push(format!(
                "server received {received:?}, expected {expected:?}"
            ));
        }
    }
    let want_out = read(&caps.join(format!("{}.stdout", case.capture)));
    let got_out = String::from_utf8_lossy(&out.stdout);
    if got_out != want_out {
        problems.push(format!("stdout:\n--- got\n{got_out}--- want\n{want_out}"));
    }
    let err_path = caps.join(format!("{}.stderr", case.capture));
    let mut want_err = if err_path.exists() {
        read(&err_path)
    } else {
        String::new()
    };
    want_err = want_err.replace(CAPTURED_SOCKET, &socket.to_string_lossy());
    if let Some(name) = &case.divergence {
        let f = &div.filter[name];
        want_err = want_err
            .lines()
            .filter(|l| !l.contains(&f.drop_lines_containing))
            .map(|l| format!("{l}\n"))
            .collect();
    }
    let (got_err, want_err) = (
        common::normalize_log(&String::from_utf8_lossy(&out.stderr)),
        common::normalize_log(&want_err),
    );
    if got_err != want_err {
        problems.push(format!("stderr:\n--- got\n{got_err}--- want\n{want_err}"));
    }
    let want_rc = case.rc.unwrap_or_else(|| {
        read(&caps.join(format!("{}.rc", case.capture)))
            .trim()
            .parse()
            .unwrap()
    });
    if out.status.code() != Some(want_rc) {
        problems.push(format!("rc {:?}, want {want_rc}", out.status.code()));
    }
    problems
}

#[test]
fn captures_are_reproduced() {
    let cases: Cases = toml::from_str(&read(&Path::new(DATA).join("cases.toml"))).unwrap();
    let div: Divergences =
        toml::from_str(&read(&Path::new(DATA).join("divergences.toml"))).unwrap();
    let bin_dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in &cases.case {
        for p in run_case(case, &div, bin_dir.path()) {
            failures.push(format!("{}: {p}", case.capture));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.case.len(),
        failures.join("\n")
    );
}

/// Every fail2ban-client command of the capture index has a case or a listed divergence.
#[test]
fn every_capture_is_covered() {
    let cases: Cases = toml::from_str(&read(&Path::new(DATA).join("cases.toml"))).unwrap();
    let div: Divergences =
        toml::from_str(&read(&Path::new(DATA).join("divergences.toml"))).unwrap();
    let index = read(&Path::new(DATA).join("captures/INDEX.md"));
    let mut missing = Vec::new();
    for line in index.lines() {
        let Some(rest) = line.strip_prefix("- ") else {
            continue;
        };
        let Some((name, cmd)) = rest.split_once(".txt : ") else {
            continue;
        };
        if !cmd.contains("fail2ban-client") {
            continue;
        }
        let covered = cases.case.iter().any(|c| c.capture == name)
            || div.not_reproduced.iter().any(|d| d.capture == name);
        if !covered {
            missing.push(name.to_string());
        }
    }
    assert!(missing.is_empty(), "captures without a case: {missing:?}");
}
