//! Benchmark of the nftables backend against `nft`: one ban (element + ACK) p50/p99, and
//! 100,000 bans, each side by side with `nft add element` per address and one `nft -f` file.
//!
//! Changes the firewall of the network namespace it runs in: run it through
//! `tools/bench-nft.sh`, which builds it and runs it under `unshare -n`.
//!
//! usage: bench_nft [--single N] [--bulk N] [--nft-single N] [--nft-per-address N]

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fail2zig::firewall::{
    Backend, BanEntry, BlockType, JailRules, NftConfig, NftablesBackend, probe_nftables,
};

const JAIL: &str = "bench";
const SET: &str = "bench_ipv4";

struct Args {
    single: usize,
    bulk: usize,
    nft_single: usize,
    nft_per_address: usize,
}

fn parse_args() -> Args {
    let mut a = Args {
        single: 5000,
        bulk: 100_000,
        nft_single: 300,
        nft_per_address: 1000,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let v = pair
            .get(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| die(&format!("{} needs a number", pair[0])));
        match pair[0].as_str() {
            "--single" => a.single = v,
            "--bulk" => a.bulk = v,
            "--nft-single" => a.nft_single = v,
            "--nft-per-address" => a.nft_per_address = v,
            o => die(&format!("unknown option {o}")),
        }
    }
    a
}

fn die(msg: &str) -> ! {
    eprintln!("bench_nft: {msg}");
    std::process::exit(2)
}

fn addr(i: usize) -> IpAddr {
    let n = u32::try_from(i).unwrap_or_else(|_| die("too many addresses"));
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
}

fn ban(i: usize) -> BanEntry {
    BanEntry {
        ip: addr(i),
        timeout: Some(Duration::from_secs(600)),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn nft(args: &[&str]) {
    let st = Command::new("nft")
        .args(args)
        .status()
        .unwrap_or_else(|e| die(&format!("cannot run nft: {e}")));
    if !st.success() {
        die(&format!("nft {args:?} failed"));
    }
}

fn flush() {
    nft(&["flush", "set", "inet", "fail2zig", SET]);
}

fn count() -> usize {
    let out = Command::new("nft")
        .args(["-j", "list", "set", "inet", "fail2zig", SET])
        .output()
        .unwrap_or_else(|e| die(&format!("cannot run nft: {e}")));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| die(&format!("nft json: {e}")));
    v["nftables"]
        .as_array()
        .and_then(|a| a.iter().find_map(|o| o.get("set")))
        .and_then(|s| s.get("elem"))
        .and_then(|e| e.as_array())
        .map_or(0, |e| e.len())
}

/// Latencies of `n` single bans through the backend, each its own batch and ACK.
fn single_netlink(b: &mut NftablesBackend, n: usize) -> Vec<Duration> {
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let one = [ban(i)];
        let t = Instant::now();
        b.ban(JAIL, &one)
            .unwrap_or_else(|e| die(&format!("ban: {e}")));
        lat.push(t.elapsed());
    }
    lat.sort();
    lat
}

/// Latencies of `n` `nft add element` processes, one address each.
fn single_nft(n: usize, offset: usize) -> Vec<Duration> {
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let elem = format!("{{ {} timeout 600s }}", addr(offset + i));
        let t = Instant::now();
        nft(&["add", "element", "inet", "fail2zig", SET, &elem]);
        lat.push(t.elapsed());
    }
    lat.sort();
    lat
}

fn nft_file(n: usize) -> Duration {
    let mut text = String::with_capacity(n * 32);
    text.push_str("add element inet fail2zig bench_ipv4 {\n");
    for i in 0..n {
        let _ = writeln!(text, "{} timeout 600s,", addr(i));
    }
    text.push_str("}\n");
    let path = std::env::temp_dir().join(format!("bench-nft-{}.nft", std::process::id()));
    std::fs::write(&path, &text).unwrap_or_else(|e| die(&format!("write {path:?}: {e}")));
    let t = Instant::now();
    let st = Command::new("nft")
        .arg("-f")
        .arg(&path)
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| die(&format!("cannot run nft: {e}")));
    let d = t.elapsed();
    let _ = std::fs::remove_file(&path);
    if !st.success() {
        die("nft -f failed");
    }
    d
}

fn main() {
    let a = parse_args();
    let gen_id = probe_nftables().unwrap_or_else(|e| die(&e.to_string()));
    let mut b = NftablesBackend::open(NftConfig::default()).unwrap_or_else(|e| die(&e.to_string()));
    let rules = JailRules {
        jail: JAIL.into(),
        ports: vec![],
        protocols: vec![],
        blocktype: BlockType::Drop,
    };
    b.start(&[rules]).unwrap_or_else(|e| die(&e.to_string()));
    println!(
        "nf_tables generation {gen_id}; batch limit {} bytes",
        b.max_batch_bytes()
    );

    // --- one ban ---------------------------------------------------------------------------
    let warm = single_netlink(&mut b, a.single.min(200));
    drop(warm);
    flush();
    let nl = single_netlink(&mut b, a.single);
    if count() != a.single {
        die("single bans did not all reach the kernel");
    }
    flush();
    let nf = single_nft(a.nft_single, 0);
    flush();
    let (nl50, nl99) = (percentile(&nl, 0.5), percentile(&nl, 0.99));
    let (nf50, nf99) = (percentile(&nf, 0.5), percentile(&nf, 0.99));
    println!("\none ban (element + ACK), IPv4, timeout 600 s");
    println!(
        "  netlink backend   n={:<7} p50 {:>9.1} us  p99 {:>9.1} us  max {:>9.1} us",
        nl.len(),
        us(nl50),
        us(nl99),
        us(nl[nl.len() - 1])
    );
    println!(
        "  nft add element   n={:<7} p50 {:>9.1} us  p99 {:>9.1} us",
        nf.len(),
        us(nf50),
        us(nf99)
    );
    println!(
        "  ratio nft/netlink p50 {:.0}x  p99 {:.0}x   (target: netlink p99 < 1000 us: {})",
        us(nf50) / us(nl50),
        us(nf99) / us(nl99),
        if nl99 < Duration::from_millis(1) {
            "met"
        } else {
            "MISSED"
        }
    );

    // --- bulk ------------------------------------------------------------------------------
    let n = a.bulk;
    let bans: Vec<BanEntry> = (0..n).map(ban).collect();
    let t = Instant::now();
    b.ban(JAIL, &bans)
        .unwrap_or_else(|e| die(&format!("bulk ban: {e}")));
    let bulk = t.elapsed();
    let got = count();
    if got != n {
        die(&format!("bulk ban installed {got} elements, expected {n}"));
    }
    let t = Instant::now();
    let listed = b.list(JAIL).unwrap_or_else(|e| die(&format!("list: {e}")));
    let list_time = t.elapsed();
    if listed.len() != n {
        die(&format!(
            "list returned {} elements, expected {n}",
            listed.len()
        ));
    }
    let ips: Vec<IpAddr> = bans.iter().map(|b| b.ip).collect();
    let t = Instant::now();
    b.unban(JAIL, &ips)
        .unwrap_or_else(|e| die(&format!("unban: {e}")));
    let unban_time = t.elapsed();
    flush();
    let file = nft_file(n);
    if count() != n {
        die("nft -f did not install every element");
    }
    flush();
    let per = a.nft_per_address.min(n);
    let t = Instant::now();
    single_nft(per, 0);
    let per_time = t.elapsed();
    flush();
    let per_rate = per as f64 / per_time.as_secs_f64();
    let rate = n as f64 / bulk.as_secs_f64();
    let file_rate = n as f64 / file.as_secs_f64();
    println!("\n{n} bans in one call (IPv4, timeout 600 s)");
    println!(
        "  netlink backend       {:>9.3} s  {:>10.0} elements/s   (target >= 200000/s: {})",
        bulk.as_secs_f64(),
        rate,
        if rate >= 200_000.0 { "met" } else { "MISSED" }
    );
    println!(
        "  nft -f (one file)     {:>9.3} s  {:>10.0} elements/s   ratio netlink/nft-f {:.2}x",
        file.as_secs_f64(),
        file_rate,
        rate / file_rate
    );
    println!(
        "  nft per address       {:>9.3} s  {:>10.0} elements/s   ratio netlink/nft {:.0}x   ({} measured of {n}, time extrapolated)",
        n as f64 / per_rate,
        per_rate,
        rate / per_rate,
        per
    );
    println!(
        "  list (dump) {n}: {:.3} s   unban {n}: {:.3} s",
        list_time.as_secs_f64(),
        unban_time.as_secs_f64()
    );
    let _ = std::io::stdout().flush();
}
