//! `fail2zig regex systemd-journal[...] FILTER`: a journal file written at test time by
//! systemd-journal-remote, read natively, matched with the entries' own dates.

use std::process::Command;

mod journal_common;

#[test]
fn regex_reads_a_journal() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.journal");
    let t0: u64 = 1_795_353_373_000_000;
    let mut input = String::new();
    for (k, (unit, ip)) in [
        ("sshd", "192.0.2.77"),
        ("cron", "192.0.2.78"),
        ("sshd", "2001:db8::7"),
    ]
    .iter()
    .enumerate()
    {
        input += &format!(
            "__CURSOR={k}\n__REALTIME_TIMESTAMP={}\n__MONOTONIC_TIMESTAMP={k}\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=host\nSYSLOG_IDENTIFIER={unit}\n_COMM={unit}\n_PID={}\n_SYSTEMD_UNIT={unit}.service\nMESSAGE=Failed password for root from {ip} port 22 ssh2\n\n",
            t0 + k as u64 * 1_000_000,
            100 + k
        );
    }
    journal_common::journal_remote(&file, &input, None);
    let out = Command::new(env!("CARGO_BIN_EXE_fail2zig"))
        .args(["regex", "-o", "<ip> <time>"])
        .arg(format!("systemd-journal[journalfiles={}]", file.display()))
        .args(["-m", "_SYSTEMD_UNIT=sshd.service", "sshd[logtype=journal]"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "192.0.2.77 1795353373.0\n2001:db8::7 1795353375.0\n",
        "only the sshd unit's entries, with the entries' realtime"
    );
}
