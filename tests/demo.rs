//! `fail2zig demo` end to end: it makes its own network namespace, bans both attackers in the
//! kernel and shows them read back; it fails (not skips) without root.

use std::process::Command;

#[test]
fn demo_bans_in_the_kernel() {
    let out = Command::new(env!("CARGO_BIN_EXE_fail2zig"))
        .arg("demo")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    for want in [
        "Status for the jail: sshd",
        "203.0.113.45  expires in",
        "2001:db8::bad  expires in",
        "== OK: both attackers are banned in the kernel",
    ] {
        assert!(stdout.contains(want), "{want:?} missing:\n{stdout}");
    }
    assert!(
        stderr.contains("NOTICE  [sshd] Ban 203.0.113.45"),
        "ban log line missing:\n{stderr}"
    );
    assert!(
        !stdout.contains("10.9.8.7  expires"),
        "the injected user name was banned"
    );
}
