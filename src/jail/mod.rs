//! jail: counts failures and decides bans for one jail, exactly as fail2ban 1.0.2 does.
//!
//! Owns the failure window ([`FailWindow`], fail2ban's `FailManager`), the ban table
//! ([`BanTable`], `BanManager`), the ignore rules ([`IgnoreList`]), `bantime.increment`
//! (evaluated natively, [`Increment`]) and the text of fail2ban's own log messages
//! ([`logline`]). It does not read logs (`watch`), match lines (`filter`), touch the firewall
//! (`firewall`) or write files (`persist`): the daemon's poll loop calls a [`Jail`] with each
//! [`Failure`] and the current time, and acts on the returned [`JailEvent`]s — writing their
//! log lines, installing or removing firewall entries for `Ban`/`RestoreBan`/`Unban`, and saving
//! the [`BanHistory`] when it changed. Nothing here blocks, spawns or sleeps.
//!
//! # Compatibility
//! Identical to fail2ban for: the rate-scaled failure count and its rounding, the ban time
//! being the last failure's log time, `bantime = -1` as permanent (other negatives ban nothing
//! and log `Ignore <ip>, expired bantime`), the ignore order, the prolongation of a ban when a
//! banned id reaches `maxretry` again (and the DEBUG/NOTICE/WARNING level of `already banned`),
//! `bantime.increment` (formula, factor, multipliers, maxtime, rndtime, overalljails, the weight
//! of failures of known offenders), restore rules at start, unban on expiry and manual
//! ban/unban (manual bans bypass ignore rules; manual unban deletes the history).
//! Differences: fail2ban's actions and observer threads run asynchronously, so some of its log
//! lines may interleave differently; here the increment is computed before the `Ban` event is
//! returned, so the firewall gets the final ban time at once. Memory is bounded (see
//! [`window`]). `ignorecommand` and `ignorecache` are not supported. The time policing of
//! fail2ban's `processLine` is applied to failures only (fail2ban applies it to every dated
//! line, which changes nothing else but when its warnings appear). The observer's second
//! `Found <ip>, bad` line for a failure that completed the ban is not produced.
//!
//! # Driving jails from the poll loop
//!
//! ```text
//! start:   state = persist::load(state_path)?            (log each `problems` entry)
//!          history = BanHistory::from_records(state.bans)
//!          jail = Jail::new(name, settings, &SystemResolver)?
//!          watcher = LogWatcher::new(globs, state.positions_for(name), opts)?
//!          watcher.set_start_seek(StartSeek { not_before: now - findtime, time_of })
//!          for e in jail.restore(&history, now): log, firewall (RestoreBan)
//! line:    for f in filter.process_line(&line.text, now):
//!              for e in jail.on_failure(&f, line.in_operation, now, &mut history): log, act
//! timer:   jail.due_unbans(now) -> Unban events; wake at min over jails of next_deadline()
//! hourly:  history.purge(now, dbpurgeage)
//! persist: when history.take_dirty() or every ~10 s / at stop: persist::save(path, &State {
//!              bans: history.records().cloned().collect(),
//!              positions: watcher.positions() -> PositionRecord::from_position(name, p) })
//! ```
//!
//! Acting on events: `Ban`/`RestoreBan` → install `ban.ip` with timeout `end - now` (none if
//! `end` is infinite); `AlreadyBanned { prolonged_to: Some(end) }` → update the timeout;
//! `Unban` → remove. Every event has its log line: `e.log_record(jail, &tz)` formatted with
//! `logline::file_line` (or `syslog_line`).

use std::net::IpAddr;

use crate::filter::Failure;
use crate::persist::BanRecord;

pub mod bans;
pub mod history;
pub mod ignore;
pub mod logline;
pub mod settings;
pub mod window;

pub use bans::{Ban, BanTable};
pub use history::BanHistory;
pub use ignore::{IgnoreList, IgnoreSource, Resolver, SystemResolver};
pub use logline::{FixedOffset, Level, LocalTime, LogRecord};
pub use settings::{Formula, Growth, Increment, JailSettings};
pub use window::{FailEntry, FailWindow};

use logline::{py_float, seconds2str, time2str};

/// Errors building or reconfiguring a jail.
#[derive(Debug, thiserror::Error)]
pub enum JailError {
    #[error("invalid {key} value {value:?}: {why}")]
    InvalidSetting {
        key: &'static str,
        value: String,
        why: &'static str,
    },
    #[error(
        "unsupported bantime.formula {0:?}: only fail2ban's stock formula and its exponential \
         example are evaluated; use bantime.multipliers for other growth"
    )]
    UnsupportedFormula(String),
}

/// Seconds between two failure-window cleanups (fail2ban's service interval).
const CLEANUP_INTERVAL: f64 = 5.0;

/// What happened; the daemon logs each and acts on bans and unbans.
#[derive(Debug, Clone, PartialEq)]
pub enum JailEvent {
    /// A failure was counted (`[jail] Found <id> - <time>`).
    Found { id: Box<str>, time: f64 },
    /// A manual failure (`set <jail> attempt`): `[jail] Attempt <id> - <time>`.
    Attempt { id: Box<str>, time: f64 },
    /// A failure was not counted because of an ignore rule.
    Ignored { id: Box<str>, by: IgnoreSource },
    /// A failure of a previously banned id counted `weight` (increment on).
    FoundBad {
        id: Box<str>,
        time: f64,
        ban_count: u32,
        weight: f64,
        capped: bool,
        ban: bool,
    },
    /// New ban: install it. `end` is the final end (after increment), `INFINITY` = permanent.
    Ban { ban: Ban, end: f64 },
    /// Ban restored from the state file at start: install it (if not already present).
    RestoreBan { ban: Ban, end: f64 },
    /// A banned id reached `maxretry` again; `prolonged_to` is the new end if it moved (update
    /// a firewall timeout if the backend keeps one). `after` = new failure time − ban time.
    AlreadyBanned {
        id: Box<str>,
        after: f64,
        prolonged_to: Option<f64>,
    },
    /// The ban would end in the past (negative bantime other than -1): nothing is banned.
    ExpiredBantime { id: Box<str> },
    /// Increment found previous bans (`IP <id> is bad: ...`).
    BadIp {
        id: Box<str>,
        count: u32,
        last_ban: i64,
        from: f64,
        to: f64,
    },
    /// The ban time was increased (`Increase Ban <id> (...)`).
    IncreaseBan {
        id: Box<str>,
        ban_count: u32,
        bantime: f64,
        end: f64,
    },
    /// Ban removed (expiry or manual): remove it from the firewall.
    Unban { ban: Ban },
    /// A `WARNING [jail] <message>` line from fail2ban.filter (time policing, at most once a day
    /// per kind).
    Warning { message: String },
}

impl JailEvent {
    /// The fail2ban log message of this event for jail `jail`.
    pub fn log_record(&self, jail: &str, tz: &dyn LocalTime) -> LogRecord {
        use JailEvent::*;
        let (logger, level, message) = match self {
            Found { id, time } => (
                "fail2ban.filter",
                Level::Info,
                format!("[{jail}] Found {id} - {}", time2str(*time, tz)),
            ),
            Attempt { id, time } => (
                "fail2ban.filter",
                Level::Info,
                format!("[{jail}] Attempt {id} - {}", time2str(*time, tz)),
            ),
            Ignored { id, by } => (
                "fail2ban.filter",
                Level::Info,
                format!("[{jail}] Ignore {id} by {by}"),
            ),
            FoundBad {
                id,
                time,
                ban_count,
                weight,
                capped,
                ban,
            } => {
                let w = if *capped {
                    format!("{}", *weight as i64)
                } else {
                    py_float(*weight)
                };
                let tail = if *ban { ", Ban" } else { "" };
                let t = time2str(*time, tz);
                let msg = format!("[{jail}] Found {id}, bad - {t}, {ban_count} # -> {w}{tail}");
                ("fail2ban.observer", Level::Info, msg)
            }
            Ban { ban, .. } => (
                "fail2ban.actions",
                Level::Notice,
                format!("[{jail}] Ban {}", ban.id),
            ),
            RestoreBan { ban, .. } => (
                "fail2ban.actions",
                Level::Notice,
                format!("[{jail}] Restore Ban {}", ban.id),
            ),
            AlreadyBanned { id, after, .. } => {
                let level = if *after < 3.0 {
                    Level::Debug
                } else if *after < 60.0 {
                    Level::Notice
                } else {
                    Level::Warning
                };
                (
                    "fail2ban.actions",
                    level,
                    format!("[{jail}] {id} already banned"),
                )
            }
            ExpiredBantime { id } => (
                "fail2ban.actions",
                Level::Info,
                format!("[{jail}] Ignore {id}, expired bantime"),
            ),
            BadIp {
                id,
                count,
                last_ban,
                from,
                to,
            } => {
                let msg = format!(
                    "[{jail}] IP {id} is bad: {count} # last {} - incr {} to {}",
                    time2str(*last_ban as f64, tz),
                    seconds2str(*from),
                    seconds2str(*to)
                );
                ("fail2ban.observer", Level::Info, msg)
            }
            IncreaseBan {
                id,
                ban_count,
                bantime,
                end,
            } => {
                let (d, e) = if *bantime == -1.0 {
                    ("permanent".to_string(), "infinite".to_string())
                } else {
                    (seconds2str(*bantime), time2str(*end, tz))
                };
                let msg = format!("[{jail}] Increase Ban {id} ({ban_count} # {d} -> {e})");
                ("fail2ban.observer", Level::Notice, msg)
            }
            Unban { ban } => (
                "fail2ban.actions",
                Level::Notice,
                format!("[{jail}] Unban {}", ban.id),
            ),
            Warning { message } => (
                "fail2ban.filter",
                Level::Warning,
                format!("[{jail}] {message}"),
            ),
        };
        LogRecord {
            logger,
            level,
            message,
        }
    }
}

/// Counters for `fail2ban-client status <jail>` (the filter/actions parts; `File list` comes
/// from `watch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JailStatus {
    pub currently_failed: usize,
    pub total_failed: u64,
    pub currently_banned: usize,
    pub total_banned: u64,
    /// Banned ids in ban order.
    pub banned: Vec<String>,
    /// Failure ids evicted from the full failure window (not in fail2ban's output).
    pub evicted: u64,
}

/// One ban as `get <jail> banip --with-time` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BanView {
    pub id: String,
    pub time: f64,
    pub bantime: f64,
    /// `INFINITY` when permanent.
    pub end: f64,
}

/// One jail's runtime state.
#[derive(Debug)]
pub struct Jail {
    name: String,
    settings: JailSettings,
    window: FailWindow,
    bans: BanTable,
    ignore: IgnoreList,
    rng: u64,
    next_cleanup: f64,
    next_old_warning: f64,
    next_odd_warning: f64,
}

impl Jail {
    /// Builds a jail; resolves `ignoreip` names and (with `ignoreself`) this host's addresses.
    pub fn new(
        name: &str,
        settings: JailSettings,
        resolver: &dyn Resolver,
    ) -> Result<Jail, JailError> {
        settings.validate()?;
        let ignore = IgnoreList::new(&settings.ignoreip, settings.ignoreself, resolver)?;
        let s = &settings;
        let mut window = FailWindow::new(s.findtime, s.maxretry, s.maxmatches, s.max_tracked);
        window.set_match_budget(s.max_match_bytes);
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64);
        Ok(Jail {
            name: name.to_string(),
            settings,
            window,
            bans: BanTable::new(),
            ignore,
            rng: seed | 1,
            next_cleanup: f64::NEG_INFINITY,
            next_old_warning: f64::NEG_INFINITY,
            next_odd_warning: f64::NEG_INFINITY,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn settings(&self) -> &JailSettings {
        &self.settings
    }

    /// Applies new settings (reload): failures and bans are kept; bans without an own bantime
    /// follow the new bantime.
    pub fn reconfigure(
        &mut self,
        settings: JailSettings,
        resolver: &dyn Resolver,
    ) -> Result<(), JailError> {
        settings.validate()?;
        self.ignore = IgnoreList::new(&settings.ignoreip, settings.ignoreself, resolver)?;
        let s = &settings;
        self.window
            .configure(s.findtime, s.maxretry, s.maxmatches, s.max_tracked);
        self.window.set_match_budget(s.max_match_bytes);
        self.settings = settings;
        self.bans.reschedule(self.settings.bantime);
        Ok(())
    }

    /// Seeds the random source used for `bantime.rndtime` (tests).
    pub fn seed_random(&mut self, seed: u64) {
        self.rng = seed | 1;
    }

    /// Counts one failure found by the filter; returns what happened. `in_operation` is the
    /// log line's [`crate::watch::LogLine::in_operation`] (true for live sources).
    ///
    /// First the server's time policing (fail2ban's `processLine`, which the filter leaves to the
    /// jail): while a file is caught up after start, failures older than `now - findtime` are
    /// dropped; in operation, a time more than 60 s away from `now` is replaced by `now`; a time
    /// in the future is clamped to `now`. Each kind warns at most once a day.
    pub fn on_failure(
        &mut self,
        f: &Failure,
        in_operation: bool,
        now: f64,
        history: &mut BanHistory,
    ) -> Vec<JailEvent> {
        let mut events = Vec::new();
        let line = f.lines.last().map_or("", String::as_str);
        let Some(time) = self.police_time(f.time, in_operation, now, line, &mut events) else {
            return events;
        };
        let ip = f.ip.map(ignore::normalize);
        if let Some(by) = self.ignore.check(&f.id, ip) {
            events.push(JailEvent::Ignored {
                id: f.id.as_str().into(),
                by,
            });
            return events;
        }
        let time = if time > now { now } else { time };
        events.push(JailEvent::Found {
            id: f.id.as_str().into(),
            time,
        });
        self.count(&f.id, ip, time, 1.0, &f.lines, now, history, &mut events);
        events
    }

    fn police_time(
        &mut self,
        time: f64,
        in_operation: bool,
        now: f64,
        line: &str,
        events: &mut Vec<JailEvent>,
    ) -> Option<f64> {
        let odd =
            format!("Please check a jail for a timing issue. Line with odd timestamp: {line}");
        if in_operation {
            let delta = (time - now).trunc();
            if delta.abs() <= 60.0 {
                return Some(time);
            }
            if now >= self.next_odd_warning {
                self.next_odd_warning = now + 86_400.0;
                let kind = if (-3300.0..0.0).contains(&delta) {
                    "latency"
                } else {
                    "timezone"
                };
                let side = if delta < 0.0 { "before" } else { "after" };
                let message = format!(
                    "Detected a log entry {} {side} the current time in operation mode. This looks like a \
                     {kind} problem. Treating such entries as if they just happened.",
                    seconds2str(delta.abs())
                );
                events.push(JailEvent::Warning { message });
                events.push(JailEvent::Warning { message: odd });
            }
            return Some(now);
        }
        if time >= now - self.settings.findtime {
            return Some(time);
        }
        if now >= self.next_old_warning {
            self.next_old_warning = now + 86_400.0;
            let message = format!(
                "Ignoring all log entries older than {}s; these are probably messages generated while \
                 fail2ban was not running.",
                py_number(self.settings.findtime)
            );
            events.push(JailEvent::Warning { message });
            events.push(JailEvent::Warning { message: odd });
        }
        None
    }

    /// `set <jail> attempt <id> [line...]`: one failure at `now` weighing the number of lines
    /// (or 1). Like fail2ban's `addAttempt`, ignore rules are not consulted.
    pub fn attempt(
        &mut self,
        id: &str,
        lines: &[String],
        now: f64,
        history: &mut BanHistory,
    ) -> Vec<JailEvent> {
        let ip = id.parse::<IpAddr>().ok().map(ignore::normalize);
        let mut events = vec![JailEvent::Attempt {
            id: id.into(),
            time: now,
        }];
        let count = lines.len().max(1) as f64;
        self.count(id, ip, now, count, lines, now, history, &mut events);
        events
    }

    #[allow(clippy::too_many_arguments)] // one private step shared by log and manual failures
    fn count(
        &mut self,
        id: &str,
        ip: Option<IpAddr>,
        time: f64,
        count: f64,
        lines: &[String],
        now: f64,
        history: &mut BanHistory,
        events: &mut Vec<JailEvent>,
    ) {
        self.maybe_cleanup(now);
        if let Some(t) = self.window.add(id, time, count, lines, now) {
            self.ban_ticket(t, ip, now, history, events);
        }
        self.weigh_known_offender(id, ip, time, now, history, events);
    }

    /// fail2ban's observer `failureFound`: with increment on, a failure of an id banned before
    /// in this jail counts `min(maxretry, 2^min(bancount, 20) / 2 + 1)`.
    fn weigh_known_offender(
        &mut self,
        id: &str,
        ip: Option<IpAddr>,
        time: f64,
        now: f64,
        history: &mut BanHistory,
        events: &mut Vec<JailEvent>,
    ) {
        if self.settings.increment.is_none() {
            return;
        }
        let Some((ban_count, time_of_ban)) = history.lookup(&self.name, id, false) else {
            return;
        };
        if time <= time_of_ban as f64 {
            return;
        }
        let (weight, capped) = failure_weight(ban_count, self.settings.maxretry);
        if weight <= 1.0 {
            return;
        }
        let ban = weight >= f64::from(self.settings.maxretry);
        events.push(JailEvent::FoundBad {
            id: id.into(),
            time,
            ban_count,
            weight,
            capped,
            ban,
        });
        if let Some(t) = self.window.add_weight(id, time, weight - 1.0, ban_count) {
            self.ban_ticket(t, ip, now, history, events);
        }
    }

    fn ban_ticket(
        &mut self,
        t: window::FailTicket,
        ip: Option<IpAddr>,
        now: f64,
        history: &mut BanHistory,
        events: &mut Vec<JailEvent>,
    ) {
        let mut ban = Ban::new(&t.id, ip, t.entry.last);
        ban.failures = t.entry.failures;
        ban.matches = t.entry.matches.to_vec();
        ban.ban_count = t.entry.ban_count;
        self.add_ban(ban, now, history, events);
    }

    /// `set <jail> banip <id>`: bans at `now`, bypassing ignore rules, as fail2ban does. Like
    /// fail2ban any id is accepted (`set sshd banip 999.1.1.1` is); an address is normalised
    /// (IPv4-mapped IPv6 becomes IPv4) and the ban's `ip` is `None` for anything else, so the
    /// firewall has nothing to install (callers may refuse such ids first). Returns the events; a
    /// `Ban` among them means a new ban (fail2ban counts only those); a banned id gets
    /// `AlreadyBanned` (and is prolonged like any re-ban).
    pub fn ban_manual(&mut self, id: &str, now: f64, history: &mut BanHistory) -> Vec<JailEvent> {
        let ip = id.trim().parse::<IpAddr>().ok().map(ignore::normalize);
        let id = ip.map_or_else(|| id.to_string(), |ip| ip.to_string());
        let mut events = Vec::new();
        self.add_ban(Ban::new(&id, ip, now), now, history, &mut events);
        events
    }

    fn add_ban(
        &mut self,
        ban: Ban,
        now: f64,
        history: &mut BanHistory,
        events: &mut Vec<JailEvent>,
    ) {
        let bt = self.settings.bantime;
        let time = ban.time;
        let id = ban.id.clone();
        match self.bans.add(ban, bt, now) {
            Err(bans::NotAdded::Expired) => events.push(JailEvent::ExpiredBantime { id }),
            Err(bans::NotAdded::AlreadyBanned {
                banned_at,
                prolonged,
            }) => {
                let prolonged_to = if prolonged {
                    self.bans.get(&id).map(|b| b.end(bt))
                } else {
                    None
                };
                events.push(JailEvent::AlreadyBanned {
                    id,
                    after: time - banned_at,
                    prolonged_to,
                });
            }
            Ok(_) => self.after_ban(&id, now, history, events),
        }
    }

    /// fail2ban's observer `banFound`: increment, then the history record.
    fn after_ban(
        &mut self,
        id: &str,
        now: f64,
        history: &mut BanHistory,
        events: &mut Vec<JailEvent>,
    ) {
        let jail_bt = self.settings.bantime;
        let Some(ban) = self.bans.get(id) else { return };
        let old = ban.effective_bantime(jail_bt);
        let mut btime = old;
        let mut ban_count = ban.ban_count;
        let mut repeated = false;
        let mut bad = None;
        if old != -1.0 && ban.bantime.is_none() && old > 0.0 {
            if let Some(inc) = &self.settings.increment {
                if let Some((count, tob)) = history.lookup(&self.name, id, inc.overalljails) {
                    if count >= ban_count {
                        ban_count = count + 1;
                    }
                    if count > 0 {
                        btime = inc.ban_time(old, count);
                        if let Some(rnd) = inc.rndtime {
                            btime += next_random(&mut self.rng) * rnd;
                        }
                    }
                    if ban.time > tob as f64 {
                        bad = Some(JailEvent::BadIp {
                            id: id.into(),
                            count,
                            last_ban: tob,
                            from: old,
                            to: btime,
                        });
                    } else {
                        repeated = true; // lines read again after a restart: do not record twice
                    }
                }
            }
        }
        if bad.is_some() || repeated {
            self.bans.set_bantime(id, btime, jail_bt);
        }
        self.bans.set_ban_count(id, ban_count);
        let Some(ban) = self.bans.get(id).cloned() else {
            return;
        };
        let end = ban.end(jail_bt);
        events.push(JailEvent::Ban {
            ban: ban.clone(),
            end,
        });
        events.extend(bad);
        if btime != -1.0 && end < now {
            return; // "Ignore old bantime": nothing written
        }
        if btime != old {
            events.push(JailEvent::IncreaseBan {
                id: id.into(),
                ban_count,
                bantime: btime,
                end,
            });
        }
        if !repeated {
            history.record(self.record_of(&ban, btime));
        }
    }

    fn record_of(&self, ban: &Ban, bantime: f64) -> BanRecord {
        let keep = self.settings.dbmaxmatches;
        let skip = ban.matches.len().saturating_sub(keep);
        BanRecord {
            jail: self.name.clone(),
            id: ban.id.to_string(),
            time_of_ban: ban.time.round_ties_even() as i64,
            bantime,
            ban_count: ban.ban_count,
            failures: ban.failures,
            matches: ban.matches[skip..].iter().map(|m| m.to_string()).collect(),
        }
    }

    /// `set <jail> unbanip <arg>`: unbans `arg` if banned; otherwise, if `arg` is a network,
    /// every banned address in it. Deletes the history of each unbanned id (and of `arg` even
    /// when it was not banned), as fail2ban does.
    pub fn unban(&mut self, arg: &str, history: &mut BanHistory) -> Vec<JailEvent> {
        let mut events = Vec::new();
        if let Some(ban) = self.bans.remove(arg) {
            history.forget(&self.name, arg);
            events.push(JailEvent::Unban { ban });
            return events;
        }
        history.forget(&self.name, arg);
        let Some(net) = ignore::parse_net(arg) else {
            return events;
        };
        let ids: Vec<Box<str>> = self
            .bans
            .in_ban_order()
            .into_iter()
            .filter(|b| b.ip.is_some_and(|ip| net.contains(ip)))
            .map(|b| b.id.clone())
            .collect();
        for id in ids {
            if let Some(ban) = self.bans.remove(&id) {
                history.forget(&self.name, &id);
                events.push(JailEvent::Unban { ban });
            }
        }
        events
    }

    /// `unban --all` / `reload --unban`: every ban removed and the jail's history deleted.
    pub fn unban_all(&mut self, history: &mut BanHistory) -> Vec<JailEvent> {
        history.forget_jail(&self.name);
        self.flush()
    }

    /// Jail stop: every ban removed (history kept, so they are restored at the next start).
    pub fn flush(&mut self) -> Vec<JailEvent> {
        let ids: Vec<Box<str>> = self
            .bans
            .in_ban_order()
            .into_iter()
            .map(|b| b.id.clone())
            .collect();
        ids.iter()
            .filter_map(|id| self.bans.remove(id))
            .map(|ban| JailEvent::Unban { ban })
            .collect()
    }

    /// Restores this jail's bans from the history at start (fail2ban's `restoreCurrentBans`).
    pub fn restore(&mut self, history: &BanHistory, now: f64) -> Vec<JailEvent> {
        let mut recs: Vec<&BanRecord> = history.for_jail(&self.name).collect();
        recs.sort_by_key(|r| r.time_of_ban);
        let mut events = Vec::new();
        for rec in recs {
            let Some(bantime) = self.restored_bantime(rec, now) else {
                continue;
            };
            let ip = rec.id.parse::<IpAddr>().ok().map(ignore::normalize);
            if let Some(by) = self.ignore.check(&rec.id, ip) {
                events.push(JailEvent::Ignored {
                    id: rec.id.as_str().into(),
                    by,
                });
                continue;
            }
            let mut ban = Ban::new(&rec.id, ip, rec.time_of_ban as f64);
            ban.bantime = Some(bantime);
            ban.ban_count = rec.ban_count.saturating_sub(1);
            ban.failures = rec.failures;
            let skip = rec.matches.len().saturating_sub(self.settings.maxmatches);
            ban.matches = rec.matches[skip..]
                .iter()
                .map(|m| m.as_str().into())
                .collect();
            ban.restored = true;
            match self.bans.add(ban, self.settings.bantime, now) {
                Ok(b) => {
                    let end = b.end(self.settings.bantime);
                    events.push(JailEvent::RestoreBan {
                        ban: b.clone(),
                        end,
                    });
                }
                Err(_) => continue,
            }
        }
        events
    }

    /// §4.4 candidate selection and bantime correction; `None` = not restored.
    fn restored_bantime(&self, rec: &BanRecord, now: f64) -> Option<f64> {
        let jail_bt = self.settings.bantime;
        let tob = rec.time_of_ban as f64;
        let candidate = tob + rec.bantime > now || rec.bantime <= -1.0;
        let recent = self.settings.increment.is_some() || jail_bt == -1.0 || tob > now - jail_bt;
        if !candidate || !recent {
            return None;
        }
        let mut bt = rec.bantime;
        if bt == -2.0 {
            bt = jail_bt;
        }
        match &self.settings.increment {
            None if jail_bt != -1.0 && (bt == -1.0 || bt > jail_bt) => bt = jail_bt,
            Some(inc) => {
                if let Some(max) = inc.maxtime {
                    if bt == -1.0 || bt > max {
                        bt = max;
                    }
                }
            }
            None => {}
        }
        let end = if bt == -1.0 { f64::INFINITY } else { tob + bt };
        (end > now).then_some(bt)
    }

    /// Bans whose end has passed: removed here, to be removed from the firewall. Also runs the
    /// failure-window cleanup when due.
    pub fn due_unbans(&mut self, now: f64) -> Vec<JailEvent> {
        self.maybe_cleanup(now);
        self.bans
            .expire(now, self.settings.bantime)
            .into_iter()
            .map(|ban| JailEvent::Unban { ban })
            .collect()
    }

    /// When `due_unbans` will next have something to do (epoch seconds), if ever.
    pub fn next_deadline(&mut self) -> Option<f64> {
        // fail2ban unbans when now > end: wake just after the end
        self.bans
            .next_end(self.settings.bantime)
            .map(|end| end + 0.001)
    }

    fn maybe_cleanup(&mut self, now: f64) {
        if now >= self.next_cleanup {
            self.next_cleanup = now + CLEANUP_INTERVAL;
            self.window.cleanup(now);
        }
    }

    pub fn is_banned(&self, id: &str) -> bool {
        self.bans.contains(id)
    }

    pub fn ban(&self, id: &str) -> Option<&Ban> {
        self.bans.get(id)
    }

    /// Counters and the banned list for `status <jail>`.
    pub fn status(&self) -> JailStatus {
        JailStatus {
            currently_failed: self.window.len(),
            total_failed: self.window.total(),
            currently_banned: self.bans.len(),
            total_banned: self.bans.total(),
            banned: self
                .bans
                .in_ban_order()
                .iter()
                .map(|b| b.id.to_string())
                .collect(),
            evicted: self.window.evicted(),
        }
    }

    /// Current bans ordered by end, with their times (`get <jail> banip --with-time`).
    pub fn bans_with_time(&self) -> Vec<BanView> {
        let bt = self.settings.bantime;
        self.bans
            .in_end_order(bt)
            .into_iter()
            .map(|b| BanView {
                id: b.id.to_string(),
                time: b.time,
                bantime: b.effective_bantime(bt),
                end: b.end(bt),
            })
            .collect()
    }

    /// `get <jail> ignoreip`.
    pub fn ignore_entries(&self) -> Vec<String> {
        self.ignore.entries()
    }

    /// The failure window (read-only), e.g. for tests and status details.
    pub fn window(&self) -> &FailWindow {
        &self.window
    }
}

/// Weight of one failure of an id banned `ban_count` times before (increment on):
/// `min(maxretry, 2^min(ban_count, 20) / 2 + 1)`, and whether `maxretry` capped it (fail2ban then
/// prints the weight as an integer).
pub fn failure_weight(ban_count: u32, maxretry: u32) -> (f64, bool) {
    let raw = (1u64 << ban_count.min(20)) as f64 / 2.0 + 1.0;
    let max = f64::from(maxretry);
    if raw > max { (max, true) } else { (raw, false) }
}

/// A setting value as Python prints it (`600` for an int, `1.5` for a float).
fn py_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        py_float(v)
    }
}

/// xorshift64* in [0, 1).
fn next_random(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    let v = x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
    v as f64 / (1u64 << 53) as f64
}
