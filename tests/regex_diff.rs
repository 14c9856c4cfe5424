//! Differential tests of `fail2zig regex` against the real `fail2ban-regex` (run at test time)
//! on the sample logs of the installed fail2ban package: the `-o '<ip>\t<time>\t<F-USER>'` output
//! must be byte-identical, and so must the default report apart from the elapsed-time line.

use std::path::Path;
use std::process::Command;

use clap::Parser;
use fail2zig::cli::regex::RegexArgs;
use fail2zig::filter::regex_tool;

const LOGS: &str = "/usr/lib/python3/dist-packages/fail2ban/tests/files/logs";

/// The cases: (log file, REGEX argument, extra options).
const CASES: &[(&str, &str, &[&str])] = &[
    ("sshd", "sshd", &[]),
    ("sshd", "sshd[mode=aggressive]", &[]),
    ("apache-auth", "apache-auth", &[]),
    ("named-refused", "named-refused", &[]),
    ("nginx-http-auth", "nginx-http-auth", &[]),
    ("recidive", "recidive", &[]),
    ("mysqld-auth", "mysqld-auth", &[]),
    ("proftpd", "proftpd", &[]),
    ("courier-auth", "courier-auth", &[]),
    ("vsftpd", "vsftpd", &[]),
    ("nginx-limit-req", "nginx-limit-req", &[]),
    ("nginx-botsearch", "nginx-botsearch", &[]),
    ("mongodb-auth", "mongodb-auth", &[]),
    ("selinux-ssh", "selinux-ssh", &[]),
    ("asterisk", "asterisk", &[]),
];

#[derive(Parser)]
struct Wrap {
    #[command(flatten)]
    args: RegexArgs,
}

fn ours(argv: &[&str]) -> String {
    let mut full = vec!["fail2zig-regex"];
    full.extend_from_slice(argv);
    let w = Wrap::try_parse_from(&full).expect("our arguments parse");
    let mut out = Vec::new();
    let code = regex_tool::run_to(&w.args, &mut out).expect("fail2zig regex runs");
    assert_eq!(code, 0, "fail2zig regex {argv:?} exit code");
    String::from_utf8(out).expect("utf-8 output")
}

fn theirs(argv: &[&str]) -> String {
    let out = Command::new("fail2ban-regex")
        .args(argv)
        .output()
        .expect("fail2ban-regex must be installed (package fail2ban)");
    assert!(out.status.success(), "fail2ban-regex {argv:?} failed");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The first differing lines of two outputs.
fn first_difference(a: &str, b: &str) -> String {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    for i in 0..la.len().max(lb.len()) {
        if la.get(i) != lb.get(i) {
            return format!(
                "line {}:\n  fail2ban-regex: {:?}\n  fail2zig:       {:?}",
                i + 1,
                la.get(i),
                lb.get(i)
            );
        }
    }
    "trailing newline differs".to_string()
}

/// Replaces failure times within two minutes of now (lines without a date are dated with the
/// wall clock at output time, which differs between the two runs) by `NOW`.
fn recent_times_as_now(s: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    s.lines()
        .map(|l| {
            l.split("\\t")
                .map(|f| match f.parse::<f64>() {
                    Ok(t) if (now - t).abs() < 120.0 => "NOW".to_string(),
                    _ => f.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\\t")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn without_elapsed(s: &str) -> String {
    s.lines()
        .filter(|l| !l.starts_with("[processed in "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn out_ip_time_user_is_byte_identical() {
    let mut bad = Vec::new();
    for (log, regex, extra) in CASES {
        let log = Path::new(LOGS).join(log);
        let log = log.to_str().expect("utf-8 path");
        let mut argv: Vec<&str> = extra.to_vec();
        argv.extend(["-o", "<ip>\\t<time>\\t<F-USER>", log, regex]);
        let (a, b) = (
            recent_times_as_now(&theirs(&argv)),
            recent_times_as_now(&ours(&argv)),
        );
        if a != b {
            bad.push(format!("{argv:?}: {}", first_difference(&a, &b)));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}

#[test]
fn report_is_identical_but_for_elapsed_time() {
    let mut bad = Vec::new();
    for (log, regex, extra) in CASES {
        let log = Path::new(LOGS).join(log);
        let log = log.to_str().expect("utf-8 path");
        let mut argv: Vec<&str> = extra.to_vec();
        argv.extend([log, regex]);
        let (a, b) = (
            without_elapsed(&theirs(&argv)),
            without_elapsed(&ours(&argv)),
        );
        if a != b {
            bad.push(format!("{argv:?}: {}", first_difference(&a, &b)));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}
