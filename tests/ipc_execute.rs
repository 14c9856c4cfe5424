//! The command executor (`ipc::execute`) plus the client's rendering, against a `MockControl`
//! that keeps jails in memory: each scenario of testdata/client/scenarios/ sets up jails and
//! runs a sequence of captured fail2ban-client commands; what `execute` answers, rendered as the
//! client renders it, must equal the capture's stdout, exit status and `NOK:` line.
//!
//! The mock implements only bookkeeping (lists, counts, a CIDR match); what is tested is the
//! executor's parsing, checks, result shapes, counts and error texts.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use fail2zig::client::render;
use fail2zig::ipc::{
    BanEntry, Control, ControlError, JailOption, JailStatus, ReloadRequest, Response, ServerOption,
    Setting, UnbanOutcome, Value, execute,
};
use serde::Deserialize;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/client");

#[derive(Deserialize)]
struct Scenario {
    /// Local time used as "now" for new bans.
    now: String,
    #[serde(default)]
    jail: Vec<JailSpec>,
    /// Server options as Python literals (`loglevel = "'INFO'"`).
    #[serde(default)]
    server: BTreeMap<String, String>,
    step: Vec<Step>,
}

#[derive(Deserialize)]
struct JailSpec {
    name: String,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    currently_failed: u64,
    #[serde(default)]
    total_failed: u64,
    #[serde(default)]
    total_banned: u64,
    /// `[ip, local start time, bantime]`.
    #[serde(default)]
    bans: Vec<(String, String, i64)>,
    /// Option values as Python literals, by fail2ban name (`bantime = "600"`).
    #[serde(default)]
    options: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Step {
    capture: String,
    args: Vec<String>,
}

#[derive(Default)]
struct MockJail {
    name: String,
    status: JailStatus,
    bans: Vec<BanEntry>,
    options: BTreeMap<String, Value>,
}

#[derive(Default)]
struct MockControl {
    now: i64,
    jails: Vec<MockJail>,
    server: BTreeMap<String, Value>,
    shutdown: bool,
    reloads: Vec<ReloadRequest>,
}

/// Local `YYYY-MM-DD HH:MM:SS` to Unix time, in the process's zone (as the executor prints).
fn local_epoch(text: &str) -> i64 {
    let n: Vec<i64> = text
        .split(['-', ' ', ':'])
        .map(|p| p.parse().unwrap())
        .collect();
    let (y, m, d) = (n[0], n[1], n[2]);
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let local = days * 86_400 + n[3] * 3600 + n[4] * 60 + n[5];
    fail2zig::date::TimeZone::local()
        .local_to_utc(local, None)
        .0
}

/// IPv4 `a.b.c.d/n` containment, enough for the captured `unban 192.0.2.12/31`.
fn in_network(ip: &str, net: &str) -> bool {
    let Some((base, bits)) = net.split_once('/') else {
        return false;
    };
    let (Ok(ip), Ok(base), Ok(bits)) = (
        ip.parse::<std::net::Ipv4Addr>(),
        base.parse::<std::net::Ipv4Addr>(),
        bits.parse::<u32>(),
    ) else {
        return false;
    };
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    u32::from(ip) & mask == u32::from(base) & mask
}

fn option_key(opt: &JailOption) -> String {
    match opt {
        JailOption::BanTimeExtra(n) => format!("bantime.{n}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

impl MockControl {
    fn jail(&self, name: &str) -> Result<&MockJail, ControlError> {
        self.jails
            .iter()
            .find(|j| j.name == name)
            .ok_or_else(|| ControlError::UnknownJail(name.into()))
    }

    fn jail_mut(&mut self, name: &str) -> Result<&mut MockJail, ControlError> {
        self.jails
            .iter_mut()
            .find(|j| j.name == name)
            .ok_or_else(|| ControlError::UnknownJail(name.into()))
    }
}

fn seconds(expr: &str) -> Result<Value, ControlError> {
    fail2zig::config::str2seconds(expr)
        .map(|s| Value::Int(s as i64))
        .map_err(|e| ControlError::Refused(e.to_string()))
}

impl Control for MockControl {
    fn jails(&self) -> Vec<String> {
        self.jails.iter().map(|j| j.name.clone()).collect()
    }

    fn jail_status(&self, jail: &str) -> Result<JailStatus, ControlError> {
        Ok(self.jail(jail)?.status.clone())
    }

    fn bans(&self, jail: &str) -> Result<Vec<BanEntry>, ControlError> {
        Ok(self.jail(jail)?.bans.clone())
    }

    fn ban(&mut self, jail: &str, ips: &[String]) -> Result<u64, ControlError> {
        let now = self.now;
        let j = self.jail_mut(jail)?;
        let bantime = match j.options.get("bantime") {
            Some(Value::Int(n)) => *n,
            _ => 600,
        };
        let mut n = 0;
        for ip in ips {
            if !j.bans.iter().any(|b| &b.ip == ip) {
                j.bans.push(BanEntry {
                    ip: ip.clone(),
                    start: now,
                    bantime,
                });
                j.status.total_banned += 1;
                n += 1;
            }
        }
        Ok(n)
    }

    fn unban(&mut self, jail: &str, ips: &[String]) -> Result<UnbanOutcome, ControlError> {
        let j = self.jail_mut(jail)?;
        let mut out = UnbanOutcome::default();
        for ip in ips {
            let before = j.bans.len();
            j.bans.retain(|b| &b.ip != ip && !in_network(&b.ip, ip));
            let gone = (before - j.bans.len()) as u64;
            if gone == 0 {
                out.absent.push(ip.clone());
            }
            out.unbanned += gone;
        }
        Ok(out)
    }

    fn unban_all(&mut self, jail: &str) -> Result<u64, ControlError> {
        let j = self.jail_mut(jail)?;
        let n = j.bans.len() as u64;
        j.bans.clear();
        Ok(n)
    }

    fn get(&self, jail: &str, option: &JailOption) -> Result<Value, ControlError> {
        let j = self.jail(jail)?;
        Ok(match option {
            JailOption::LogPath => Value::str_list(j.status.files.clone()),
            other => j
                .options
                .get(&option_key(other))
                .cloned()
                .unwrap_or(Value::None),
        })
    }

    fn set(&mut self, jail: &str, setting: Setting<'_>) -> Result<(), ControlError> {
        let j = self.jail_mut(jail)?;
        let mut put = |k: &str, v: Value| {
            j.options.insert(k.to_string(), v);
        };
        match setting {
            Setting::BanTime(t) => put("bantime", seconds(t)?),
            Setting::FindTime(t) => put("findtime", seconds(t)?),
            Setting::MaxRetry(n) => put("maxretry", Value::Int(n)),
            Setting::MaxLines(n) => put("maxlines", Value::Int(n)),
            Setting::MaxMatches(n) => put("maxmatches", Value::Int(n)),
            Setting::IgnoreSelf(b) => put("ignoreself", Value::Bool(b)),
            Setting::Idle(b) => put("idle", Value::Bool(b)),
            Setting::UseDns(s) => put("usedns", Value::str(s)),
            Setting::IgnoreCommand(s) => put("ignorecommand", Value::str(s)),
            Setting::DatePattern(p) => put(
                "datepattern",
                Value::Tuple(vec![Value::str(p), Value::str(p.replace("%%", "%"))]),
            ),
            Setting::BanTimeExtra { name, value } => put(
                &format!("bantime.{name}"),
                if name == "increment" {
                    Value::Bool(matches!(value, "true" | "1" | "yes" | "on"))
                } else {
                    Value::str(value)
                },
            ),
            Setting::AddIgnoreIp(ips) => {
                let mut list = match j.options.get("ignoreip") {
                    Some(Value::List(l)) => l.clone(),
                    _ => Vec::new(),
                };
                for ip in ips {
                    if !list.contains(&Value::str(ip.clone())) {
                        list.push(Value::str(ip.clone()));
                    }
                }
                j.options.insert("ignoreip".into(), Value::List(list));
            }
            Setting::DelIgnoreIp(ip) => {
                let Some(Value::List(list)) = j.options.get_mut("ignoreip") else {
                    return Err(ControlError::NotInList);
                };
                let before = list.len();
                list.retain(|v| v.as_str() != Some(ip));
                if list.len() == before {
                    return Err(ControlError::NotInList);
                }
            }
            Setting::AddLogPath { path, .. } => {
                if path.starts_with("/nonexistent") {
                    return Err(ControlError::File {
                        errno: 2,
                        path: path.into(),
                    });
                }
                if !j.status.files.iter().any(|f| f == path) {
                    j.status.files.push(path.into());
                }
            }
            Setting::DelLogPath(path) => j.status.files.retain(|f| f != path),
            other => return Err(ControlError::Refused(format!("mock: {other:?}"))),
        }
        Ok(())
    }

    fn reload(&mut self, request: &ReloadRequest) -> Result<(), ControlError> {
        if let Some(j) = &request.jail {
            if self.jail(j).is_err() {
                return Err(ControlError::no_section(j));
            }
        }
        self.reloads.push(request.clone());
        Ok(())
    }

    fn start_jail(&mut self, jail: &str) -> Result<(), ControlError> {
        self.jail(jail).map(|_| ())
    }

    fn stop_jail(&mut self, jail: &str) -> Result<(), ControlError> {
        self.jail(jail)?;
        self.jails.retain(|j| j.name != jail);
        Ok(())
    }

    fn shutdown(&mut self) {
        self.shutdown = true;
    }

    fn flush_logs(&mut self) -> Result<String, ControlError> {
        Ok("rolled over".into())
    }

    fn get_server(&self, option: ServerOption) -> Result<Value, ControlError> {
        let key = format!("{option:?}").to_lowercase();
        Ok(self.server.get(&key).cloned().unwrap_or(Value::None))
    }

    fn set_server(&mut self, option: ServerOption, value: &str) -> Result<(), ControlError> {
        let key = format!("{option:?}").to_lowercase();
        if option == ServerOption::LogLevel {
            let v = value.to_uppercase();
            let known = ["CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"];
            if !known.contains(&v.as_str()) && v.parse::<i64>().is_err() {
                return Err(ControlError::Refused(format!(
                    "Invalid log level '{value}'"
                )));
            }
            self.server.insert(key, Value::Str(v));
            return Ok(());
        }
        self.server.insert(key, Value::str(value));
        Ok(())
    }

    fn attempt(&mut self, jail: &str, _ip: &str, _lines: &[String]) -> Result<u64, ControlError> {
        self.jail(jail).map(|_| 1)
    }
}

fn setup(s: &Scenario) -> MockControl {
    let mut ctl = MockControl {
        now: local_epoch(&s.now),
        ..MockControl::default()
    };
    for (k, v) in &s.server {
        ctl.server.insert(k.clone(), common::py(v));
    }
    for spec in &s.jail {
        ctl.jails.push(MockJail {
            name: spec.name.clone(),
            status: JailStatus {
                currently_failed: spec.currently_failed,
                total_failed: spec.total_failed,
                files: spec.files.clone(),
                total_banned: spec.total_banned,
            },
            bans: spec
                .bans
                .iter()
                .map(|(ip, start, bantime)| BanEntry {
                    ip: ip.clone(),
                    start: local_epoch(start),
                    bantime: *bantime,
                })
                .collect(),
            options: spec
                .options
                .iter()
                .map(|(k, v)| (k.clone(), common::py(v)))
                .collect(),
        });
    }
    ctl
}

/// What the client prints on stdout, its exit status and its ERROR log lines for an answer.
fn client_view(args: &[String], resp: &Response) -> (String, i32, Vec<String>) {
    let shown = render::show(args, resp, Path::new("/srv/f2btest/run/fail2ban.sock"));
    let out = shown.stdout.map(|s| s + "\n").unwrap_or_default();
    (out, if shown.ok { 0 } else { 255 }, shown.errors)
}

#[test]
fn scenarios() {
    let dir = Path::new(DATA).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "scenarios missing in {}", dir.display());
    let caps = Path::new(DATA).join("captures");
    let mut failures = Vec::new();
    let mut steps = 0;
    for file in &files {
        let s: Scenario = toml::from_str(&std::fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut ctl = setup(&s);
        for step in &s.step {
            steps += 1;
            let resp = execute(&mut ctl, &step.args);
            let (out, rc, errors) = client_view(&step.args, &resp);
            let want_out =
                std::fs::read_to_string(caps.join(format!("{}.stdout", step.capture))).unwrap();
            let want_rc: i32 = std::fs::read_to_string(caps.join(format!("{}.rc", step.capture)))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            let want_err = std::fs::read_to_string(caps.join(format!("{}.stderr", step.capture)))
                .unwrap_or_default();
            let name = format!(
                "{}:{}",
                file.file_name().unwrap().to_string_lossy(),
                step.capture
            );
            if out != want_out {
                failures.push(format!(
                    "{name}: stdout\n--- got\n{out}--- want\n{want_out}"
                ));
            }
            if rc != want_rc {
                failures.push(format!("{name}: rc {rc}, want {want_rc}"));
            }
            for e in errors {
                if !want_err.contains(&format!("ERROR   {e}\n")) {
                    failures.push(format!("{name}: {e} not in {want_err:?}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {steps} steps differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `stop` asks the daemon to shut down; `reload` passes its options on.
#[test]
fn stop_and_reload_reach_the_daemon() {
    let mut ctl = MockControl::default();
    ctl.jails.push(MockJail {
        name: "sshd".into(),
        ..MockJail::default()
    });
    let w = |s: &str| -> Vec<String> { s.split(' ').map(str::to_string).collect() };
    assert_eq!(
        execute(&mut ctl, &w("reload sshd --restart --unban")),
        Response::Ok(Value::str("OK"))
    );
    assert_eq!(
        ctl.reloads,
        vec![ReloadRequest {
            jail: Some("sshd".into()),
            restart: true,
            unban: true,
            if_exists: false
        }]
    );
    assert_eq!(
        execute(&mut ctl, &w("reload --all")),
        Response::Ok(Value::str("OK"))
    );
    assert_eq!(ctl.reloads[1].jail, None);
    match execute(&mut ctl, &w("reload sshd --bogus")) {
        Response::Err(e) => assert_eq!(e.message, "Unexpected argument(s) for reload: ['--bogus']"),
        other => panic!("{other:?}"),
    }
    assert!(!ctl.shutdown);
    assert_eq!(execute(&mut ctl, &w("stop")), Response::Ok(Value::None));
    assert!(ctl.shutdown);
    // An empty request is a missing word, not a crash.
    match execute(&mut ctl, &[]) {
        Response::Err(e) => assert_eq!(e.message, "list index out of range"),
        other => panic!("{other:?}"),
    }
    // `add` of an existing jail: the intended message, not 1.0.2's NameError.
    match execute(&mut ctl, &w("add sshd")) {
        Response::Err(e) => {
            assert_eq!(render::beautify_error(&e), "The jail 'sshd' already exists")
        }
        other => panic!("{other:?}"),
    }
}
