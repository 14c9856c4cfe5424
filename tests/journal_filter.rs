//! End to end for `backend = systemd`: a journal file written by systemd-journal-remote, read
//! with the built-in sshd filter's own `journalmatch`, the lines fed to the filter as the daemon
//! does (`process_dated`, `logtype = journal` as fail2ban's `applyAutoOptions` sets for systemd
//! backends), gives the right failures with the entries' times.

use std::collections::BTreeMap;

mod journal_common;

use fail2zig::date::TimeZone;
use fail2zig::filter::ip::FailId;
use fail2zig::filter::{Filter, FilterSettings, builtin_filter};
use fail2zig::watch::journal::{JournalStart, watcher_for_jail};

fn entry(realtime: u64, unit: &str, comm: &str, pid: u32, msg: &str) -> String {
    format!(
        "__REALTIME_TIMESTAMP={realtime}\n__MONOTONIC_TIMESTAMP=1\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=srv\nSYSLOG_IDENTIFIER={comm}\n_COMM={comm}\n_PID={pid}\n_SYSTEMD_UNIT={unit}\nMESSAGE={msg}\n\n"
    )
}

#[test]
fn sshd_jail_on_journal_finds_the_right_failures() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("system.journal");
    let t0 = 1_700_000_000_000_000u64;
    let mut input = String::new();
    let ssh =
        |i: u64, pid: u32, msg: &str| entry(t0 + i * 1_000_000, "sshd.service", "sshd", pid, msg);
    input += &ssh(
        0,
        10,
        "Failed password for root from 192.0.2.1 port 4000 ssh2",
    );
    input += &ssh(1, 11, "Invalid user oracle from 192.0.2.2 port 4001");
    input += &entry(
        t0 + 2_000_000,
        "cron.service",
        "cron",
        5,
        "Failed password for root from 198.51.100.7 port 1 ssh2",
    );
    input += &ssh(
        3,
        12,
        "Failed password for invalid user bob from 192.0.2.1 port 4002 ssh2",
    );
    input += &ssh(
        4,
        13,
        "Accepted publickey for alice from 203.0.113.5 port 4003 ssh2",
    );
    input += &ssh(
        5,
        14,
        "Connection closed by authenticating user root 192.0.2.3 port 4004 [preauth]",
    );
    journal_common::journal_remote(&file, &input, None);

    let def = builtin_filter("sshd").unwrap();
    let mut opts = BTreeMap::new();
    opts.insert("logtype".to_string(), "journal".to_string());
    let mut filter = Filter::new(&def, &opts, &FilterSettings::default()).unwrap();
    assert_eq!(
        filter.journalmatch(),
        ["_SYSTEMD_UNIT=sshd.service + _COMM=sshd"]
    );
    let matches = filter.journalmatch().to_vec();
    let mut w = watcher_for_jail(
        &[dir.path().to_path_buf()],
        &matches,
        JournalStart::Since(1_699_999_000.0),
    )
    .unwrap();
    let lines = w.poll().unwrap();
    assert_eq!(lines.len(), 5, "the cron entry is not selected");
    let zone = TimeZone::utc();
    let now = 1_700_000_100.0;
    let mut got = Vec::new();
    for l in &lines {
        for f in filter.process_dated(l.tuple(&zone), l.time, now).findings {
            if f.is_failure() {
                let ip = match f.ip() {
                    Some(FailId::Addr { addr, .. }) => addr.to_string(),
                    other => format!("{other:?}"),
                };
                got.push((ip, f.time.unwrap()));
            }
        }
    }
    let want: Vec<(String, f64)> = vec![
        ("192.0.2.1".into(), 1_700_000_000.0),
        ("192.0.2.2".into(), 1_700_000_001.0),
        ("192.0.2.1".into(), 1_700_000_003.0),
    ];
    // the cron entry is not selected, the accepted login and the first-contact close are no
    // failures
    assert_eq!(got, want);
}
