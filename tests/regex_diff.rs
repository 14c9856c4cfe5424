//! Differential tests of `fail2zig regex` against the real `fail2ban-regex` (run at test time):
//! the `-o '<ip>\t<time>\t<F-USER>'` output must be byte-identical, and so must the default
//! report apart from the elapsed-time line. The logs are the sample logs of the installed
//! fail2ban package and our own realistic logs (`testdata/regex/`, written by
//! `tools/regex-realistic-logs.py`), each run through every mode of the filters it is for.
//! The cases run on two threads: fail2ban-regex costs ~0.2 s a call.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::Parser;
use fail2zig::cli::regex::RegexArgs;
use fail2zig::filter::regex_tool;

const LOGS: &str = "/usr/lib/python3/dist-packages/fail2ban/tests/files/logs";
const OUR_LOGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/regex");

/// sshd's modes (`mode`: normal, ddos, extra, aggressive) and `publickey` options (nofail,
/// invalid, any, ignore), from /etc/fail2ban/filter.d/sshd.conf.
const SSHD: &[&str] = &[
    "sshd",
    "sshd[mode=ddos]",
    "sshd[mode=extra]",
    "sshd[mode=aggressive]",
    "sshd[publickey=invalid]",
    "sshd[publickey=any]",
    "sshd[publickey=ignore]",
    "sshd[mode=aggressive, publickey=any]",
];
/// postfix.conf's modes (`more` is the default).
const POSTFIX: &[&str] = &[
    "postfix",
    "postfix[mode=normal]",
    "postfix[mode=auth]",
    "postfix[mode=rbl]",
    "postfix[mode=ddos]",
    "postfix[mode=extra]",
    "postfix[mode=aggressive]",
    "postfix[mode=errors]",
];
const DOVECOT: &[&str] = &["dovecot", "dovecot[mode=aggressive]"];
/// The nginx filters, all run on both nginx logs (nginx-botsearch matches error-log lines too).
const NGINX: &[&str] = &[
    "nginx-http-auth",
    "nginx-http-auth[mode=aggressive]",
    "nginx-limit-req",
    "nginx-botsearch",
];

/// fail2ban's sample logs: (log file in `LOGS`, the REGEX arguments to run it through).
const CORPUS: &[(&str, &[&str])] = &[
    ("sshd", SSHD),
    (
        "sshd-journal",
        &[
            "sshd[logtype=journal]",
            "sshd[logtype=journal, mode=aggressive]",
        ],
    ),
    ("postfix", POSTFIX),
    ("dovecot", DOVECOT),
    (
        "nginx-http-auth",
        &["nginx-http-auth", "nginx-http-auth[mode=aggressive]"],
    ),
    ("nginx-limit-req", &["nginx-limit-req"]),
    ("nginx-botsearch", &["nginx-botsearch"]),
    ("apache-auth", &["apache-auth"]),
    ("named-refused", &["named-refused"]),
    ("recidive", &["recidive"]),
    ("mysqld-auth", &["mysqld-auth"]),
    ("proftpd", &["proftpd"]),
    ("courier-auth", &["courier-auth"]),
    ("vsftpd", &["vsftpd"]),
    ("mongodb-auth", &["mongodb-auth"]),
    ("selinux-ssh", &["selinux-ssh"]),
    ("asterisk", &["asterisk"]),
];

/// Our realistic logs: (log file in `OUR_LOGS`, the REGEX arguments to run it through).
const REALISTIC: &[(&str, &[&str])] = &[
    ("realistic-sshd.log", SSHD),
    (
        "realistic-sshd.log",
        &[
            "sshd[logtype=short]",
            "sshd[logtype=rfc5424]",
            "sshd[logtype=rfc5424, mode=aggressive]",
        ],
    ),
    ("realistic-postfix.log", POSTFIX),
    ("realistic-dovecot.log", DOVECOT),
    ("realistic-nginx-error.log", NGINX),
    ("realistic-nginx-access.log", NGINX),
];

/// Every case as (log path, REGEX argument).
fn cases() -> Vec<(String, &'static str)> {
    let tables = [(LOGS, CORPUS), (OUR_LOGS, REALISTIC)];
    let mut all = Vec::new();
    for (dir, table) in tables {
        for (log, regexes) in table {
            let path = Path::new(dir).join(log);
            // A missing file would be taken as a one-line log text by both tools.
            assert!(path.is_file(), "{} is missing", path.display());
            let path = path.to_str().expect("utf-8 path").to_string();
            all.extend(regexes.iter().map(|r| (path.clone(), *r)));
        }
    }
    all
}

/// Runs `check` on every case, two at a time, and returns its complaints in case order.
fn complaints(check: impl Fn(&str, &str) -> Option<String> + Sync) -> Vec<String> {
    let cases = cases();
    let next = AtomicUsize::new(0);
    let mut found: Vec<(usize, String)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut found = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((log, regex)) = cases.get(i) else {
                            return found;
                        };
                        if let Some(c) = check(log, regex) {
                            found.push((i, c));
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("case thread"))
            .collect()
    });
    found.sort();
    found.into_iter().map(|(_, c)| c).collect()
}

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
    let bad = complaints(|log, regex| {
        let argv = ["-o", "<ip>\\t<time>\\t<F-USER>", log, regex];
        let (a, b) = (
            recent_times_as_now(&theirs(&argv)),
            recent_times_as_now(&ours(&argv)),
        );
        (a != b).then(|| format!("{argv:?}: {}", first_difference(&a, &b)))
    });
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}

#[test]
fn report_is_identical_but_for_elapsed_time() {
    let bad = complaints(|log, regex| {
        let argv = [log, regex];
        let (a, b) = (
            without_elapsed(&theirs(&argv)),
            without_elapsed(&ours(&argv)),
        );
        (a != b).then(|| format!("{argv:?}: {}", first_difference(&a, &b)))
    });
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}
