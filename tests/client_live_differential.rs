//! Issue 7's acceptance test: the real fail2ban-server 1.0.2 and `fail2zig run`, each in a
//! network namespace of its own, read the same fail2ban configuration and the same log lines;
//! then every command of testdata/live/commands.txt goes to fail2ban-client and to
//! fail2zig-client and their stdout and exit codes must be identical once paths and timestamps
//! are normalised. Expected differences are listed, with a reason, in
//! testdata/live/divergences.txt; they are printed, and a listed entry that never differs fails
//! the test.
//!
//! The configuration is built at test time from the installed fail2ban (jail.conf copied,
//! filter.d and action.d symlinked from /etc/fail2ban), as the reference captures were
//! (/work/shared/spec/fail2ban-captures: `fail2ban-client -c DIR -x start` inside a namespace).
//! Each side has its own copy of the tree under its own root, so the only difference between the
//! two configurations is that root. The test runs as root and FAILS if a namespace cannot be
//! made or fail2ban is not installed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/live");
const F2B_CLIENT: &str = "/usr/bin/fail2ban-client";

const A: &str = "192.0.2.10";
const B: &str = "192.0.2.20";
const C: &str = "192.0.2.30";
const IGNORED: &str = "198.51.100.5";

/// One server: its namespace, its root (etc/ and run/ below it) and how to reach it.
struct Side {
    ns: String,
    root: PathBuf,
    client: PathBuf,
    zig: bool,
    /// `fail2zig run` (`ip netns exec` execs it, so this is the daemon's pid).
    daemon: Option<Child>,
}

impl Side {
    fn new(name: &str, zig: bool, base: &Path) -> Side {
        let ns = format!("f2z-live-{name}-{}", std::process::id());
        let _ = Command::new("ip")
            .args(["netns", "del", &ns])
            .stderr(Stdio::null())
            .status();
        let st = Command::new("ip")
            .args(["netns", "add", &ns])
            .status()
            .expect("run ip");
        assert!(
            st.success(),
            "cannot create network namespace {ns} (root and iproute2 needed)"
        );
        let root = base.join(name);
        write_config(&root);
        let client = if zig {
            PathBuf::from(env!("CARGO_BIN_EXE_fail2zig-client"))
        } else {
            PathBuf::from(F2B_CLIENT)
        };
        Side {
            ns,
            root,
            client,
            zig,
            daemon: None,
        }
    }

    fn sock(&self) -> PathBuf {
        self.root.join("run/server.sock")
    }

    fn start(&mut self) {
        let etc = self.root.join("etc");
        let log = std::fs::File::create(self.root.join("run/start.log")).unwrap();
        let mut cmd = Command::new("ip");
        // A fixed hash seed makes fail2ban's set orders (ignoreip) the same on every run.
        cmd.args(["netns", "exec", &self.ns])
            .env("TZ", "UTC")
            .env("PYTHONHASHSEED", "0");
        if self.zig {
            cmd.arg(env!("CARGO_BIN_EXE_fail2zig"))
                .arg("run")
                .arg("-c")
                .arg(&etc)
                .arg("-s")
                .arg(self.sock())
                .arg("--state-dir")
                .arg(self.root.join("state"))
                .stdout(Stdio::null())
                .stderr(log);
            self.daemon = Some(cmd.spawn().expect("start fail2zig run"));
        } else {
            let st = cmd
                .arg(F2B_CLIENT)
                .arg("-c")
                .arg(&etc)
                .args(["-x", "start"])
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .status()
                .expect("start fail2ban (apt package fail2ban)");
            assert!(st.success(), "fail2ban did not start: {}", self.start_log());
        }
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(30) {
            if self.run(&["ping"]).0.contains("pong") {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "{} did not answer ping; log:\n{}",
            self.ns,
            self.start_log()
        );
    }

    fn start_log(&self) -> String {
        let mut s = std::fs::read_to_string(self.root.join("run/start.log")).unwrap_or_default();
        s += &std::fs::read_to_string(self.root.join("run/server.log")).unwrap_or_default();
        s
    }

    /// Runs the side's client: (stdout, stderr, exit code).
    fn run(&self, args: &[&str]) -> (String, String, i32) {
        let out = Command::new(&self.client)
            .arg("-c")
            .arg(self.root.join("etc"))
            .arg("-s")
            .arg(self.sock())
            .args(args)
            .env("TZ", "UTC")
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", self.client.display()));
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code().unwrap_or(-1),
        )
    }

    fn append(&self, log: &str, lines: &[String]) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.root.join("run").join(log))
            .unwrap();
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        // fail2ban stops by command; only a server that did not answer is killed by its pid.
        let stopped = self.zig || self.run(&["stop"]).2 == 0;
        if let Some(mut c) = self.daemon.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if !stopped && let Ok(p) = std::fs::read_to_string(self.root.join("run/server.pid")) {
            let _ = Command::new("kill").args(["-KILL", p.trim()]).status();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

/// The fail2ban configuration tree under `root`/etc, logs under `root`/run.
fn write_config(root: &Path) {
    let etc = root.join("etc");
    let run = root.join("run");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(&run).unwrap();
    let sys = Path::new("/etc/fail2ban");
    assert!(
        sys.join("jail.conf").is_file(),
        "fail2ban is not installed (apt package fail2ban)"
    );
    for f in std::fs::read_dir(sys).unwrap().flatten() {
        let name = f.file_name().to_string_lossy().into_owned();
        if name == "jail.conf" || (name.starts_with("paths-") && name.ends_with(".conf")) {
            std::fs::copy(f.path(), etc.join(&name)).unwrap();
        }
    }
    for d in ["filter.d", "action.d"] {
        std::os::unix::fs::symlink(sys.join(d), etc.join(d)).unwrap();
    }
    let run_s = run.display();
    std::fs::write(
        etc.join("fail2ban.conf"),
        format!(
            "[Definition]\nloglevel = INFO\nlogtarget = {run_s}/server.log\n\
             socket = {run_s}/server.sock\npidfile = {run_s}/server.pid\n\
             dbfile = {run_s}/server.sqlite3\ndbpurgeage = 1d\n"
        ),
    )
    .unwrap();
    std::fs::write(
        etc.join("jail.local"),
        format!(
            "[DEFAULT]\nbanaction = nftables-multiport\nmaxretry = 3\nfindtime = 10m\n\
             bantime = 10m\nignoreip = 127.0.0.1/8 ::1 {IGNORED}\nbackend = polling\n\n\
             [sshd]\nenabled = true\nlogpath = {run_s}/auth.log\n\n\
             [sshd2]\nenabled = true\nfilter = sshd\nport = 2222\nlogpath = {run_s}/auth2.log\n"
        ),
    )
    .unwrap();
    std::fs::write(run.join("auth.log"), "").unwrap();
    std::fs::write(run.join("auth2.log"), "").unwrap();
}

/// Syslog sshd failures of `ip`, dated now, each from its own sshd pid.
fn fails(ip: &str, k: usize, pid0: usize) -> Vec<String> {
    let out = Command::new("date")
        .arg("+%b %e %H:%M:%S")
        .env("TZ", "UTC")
        .output()
        .unwrap();
    let ts = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (0..k)
        .map(|n| {
            format!(
                "{ts} host sshd[{}]: Failed password for invalid user u{n} from {ip} port {} ssh2",
                pid0 + n,
                40000 + n
            )
        })
        .collect()
}

/// Replaces the side's root by `<ROOT>` and `YYYY-MM-DD HH:MM:SS` timestamps by `<TIME>`.
fn normalise(text: &str, root: &Path) -> String {
    let s = text.replace(&root.display().to_string(), "<ROOT>");
    let b = s.as_bytes();
    let shape = b"dddd-dd-dd dd:dd:dd";
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let m = i + shape.len() <= b.len()
            && shape.iter().zip(&b[i..]).all(|(p, c)| match p {
                b'd' => c.is_ascii_digit(),
                p => p == c,
            });
        if m {
            out.push_str("<TIME>");
            i += shape.len();
        } else {
            let ch = s[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn data_lines(name: &str) -> Vec<String> {
    std::fs::read_to_string(Path::new(DATA).join(name))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Waits until both sides show `want` in `status JAIL` and the answers stop changing.
fn settle(sides: &[&Side], jail: &str, want: &str) {
    let t = Instant::now();
    let mut last: Vec<String> = Vec::new();
    loop {
        let now: Vec<String> = sides.iter().map(|s| s.run(&["status", jail]).0).collect();
        if now.iter().all(|s| s.contains(want)) && now == last {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "{jail} did not settle on {want:?}: {now:#?}\nreference log:\n{}\nfail2zig log:\n{}",
            sides[0].start_log(),
            sides[1].start_log()
        );
        last = now;
        std::thread::sleep(Duration::from_millis(700));
    }
}

#[test]
fn same_answers_as_a_real_fail2ban_server() {
    assert!(
        Path::new(F2B_CLIENT).is_file() && Path::new("/usr/bin/fail2ban-server").is_file(),
        "fail2ban is not installed (apt package fail2ban)"
    );
    let base = tempfile::Builder::new()
        .prefix("f2z-live-")
        .tempdir()
        .unwrap();
    let mut reference = Side::new("ref", false, base.path());
    let mut zig = Side::new("zig", true, base.path());
    reference.start();
    zig.start();
    let mut sshd = fails(A, 3, 1000);
    sshd.extend(fails(B, 2, 1100));
    sshd.extend(fails(IGNORED, 3, 1200));
    let sshd2 = fails(C, 3, 1300);
    for side in [&reference, &zig] {
        side.append("auth.log", &sshd);
        side.append("auth2.log", &sshd2);
    }
    settle(&[&reference, &zig], "sshd", "Currently banned:\t1");
    settle(&[&reference, &zig], "sshd2", "Currently banned:\t1");

    let divergences: Vec<(String, String)> = data_lines("divergences.txt")
        .into_iter()
        .map(|l| {
            let (c, r) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("divergences.txt: no tab in {l:?}"));
            (c.to_string(), r.to_string())
        })
        .collect();
    let (mut same, mut expected, mut failures) = (0, 0, Vec::new());
    let mut diverged = vec![false; divergences.len()];
    for line in data_lines("commands.txt") {
        let args: Vec<&str> = line.split_whitespace().collect();
        let (ro, re, rrc) = reference.run(&args);
        let (zo, ze, zrc) = zig.run(&args);
        let ro = normalise(&ro, &reference.root);
        let zo = normalise(&zo, &zig.root);
        let listed = divergences.iter().position(|(c, _)| *c == line);
        let reason = listed.map(|i| &divergences[i].1);
        let report = format!(
            "$ {line}\n--- fail2ban (rc={rrc}) ---\n{ro}{}\n--- fail2zig (rc={zrc}) ---\n{zo}{}",
            tail(&re),
            tail(&ze)
        );
        match (ro == zo && rrc == zrc, reason) {
            (true, _) => same += 1,
            (false, Some(r)) => {
                expected += 1;
                diverged[listed.unwrap_or_default()] = true;
                eprintln!("expected divergence ({r}):\n{report}\n");
            }
            (false, None) => failures.push(report),
        }
    }
    for ((command, _), seen) in divergences.iter().zip(&diverged) {
        if !seen {
            failures.push(format!(
                "stale entry in divergences.txt: {command:?} answered the same every time"
            ));
        }
    }
    eprintln!(
        "{same} commands answered the same, {expected} listed divergences, {} failures",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} commands answered differently:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The last lines of a client's stderr, shown (not compared) when answers differ.
fn tail(stderr: &str) -> String {
    if stderr.is_empty() {
        return String::new();
    }
    format!("[stderr] {}", stderr.lines().last().unwrap_or_default())
}
