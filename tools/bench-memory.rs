//! Memory and speed benchmark of one jail under a flood of unique attacking addresses.
//!
//! Drives N unique addresses (default 1,000,000) through `jail::Jail::on_failure` — the failure
//! window (FailManager) plus the ban table — with maxretry high enough that almost every address
//! is only tracked; one address in 1,000 fails `maxretry` times and is banned. Prints failures/s
//! and the peak resident set size (VmHWM from /proc/self/status). Run it in release through
//! `tools/bench-memory.sh`; options: `--addresses N`, `--max-tracked N`, `--maxretry N`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use fail2zig::filter::Failure;
use fail2zig::jail::{BanHistory, Jail, JailSettings, SystemResolver};

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.windows(2)
        .find(|w| w[0] == name)
        .map_or(default, |w| w[1].parse().expect("numeric option"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addresses = arg(&args, "--addresses", 1_000_000);
    let maxretry = arg(&args, "--maxretry", 5) as u32;
    let mut settings = JailSettings {
        maxretry,
        ignoreself: false,
        ..JailSettings::default()
    };
    settings.max_tracked = arg(&args, "--max-tracked", settings.max_tracked);
    let rss_start = vm_hwm_kib();
    let mut jail = Jail::new("bench", settings.clone(), &SystemResolver).expect("jail");
    let mut history = BanHistory::new();
    let base = 1_795_343_228.0;
    let started = Instant::now();
    let (mut failures, mut bans, mut unbans) = (0u64, 0u64, 0u64);
    for i in 0..addresses {
        // 10.0.0.0/8 and beyond: unique per i
        let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000u32.wrapping_add(i as u32)));
        let now = base + i as f64 * 0.001;
        let repeats = if i % 1000 == 0 { maxretry } else { 1 };
        for _ in 0..repeats {
            let id = ip.to_string();
            let line = format!(
                "Nov 22 10:27:08 testhost sshd[{}]: Failed password for invalid user admin from {id} port 40000 ssh2",
                1000 + i % 30000
            );
            let f = Failure {
                id,
                ip: Some(ip),
                time: now,
                lines: vec![line],
                tags: Default::default(),
                regex: 0,
            };
            for e in jail.on_failure(&f, true, now, &mut history) {
                if matches!(e, fail2zig::jail::JailEvent::Ban { .. }) {
                    bans += 1;
                }
            }
            failures += 1;
        }
        if i % 10_000 == 0 {
            unbans += jail.due_unbans(now).len() as u64;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let status = jail.status();
    println!("addresses           {addresses}");
    println!("failures            {failures}");
    println!("bans / unbans       {bans} / {unbans}");
    println!("max_tracked         {}", settings.max_tracked);
    println!("currently failed    {}", status.currently_failed);
    println!("evicted             {}", status.evicted);
    println!("currently banned    {}", status.currently_banned);
    println!("elapsed             {secs:.3} s");
    println!("failures/s          {:.0}", failures as f64 / secs);
    println!("VmHWM at start      {rss_start} KiB");
    println!(
        "peak RSS (VmHWM)    {} KiB ({:.1} MiB)",
        vm_hwm_kib(),
        vm_hwm_kib() as f64 / 1024.0
    );
}
