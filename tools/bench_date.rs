//! Date detection benchmark: ns/line of `DateDetector::detect` for the common log forms.
//! Run with `tools/bench-date.sh` (release build). Targets: < 100 ns/line for every form, and
//! as low as possible (≤ 40 ns/line) for syslog with the default template list, the hot path of
//! the filter engine's ≈ 260 ns/line budget.

use std::hint::black_box;
use std::time::Instant;

use fail2zig::date::DateDetector;
use fail2zig::date::civil::civil_from_days;

/// This thread's CPU time: the machine is shared, so wall time overstates the cost.
fn cpu_ns() -> i128 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    i128::from(t.tv_sec) * 1_000_000_000 + i128::from(t.tv_nsec)
}

fn bench(label: &str, datepattern: Option<&str>, lines: &[String]) {
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    bench_at(label, datepattern, &lines, 1_800_000_000.0);
}

/// `lines` are the log's lines; `now` is the engine clock.
fn bench_at(label: &str, datepattern: Option<&str>, lines: &[&str], now: f64) {
    if let Some(only) = std::env::args().nth(2) {
        if !label.contains(&only) {
            return;
        }
    }
    let mut det = DateDetector::new(datepattern, None).expect("detector");
    // Warm up (template order settles, caches fill).
    for &l in lines.iter().take(1000) {
        black_box(det.detect(l, now));
    }
    let mut best = f64::MAX;
    let mut best_wall = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let c = cpu_ns();
        let mut ok = 0usize;
        for &l in lines {
            if let Some(h) = det.detect(black_box(l), now) {
                ok += usize::from(h.time.is_ok());
            }
        }
        let ns = (cpu_ns() - c) as f64 / lines.len() as f64;
        let wall = t.elapsed().as_nanos() as f64 / lines.len() as f64;
        if !label.contains("no date") {
            assert_eq!(ok, lines.len(), "{label}: every line must have a date");
        }
        best = best.min(ns);
        best_wall = best_wall.min(wall);
    }
    let dp = datepattern.unwrap_or("(default)");
    println!("{label:<20} {dp:<20} {best:>8.1} ns/line (thread CPU time; wall {best_wall:.1})");
}

/// Set-up cost of the default template list: the first `DateDetector::new(None, None)` of the
/// process (builds the shared tables) and a later one (what each further filter pays).
fn bench_setup() {
    let c = cpu_ns();
    black_box(DateDetector::new(None, None).expect("detector"));
    let first = (cpu_ns() - c) as f64 / 1e6;
    let c = cpu_ns();
    black_box(DateDetector::new(None, None).expect("detector"));
    let next = (cpu_ns() - c) as f64 / 1e3;
    println!("set-up: DateDetector::new(None, None) first {first:.2} ms, next {next:.0} µs");
}

fn main() {
    bench_setup();
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let make = |f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>();
    let syslog = make(&|i| {
        format!(
            "{} {:2} {:02}:{:02}:{:02} host sshd[{}]: Failed password for root from 192.0.2.{} port 22 ssh2",
            mon[i % 12],
            1 + i % 28,
            i % 24,
            i % 60,
            (i / 7) % 60,
            1000 + i % 5000,
            i % 250
        )
    });
    let iso = make(&|i| {
        format!(
            "2025-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+02:00 host app[1]: auth failure from 192.0.2.{}",
            1 + i % 12,
            1 + i % 28,
            i % 24,
            i % 60,
            (i / 7) % 60,
            i % 1_000_000,
            i % 250
        )
    });
    let nginx = make(&|i| {
        format!(
            "2025/{:02}/{:02} {:02}:{:02}:{:02} [error] 1234#0: *{} user \"admin\" was not found in \"/etc/nginx/.htpasswd\", client: 192.0.2.{}, server: example.com",
            1 + i % 12,
            1 + i % 28,
            i % 24,
            i % 60,
            (i / 7) % 60,
            i,
            i % 250
        )
    });
    let apache = make(&|i| {
        format!(
            "192.0.2.{} - - [{:02}/{}/2025:{:02}:{:02}:{:02} +0000] \"GET /wp-login.php HTTP/1.1\" 404 196 \"-\" \"Mozilla/5.0\"",
            i % 250,
            1 + i % 28,
            mon[i % 12],
            i % 24,
            i % 60,
            (i / 7) % 60
        )
    });
    // A realistic sshd auth.log: one contiguous text (as the filter reads a file), the clock
    // advancing 0-3 s per line through several days (written as UTC; dates without a zone are read
    // in the local zone), the engine clock a minute after the last line.
    let mut auth = String::new();
    let start = 1_795_352_717_i64; // 2026-11-22 13:05:17 UTC
    let mut t = start;
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    for i in 0..n {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        t += (rng % 4) as i64;
        let days = t.div_euclid(86_400);
        let sod = t.rem_euclid(86_400);
        let (_, m, d) = civil_from_days(days);
        auth.push_str(&format!(
            "{} {d:2} {:02}:{:02}:{:02} bastion sshd[{}]: Failed password for root from 192.0.2.{} port {} ssh2\n",
            mon[m as usize - 1],
            sod / 3600,
            sod % 3600 / 60,
            sod % 60,
            4000 + i % 3000,
            1 + i % 250,
            1024 + (rng % 60000)
        ));
    }
    let auth_lines: Vec<&str> = auth.lines().collect();
    let auth_now = (t + 60) as f64;
    println!("date detection, {n} lines per form, best of 5");
    bench_at("auth.log (file)", Some("{^LN-BEG}"), &auth_lines, auth_now);
    bench_at("auth.log (file)", None, &auth_lines, auth_now);
    bench("syslog", Some("{^LN-BEG}"), &syslog);
    bench("syslog", None, &syslog);
    bench("iso8601+zone", Some("{^LN-BEG}"), &iso);
    bench("iso8601+zone", None, &iso);
    bench("nginx error log", Some("{^LN-BEG}"), &nginx);
    bench("nginx error log", None, &nginx);
    bench("apache access log", Some(r"^[^\[]*\[({DATE})"), &apache);
    bench("apache access log", None, &apache);
    // Lines without a date (continuation lines, a program's own output): every template is
    // searched.
    let dateless = make(&|i| {
        format!(
            "    at org.example.Server.handle(Server.java:{}) user admin{} from 192.0.2.{}",
            100 + i % 900,
            i % 97,
            i % 250
        )
    });
    bench("no date", None, &dateless);
}
