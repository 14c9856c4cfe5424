//! Filter benchmarks (built by `tools/bench-filter.sh` in a scratch project that depends on
//! fail2zig, release mode).
//!
//! `throughput LOG LINES`: writes a deterministic auth.log of LINES lines (mostly benign system
//! noise, ~10% sshd failures from many IPv4/IPv6 addresses) to LOG, then runs `fail2zig regex -o ip
//! LOG sshd` (the library entry point the binary calls) over it and prints lines/s.
//! `lines FILTER FILE`: for each line of FILE, the cost of one `Filter::process` call in the
//! server's first-match mode (best of 15 rounds of 2000 calls), to see where a line shape spends.
//! `hostile`: feeds 1 MB lines and classic ReDoS inputs to every stock filter (all modes as the
//! jail default, `mode=normal`) and prints the work per byte.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use clap::Parser;
use fail2zig::cli::regex::RegexArgs;
use fail2zig::filter::{Filter, FilterSettings, regex_tool};

/// A small deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn ipv4(&mut self) -> String {
        // 20,000 distinct attackers in documentation and random public ranges.
        let k = self.below(20_000);
        format!("{}.{}.{}.{}", 23 + k % 150, (k / 7) % 256, (k / 13) % 256, 1 + k % 254)
    }
    fn ipv6(&mut self) -> String {
        let k = self.below(5_000);
        format!("2001:db8:{:x}:{:x}::{:x}", k % 97, k / 97, 1 + k % 4093)
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn generate(path: &Path, lines: u64) -> std::io::Result<()> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let users = ["root", "admin", "test", "oracle", "ubuntu", "git", "postgres", "user1"];
    for i in 0..lines {
        let t = i * 2;
        let date = format!(
            "{} {:>2} {:02}:{:02}:{:02}",
            MONTHS[((t / 2_592_000) % 12) as usize],
            1 + (t / 86_400) % 28,
            (t / 3600) % 24,
            (t / 60) % 60,
            t % 60
        );
        let pid = 1000 + rng.below(60_000);
        let user = users[rng.below(users.len() as u64) as usize];
        let roll = rng.below(100);
        let msg = if roll < 10 {
            let ip = if rng.below(5) == 0 { rng.ipv6() } else { rng.ipv4() };
            let port = 1024 + rng.below(60_000);
            match rng.below(4) {
                0 => format!("sshd[{pid}]: Failed password for {user} from {ip} port {port} ssh2"),
                1 => format!("sshd[{pid}]: Invalid user {user} from {ip} port {port}"),
                2 => format!(
                    "sshd[{pid}]: Failed password for invalid user {user} from {ip} port {port} ssh2"
                ),
                _ => format!(
                    "sshd[{pid}]: error: maximum authentication attempts exceeded for {user} from {ip} port {port} ssh2 [preauth]"
                ),
            }
        } else {
            match roll % 9 {
                0 => format!(
                    "CRON[{pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"
                ),
                1 => format!("CRON[{pid}]: pam_unix(cron:session): session closed for user root"),
                2 => format!("systemd-logind[812]: New session {pid} of user {user}."),
                3 => format!(
                    "sshd[{pid}]: Accepted publickey for {user} from 10.0.{}.{} port {} ssh2: ED25519 SHA256:9pZ0xq3nKx0oVw5c8mZ1Lr2gF5b3YcS1kXo8Qp3u7Tw",
                    rng.below(256),
                    1 + rng.below(254),
                    1024 + rng.below(60_000)
                ),
                4 => format!(
                    "sshd[{pid}]: pam_unix(sshd:session): session opened for user {user}(uid=1000) by (uid=0)"
                ),
                5 => format!(
                    "sudo:     {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl status nginx"
                ),
                6 => format!(
                    "kernel: [{}.{:06}] [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:5e:6c:00 SRC={} DST=192.0.2.10 LEN=40 PROTO=TCP SPT={} DPT=23",
                    t,
                    rng.below(1_000_000),
                    rng.ipv4(),
                    1024 + rng.below(60_000)
                ),
                7 => format!("systemd[1]: Started Session {pid} of User {user}."),
                _ => format!(
                    "sshd[{pid}]: Received disconnect from 10.0.0.{} port {}:11: disconnected by user",
                    1 + rng.below(254),
                    1024 + rng.below(60_000)
                ),
            }
        };
        writeln!(out, "{date} bastion {msg}")?;
    }
    out.flush()
}

#[derive(Parser)]
struct Wrap {
    #[command(flatten)]
    args: RegexArgs,
}

fn throughput(log: &str, lines: u64) {
    let path = Path::new(log);
    generate(path, lines).expect("write the generated log");
    // One thread, then the default (two on a machine with two cores or more).
    for (what, extra) in [("one thread", &["--threads", "1"][..]), ("default threads", &[])] {
        let mut argv = vec!["fail2zig-regex"];
        argv.extend_from_slice(extra);
        argv.extend(["-o", "ip", log, "sshd"]);
        let args = Wrap::try_parse_from(argv).expect("arguments").args;
        let mut runs = Vec::new();
        let mut failures = 0;
        for _ in 0..5 {
            let mut out = Vec::new();
            let t = Instant::now();
            let code = regex_tool::run_to(&args, &mut out).expect("fail2zig regex runs");
            let secs = t.elapsed().as_secs_f64();
            assert_eq!(code, 0);
            failures = out.iter().filter(|&&b| b == b'\n').count();
            runs.push(secs);
        }
        runs.sort_by(f64::total_cmp);
        let best = runs[0];
        println!(
            "fail2zig regex -o ip {log} sshd ({what}): {lines} lines, {failures} failures, best of 5 {best:.3} s, {:.0} lines/s",
            lines as f64 / best
        );
    }
}

/// Every stock filter with its default options.
fn stock_filters() -> Vec<(String, Filter)> {
    let mut out = Vec::new();
    let dir = Path::new("/etc/fail2ban/filter.d");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("/etc/fail2ban/filter.d")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".conf") && !n.ends_with("common.conf"))
        .map(|n| n.trim_end_matches(".conf").to_string())
        .collect();
    names.sort();
    for n in names {
        let def = match fail2zig::fail2ban::read_filter_with(dir.parent().unwrap(), &n, &BTreeMap::new()) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{n}: {e}");
                continue;
            }
        };
        match Filter::new(&def, &BTreeMap::new(), &FilterSettings::default()) {
            Ok(f) => out.push((n, f)),
            Err(e) => eprintln!("{n}: {e}"),
        }
    }
    out
}

fn hostile() {
    let mb = 1 << 20;
    let inputs: Vec<(&str, String)> = vec![
        ("1 MB of 'a'", "a".repeat(mb)),
        ("1 MB of spaces", " ".repeat(mb)),
        (
            "syslog prefix + 1 MB of 'x '",
            format!("Jan  1 00:00:00 host sshd[1]: {}", "x ".repeat(mb / 2)),
        ),
        (
            "syslog prefix + 1 MB of 'from 1.2.3.4 '",
            format!(
                "Jan  1 00:00:00 host sshd[1]: Failed password for {} port 22 ssh2",
                "from 1.2.3.4 ".repeat(mb / 13)
            ),
        ),
        (
            "1 MB of ':' (IPv6 shapes)",
            format!("Jan  1 00:00:00 host sshd[1]: Invalid user x from {}", ":".repeat(mb)),
        ),
        (
            "1 MB of 'a.' (DNS shapes)",
            format!("Jan  1 00:00:00 host sshd[1]: Invalid user x from {}", "a.".repeat(mb / 2)),
        ),
        (
            "ReDoS (a+)+$ style: 30k 'a' then '!'",
            format!("Jan  1 00:00:00 host x[1]: {}!", "a".repeat(30_000)),
        ),
        (
            "ReDoS nested quantifier: 30k ' ' then 'x'",
            format!("Jan  1 00:00:00 host x[1]: {}x", " ".repeat(30_000)),
        ),
    ];
    let mut filters = stock_filters();
    println!("{} stock filters", filters.len());
    for (label, text) in &inputs {
        let mut worst = (0.0f64, String::new());
        let t = Instant::now();
        for (name, f) in filters.iter_mut() {
            let t1 = Instant::now();
            let _ = f.process_line(text, 1_700_000_000.0);
            let s = t1.elapsed().as_secs_f64();
            if s > worst.0 {
                worst = (s, name.clone());
            }
        }
        let total = t.elapsed().as_secs_f64();
        let bytes = text.len() as f64 * filters.len() as f64;
        println!(
            "{label}: {:.2} ns/byte over all filters ({:.3} s total), worst {} at {:.2} ns/byte",
            total * 1e9 / bytes,
            total,
            worst.1,
            worst.0 * 1e9 / text.len() as f64
        );
    }
}

fn lines(filter: &str, file: &str) {
    let dir = Path::new("/etc/fail2ban");
    let def = match fail2zig::fail2ban::read_filter_with(dir, filter, &BTreeMap::new()) {
        Ok(d) => d,
        Err(_) => fail2zig::filter::builtin_filter(filter).expect("a stock or built-in filter"),
    };
    let mut f = Filter::new(&def, &BTreeMap::new(), &FilterSettings::default()).expect("filter");
    let text = std::fs::read_to_string(file).expect("lines file");
    let now = 1_700_000_000.0;
    for l in text.lines() {
        for _ in 0..1000 {
            f.process(l, now);
        }
        let mut best = f64::MAX;
        let mut found = 0;
        for _ in 0..15 {
            let t = Instant::now();
            for _ in 0..2000 {
                found = f.process(l, now).findings.len();
            }
            best = best.min(t.elapsed().as_nanos() as f64 / 2000.0);
        }
        let shown: String = l.chars().take(90).collect();
        println!("{best:7.0} ns  {found} finding(s)  {shown}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("throughput") => {
            let log = args.get(2).map_or("/tmp/fail2zig-bench-auth.log", String::as_str);
            let lines = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
            throughput(log, lines);
        }
        Some("generate") => {
            let log = args.get(2).map_or("/tmp/fail2zig-bench-auth.log", String::as_str);
            let lines = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
            generate(Path::new(log), lines).expect("write the generated log");
        }
        Some("hostile") => hostile(),
        Some("lines") if args.len() == 4 => lines(&args[2], &args[3]),
        _ => eprintln!("usage: bench_filter throughput [LOG [LINES]] | generate LOG LINES | lines FILTER FILE | hostile"),
    }
}
