//! The daemon's own log lines keep existing recidive jails working: lines produced from real
//! jail events by `jail::logline` are run through the installed fail2ban's `fail2ban-regex`
//! with the stock `filter.d/recidive.conf`. Exactly the `Ban` lines of other jails must match —
//! not `Restore Ban`, `Unban`, `Increase Ban`, `already banned`, `Found`, nor recidive's own bans.

use std::process::Command;

use fail2zig::filter::Failure;
use fail2zig::jail::{
    BanHistory, FixedOffset, Increment, Jail, JailEvent, JailSettings, Resolver, logline,
};

struct NoDns;
impl Resolver for NoDns {
    fn resolve(&self, _: &str) -> Vec<std::net::IpAddr> {
        Vec::new()
    }
    fn hostname(&self) -> Option<String> {
        None
    }
}

fn failure(ip: &str, time: f64) -> Failure {
    Failure {
        id: ip.into(),
        ip: ip.parse().ok(),
        time,
        lines: vec![format!("sshd[1]: Failed password for root from {ip}")],
        tags: Default::default(),
        regex: 0,
    }
}

#[test]
fn recidive_counts_exactly_our_ban_lines() {
    let tz = FixedOffset(0);
    let settings = JailSettings {
        maxretry: 1,
        ignoreself: false,
        increment: Some(Increment::default()),
        ..JailSettings::default()
    };
    let mut history = BanHistory::new();
    let mut sshd = Jail::new("sshd", settings.clone(), &NoDns).unwrap();
    let mut recidive = Jail::new("recidive", settings.clone(), &NoDns).unwrap();
    let t = 1_795_343_228.0;
    let mut events: Vec<(String, JailEvent)> = Vec::new();
    let mut add = |jail: &str, evs: Vec<JailEvent>| {
        events.extend(evs.into_iter().map(|e| (jail.to_string(), e)))
    };
    add(
        "sshd",
        sshd.on_failure(&failure("192.0.2.10", t), true, t, &mut history),
    );
    add(
        "sshd",
        sshd.on_failure(&failure("192.0.2.10", t + 5.0), true, t + 5.0, &mut history),
    );
    add(
        "sshd",
        sshd.on_failure(&failure("2001:db8::7", t), true, t, &mut history),
    );
    add("sshd", sshd.due_unbans(t + 700.0));
    add(
        "sshd",
        sshd.on_failure(
            &failure("192.0.2.10", t + 800.0),
            true,
            t + 800.0,
            &mut history,
        ),
    );
    add(
        "recidive",
        recidive.on_failure(&failure("198.51.100.1", t), true, t, &mut history),
    );
    let mut restarted = Jail::new("sshd", settings, &NoDns).unwrap();
    add("sshd", restarted.restore(&history, t + 900.0));

    let mut log = String::new();
    let mut expected = Vec::new();
    for (jail, e) in &events {
        let line = logline::file_line(&e.log_record(jail, &tz), t + 1.5, 4242, &tz);
        if let (JailEvent::Ban { ban, .. }, "sshd") = (e, jail.as_str()) {
            expected.push(ban.id.to_string());
        }
        log.push_str(&line);
        log.push('\n');
    }
    let kinds: Vec<&str> = log
        .lines()
        .map(|l| l.split_once("]: ").unwrap().1)
        .collect();
    for needle in [
        "Restore Ban",
        "Unban",
        "Increase Ban",
        "already banned",
        "Found",
        "[recidive] Ban",
    ] {
        assert!(
            kinds.iter().any(|k| k.contains(needle)),
            "scenario lacks {needle}: {kinds:#?}"
        );
    }
    assert_eq!(expected, ["192.0.2.10", "2001:db8::7", "192.0.2.10"]);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fail2ban.log");
    std::fs::write(&path, &log).unwrap();
    let out = Command::new("fail2ban-regex")
        .args(["--print-all-matched", "--raw"])
        .arg(&path)
        .arg("/etc/fail2ban/filter.d/recidive.conf")
        .output()
        .expect("the installed fail2ban-regex (fail2ban 1.0.2) is the reference");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let summary = format!(
        "Lines: {} lines, 0 ignored, {} matched",
        kinds.len(),
        expected.len()
    );
    assert!(stdout.contains(&summary), "want {summary:?} in\n{stdout}");
    let matched: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("|- Matched line(s):"))
        .skip(1)
        .take_while(|l| l.starts_with("|  "))
        .filter_map(|l| l.rsplit(' ').next())
        .collect();
    assert_eq!(matched, expected, "{stdout}");
}
