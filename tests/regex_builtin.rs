//! `fail2zig regex` on a host without a fail2ban configuration: filter names resolve to our
//! built-in filters.

use clap::Parser;
use fail2zig::cli::regex::RegexArgs;
use fail2zig::filter::regex_tool;

#[derive(Parser)]
struct Wrap {
    #[command(flatten)]
    args: RegexArgs,
}

fn run(argv: &[&str]) -> (i32, String) {
    let mut full = vec!["fail2zig-regex"];
    full.extend_from_slice(argv);
    let w = Wrap::try_parse_from(&full).expect("arguments parse");
    let mut out = Vec::new();
    let code = regex_tool::run_to(&w.args, &mut out).expect("runs");
    (code, String::from_utf8(out).expect("utf-8"))
}

#[test]
fn names_resolve_to_builtin_filters_without_fail2ban() {
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = dir.path().to_str().expect("utf-8 path");
    let line =
        "Nov 28 09:16:05 srv sshd[32310]: Failed password for root from 192.0.2.7 port 22 ssh2";
    let (code, out) = run(&["-c", conf, "-o", "<ip> <F-USER>", line, "sshd"]);
    assert_eq!(code, 0);
    assert_eq!(out, "192.0.2.7 root\n");
    let (code, out) = run(&["-c", conf, line, "sshd[mode=aggressive]"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Use   failregex filter file : sshd, basedir: (built-in)")
            && out.contains("Use   filter options : {'mode': 'aggressive'}")
            && out.contains("Lines: 1 lines, 0 ignored, 1 matched, 0 missed"),
        "{out}"
    );
}

#[test]
fn json_prints_one_object_per_failure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = dir.path().to_str().expect("utf-8 path");
    let line = "2023-11-14T22:13:20Z srv sshd[1]: Invalid user admin from 2001:db8::7 port 4711";
    let (code, out) = run(&["-c", conf, "--json", line, "sshd"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(v["ip"], "2001:db8::7");
    assert_eq!(v["user"], "admin");
    assert_eq!(v["time"], 1_700_000_000.0);
    assert_eq!(v["iso"], "2023-11-14T22:13:20Z");
    assert_eq!(v["line"], 1);
}
