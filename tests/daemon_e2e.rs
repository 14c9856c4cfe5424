//! End to end: the real `fail2zig run` in a network namespace of its own, a temporary log, the
//! real kernel's nf_tables read back with `nft -j`, and `fail2zig-client` over the socket.
//!
//! Each test makes its own namespace with `ip netns add` (the host firewall is never touched) and
//! FAILS if it cannot: CI runs as root.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod journal_common;

const A: &str = "192.0.2.10";
const B: &str = "192.0.2.20";
const IGNORED: &str = "198.51.100.5";
const V6: &str = "2001:db8::10";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A namespace, a directory, a config and (when started) a daemon.
struct Env {
    ns: String,
    dir: PathBuf,
    log: PathBuf,
    daemon: Option<Child>,
}

impl Env {
    fn new(extra_jail: &str) -> Env {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let ns = format!("f2z-e2e-{}-{n}", std::process::id());
        let st = Command::new("ip")
            .args(["netns", "add", &ns])
            .status()
            .expect("run ip");
        assert!(
            st.success(),
            "cannot create network namespace {ns} (root and iproute2 needed)"
        );
        let dir = std::env::temp_dir().join(&ns);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("auth.log");
        std::fs::write(&log, "").unwrap();
        let cfg = format!(
            r#"[global]
socket = "{dir}/sock"
state_dir = "{dir}/state"
backend = "nftables"

[defaults]
maxretry = 3
findtime = "10m"
bantime = "10m"

[jails.sshd]
enabled = true
filter = "sshd"
logpath = ["{dir}/auth.log"]
port = "ssh"
ignoreip = ["127.0.0.1/8", "::1", "{IGNORED}"]
{extra_jail}
"#,
            dir = dir.display()
        );
        std::fs::write(dir.join("fail2zig.toml"), cfg).unwrap();
        Env {
            ns,
            dir,
            log,
            daemon: None,
        }
    }

    fn start(&mut self) {
        let err = std::fs::File::create(self.dir.join(format!(
            "daemon-{}.log",
            NEXT.fetch_add(1, Ordering::SeqCst)
        )))
        .unwrap();
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns,
                env!("CARGO_BIN_EXE_fail2zig"),
                "run",
                "-c",
            ])
            .arg(self.dir.join("fail2zig.toml"))
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("start fail2zig run");
        self.daemon = Some(child);
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(30) {
            if self.client(&["ping"]).0.contains("pong") {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("daemon did not answer ping; log:\n{}", self.daemon_log());
    }

    fn daemon_log(&self) -> String {
        let mut out = String::new();
        for e in std::fs::read_dir(&self.dir).unwrap().flatten() {
            if e.file_name().to_string_lossy().starts_with("daemon-") {
                out += &std::fs::read_to_string(e.path()).unwrap_or_default();
            }
        }
        out
    }

    /// Stops the daemon with SIGTERM (or SIGKILL) and waits for it.
    fn stop(&mut self, kill: bool) {
        if let Some(mut c) = self.daemon.take() {
            // `ip netns exec` execs the daemon, so the child's pid is the daemon's.
            let sig = if kill { "-KILL" } else { "-TERM" };
            let _ = Command::new("kill")
                .args([sig, &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }

    fn client(&self, args: &[&str]) -> (String, i32) {
        let out = Command::new(env!("CARGO_BIN_EXE_fail2zig-client"))
            .arg("-s")
            .arg(self.dir.join("sock"))
            .args(args)
            .output()
            .unwrap();
        let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
        s += &String::from_utf8_lossy(&out.stderr);
        (s, out.status.code().unwrap_or(-1))
    }

    fn append(&self, lines: &[String]) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log)
            .unwrap();
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
    }

    /// The elements of the jail's set of `ip`'s family: (address, timeout s, expires s).
    fn kernel(&self, v6: bool) -> Vec<(String, Option<u64>, Option<u64>)> {
        let set = if v6 { "sshd_ipv6" } else { "sshd_ipv4" };
        let out = Command::new("ip")
            .args([
                "netns", "exec", &self.ns, "nft", "-j", "list", "set", "inet", "fail2zig", set,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "nft list set: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut res = Vec::new();
        for item in v["nftables"].as_array().unwrap() {
            let Some(elems) = item["set"]["elem"].as_array() else {
                continue;
            };
            for e in elems {
                if let Some(s) = e.as_str() {
                    res.push((s.to_string(), None, None));
                } else {
                    let el = &e["elem"];
                    res.push((
                        el["val"].as_str().unwrap_or_default().to_string(),
                        el["timeout"].as_u64(),
                        el["expires"].as_u64(),
                    ));
                }
            }
        }
        res
    }

    /// The kernel element of `ip`: (timeout s, expires s).
    fn element(&self, ip: &str) -> Option<(Option<u64>, Option<u64>)> {
        self.kernel(ip.contains(':'))
            .into_iter()
            .find(|(a, _, _)| a == ip)
            .map(|(_, timeout, expires)| (timeout, expires))
    }

    fn banned(&self, ip: &str) -> bool {
        self.element(ip).is_some()
    }

    /// Waits until `ip` is in the kernel set; returns how long it took.
    fn wait_banned(&self, ip: &str, limit: Duration) -> Duration {
        let t = Instant::now();
        while t.elapsed() < limit {
            if self.banned(ip) {
                return t.elapsed();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!(
            "{ip} not banned within {limit:?}; daemon log:\n{}",
            self.daemon_log()
        );
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.stop(true);
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static PID: AtomicUsize = AtomicUsize::new(1000);

/// A syslog sshd failure line dated now, from a new sshd process (sshd's filter tracks
/// connections by pid: a realistic log never reuses one for another host within seconds).
fn fail(ip: &str, n: usize) -> String {
    let pid = PID.fetch_add(1, Ordering::SeqCst);
    let out = Command::new("date")
        .arg("+%b %e %H:%M:%S")
        .output()
        .unwrap();
    let ts = String::from_utf8_lossy(&out.stdout).trim().to_string();
    format!(
        "{ts} host sshd[{pid}]: Failed password for invalid user u{n} from {ip} port {} ssh2",
        40000 + n
    )
}

fn fails(ip: &str, k: usize) -> Vec<String> {
    (0..k).map(|n| fail(ip, n)).collect()
}

fn status_field(status: &str, field: &str) -> String {
    status
        .lines()
        .find(|l| l.contains(field))
        .and_then(|l| l.split('\t').nth(1))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn bans_after_maxretry_not_before_and_never_ignored() {
    let mut env = Env::new("");
    env.start();
    env.append(&fails(B, 2));
    env.append(&fails(IGNORED, 5));
    env.append(&fails(A, 2));
    std::thread::sleep(Duration::from_millis(300));
    assert!(!env.banned(A), "banned before maxretry");
    env.append(&[fail(A, 9)]);
    let took = env.wait_banned(A, Duration::from_secs(5));
    eprintln!("ban reached the kernel {took:?} after the third line (including nft polling)");
    env.append(&fails(V6, 3));
    env.wait_banned(V6, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(300));
    assert!(!env.banned(B), "B had only two failures");
    assert!(!env.banned(IGNORED), "an ignoreip address was banned");
    let (status, rc) = env.client(&["status", "sshd"]);
    assert_eq!(rc, 0, "{status}");
    assert_eq!(status_field(&status, "Currently banned:"), "2", "{status}");
    assert!(
        status_field(&status, "Banned IP list:").contains(A),
        "{status}"
    );
    let (timeout, _) = env.element(A).unwrap();
    // The remaining ban time: the ban started at the line's (whole-second) time.
    assert!(
        matches!(timeout, Some(599..=600)),
        "the kernel timeout is the ban time: {timeout:?}"
    );
}

#[test]
fn restart_and_kill_keep_bans_without_re_adding() {
    let mut env = Env::new("");
    env.start();
    env.append(&fails(A, 3));
    env.wait_banned(A, Duration::from_secs(5));
    let expires = |env: &Env| env.element(A).and_then(|e| e.1).unwrap();
    let before = expires(&env);
    env.stop(false);
    assert!(env.banned(A), "the ban left the kernel at stop");
    std::thread::sleep(Duration::from_millis(1100));
    env.start();
    let after = expires(&env);
    assert!(
        after < before,
        "the element was re-added (expiry {before} -> {after})"
    );
    let (status, _) = env.client(&["status", "sshd"]);
    assert!(
        status_field(&status, "Banned IP list:").contains(A),
        "ban not restored: {status}"
    );
    env.stop(true);
    env.start();
    assert!(env.banned(A));
    let (status, _) = env.client(&["status", "sshd"]);
    assert!(
        status_field(&status, "Banned IP list:").contains(A),
        "ban not restored after kill -9: {status}"
    );
    // The log is not read again: no failure counted twice after the restarts.
    assert_eq!(status_field(&status, "Total failed:"), "0", "{status}");
}

#[test]
fn unban_removes_from_kernel() {
    let mut env = Env::new("");
    env.start();
    env.append(&fails(A, 3));
    env.wait_banned(A, Duration::from_secs(5));
    let (out, rc) = env.client(&["set", "sshd", "unbanip", A]);
    assert_eq!((out.trim(), rc), ("1", 0));
    assert!(!env.banned(A));
    let (out, rc) = env.client(&["set", "sshd", "banip", B]);
    assert_eq!((out.trim(), rc), ("1", 0));
    assert!(env.banned(B));
}

#[test]
fn second_offence_doubles_the_ban() {
    let mut env = Env::new("\"bantime.increment\" = true\nbantime = 2\n");
    env.start();
    env.append(&fails(A, 3));
    env.wait_banned(A, Duration::from_secs(5));
    let t = Instant::now();
    while env.banned(A) && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!env.banned(A), "ban did not expire");
    env.append(&fails(A, 3));
    env.wait_banned(A, Duration::from_secs(5));
    let (timeout, _) = env.element(A).unwrap();
    assert!(
        matches!(timeout, Some(3..=4)),
        "second ban should last 2 x bantime (4 s from the line's whole-second time), got {timeout:?}; log:\n{}",
        env.daemon_log()
    );
}

/// One rotation method applied between the second and the third failure.
fn rotation(method: &str) {
    let mut env = Env::new("");
    env.start();
    env.append(&fails(A, 2));
    std::thread::sleep(Duration::from_millis(300));
    let log = env.log.clone();
    let rotated = env.dir.join("auth.log.1");
    match method {
        "rename" => {
            std::fs::rename(&log, &rotated).unwrap();
            std::fs::write(&log, "").unwrap();
        }
        "copytruncate" => {
            std::fs::copy(&log, &rotated).unwrap();
            std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&log)
                .unwrap();
        }
        "truncate" => {
            std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&log)
                .unwrap();
        }
        _ => unreachable!(),
    }
    std::thread::sleep(Duration::from_millis(300));
    env.append(&[fail(A, 7)]);
    env.wait_banned(A, Duration::from_secs(5));
    let (status, _) = env.client(&["status", "sshd"]);
    assert_eq!(
        status_field(&status, "Total failed:"),
        "3",
        "{method}: a failure lost or counted twice: {status}"
    );
}

#[test]
fn rotation_by_rename_loses_nothing() {
    rotation("rename");
}

#[test]
fn rotation_by_copytruncate_loses_nothing() {
    rotation("copytruncate");
}

#[test]
fn rotation_by_truncate_loses_nothing() {
    rotation("truncate");
}

#[test]
fn no_firewall_means_exit_with_diagnostic() {
    // Without CAP_NET_ADMIN the nftables backend cannot install its table: the daemon must
    // refuse to run rather than pretend to ban.
    let env = Env::new("");
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &env.ns,
            "setpriv",
            "--inh-caps=-net_admin",
            "--bounding-set=-net_admin",
        ])
        .arg(env!("CARGO_BIN_EXE_fail2zig"))
        .arg("run")
        .arg("-c")
        .arg(env.dir.join("fail2zig.toml"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the daemon ran without a firewall: {err}"
    );
    assert!(err.contains("nftables"), "no diagnostic: {err}");
}

#[test]
fn the_daemon_never_execs_or_forks() {
    let mut env = Env::new("");
    env.start();
    let pid = env.daemon.as_ref().unwrap().id().to_string();
    let trace = env.dir.join("strace.out");
    let mut strace = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=execve,execveat,fork,vfork,clone,clone3,poll,ppoll",
            "-o",
        ])
        .arg(&trace)
        .args(["-p", &pid])
        .stderr(Stdio::null())
        .spawn()
        .expect("strace (apt package strace) is needed");
    std::thread::sleep(Duration::from_millis(500));
    env.append(&fails(A, 3));
    env.wait_banned(A, Duration::from_secs(5));
    let (out, _) = env.client(&["set", "sshd", "unbanip", A]);
    assert_eq!(out.trim(), "1");
    let (out, _) = env.client(&["reload"]);
    assert_eq!(out.trim(), "OK", "reload: {out}");
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill")
        .args(["-INT", &strace.id().to_string()])
        .status();
    let _ = strace.wait();
    let seen = std::fs::read_to_string(&trace).unwrap_or_default();
    // The poll calls prove strace was attached and watching.
    assert!(seen.contains("poll("), "strace saw nothing: {seen}");
    let calls: Vec<&str> = seen
        .lines()
        .filter(|l| {
            !l.contains("poll(")
                && !l.contains("+++")
                && !l.contains("---")
                && !l.contains("<unfinished")
                && !l.contains("resumed>")
        })
        .collect();
    assert!(
        calls.is_empty(),
        "the daemon started a process:\n{}",
        calls.join("\n")
    );
}

#[test]
fn sighup_reloads_the_configuration() {
    let mut env = Env::new("");
    env.start();
    assert_eq!(env.client(&["get", "sshd", "maxretry"]).0.trim(), "3");
    let cfg = env.dir.join("fail2zig.toml");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("maxretry = 3", "maxretry = 7");
    std::fs::write(&cfg, text).unwrap();
    let pid = env.daemon.as_ref().unwrap().id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let t = Instant::now();
    while env.client(&["get", "sshd", "maxretry"]).0.trim() != "7" {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "not reloaded; log:\n{}",
            env.daemon_log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The daemon still runs and bans with the new setting.
    env.append(&fails(A, 3));
    std::thread::sleep(Duration::from_millis(300));
    assert!(!env.banned(A), "maxretry 7 after reload");
}

#[test]
fn client_restart_and_reload_of_a_jail() {
    let mut env = Env::new("");
    env.start();
    env.append(&fails(A, 3));
    env.wait_banned(A, Duration::from_secs(5));
    let (out, rc) = env.client(&["restart", "sshd"]);
    assert_eq!(rc, 0, "{out}");
    let (status, _) = env.client(&["status", "sshd"]);
    assert!(
        status_field(&status, "Banned IP list:").contains(A),
        "ban lost by restart: {status}"
    );
    assert!(env.banned(A));
    let (out, rc) = env.client(&["reload", "nosuchjail"]);
    assert_eq!(rc, 255, "{out}");
    assert!(out.contains("No section: 'nosuchjail'"), "{out}");
    let (out, rc) = env.client(&["get", "loglevel"]);
    assert_eq!((out.trim(), rc), ("Current logging level is 'INFO'", 0));
}

/// Writes sshd journal entries (export format) with systemd's own journal-remote.
fn journal_append(file: &std::path::Path, entries: &[(String, &str)]) {
    let mut input = String::new();
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros();
    for (k, (msg, unit)) in entries.iter().enumerate() {
        input += &format!(
            "__CURSOR=c{k}\n__REALTIME_TIMESTAMP={}\n__MONOTONIC_TIMESTAMP={}\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=host\nSYSLOG_IDENTIFIER={comm}\n_COMM={comm}\n_PID={}\n_SYSTEMD_UNIT={unit}\nMESSAGE={msg}\n\n",
            now_us + k as u128,
            1000 + k,
            2000 + k,
            comm = unit.trim_end_matches(".service"),
        );
    }
    journal_common::journal_remote(file, &input, None);
}

#[test]
fn journal_backend_bans_from_a_systemd_journal() {
    let journal = std::env::temp_dir().join(format!("f2z-e2e-journal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&journal);
    std::fs::create_dir_all(&journal).unwrap();
    let file = journal.join("remote.journal");
    let msg = |ip: &str| format!("Failed password for invalid user bob from {ip} port 4242 ssh2");
    // An earlier entry from another unit is never matched.
    journal_append(
        &file,
        &[
            (msg(B), "cron.service"),
            (msg(B), "cron.service"),
            (msg(B), "cron.service"),
        ],
    );
    // fail2ban's sshd jail on Debian: the filter's own journalmatch, logtype=journal implied.
    let extra = format!("backend = \"systemd[journalfiles={}]\"\n", file.display());
    let mut env = Env::new(&extra);
    env.start();
    journal_append(
        &file,
        &[
            (msg(A), "sshd.service"),
            (msg(A), "sshd.service"),
            (msg(A), "sshd.service"),
        ],
    );
    env.wait_banned(A, Duration::from_secs(10));
    assert!(!env.banned(B), "an entry of another unit was matched");
    // A restart continues from the saved cursor: nothing is counted twice.
    env.stop(false);
    env.start();
    let (status, _) = env.client(&["status", "sshd"]);
    assert_eq!(
        status_field(&status, "Total failed:"),
        "0",
        "journal re-read after restart: {status}"
    );
    assert!(
        status_field(&status, "Banned IP list:").contains(A),
        "{status}"
    );
    let _ = std::fs::remove_dir_all(&journal);
}
