//! Benchmark of `filter::pyre` (built and run by tools/pyre-bench.sh, release mode).
//!
//! Prints: compile time and memory for every stock regex (the JSON lines of
//! tools/pyre-dump-stock-regexes.py given as argument 1), and lines/s for the sshd filter
//! (argument 2: its regexes from `--only sshd:normal`) over the lines of argument 3 (a text
//! file, cycled to argument 4 lines): once searching every failregex, once through a GateSet.

use std::time::Instant;

use fail2zig::filter::pyre::{GateSet, Options, Regex};

fn rss_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn load(path: &str) -> Vec<(String, String, bool)> {
    let text = std::fs::read_to_string(path).expect("regex dump");
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("regex").is_some())
        .map(|v| {
            (
                v["kind"].as_str().unwrap_or_default().to_string(),
                v["regex"].as_str().unwrap_or_default().to_string(),
                v["multiline"] == true,
            )
        })
        .collect()
}

fn compile(list: &[(String, String, bool)]) -> Vec<Regex> {
    list.iter()
        .map(|(_, r, m)| {
            let opts = Options {
                multiline: *m,
                ..Default::default()
            };
            Regex::new(r, &opts).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let all = load(&args[1]);
    let before = rss_kb();
    let t = Instant::now();
    let compiled = compile(&all);
    println!(
        "compile all {} stock regexes: {:.1} ms, +{} KB RSS",
        compiled.len(),
        t.elapsed().as_secs_f64() * 1e3,
        rss_kb().saturating_sub(before)
    );
    drop(compiled);

    let sshd = load(&args[2]);
    let before = rss_kb();
    let t = Instant::now();
    let pref = sshd.iter().position(|(k, _, _)| k == "prefregex").expect("prefregex");
    let re = compile(&sshd);
    let fail: Vec<&Regex> = sshd
        .iter()
        .zip(&re)
        .filter(|((k, _, _), _)| k == "failregex")
        .map(|(_, r)| r)
        .collect();
    let gate = GateSet::new(&fail).expect("gate set");
    println!(
        "compile sshd ({} regexes) + gate set: {:.1} ms, +{} KB RSS",
        re.len(),
        t.elapsed().as_secs_f64() * 1e3,
        rss_kb().saturating_sub(before)
    );
    let pref = &re[pref];

    let text = std::fs::read_to_string(&args[3]).expect("lines");
    let sample: Vec<String> = text.lines().map(|l| format!("{l}\n")).collect();
    let n: usize = args[4].parse().expect("line count");
    let lines: Vec<&str> = sample.iter().map(String::as_str).cycle().take(n).collect();

    let content = pref.group_index("content");
    // Where the time goes: the prefregex alone, then each failregex on the contents.
    let t = Instant::now();
    let contents: Vec<String> = lines
        .iter()
        .filter_map(|l| {
            let c = pref.search(l)?;
            Some(format!("{}\n", content.and_then(|i| c.get_str(l, i)).unwrap_or(l)))
        })
        .collect();
    println!(
        "  prefregex alone: {:.0} lines/s",
        lines.len() as f64 / t.elapsed().as_secs_f64()
    );
    let mut costs: Vec<(f64, usize, usize)> = fail
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let t = Instant::now();
            let hits = contents.iter().filter(|c| r.search(c).is_some()).count();
            (t.elapsed().as_secs_f64(), i, hits)
        })
        .collect();
    costs.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (s, i, hits) in costs.iter().take(8) {
        println!(
            "  failregex {i}: {:.2} s, {hits} matches, needs_confirm {}",
            s,
            fail[*i].translation().needs_confirm
        );
    }
    let t = Instant::now();
    let cands: usize = contents.iter().map(|c| gate.candidates(c).len()).sum();
    println!(
        "  gate set alone: {:.0} lines/s, {:.2} candidates per line",
        contents.len() as f64 / t.elapsed().as_secs_f64(),
        cands as f64 / contents.len().max(1) as f64
    );

    for gated in [false, true] {
        let t = Instant::now();
        let (mut pre, mut hits) = (0usize, 0usize);
        let mut buf = String::new();
        for line in &lines {
            let Some(c) = pref.search(line) else { continue };
            pre += 1;
            buf.clear();
            buf.push_str(content.and_then(|i| c.get_str(line, i)).unwrap_or(line));
            buf.push('\n');
            if gated {
                for i in gate.candidates(&buf) {
                    hits += usize::from(fail[i].search(&buf).is_some());
                }
            } else {
                for r in &fail {
                    hits += usize::from(r.search(&buf).is_some());
                }
            }
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "sshd {}: {} lines, {} prefregex matches, {} failregex matches, {:.2} s, {:.0} lines/s",
            if gated { "with GateSet" } else { "every failregex" },
            lines.len(),
            pre,
            hits,
            s,
            lines.len() as f64 / s
        );
    }
}
