//! Which stock fail2ban regexes still need the bounded backtracker (fancy-regex).
//!
//! Usage: `tools/pyre-dump-stock-regexes.py > stock.jsonl; cargo run --example pyre_confirm
//! stock.jsonl [-v]`. Prints one line per regex that needs the backtracker on ASCII text
//! ("confirm") or only on non-ASCII text ("confirm-unicode": a `\b` has no exact Unicode
//! form), and with -v the regexes an exact rewrite applies to (`cond.rs`, `mark.rs`); then the
//! counts.

use fail2zig::filter::pyre::{Options, Regex};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: pyre_confirm STOCK.jsonl [-v]");
        std::process::exit(2);
    };
    let verbose = args.iter().any(|a| a == "-v");
    let text = std::fs::read_to_string(path).expect("read the regex dump");
    let mut seen = std::collections::BTreeMap::new();
    let (mut rewritten, mut ascii_fancy, mut freed) = (0, 0, 0);
    let (mut compile_us, mut slowest) = (0u128, (0u128, String::new()));
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        let Some(re) = v["regex"].as_str() else {
            continue;
        };
        let opts = Options {
            multiline: v["multiline"] == true,
            ..Default::default()
        };
        let key = (re.to_string(), opts.multiline);
        if seen.contains_key(&key) {
            continue;
        }
        let t0 = std::time::Instant::now();
        let r = Regex::new(re, &opts).expect("compiles");
        let us = t0.elapsed().as_micros();
        compile_us += us;
        slowest = slowest.max((us, format!("{} {} {}", v["filter"], v["mode"], v["kind"])));
        let t = r.translation();
        let what = format!("{} {} {}", v["filter"], v["mode"], v["kind"]);
        if t.ascii_exact.is_none() {
            ascii_fancy += 1;
            println!("confirm: {what}");
        } else if t.needs_confirm {
            println!("confirm-unicode: {what}");
        }
        if t.needs_confirm && verbose {
            println!("    {re}");
        }
        if !t.marks.is_empty() || t.group_map.len() != r.group_count() || re.contains("(?(") {
            rewritten += 1;
            freed += usize::from(t.ascii_exact.is_some());
            if verbose {
                println!("rewritten: {what} markers {:?}", t.marks.sets());
            }
        }
        seen.insert(key, t.needs_confirm);
    }
    let fancy = seen.values().filter(|f| **f).count();
    println!(
        "distinct regexes: {}, rewritten exactly: {rewritten} ({freed} of them now without the \
         backtracker on ASCII text), needing the backtracker: {fancy} (on ASCII text: \
         {ascii_fancy})",
        seen.len()
    );
    println!(
        "compile (Regex::new): {} ms in all, slowest {} us ({})",
        compile_us / 1000,
        slowest.0,
        slowest.1
    );
}
