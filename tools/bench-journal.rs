//! Benchmark helper for tools/bench-journal.sh: reads every entry of the given journal files or
//! directories once with a journalmatch (`-m MATCH`, repeatable) and prints
//! `entries=<examined> matched=<lines> seconds=<s> entries_per_s=<n>`.

use std::path::PathBuf;
use std::time::Instant;

use fail2zig::watch::journal::{JournalStart, JournalWatcher};

fn main() {
    let mut matches = Vec::new();
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "-m" {
            matches.push(args.next().expect("-m needs a value"));
        } else {
            paths.push(PathBuf::from(a));
        }
    }
    let start = Instant::now();
    let mut w = JournalWatcher::new(&paths, &matches, JournalStart::Head).expect("open journal");
    let mut matched = 0usize;
    let mut bytes = 0usize;
    loop {
        let lines = w.poll().expect("poll");
        matched += lines.len();
        bytes += lines.iter().map(|l| l.text.len()).sum::<usize>();
        if !w.has_pending() {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let examined = w.examined();
    println!(
        "entries={examined} matched={matched} text_bytes={bytes} seconds={secs:.3} entries_per_s={:.0} errors={}",
        examined as f64 / secs,
        w.errors()
    );
}
