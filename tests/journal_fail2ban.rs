//! The rendered journal lines, their date text and time against the installed fail2ban 1.0.2's
//! own `FilterSystemd.formatJournalEntry` (run by `testdata/journal/fail2ban_format.py` on
//! `journalctl -o json` of the same file), for entries covering the formatting edge cases.

use std::io::Write;
use std::process::{Command, Stdio};

use fail2zig::date::TimeZone;
use fail2zig::watch::journal::read_all;

fn run(cmd: &mut Command, input: &[u8]) -> Vec<u8> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{cmd:?} failed");
    out.stdout
}

fn entry(realtime: u64, fields: &[&str]) -> String {
    let mut s = format!(
        "__REALTIME_TIMESTAMP={realtime}\n__MONOTONIC_TIMESTAMP=2500001\n_BOOT_ID=0123456789abcdef0123456789abcdef\n"
    );
    for f in fields {
        s.push_str(f);
        s.push('\n');
    }
    s.push('\n');
    s
}

#[test]
fn lines_equal_fail2bans_format_journal_entry() {
    let t = 1_700_000_000_000_000u64;
    let entries = [
        entry(
            t,
            &[
                "_HOSTNAME=web1",
                "SYSLOG_IDENTIFIER=sshd",
                "_PID=12",
                "MESSAGE=Failed password for root from 192.0.2.1 port 22 ssh2",
            ],
        ),
        entry(
            t + 123_456,
            &[
                "_HOSTNAME=web1",
                "_COMM=sshd",
                "SYSLOG_PID=0x10",
                "MESSAGE=hex",
            ],
        ),
        entry(
            t + 2_000_000,
            &[
                "_HOSTNAME=web1",
                "_COMM=x",
                "SYSLOG_PID=abc",
                "MESSAGE=text pid",
            ],
        ),
        entry(
            t + 3_000_000,
            &[
                "_HOSTNAME=web1",
                "_COMM=x",
                "SYSLOG_PID=0",
                "_PID=55",
                "MESSAGE=zero pid",
            ],
        ),
        entry(
            t + 4_000_000,
            &["SYSLOG_IDENTIFIER=", "_COMM=comm", "MESSAGE=empty ident"],
        ),
        entry(t + 5_000_000, &["_HOSTNAME=", "MESSAGE=no ident"]),
        entry(
            t + 6_000_000,
            &["_HOSTNAME=k", "SYSLOG_IDENTIFIER=kernel", "MESSAGE=klog"],
        ),
        entry(
            t + 7_000_000,
            &[
                "_HOSTNAME=k",
                "SYSLOG_IDENTIFIER=kernel",
                "_SOURCE_MONOTONIC_TIMESTAMP=123456789",
                "MESSAGE=klog2",
            ],
        ),
        entry(
            t + 8_000_000,
            &[
                "_HOSTNAME=h",
                "_COMM=a",
                "_SOURCE_REALTIME_TIMESTAMP=1600000000500000",
                "MESSAGE=source time",
            ],
        ),
        entry(
            t + 9_000_000,
            &["_HOSTNAME=h", "_COMM=a", "MESSAGE=one", "MESSAGE=two"],
        ),
        entry(t + 10_000_000, &["_HOSTNAME=h", "_COMM=a", "_PID=7"]),
        entry(
            t + 11_000_000,
            &["_HOSTNAME=h", "_COMM=a", "_PID=7", "MESSAGE=ünïcødé ✓"],
        ),
    ]
    .concat();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.journal");
    run(
        Command::new("/lib/systemd/systemd-journal-remote")
            .arg(format!("--output={}", f.display()))
            .arg("-"),
        entries.as_bytes(),
    );
    let json = Command::new("journalctl")
        .args(["--file", &f.display().to_string(), "-o", "json"])
        .output()
        .unwrap()
        .stdout;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/journal/fail2ban_format.py"
    );
    let reference = run(Command::new("/usr/bin/python3").arg(script), &json);
    let reference: Vec<(String, String, f64)> = String::from_utf8(reference)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ours: Vec<_> = read_all(&[f], &[]).unwrap().collect();
    assert_eq!(ours.len(), 12);
    assert_eq!(ours.len(), reference.len());
    let zone = TimeZone::local();
    // ours come in realtime order, the reference in file order: the source-time entry moves
    let mut pairs: Vec<_> = ours.iter().collect();
    pairs.sort_by_key(|l| {
        l.cursor
            .split(';')
            .find_map(|p| p.strip_prefix("i="))
            .map(|h| u64::from_str_radix(h, 16).unwrap())
    });
    for (o, (date, text, time)) in pairs.iter().zip(&reference) {
        assert_eq!(&o.text, text);
        let tuple = o.tuple(&zone);
        assert_eq!(tuple.date(), date, "{text}");
        assert_eq!(o.time, *time, "{text}");
    }
}
