//! `fail2zig demo`: the real daemon bans an attacker in the kernel firewall of a private network
//! namespace, and shows what an admin would look at.
//!
//! The process first moves into a new network namespace (the host's firewall is never touched),
//! writes a log with benign sshd lines, starts the daemon (embedded sshd jail, nftables backend)
//! on it, appends an attack, and prints the ban log lines (stderr, as the daemon logs them),
//! `fail2zig-client status sshd`, and the jail's set read back from the kernel over netlink.
//! It exits non-zero if the attacker's address did not reach the kernel.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::runtime::{Daemon, DaemonError, Overrides};
use crate::cli::{BackendKind, DemoArgs};
use crate::config::{Config, ConfigError, ConfigSource, EMBEDDED_DEFAULT};
use crate::firewall::nftables::{NftConfig, NftablesBackend};

/// The attacker whose failures cross maxretry.
const ATTACKER_V4: &str = "203.0.113.45";
/// An IPv6 attacker, banned in the jail's IPv6 set.
const ATTACKER_V6: &str = "2001:db8::bad";
/// A user name that looks like an address: it must not be banned (user-name injection).
const INJECTED: &str = "10.9.8.7";
/// The host that tried the injection, once (below maxretry).
const INJECTOR: &str = "192.0.2.50";

/// Why the demo failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot create a private network namespace (run as root)")]
    Namespace(#[source] std::io::Error),
    #[error("demo directory {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("embedded configuration")]
    Config(#[from] ConfigError),
    #[error("the daemon did not start")]
    Daemon(#[from] DaemonError),
    #[error("the daemon did not answer on {0}")]
    NoAnswer(PathBuf),
    #[error("reading the kernel's set back")]
    Kernel(#[source] crate::firewall::nftables::NftError),
    #[error("{0} was not banned in the kernel")]
    NotBanned(String),
    #[error("{0} was banned, but it is a user name injected into the log")]
    Injected(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs the demo.
pub fn demo(args: &DemoArgs) -> Result<(), DemoError> {
    crate::sandbox::unshare_network().map_err(DemoError::Namespace)?;
    let dir = match &args.keep {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("fail2zig-demo-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let result = run_in(&dir);
    if args.keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn run_in(dir: &Path) -> Result<(), DemoError> {
    let log = dir.join("auth.log");
    let socket = dir.join("fail2zig.sock");
    println!("== fail2zig demo: a private network namespace; the host firewall is not touched");
    println!(
        "   log {}, state {}",
        log.display(),
        dir.join("state").display()
    );
    let mut cfg = Config::parse(EMBEDDED_DEFAULT, Path::new("<embedded default>"))?;
    cfg.global.socket = Some(socket.clone());
    cfg.global.state_dir = Some(dir.join("state"));
    cfg.global.backend = Some(BackendKind::Nftables);
    if let Some((_, sshd)) = cfg.jails.0.iter_mut().find(|(n, _)| n == "sshd") {
        sshd.logpath = Some(vec![log.display().to_string()]);
    }
    let text = cfg.to_toml();
    let settings = cfg.resolve(ConfigSource::Embedded, &text, &super::builtin_filter)?;
    let table = settings.nftables_table.clone();
    append(&log, &benign_lines())?;

    let (tx, rx) = std::sync::mpsc::channel();
    let daemon = std::thread::spawn(
        move || match Daemon::start(settings, Overrides::default()) {
            Ok(d) => {
                let _ = tx.send(None);
                d.run()
            }
            Err(e) => {
                let msg = crate::exit::chain(&e);
                let _ = tx.send(Some(msg));
                Err(e)
            }
        },
    );
    if let Ok(Some(msg)) = rx.recv() {
        let _ = daemon.join();
        eprintln!("fail2zig demo: {msg}");
        return Err(DemoError::NoAnswer(socket));
    }
    wait_for(
        &socket,
        Duration::from_secs(10),
        |out| out.contains("pong"),
        &["ping"],
    )
    .ok_or_else(|| DemoError::NoAnswer(socket.clone()))?;

    println!(
        "\n== an attack is appended to the log: 5 failures from {ATTACKER_V4}, 5 from {ATTACKER_V6},"
    );
    println!("   and one from {INJECTOR} with the user name \"{INJECTED}\"\n");
    append(&log, &attack_lines())?;
    let banned = |out: &str| out.contains(ATTACKER_V4) && out.contains(ATTACKER_V6);
    let status = wait_for(
        &socket,
        Duration::from_secs(10),
        banned,
        &["status", "sshd"],
    );

    println!("\n== fail2zig-client status sshd");
    let status = status.unwrap_or_else(|| client(&socket, &["status", "sshd"]));
    print!("{status}");

    println!("\n== the jail's sets, read back from the kernel (table inet {table})");
    let kernel = NftablesBackend::open(NftConfig {
        table: table.clone(),
        ..NftConfig::default()
    })
    .and_then(|mut b| b.list_bans("sshd"))
    .map_err(DemoError::Kernel);
    let _ = client(&socket, &["stop"]);
    let _ = daemon.join();
    let kernel = kernel?;
    for k in &kernel {
        match k.expires_in {
            Some(t) => println!("   {}  expires in {}s", k.ip, t.as_secs()),
            None => println!("   {}  permanent", k.ip),
        }
    }
    let _ = std::io::stdout().flush();
    for want in [ATTACKER_V4, ATTACKER_V6] {
        if !kernel.iter().any(|k| k.ip.to_string() == want) {
            return Err(DemoError::NotBanned(want.into()));
        }
    }
    if kernel.iter().any(|k| k.ip.to_string() == INJECTED) {
        return Err(DemoError::Injected(INJECTED.into()));
    }
    println!("\n== OK: both attackers are banned in the kernel; the injected user name is not.");
    Ok(())
}

/// Runs a client command and returns what it printed.
fn client(socket: &Path, cmd: &[&str]) -> String {
    let mut argv: Vec<std::ffi::OsString> =
        vec!["fail2zig-client".into(), "-s".into(), socket.into()];
    argv.extend(cmd.iter().map(Into::into));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    crate::client::run(argv, &mut out, &mut err);
    out.extend_from_slice(&err);
    String::from_utf8_lossy(&out).into_owned()
}

/// Repeats a client command until its output satisfies `done`, for at most `limit`.
fn wait_for(
    socket: &Path,
    limit: Duration,
    done: impl Fn(&str) -> bool,
    cmd: &[&str],
) -> Option<String> {
    let start = Instant::now();
    while start.elapsed() < limit {
        let out = client(socket, cmd);
        if done(&out) {
            return Some(out);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn append(path: &Path, lines: &[String]) -> Result<(), DemoError> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io(path))?;
    for l in lines {
        writeln!(f, "{l}").map_err(io(path))?;
    }
    Ok(())
}

/// `Mon DD HH:MM:SS` of now, in local time, as syslog writes it.
fn syslog_now() -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = super::runtime::now() as i64;
    let zone = crate::date::TimeZone::local();
    let local = t + i64::from(zone.offset_at(t).0);
    let stamp = super::logfmt::format_utc(local, 0);
    let (date, time) = stamp.split_once(' ').unwrap_or((&stamp, ""));
    let mut parts = date.split('-');
    let (_, m, d) = (
        parts.next(),
        parts.next().unwrap_or("1"),
        parts.next().unwrap_or("1"),
    );
    let month = MONTHS[m.parse::<usize>().unwrap_or(1).clamp(1, 12) - 1];
    let day: u32 = d.parse().unwrap_or(1);
    format!("{month} {day:>2} {}", &time[..8.min(time.len())])
}

fn benign_lines() -> Vec<String> {
    let ts = syslog_now();
    vec![
        format!("{ts} demo sshd[1001]: Server listening on 0.0.0.0 port 22."),
        format!(
            "{ts} demo sshd[1002]: Accepted publickey for admin from 198.51.100.7 port 50022 ssh2: ED25519 SHA256:demo"
        ),
        format!(
            "{ts} demo sshd[1002]: pam_unix(sshd:session): session opened for user admin(uid=1000) by (uid=0)"
        ),
        format!("{ts} demo CRON[1003]: pam_unix(cron:session): session closed for user root"),
    ]
}

fn attack_lines() -> Vec<String> {
    let ts = syslog_now();
    let mut v = Vec::new();
    for i in 0..5 {
        v.push(format!(
            "{ts} demo sshd[{}]: Failed password for root from {ATTACKER_V4} port {} ssh2",
            2000 + i,
            40000 + i
        ));
        v.push(format!(
            "{ts} demo sshd[{}]: Failed password for invalid user oracle from {ATTACKER_V6} port {} ssh2",
            3000 + i,
            41000 + i
        ));
    }
    v.push(format!(
        "{ts} demo sshd[4000]: Failed password for invalid user {INJECTED} from {INJECTOR} port 42000 ssh2"
    ));
    v
}
