//! Data-driven jail tests: fail2ban's worked numbers and recorded decisions under
//! `testdata/jail/`. Adding a case means adding a line or a file there.

use std::fmt::Write as _;
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use fail2zig::filter::Failure;
use fail2zig::jail::{
    BanHistory, FailWindow, FixedOffset, Formula, Growth, Increment, Jail, JailSettings, Resolver,
    failure_weight,
};
use fail2zig::persist;

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/jail")
        .join(rel)
}

#[test]
fn failmanager_window_examples() {
    let text = fs::read_to_string(testdata("failmanager_window.txt")).unwrap();
    let mut window: Option<FailWindow> = None;
    let mut checked = 0;
    for (n, line) in text.lines().enumerate() {
        let at = format!("failmanager_window.txt:{}", n + 1);
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("findtime=") {
            let (findtime, rest) = rest.split_once(' ').unwrap();
            let maxretry = rest
                .strip_prefix("maxretry=")
                .unwrap()
                .split(',')
                .next()
                .unwrap();
            window = Some(FailWindow::new(
                findtime.parse().unwrap(),
                maxretry.parse().unwrap(),
                5,
                1000,
            ));
            continue;
        }
        let w = window.as_mut().expect(&at);
        let mut f = line.split_whitespace();
        let t: f64 = f
            .next()
            .unwrap()
            .strip_prefix("t=")
            .unwrap()
            .parse()
            .unwrap();
        let retry: f64 = f
            .next()
            .unwrap()
            .strip_prefix("retry=")
            .unwrap()
            .parse()
            .unwrap();
        let verdict = f.next().unwrap();
        // the offline run cleaned the list before each failure, as the running filter does
        w.cleanup(t);
        let ticket = w.add("192.0.2.1", t, 1.0, &[], t);
        match (verdict, ticket) {
            ("-", None) => assert_eq!(w.get("192.0.2.1").unwrap().retry, retry, "{at}"),
            (ban, Some(t)) if ban.starts_with("BAN(attempts=") => {
                let attempts: u32 = ban[13..ban.len() - 1].parse().unwrap();
                assert_eq!(t.entry.failures, attempts, "{at}");
                assert_eq!(t.entry.retry, retry, "{at}");
            }
            (v, t) => panic!("{at}: expected {v}, got ticket {t:?}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 24);
}

fn parse_settings(words: &str) -> (f64, Increment) {
    let (mut bantime, mut factor, mut formula, mut mults) = (600.0, None, None, None);
    let (mut maxtime, mut rndtime) = (None, None);
    for w in words.split_whitespace() {
        let (k, v) = w.split_once('=').unwrap();
        match k {
            "bantime" => bantime = v.parse().unwrap(),
            "factor" => factor = Some(v.to_string()),
            "formula" => {
                formula = Some(match v {
                    "stock" => fail2zig::jail::settings::STOCK_FORMULA,
                    "exp" => fail2zig::jail::settings::EXP_FORMULA,
                    other => panic!("unknown formula {other}"),
                })
            }
            "multipliers" => mults = Some(v.replace(',', " ")),
            "maxtime" => maxtime = Some(v.parse().unwrap()),
            "rndtime" => rndtime = Some(v.parse().unwrap()),
            other => panic!("unknown setting {other}"),
        }
    }
    let mut inc = Increment::from_options(formula, factor.as_deref(), mults.as_deref()).unwrap();
    inc.maxtime = maxtime;
    inc.rndtime = rndtime;
    (bantime, inc)
}

#[test]
fn increment_worked_numbers() {
    let text = fs::read_to_string(testdata("increment_worked_numbers.txt")).unwrap();
    let mut rows = 0;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let at = format!("increment_worked_numbers.txt:{}", n + 1);
        let (settings, pairs) = line.split_once('|').unwrap();
        let pairs = pairs.split_whitespace().map(|p| p.split_once(':').unwrap());
        if let Some(rest) = settings.strip_prefix("weight maxretry=") {
            let maxretry: u32 = rest.trim().parse().unwrap();
            for (count, want) in pairs {
                let (w, capped) = failure_weight(count.parse().unwrap(), maxretry);
                let shown = if capped {
                    format!("{}", w as i64)
                } else {
                    fail2zig::jail::logline::py_float(w)
                };
                assert_eq!(shown, want, "{at} count {count}");
            }
            rows += 1;
            continue;
        }
        let (bantime, inc) = parse_settings(settings);
        for (count, want) in pairs {
            let count: u32 = count.parse().unwrap();
            let got = inc.ban_time(bantime, count);
            if let Some(observed) = want.strip_suffix('~') {
                let observed: f64 = observed.parse().unwrap();
                let rnd = inc.rndtime.unwrap();
                assert!(
                    got <= observed && observed < got + rnd,
                    "{at} count {count}: {got}"
                );
            } else {
                let want: f64 = want.parse().unwrap();
                assert!(
                    (got - want).abs() < 0.051,
                    "{at} count {count}: {got} != {want}"
                );
            }
        }
        rows += 1;
    }
    assert_eq!(rows, 11);
    let stock = parse_settings("bantime=600").1;
    assert_eq!(stock.growth, Growth::Formula(Formula::Stock));
}

/// Resolves nothing but a few fixed names, so tests never touch DNS.
struct FakeResolver;

impl Resolver for FakeResolver {
    fn resolve(&self, name: &str) -> Vec<IpAddr> {
        match name {
            "localhost" => vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
            "testhost" => vec!["192.0.2.254".parse().unwrap()],
            "trusted.test" => vec!["198.51.100.77".parse().unwrap()],
            _ => Vec::new(),
        }
    }
    fn hostname(&self) -> Option<String> {
        Some("testhost".into())
    }
}

struct Scenario {
    name: String,
    settings: JailSettings,
    increment: bool,
    /// bantime.formula, bantime.factor, bantime.multipliers
    inc_text: [Option<String>; 3],
    /// bantime.maxtime, bantime.rndtime, bantime.overalljails
    inc_extra: (Option<f64>, Option<f64>, bool),
    jail: Option<Jail>,
    history: BanHistory,
    state_dir: tempfile::TempDir,
}

impl Scenario {
    fn new(name: &str) -> Self {
        let settings = JailSettings {
            ignoreself: false,
            ..JailSettings::default()
        };
        Scenario {
            name: name.to_string(),
            settings,
            increment: false,
            inc_text: [None, None, None],
            inc_extra: (None, None, false),
            jail: None,
            history: BanHistory::new(),
            state_dir: tempfile::tempdir().unwrap(),
        }
    }

    fn built_settings(&self) -> JailSettings {
        let mut s = self.settings.clone();
        if self.increment {
            let [formula, factor, mults] = &self.inc_text;
            let mut inc =
                Increment::from_options(formula.as_deref(), factor.as_deref(), mults.as_deref())
                    .unwrap();
            (inc.maxtime, inc.rndtime, inc.overalljails) = self.inc_extra;
            s.increment = Some(inc);
        }
        s
    }

    fn jail(&mut self) -> &mut Jail {
        if self.jail.is_none() {
            let mut j = Jail::new(&self.name, self.built_settings(), &FakeResolver).unwrap();
            j.seed_random(7);
            self.jail = Some(j);
        }
        self.jail.as_mut().unwrap()
    }

    fn set(&mut self, key: &str, value: &str) {
        let text = Some(value.to_string());
        match key {
            "maxretry" => self.settings.maxretry = value.parse().unwrap(),
            "findtime" => self.settings.findtime = value.parse().unwrap(),
            "bantime" => self.settings.bantime = value.parse().unwrap(),
            "maxmatches" => self.settings.maxmatches = value.parse().unwrap(),
            "dbmaxmatches" => self.settings.dbmaxmatches = value.parse().unwrap(),
            "max_tracked" => self.settings.max_tracked = value.parse().unwrap(),
            "ignoreself" => self.settings.ignoreself = value == "true",
            "ignoreip" => self.settings.ignoreip = vec![value.to_string()],
            "bantime.increment" => self.increment = value == "true",
            "bantime.formula" => self.inc_text[0] = text,
            "bantime.factor" => self.inc_text[1] = text,
            "bantime.multipliers" => self.inc_text[2] = text,
            "bantime.maxtime" => self.inc_extra.0 = Some(value.parse().unwrap()),
            "bantime.rndtime" => self.inc_extra.1 = Some(value.parse().unwrap()),
            "bantime.overalljails" => self.inc_extra.2 = value == "true",
            other => panic!("unknown setting {other}"),
        }
        let settings = self.built_settings();
        if let Some(j) = self.jail.as_mut() {
            j.reconfigure(settings, &FakeResolver).unwrap();
        }
    }
}

fn kv<'a>(words: &[&'a str], key: &str) -> Option<&'a str> {
    words
        .iter()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

/// Runs one command; returns the produced output lines (events as `LEVEL message`, query
/// results as text).
fn run(sc: &mut Scenario, cmd: &str, words: &[&str], other: &mut Option<Scenario>) -> Vec<String> {
    let tz = FixedOffset(0);
    let events;
    match cmd {
        "set" => {
            sc.set(words[0], &words[1..].join(" "));
            return Vec::new();
        }
        "fail" => {
            let time: f64 = words[0].parse().unwrap();
            let id = words[1];
            let now = kv(words, "now").map_or(time, |v| v.parse().unwrap());
            let in_operation = !words.contains(&"catchup");
            let f = Failure {
                id: id.to_string(),
                ip: id.parse().ok(),
                time,
                lines: vec![format!("line {time} from {id}")],
                tags: Default::default(),
                regex: 0,
            };
            let mut history = std::mem::take(&mut sc.history);
            events = sc.jail().on_failure(&f, in_operation, now, &mut history);
            sc.history = history;
        }
        "banip" => {
            let now: f64 = kv(words, "now").unwrap().parse().unwrap();
            let mut history = std::mem::take(&mut sc.history);
            events = sc.jail().ban_manual(words[0], now, &mut history);
            sc.history = history;
        }
        "attempt" => {
            let now: f64 = kv(words, "now").unwrap().parse().unwrap();
            let lines: Vec<String> = words[1..]
                .iter()
                .filter(|w| !w.contains('='))
                .map(|w| w.to_string())
                .collect();
            let mut history = std::mem::take(&mut sc.history);
            events = sc.jail().attempt(words[0], &lines, now, &mut history);
            sc.history = history;
        }
        "unbanip" => {
            let mut history = std::mem::take(&mut sc.history);
            events = sc.jail().unban(words[0], &mut history);
            sc.history = history;
        }
        "tick" => events = sc.jail().due_unbans(words[0].parse().unwrap()),
        "deadline" => {
            let d = sc.jail().next_deadline();
            return vec![d.map_or("none".into(), |d| format!("{d:.3}"))];
        }
        "status" => {
            let s = sc.jail().status();
            return vec![format!(
                "failed={} total_failed={} banned={} total_banned={} list=[{}]",
                s.currently_failed,
                s.total_failed,
                s.currently_banned,
                s.total_banned,
                s.banned.join(",")
            )];
        }
        "with-time" => {
            return sc
                .jail()
                .bans_with_time()
                .into_iter()
                .map(|b| {
                    let end = if b.end.is_finite() {
                        format!("{}", b.end)
                    } else {
                        "inf".into()
                    };
                    format!("{} {} + {} = {}", b.id, b.time, b.bantime, end)
                })
                .collect();
        }
        "history" => {
            let mut v: Vec<String> = sc
                .history
                .records()
                .map(|r| {
                    format!(
                        "{} {} {} {} count={}",
                        r.jail, r.id, r.time_of_ban, r.bantime, r.ban_count
                    )
                })
                .collect();
            v.sort();
            return v;
        }
        "restart" => {
            // save through the state file, drop the jail, build a new one and restore
            let now: f64 = words[0].parse().unwrap();
            let path = persist::state_path(sc.state_dir.path());
            let bans = sc.history.records().cloned().collect();
            persist::save(
                &path,
                &persist::State {
                    bans,
                    positions: Vec::new(),
                    cursors: Vec::new(),
                },
            )
            .unwrap();
            let loaded = persist::load(&path).unwrap();
            assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
            sc.history = BanHistory::from_records(loaded.state.bans);
            sc.jail = None;
            let history = std::mem::take(&mut sc.history);
            events = sc.jail().restore(&history, now);
            sc.history = history;
        }
        "jail" => {
            // switch to a second jail sharing the history (overalljails)
            let o = other.get_or_insert_with(|| Scenario::new(words[0]));
            std::mem::swap(&mut o.history, &mut sc.history);
            std::mem::swap(o, sc);
            return Vec::new();
        }
        other => panic!("unknown command {other}"),
    }
    let name = sc.name.clone();
    events
        .iter()
        .map(|e| {
            let r = e.log_record(&name, &tz);
            format!("{} {}", r.level.name(), r.message)
        })
        .collect()
}

/// Runs `testdata/jail/scenarios/*.txt`: commands, each followed by `> ` lines giving exactly
/// the output it must produce.
#[test]
fn recorded_scenarios() {
    let mut files: Vec<PathBuf> = fs::read_dir(testdata("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "scenario files missing");
    let mut failures = String::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        let fname = file.file_name().unwrap().to_string_lossy().to_string();
        let mut sc = Scenario::new("sshd");
        let mut other = None;
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i].trim_end();
            i += 1;
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            assert!(
                !line.starts_with('>'),
                "{fname}:{i}: expected output without a command"
            );
            let words: Vec<&str> = line.split_whitespace().collect();
            let got = run(&mut sc, words[0], &words[1..], &mut other);
            let mut want = Vec::new();
            while i < lines.len() && lines[i].starts_with('>') {
                want.push(lines[i][1..].trim().to_string());
                i += 1;
            }
            if got != want {
                let _ = writeln!(
                    failures,
                    "{fname}:{i}: `{line}`\n  want {want:#?}\n  got  {got:#?}"
                );
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
}
