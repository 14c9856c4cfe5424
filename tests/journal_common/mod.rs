//! Shared by the journal tests: real journal files written by systemd's own
//! `systemd-journal-remote` from export-format text.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Appends the export-format `input` to the journal file `out` (created if missing).
/// `compact` sets `SYSTEMD_JOURNAL_COMPACT` (None: systemd's default).
pub fn journal_remote(out: &Path, input: &str, compact: Option<bool>) {
    let mut cmd = Command::new("/lib/systemd/systemd-journal-remote");
    cmd.arg(format!("--output={}", out.display()))
        .args(["--split-mode=none", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(c) = compact {
        cmd.env("SYSTEMD_JOURNAL_COMPACT", if c { "1" } else { "0" });
    }
    let mut child = cmd
        .spawn()
        .expect("systemd-journal-remote (apt package systemd-journal-remote)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "journal-remote failed");
}
