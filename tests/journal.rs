//! The journal reader against real journal files written by systemd's own
//! `systemd-journal-remote` at test time, checked against `journalctl --file F -o export`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fail2zig::watch::journal::{JournalLine, JournalStart, JournalWatcher, read_all};

mod journal_common;

const REMOTE: &str = "/lib/systemd/systemd-journal-remote";

/// Writes export-format `input` into the journal file `out` (appending if it exists).
fn remote(out: &Path, input: &str, compact: bool) {
    journal_common::journal_remote(out, input, Some(compact));
}

/// One export-format entry.
fn entry(realtime: u64, fields: &[(&str, &str)]) -> String {
    let mut s = format!("__REALTIME_TIMESTAMP={realtime}\n__MONOTONIC_TIMESTAMP=1500000\n");
    s.push_str("_BOOT_ID=0123456789abcdef0123456789abcdef\n");
    for (k, v) in fields {
        if v.contains('\n') {
            s.push_str(k);
            s.push('\n');
            s.push_str(&String::from_utf8_lossy(&(v.len() as u64).to_le_bytes()));
            s.push_str(v);
            s.push('\n');
        } else {
            s.push_str(&format!("{k}={v}\n"));
        }
    }
    s.push('\n');
    s
}

fn sshd(realtime: u64, pid: u32, msg: &str) -> String {
    let pid = pid.to_string();
    entry(
        realtime,
        &[
            ("_HOSTNAME", "web1"),
            ("SYSLOG_IDENTIFIER", "sshd"),
            ("_COMM", "sshd"),
            ("_PID", &pid),
            ("_SYSTEMD_UNIT", "sshd.service"),
            ("MESSAGE", msg),
        ],
    )
}

/// A mixed set of entries: sshd, cron, a big (compressed) message, a multi-line one, kernel.
fn sample(base: u64) -> String {
    let big = format!(
        "Failed password for root from 192.0.2.9 port 22 ssh2 {}",
        "Z".repeat(4000)
    );
    let mut s = String::new();
    s += &sshd(
        base,
        100,
        "Failed password for root from 192.0.2.1 port 4022 ssh2",
    );
    s += &entry(
        base + 1,
        &[
            ("_HOSTNAME", "web1"),
            ("_COMM", "cron"),
            ("_PID", "7"),
            ("_SYSTEMD_UNIT", "cron.service"),
            ("MESSAGE", "job ran"),
        ],
    );
    s += &sshd(
        base + 2,
        101,
        "Invalid user admin from 192.0.2.2 port 50000",
    );
    s += &sshd(base + 3, 102, &big);
    s += &entry(
        base + 4,
        &[
            ("_HOSTNAME", "web1"),
            ("SYSLOG_IDENTIFIER", "kernel"),
            ("MESSAGE", "line one\nline two"),
        ],
    );
    s += &entry(base + 5, &[("MESSAGE", "no host no ident")]);
    s += &entry(
        base + 6,
        &[
            ("_HOSTNAME", "web1"),
            ("_COMM", "sshd"),
            ("SYSLOG_PID", "0x10"),
            ("MESSAGE", "hex pid"),
        ],
    );
    s
}

/// `journalctl --file F -o export`, entries as field -> values.
fn export(file: &Path) -> Vec<BTreeMap<String, Vec<Vec<u8>>>> {
    let out = Command::new("journalctl")
        .args(["--file", &file.display().to_string(), "-o", "export"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let b = out.stdout;
    let mut entries = Vec::new();
    let mut cur: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    let mut i = 0;
    while i < b.len() {
        let nl = b[i..].iter().position(|&c| c == b'\n').unwrap() + i;
        let line = &b[i..nl];
        if line.is_empty() {
            entries.push(std::mem::take(&mut cur));
            i = nl + 1;
            continue;
        }
        if let Some(eq) = line.iter().position(|&c| c == b'=') {
            let k = String::from_utf8_lossy(&line[..eq]).into_owned();
            cur.entry(k).or_default().push(line[eq + 1..].to_vec());
            i = nl + 1;
        } else {
            let k = String::from_utf8_lossy(line).into_owned();
            let n = u64::from_le_bytes(b[nl + 1..nl + 9].try_into().unwrap()) as usize;
            let v = b[nl + 9..nl + 9 + n].to_vec();
            cur.entry(k).or_default().push(v);
            i = nl + 9 + n + 1;
        }
    }
    entries
}

/// The line fail2ban would build from an exported entry (reference written from
/// `formatJournalEntry`, independent of the library's code).
fn expected(e: &BTreeMap<String, Vec<Vec<u8>>>) -> (String, u64) {
    let get = |k: &str| {
        e.get(k)
            .and_then(|v| v.first())
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .filter(|v| !v.is_empty())
    };
    let mut parts = Vec::new();
    if let Some(h) = get("_HOSTNAME") {
        parts.push(h);
    }
    if let Some(mut id) = get("SYSLOG_IDENTIFIER").or_else(|| get("_COMM")) {
        let pid = get("SYSLOG_PID").or_else(|| get("_PID"));
        if let Some(p) = pid {
            let n = p
                .parse::<i64>()
                .ok()
                .or_else(|| i64::from_str_radix(p.trim_start_matches("0x"), 16).ok());
            id += &format!("[{}]", n.map(|n| n.to_string()).unwrap_or(p));
        }
        id.push(':');
        if id == "kernel:" {
            let m: u64 = get("__MONOTONIC_TIMESTAMP").unwrap().parse().unwrap();
            parts.push(id);
            parts.push(format!("[{:12.6}]", m as f64 / 1e6));
        } else {
            parts.push(id);
        }
    }
    let msgs: Vec<String> = e
        .get("MESSAGE")
        .map(|v| {
            v.iter()
                .map(|m| String::from_utf8_lossy(m).into_owned())
                .collect()
        })
        .unwrap_or_default();
    parts.push(msgs.join(" "));
    let rt = get("__REALTIME_TIMESTAMP").unwrap().parse().unwrap();
    (parts.join(" ").replace('\n', "\\n"), rt)
}

fn lines_of(file: &Path, matches: &[&str]) -> Vec<JournalLine> {
    let m: Vec<String> = matches.iter().map(|s| s.to_string()).collect();
    read_all(&[file.to_path_buf()], &m).unwrap().collect()
}

fn check_against_journalctl(compact: bool) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.journal");
    remote(&f, &sample(1_700_000_000_000_000), compact);
    let ours = lines_of(&f, &[]);
    let theirs = export(&f);
    assert_eq!(ours.len(), theirs.len());
    assert_eq!(ours.len(), 7);
    for (o, t) in ours.iter().zip(&theirs) {
        let (text, rt) = expected(t);
        assert_eq!(o.text, text);
        assert_eq!(o.realtime_us, rt);
        assert_eq!(
            o.time,
            (rt / 1_000_000) as f64 + (rt % 1_000_000) as f64 / 1e6
        );
    }
    assert!(
        ours[3].text.ends_with(&"Z".repeat(4000)),
        "compressed field read"
    );
    assert_eq!(
        ours[4].text,
        "web1 kernel: [    1.500000] line one\\nline two"
    );
    assert_eq!(ours[6].text, "web1 sshd[16]: hex pid");
}

#[test]
fn compact_file_matches_journalctl() {
    check_against_journalctl(true);
}

#[test]
fn regular_file_matches_journalctl() {
    check_against_journalctl(false);
}

#[test]
fn journalmatch_selects_sshd() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.journal");
    remote(&f, &sample(1_700_000_000_000_000), true);
    let got = lines_of(&f, &["_SYSTEMD_UNIT=sshd.service + _COMM=sshd"]);
    let texts: Vec<&str> = got.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts.len(), 4);
    assert!(texts.iter().all(|t| t.starts_with("web1 sshd[")));
    let got = lines_of(&f, &["_SYSTEMD_UNIT=cron.service"]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].text, "web1 cron[7]: job ran");
    // AND of two fields
    assert_eq!(lines_of(&f, &["_COMM=sshd _PID=101"]).len(), 1);
    assert_eq!(lines_of(&f, &["_COMM=cron _PID=101"]).len(), 0);
}

#[test]
fn directory_rotation_append_and_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let mid = dir.path().join("0123456789abcdef0123456789abcdef");
    std::fs::create_dir(&mid).unwrap();
    let a = mid.join("system@0001.journal");
    let base = 1_700_000_000_000_000;
    remote(&a, &sshd(base, 1, "a1"), true);
    std::fs::write(mid.join("user-1000.journal"), b"not read").unwrap();
    let m = vec!["_COMM=sshd".to_string()];
    let mut w = JournalWatcher::new(&[dir.path().to_path_buf()], &m, JournalStart::Head).unwrap();
    let got = w.poll().unwrap();
    assert_eq!(
        got.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        ["web1 sshd[1]: a1"]
    );
    assert!(!got[0].in_operation);
    // a second (rotated-in) file appears
    let b = mid.join("system.journal");
    remote(
        &b,
        &(sshd(base + 10, 2, "b1") + &sshd(base + 11, 2, "b2")),
        true,
    );
    let got = w.poll().unwrap();
    assert_eq!(
        got.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        ["web1 sshd[2]: b1", "web1 sshd[2]: b2"]
    );
    assert!(got[0].in_operation);
    assert!(w.poll().unwrap().is_empty());
    // the file being written to grows
    remote(&b, &sshd(base + 12, 3, "b3"), true);
    let got = w.poll().unwrap();
    assert_eq!(
        got.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        ["web1 sshd[3]: b3"]
    );
    // restart from the cursor: nothing re-read, nothing skipped
    let cursor = w.cursor().unwrap();
    let mut w2 = JournalWatcher::new(
        &[dir.path().to_path_buf()],
        &m,
        JournalStart::Cursor(cursor),
    )
    .unwrap();
    assert!(w2.poll().unwrap().is_empty());
    remote(&b, &sshd(base + 13, 4, "b4"), true);
    let got = w2.poll().unwrap();
    assert_eq!(
        got.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        ["web1 sshd[4]: b4"]
    );
    // since: only the look-back window
    let mut w3 = JournalWatcher::new(
        &[dir.path().to_path_buf()],
        &m,
        JournalStart::Since((base + 11) as f64 / 1e6),
    )
    .unwrap();
    let got = w3.poll().unwrap();
    assert_eq!(
        got.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        ["web1 sshd[2]: b2", "web1 sshd[3]: b3", "web1 sshd[4]: b4"]
    );
    // tail: only what comes later
    let mut w4 = JournalWatcher::new(&[dir.path().to_path_buf()], &m, JournalStart::Tail).unwrap();
    assert!(w4.poll().unwrap().is_empty());
    assert_eq!(w4.files().len(), 2, "user-*.journal is not followed");
    assert_eq!(w.errors() + w2.errors() + w3.errors() + w4.errors(), 0);
}

/// Budget-limited polls deliver everything exactly once.
#[test]
fn small_budget_reads_everything() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.journal");
    let mut s = String::new();
    for i in 0..500u64 {
        s += &sshd(1_700_000_000_000_000 + i, 9, &format!("m{i}"));
    }
    remote(&f, &s, false);
    let mut w = JournalWatcher::new(std::slice::from_ref(&f), &[], JournalStart::Head).unwrap();
    w.set_budget(7);
    let mut n = 0;
    loop {
        let got = w.poll().unwrap();
        for l in &got {
            assert_eq!(l.text, format!("web1 sshd[9]: m{n}"));
            n += 1;
        }
        if !w.has_pending() && got.is_empty() {
            break;
        }
    }
    assert_eq!(n, 500);
}

fn real_file(dir: &Path, compact: bool) -> (PathBuf, Vec<u8>) {
    let f = dir.join("src.journal");
    let mut s = String::new();
    for i in 0..40u64 {
        s += &sample(1_700_000_000_000_000 + i * 10);
    }
    remote(&f, &s, compact);
    let bytes = std::fs::read(&f).unwrap();
    (f, bytes)
}

#[test]
fn truncated_file_reads_valid_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let (f, bytes) = real_file(dir.path(), true);
    let all = lines_of(&f, &[]);
    assert_eq!(all.len(), 280);
    let used = bytes.iter().rposition(|&b| b != 0).unwrap();
    let t = dir.path().join("cut.journal");
    for cut in [used / 2, used * 3 / 4, used, 300, 100] {
        std::fs::write(&t, &bytes[..cut]).unwrap();
        match read_all(std::slice::from_ref(&t), &[]) {
            Ok(it) => {
                let got: Vec<JournalLine> = it.collect();
                assert!(got.len() <= all.len());
                for (g, a) in got.iter().zip(&all) {
                    assert_eq!(g.text, a.text);
                }
            }
            Err(_) => assert!(cut < 4096),
        }
    }
}

/// Random byte flips and truncations of real files never panic and stay bounded.
#[test]
fn fuzzed_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("fuzz.journal");
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for compact in [true, false] {
        let (_, bytes) = real_file(dir.path(), compact);
        let used = bytes.iter().rposition(|&b| b != 0).unwrap() + 1;
        for round in 0..150 {
            let mut b = bytes[..used].to_vec();
            let flips = 1 + rnd() % 16;
            for _ in 0..flips {
                let i = (rnd() as usize) % b.len();
                b[i] = rnd() as u8;
            }
            if round % 3 == 0 {
                let cut = (rnd() as usize) % b.len();
                b.truncate(cut);
            }
            std::fs::write(&t, &b).unwrap();
            if let Ok(it) = read_all(
                std::slice::from_ref(&t),
                &["_COMM=sshd + _SYSTEMD_UNIT=cron.service".to_string()],
            ) {
                let n = it.take(100_000).count();
                assert!(n <= 2000, "bounded by the file (got {n})");
            }
        }
    }
}

/// Reading a file while systemd-journal-remote still has it open (state online) and appends.
#[test]
fn online_file_being_written() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("live.journal");
    let mut child = Command::new(REMOTE)
        .arg(format!("--output={}", f.display()))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let base = 1_700_000_000_000_000;
    let mut w: Option<JournalWatcher> = None;
    let mut seen: Vec<String> = Vec::new();
    for round in 0..3u64 {
        for i in 0..4 {
            let n = round * 4 + i;
            stdin
                .write_all(sshd(base + n, 5, &format!("live{n}")).as_bytes())
                .unwrap();
        }
        stdin.flush().unwrap();
        let want = ((round + 1) * 4) as usize;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while seen.len() < want {
            assert!(
                std::time::Instant::now() < deadline,
                "entries not seen: {seen:?}"
            );
            if w.is_none() && f.exists() {
                w = JournalWatcher::new(&[dir.path().to_path_buf()], &[], JournalStart::Head).ok();
            }
            if let Some(w) = w.as_mut() {
                seen.extend(w.poll().unwrap().into_iter().map(|l| l.text));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    let w = w.as_mut().unwrap();
    seen.extend(w.poll().unwrap().into_iter().map(|l| l.text));
    let want: Vec<String> = (0..12).map(|n| format!("web1 sshd[5]: live{n}")).collect();
    assert_eq!(seen, want);
    assert_eq!(w.errors(), 0);
}
