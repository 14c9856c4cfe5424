//! Nanoseconds per `pyre::Regex::search` for each regex of a dump on one text.
//!
//! Usage: `tools/pyre-dump-stock-regexes.py --only sshd:normal > sshd.jsonl; cargo run
//! --release --example pyre_search sshd.jsonl 'Failed password for root from 192.0.2.7 port
//! 4455 ssh2'` (a final `\n` is added, as fail2ban searches). Prints, per regex that
//! matches or that needs the backtracker: index, ns per search, whether it matched, and
//! whether its exact form is rewritten (markers, copied groups) or missing.

use std::time::Instant;

use fail2zig::filter::pyre::{Options, Regex};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(text)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: pyre_search DUMP.jsonl TEXT");
        std::process::exit(2);
    };
    let hay = format!("{text}\n");
    let dump = std::fs::read_to_string(path).expect("read the regex dump");
    for (i, line) in dump.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        let Some(re) = v["regex"].as_str() else {
            continue;
        };
        let opts = Options {
            multiline: v["multiline"] == true,
            ..Default::default()
        };
        let r = Regex::new(re, &opts).expect("compiles");
        let found = r.search(&hay).is_some();
        let t = r.translation();
        if !found && t.ascii_exact.is_some() {
            continue;
        }
        let n = 20_000;
        let start = Instant::now();
        let mut k = 0;
        for _ in 0..n {
            k += usize::from(r.search(&hay).is_some());
        }
        let ns = start.elapsed().as_nanos() as f64 / f64::from(n);
        let form = match (
            &t.ascii_exact,
            t.marks.is_empty(),
            t.group_map.len() == r.group_count(),
        ) {
            (None, _, _) => "backtracker",
            (Some(_), true, true) => "exact",
            (Some(_), _, _) => "rewritten",
        };
        println!("{i:3} {} {ns:7.0} ns  matched {} {form}", v["kind"], k > 0);
    }
}
