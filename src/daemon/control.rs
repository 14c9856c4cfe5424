//! The daemon as the command executor (`ipc::execute`) sees it: `fail2zig-client` commands
//! carried out on the running jails. fail2ban's result shapes and error texts are the
//! executor's business; this file only reads and changes state.

use super::jails;
use super::runtime::{Daemon, now};
use crate::config::{TimeSpan, UseDns};
use crate::ipc::{
    BanEntry as IpcBan, Control, ControlError, JailOption, JailStatus, ReloadRequest, ServerOption,
    Setting, UnbanOutcome, Value,
};
use crate::jail::JailEvent;

impl Daemon {
    fn index(&self, jail: &str) -> Result<usize, ControlError> {
        self.jails
            .iter()
            .position(|j| j.config.name == jail)
            .ok_or_else(|| ControlError::UnknownJail(jail.to_string()))
    }

    /// Rebuilds the jail's counting settings after a `set` changed its configuration.
    fn reconfigure(&mut self, i: usize) -> Result<(), ControlError> {
        let s = jails::jail_settings(&self.jails[i].config, self.settings.max_tracked)
            .map_err(|e| ControlError::Refused(crate::exit::chain(&e)))?;
        self.jails[i]
            .jail
            .reconfigure(s, &crate::jail::SystemResolver)
            .map_err(|e| ControlError::Refused(crate::exit::chain(&e)))
    }

    /// Recompiles the jail's filter after a regex, date or dns setting changed.
    fn recompile(&mut self, i: usize) -> Result<(), ControlError> {
        let f = jails::compile_filter(&self.jails[i].config)
            .map_err(|e| ControlError::Refused(crate::exit::chain(&e)))?;
        self.jails[i].filter = f;
        Ok(())
    }
}

/// Parses a time expression as `set JAIL bantime|findtime` does. fail2ban evaluates the
/// expression as Python, so a bare word that is no time unit fails with Python's `NameError`
/// text; that message is kept for it.
fn time(text: &str) -> Result<TimeSpan, ControlError> {
    TimeSpan::parse(text).map_err(|e| {
        let word = text.trim();
        let identifier = word
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if identifier {
            ControlError::Refused(format!("name '{word}' is not defined"))
        } else {
            ControlError::Refused(e.to_string())
        }
    })
}

/// Whether a filter's `datepattern` selects fail2ban's default templates (`{^LN-BEG}` or
/// `{DEFAULT}`, upper-cased unless the pattern holds a `%`, as datedetector.py does).
fn is_default_detectors(pattern: &str) -> bool {
    let key = if pattern.contains('%') {
        pattern.to_string()
    } else {
        pattern.to_uppercase()
    };
    key == "{^LN-BEG}" || key == "{DEFAULT}"
}

fn strs(v: &[String]) -> Value {
    Value::List(v.iter().map(|s| Value::Str(s.clone())).collect())
}

impl Control for Daemon {
    fn jails(&self) -> Vec<String> {
        self.jails.iter().map(|j| j.config.name.clone()).collect()
    }

    fn jail_status(&self, jail: &str) -> Result<JailStatus, ControlError> {
        let rj = &self.jails[self.index(jail)?];
        let s = rj.jail.status();
        Ok(JailStatus {
            currently_failed: s.currently_failed as u64,
            total_failed: s.total_failed,
            files: jails::files(rj)
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            total_banned: s.total_banned,
        })
    }

    fn bans(&self, jail: &str) -> Result<Vec<IpcBan>, ControlError> {
        let rj = &self.jails[self.index(jail)?];
        let bantime = rj.config.bantime.seconds() as f64;
        let mut out = Vec::new();
        for id in rj.jail.status().banned {
            if let Some(b) = rj.jail.ban(&id) {
                let bt = b.effective_bantime(bantime);
                out.push(IpcBan {
                    ip: id.clone(),
                    start: b.time as i64,
                    bantime: bt as i64,
                });
            }
        }
        Ok(out)
    }

    fn ban(&mut self, jail: &str, ips: &[String]) -> Result<u64, ControlError> {
        let i = self.index(jail)?;
        let t = now();
        let mut added = 0;
        for ip in ips {
            let events = self.jails[i].jail.ban_manual(ip, t, &mut self.history);
            added += events
                .iter()
                .filter(|e| matches!(e, JailEvent::Ban { .. }))
                .count() as u64;
            self.apply(i, events, t);
        }
        self.save_state(false);
        Ok(added)
    }

    fn unban(&mut self, jail: &str, ips: &[String]) -> Result<UnbanOutcome, ControlError> {
        let i = self.index(jail)?;
        let mut out = UnbanOutcome::default();
        for ip in ips {
            let events = self.jails[i].jail.unban(ip, &mut self.history);
            let n = events
                .iter()
                .filter(|e| matches!(e, JailEvent::Unban { .. }))
                .count() as u64;
            if n == 0 {
                out.absent.push(ip.clone());
            }
            out.unbanned += n;
            self.apply(i, events, now());
        }
        self.save_state(false);
        Ok(out)
    }

    fn unban_all(&mut self, jail: &str) -> Result<u64, ControlError> {
        let i = self.index(jail)?;
        let events = self.jails[i].jail.unban_all(&mut self.history);
        let n = events.len() as u64;
        self.apply(i, events, now());
        self.save_state(false);
        Ok(n)
    }

    fn get(&self, jail: &str, option: &JailOption) -> Result<Value, ControlError> {
        let rj = &self.jails[self.index(jail)?];
        let c = &rj.config;
        Ok(match option {
            JailOption::BanTime => Value::Int(c.bantime.seconds()),
            JailOption::FindTime => Value::Int(c.findtime.seconds()),
            JailOption::MaxRetry => Value::Int(i64::from(c.maxretry)),
            JailOption::MaxLines => Value::Int(rj.filter.maxlines() as i64),
            JailOption::MaxMatches => Value::Int(i64::from(c.maxmatches)),
            JailOption::IgnoreSelf => Value::Bool(c.ignoreself),
            JailOption::IgnoreIp => strs(&rj.jail.ignore_entries()),
            JailOption::IgnoreCommand => Value::Str(String::new()),
            JailOption::IgnoreCache => Value::None,
            JailOption::LogPath => Value::List(
                jails::files(rj)
                    .iter()
                    .map(|p| Value::Str(p.display().to_string()))
                    .collect(),
            ),
            JailOption::LogEncoding => Value::Str(if c.logencoding.eq_ignore_ascii_case("auto") {
                "UTF-8".into()
            } else {
                c.logencoding.clone()
            }),
            JailOption::JournalMatch => Value::List(Vec::new()),
            JailOption::FailRegex => Value::List(
                rj.filter
                    .failregexes()
                    .iter()
                    .map(|r| Value::Str(r.expanded.clone()))
                    .collect(),
            ),
            JailOption::IgnoreRegex => Value::List(
                rj.filter
                    .ignoreregexes()
                    .iter()
                    .map(|r| Value::Str(r.expanded.clone()))
                    .collect(),
            ),
            JailOption::PrefRegex => Value::Str(
                rj.filter
                    .prefregex()
                    .map(|r| r.expanded.clone())
                    .unwrap_or_default(),
            ),
            JailOption::DatePattern => match rj.filter.datepattern() {
                Some(p) if !is_default_detectors(p) => {
                    // fail2ban answers (pattern, template name): the name spells the
                    // directives out as the date module names its templates.
                    let name = crate::date::DateDetector::new(Some(p), None)
                        .ok()
                        .and_then(|d| d.template_names().first().cloned())
                        .unwrap_or_else(|| p.to_string());
                    Value::Tuple(vec![Value::Str(p.to_string()), Value::Str(name)])
                }
                // fail2ban's date detector holds all its default templates here (lazily):
                // more than two templates answer (None, "Default Detectors").
                _ => Value::Tuple(vec![Value::None, Value::Str("Default Detectors".into())]),
            },
            JailOption::UseDns => Value::Str(
                match c.usedns {
                    UseDns::Yes => "yes",
                    UseDns::Warn => "warn",
                    UseDns::No => "no",
                    UseDns::Raw => "raw",
                }
                .into(),
            ),
            JailOption::LogTimeZone => c.logtimezone.clone().map_or(Value::None, Value::Str),
            JailOption::Actions if !c.actions.is_empty() => strs(&c.actions),
            JailOption::Actions => Value::List(vec![Value::Str(self.backend.name().to_string())]),

            JailOption::Idle => Value::Bool(rj.idle),
            JailOption::BanTimeExtra(name) => match name.as_str() {
                // fail2ban answers None for an option the configuration did not set; the
                // typed config keeps no "unset", so a false flag reads as unset.
                "increment" if c.increment.enabled => Value::Bool(true),
                "factor" if c.increment.enabled => Value::Str(c.increment.factor.clone()),
                "formula" => c.increment.formula.clone().map_or(Value::None, Value::Str),
                "multipliers" if !c.increment.multipliers.is_empty() => Value::Str(
                    c.increment
                        .multipliers
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                "maxtime" => c
                    .increment
                    .maxtime
                    .map_or(Value::None, |t| Value::Int(t.seconds())),
                "rndtime" => c
                    .increment
                    .rndtime
                    .map_or(Value::None, |t| Value::Int(t.seconds())),
                "overalljails" if c.increment.overalljails => Value::Bool(true),
                _ => Value::None,
            },
        })
    }

    fn set(&mut self, jail: &str, setting: Setting<'_>) -> Result<(), ControlError> {
        let i = self.index(jail)?;
        let c = &mut self.jails[i].config;
        let int = |v: i64, what: &str| {
            u32::try_from(v).map_err(|_| ControlError::Refused(format!("invalid {what} {v}")))
        };
        match setting {
            Setting::BanTime(t) => c.bantime = time(t)?,
            Setting::FindTime(t) => c.findtime = time(t)?,
            Setting::MaxRetry(n) => c.maxretry = int(n, "maxretry")?,
            Setting::MaxMatches(n) => c.maxmatches = int(n, "maxmatches")?,
            Setting::IgnoreSelf(b) => c.ignoreself = b,
            Setting::AddIgnoreIp(ips) => {
                for ip in ips {
                    if !c.ignoreip.contains(ip) {
                        c.ignoreip.push(ip.clone());
                    }
                }
            }
            Setting::DelIgnoreIp(ip) => {
                let before = c.ignoreip.len();
                c.ignoreip.retain(|x| x != ip);
                if c.ignoreip.len() == before {
                    return Err(ControlError::NotInList);
                }
            }
            Setting::MaxLines(n) => {
                c.filter.maxlines = Some(int(n, "maxlines")?);
                return self.recompile(i);
            }
            Setting::DatePattern(p) => {
                c.filter.datepattern = Some(p.to_string());
                return self.recompile(i);
            }
            Setting::UseDns(v) => {
                c.usedns = match v {
                    "yes" => UseDns::Yes,
                    "no" => UseDns::No,
                    "raw" => UseDns::Raw,
                    _ => UseDns::Warn,
                };
                return self.recompile(i);
            }
            Setting::LogTimeZone(z) => {
                c.logtimezone = Some(z.to_string());
                return self.recompile(i);
            }
            Setting::AddFailRegex(r) => {
                c.filter.failregex.push(r.to_string());
                return self.recompile(i);
            }
            Setting::AddIgnoreRegex(r) => {
                c.filter.ignoreregex.push(r.to_string());
                return self.recompile(i);
            }
            Setting::DelFailRegex(k) | Setting::DelIgnoreRegex(k) => {
                let list = if matches!(setting, Setting::DelFailRegex(_)) {
                    &mut c.filter.failregex
                } else {
                    &mut c.filter.ignoreregex
                };
                let k = usize::try_from(k)
                    .ok()
                    .filter(|k| *k < list.len())
                    .ok_or_else(|| ControlError::Refused("list index out of range".into()))?;
                list.remove(k);
                return self.recompile(i);
            }
            Setting::PrefRegex(r) => {
                c.filter.prefregex = (!r.is_empty()).then(|| r.to_string());
                return self.recompile(i);
            }
            Setting::BanTimeExtra { name, value } => {
                let inc = &mut c.increment;
                match name {
                    "increment" => {
                        inc.enabled = matches!(
                            value.to_ascii_lowercase().as_str(),
                            "true" | "yes" | "1" | "on"
                        )
                    }
                    "factor" => inc.factor = value.to_string(),
                    "formula" => inc.formula = Some(value.to_string()),
                    "multipliers" => {
                        inc.multipliers = value
                            .split_whitespace()
                            .map(str::parse)
                            .collect::<Result<_, _>>()
                            .map_err(|_| {
                                ControlError::Refused(format!("invalid multipliers {value:?}"))
                            })?;
                    }
                    "maxtime" => inc.maxtime = Some(time(value)?),
                    "rndtime" => inc.rndtime = Some(time(value)?),
                    "overalljails" => {
                        inc.overalljails = matches!(
                            value.to_ascii_lowercase().as_str(),
                            "true" | "yes" | "1" | "on"
                        )
                    }
                    other => {
                        return Err(ControlError::Refused(format!(
                            "unknown option bantime.{other}"
                        )));
                    }
                }
            }
            Setting::AddLogPath { .. } | Setting::DelLogPath(_) => {
                return Err(ControlError::Unsupported(
                    "changing log paths at run time (edit the configuration and reload)",
                ));
            }
            Setting::LogEncoding(enc) => {
                crate::watch::Encoding::parse(enc)
                    .map_err(|_| ControlError::Refused(format!("unknown encoding: {enc}")))?;
                c.logencoding = enc.to_string();
                return jails::reopen_files(&mut self.jails[i], now())
                    .map_err(|e| ControlError::Refused(crate::exit::chain(&e)));
            }
            Setting::AddJournalMatch(_) | Setting::DelJournalMatch(_) => {
                return Err(ControlError::Unsupported("journalmatch at run time"));
            }
            Setting::IgnoreCommand(_) | Setting::IgnoreCache(_) => {
                return Err(ControlError::Unsupported(
                    "ignorecommand (fail2zig never runs a program)",
                ));
            }
            Setting::Idle(on) => {
                self.jails[i].idle = on;
                return Ok(());
            }
        }
        self.reconfigure(i)
    }

    fn reload(&mut self, request: &ReloadRequest) -> Result<(), ControlError> {
        if let Some(j) = &request.jail {
            // fail2ban's order: the configuration must have the section, then the jail must run
            // (unless `--if-exists` asks to create it).
            if !self.settings.jails.iter().any(|c| &c.name == j) {
                return Err(ControlError::no_section(j));
            }
            if !request.if_exists && self.index(j).is_err() {
                return Err(ControlError::UnknownJail(j.clone()));
            }
        }
        if request.unban {
            let names: Vec<String> = self
                .jails
                .iter()
                .map(|j| j.config.name.clone())
                .filter(|n| request.jail.as_ref().is_none_or(|j| j == n))
                .collect();
            for n in names {
                self.unban_all(&n)?;
            }
        }
        if request.restart {
            // A restarted jail starts afresh (empty failure window) and gets its bans back
            // from the history.
            let names: Vec<String> = match &request.jail {
                Some(j) => vec![j.clone()],
                None => self.jails.iter().map(|j| j.config.name.clone()).collect(),
            };
            for n in names {
                self.stop_jail_named(&n);
            }
        }
        self.reload(request.jail.as_deref())
            .map_err(|e| ControlError::Config(crate::exit::chain(&e)))
    }

    fn start_jail(&mut self, jail: &str) -> Result<(), ControlError> {
        if self.index(jail).is_ok() {
            return Ok(());
        }
        if !self.settings.jails.iter().any(|j| j.name == jail) {
            return Err(ControlError::UnknownJail(jail.to_string()));
        }
        self.reload(Some(jail))
            .map_err(|e| ControlError::Config(crate::exit::chain(&e)))
    }

    fn stop_jail(&mut self, jail: &str) -> Result<(), ControlError> {
        if self.stop_jail_named(jail) {
            Ok(())
        } else {
            Err(ControlError::UnknownJail(jail.to_string()))
        }
    }

    fn shutdown(&mut self) {
        self.request_stop();
    }

    fn get_server(&self, option: ServerOption) -> Result<Value, ControlError> {
        Ok(match option {
            ServerOption::LogLevel => Value::Str(self.settings.loglevel.to_ascii_uppercase()),
            ServerOption::LogTarget => Value::Str("STDERR".into()),
            ServerOption::SyslogSocket => Value::Str("auto".into()),
            // No SQLite database: the state file is fail2zig's own (fail2ban prints
            // "Database currently disabled" for None).
            ServerOption::DbFile => Value::None,
            ServerOption::DbMaxMatches => Value::None,
            ServerOption::DbPurgeAge => Value::None,
            ServerOption::AllowIpv6 => Value::Str("auto".into()),
        })
    }

    fn set_server(&mut self, option: ServerOption, value: &str) -> Result<(), ControlError> {
        match option {
            ServerOption::LogLevel if crate::config::log_filter(value).is_some() => {
                self.settings.loglevel = value.to_string();
                Ok(())
            }
            ServerOption::LogLevel => Err(ControlError::Refused(format!(
                "Invalid log level {value:?}"
            ))),
            _ => Err(ControlError::Unsupported(
                "changing this server option at run time",
            )),
        }
    }

    fn restart(&mut self) -> Result<(), ControlError> {
        self.reload(None)
            .map_err(|e| ControlError::Config(crate::exit::chain(&e)))
    }
}
