//! `fail2zig regex -o '<time>'` against the real `fail2ban-regex -o '<time>'` on generated logs
//! that exercise every default template, with and without `--timezone` and `-d`.

#[path = "../tools/date_gen.rs"]
#[allow(dead_code)]
mod date_gen;

use std::process::Command;

const TZ: &str = "CET-01CEST-02,M3.5.0,M10.5.0";

fn log_lines(seed: u64, n: usize) -> Vec<String> {
    let mut r = date_gen::Rng::new(seed);
    let mut out = Vec::new();
    while out.len() < n {
        let form = r.below(21);
        let pre = r.pick(&["", "", "[", "host ", "<W>", "- ", "1.2.3.4 - - ["]);
        let date = date_gen::date(&mut r, form);
        // An unknown zone abbreviation makes fail2ban-regex crash (spec §4.7): keep them out.
        if date.contains("IST") || date.contains("ABC") {
            continue;
        }
        let k = out.len() % 250;
        out.push(format!("{pre}{date} x from 192.0.2.{k}"));
    }
    out
}

/// Lines without a usable date get the wall-clock time of each run: compare those as `NOW`.
fn now_free(out: &str) -> Vec<String> {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    out.lines()
        .map(|l| match l.parse::<f64>() {
            Ok(v) if (v - wall).abs() < 600.0 => "NOW".to_string(),
            _ => l.to_string(),
        })
        .collect()
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .env("TZ", TZ)
        .output()
        .unwrap_or_else(|e| panic!("run {cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn regex_out_time_equals_fail2ban_regex() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("dates.log");
    std::fs::write(&log, log_lines(0xca11, 1500).join("\n") + "\n").unwrap();
    let log = log.to_str().unwrap();
    let ours = env!("CARGO_BIN_EXE_fail2zig");
    let variants: [&[&str]; 5] = [
        &[],
        &["--timezone", "UTC+0200"],
        &["-d", "{^LN-BEG}"],
        &["-d", "^%Y-%m-%d %H:%M:%S", "--timezone=-04:30"],
        &["-d", r"^[^\[]*\[({DATE})"],
    ];
    for extra in variants {
        let mut args: Vec<&str> = vec!["-r", "-o", "<time>"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[log, "from <HOST>$"]);
        let want = run("fail2ban-regex", &args);
        let mut ours_args = vec!["regex"];
        ours_args.extend_from_slice(&args);
        let got = run(ours, &ours_args);
        let (w, g): (Vec<String>, Vec<String>) = (now_free(&want), now_free(&got));
        assert!(
            w.len() > 1000,
            "fail2ban-regex printed only {} lines",
            w.len()
        );
        let diffs: Vec<String> = w
            .iter()
            .zip(&g)
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(10)
            .map(|(i, (a, b))| format!("line {i}: fail2ban-regex {a:?}, fail2zig {b:?}"))
            .collect();
        assert!(
            diffs.is_empty() && w.len() == g.len(),
            "{extra:?}: {} vs {} lines\n{}",
            w.len(),
            g.len(),
            diffs.join("\n")
        );
    }
}

/// The "Date template hits" block of the report (template names, hits, current order).
fn date_hits_block(report: &str) -> Vec<String> {
    report
        .lines()
        .skip_while(|l| !l.starts_with("Date template hits:"))
        .take_while(|l| !l.starts_with("`-"))
        .map(str::to_string)
        .collect()
}

#[test]
fn regex_report_date_template_hits_equal_fail2ban_regex() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("dates.log");
    std::fs::write(&log, log_lines(0xfeed, 800).join("\n") + "\n").unwrap();
    let log = log.to_str().unwrap();
    for extra in [&[][..], &["-d", "{^LN-BEG}"][..], &["-v"][..]] {
        let mut args: Vec<&str> = vec!["-r"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[log, "from <HOST>$"]);
        let want = date_hits_block(&run("fail2ban-regex", &args));
        let mut ours_args = vec!["regex"];
        ours_args.extend_from_slice(&args);
        let got = date_hits_block(&run(env!("CARGO_BIN_EXE_fail2zig"), &ours_args));
        assert!(want.len() > 3, "no date template block from fail2ban-regex");
        assert_eq!(got, want, "{extra:?}");
    }
}
