//! The running daemon: startup, the one-thread poll loop, reload and shutdown.
//!
//! One loop owns everything: the jails' log watchers (inotify descriptors, or polling), the
//! unban timers (each jail's next deadline), the control socket and the signal pipe. Nothing
//! blocks except `poll(2)`; every stage is called with the current time.
//! fail2ban's server policing of line times (`checkFindTime`) is the jail's: each failure is
//! passed on with whether its line was read in operation or while catching up.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustix::event::{PollFd, PollFlags};

use super::jails::{self, JailBuildError, RunningJail};
use super::signals::Signals;
use crate::cli::BackendKind;
use crate::config::{ConfigError, ConfigSource, Settings};
use crate::firewall::nftables::{NftConfig, NftablesBackend};
use crate::firewall::{Backend, BanEntry, FirewallError, KernelBan, LogBackend};
use crate::ipc;
use crate::jail::{BanHistory, JailEvent, Level, LocalTime};
use crate::persist;

/// How often saved log positions are refreshed while lines flow.
const POSITIONS_EVERY: Duration = Duration::from_secs(10);
/// How often failed firewall operations are retried.
const RETRY_EVERY: Duration = Duration::from_secs(5);
/// How often old ban history is forgotten (fail2ban's hourly purge).
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// fail2ban's stock `dbpurgeage` (1 day): older history no longer raises bantime; current
/// bans are kept whatever their age.
const HISTORY_AGE: f64 = 86400.0;
/// The longest the loop sleeps.
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// Why the daemon could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("configuration")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Jail(#[from] JailBuildError),
    #[error(
        "the nftables backend cannot install its table; the daemon does not run pretending to ban \
         (set `backend = \"log\"` in [global] to only record decisions)"
    )]
    Firewall(#[source] FirewallError),
    #[error("control socket {path}")]
    Ipc {
        path: PathBuf,
        #[source]
        source: ipc::IpcError,
    },
    #[error("state directory {path}")]
    StateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("signal handlers")]
    Signals(#[source] std::io::Error),
    #[error("poll")]
    Poll(#[source] std::io::Error),
    #[error("no jail is enabled")]
    NoJail,
}

impl DaemonError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            DaemonError::Config(_) | DaemonError::Jail(_) | DaemonError::NoJail => {
                crate::exit::CONFIG
            }
            _ => crate::exit::FAILURE,
        }
    }
}

/// The seconds since the epoch, as fail2ban's `MyTime.time()`.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Local time for fail2ban's log lines.
struct LocalZone(crate::date::TimeZone);

impl LocalTime for LocalZone {
    fn utc_offset(&self, epoch: i64) -> i32 {
        self.0.offset_at(epoch).0
    }
}

/// A firewall change that failed and is retried (no ban is silently dropped).
#[derive(Debug, Clone)]
enum Pending {
    Ban {
        jail: String,
        entry: BanEntry,
        end: f64,
    },
    Unban {
        jail: String,
        ip: std::net::IpAddr,
    },
}

/// Command-line overrides of the configuration.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub socket: Option<PathBuf>,
    pub backend: Option<BackendKind>,
    pub state_dir: Option<PathBuf>,
}

impl Overrides {
    pub fn apply(&self, s: &mut Settings) {
        if let Some(p) = &self.socket {
            s.socket = p.clone();
        }
        if let Some(b) = self.backend {
            s.backend = b;
        }
        if let Some(d) = &self.state_dir {
            s.state_dir = d.clone();
        }
    }
}

/// The running daemon.
pub struct Daemon {
    pub(super) settings: Settings,
    pub(super) overrides: Overrides,
    pub(super) backend: Box<dyn Backend>,
    pub(super) jails: Vec<RunningJail>,
    pub(super) history: BanHistory,
    ipc: Option<ipc::Server>,
    signals: Signals,
    state_file: PathBuf,
    zone: LocalZone,
    pending: Vec<Pending>,
    last_retry: Instant,
    last_purge: Instant,
    last_positions: Instant,
    positions_dirty: bool,
    pub(super) stop: bool,
}

impl Daemon {
    /// Starts everything: firewall scaffold, state, jails, control socket.
    pub fn start(mut settings: Settings, overrides: Overrides) -> Result<Daemon, DaemonError> {
        overrides.apply(&mut settings);
        tracing::info!(target: "fail2ban.server", "Starting fail2zig v{} ({})", env!("CARGO_PKG_VERSION"), settings.source);
        if settings.enabled_jails().next().is_none() {
            return Err(DaemonError::NoJail);
        }
        let signals = Signals::install().map_err(DaemonError::Signals)?;
        std::fs::create_dir_all(&settings.state_dir).map_err(|source| DaemonError::StateDir {
            path: settings.state_dir.clone(),
            source,
        })?;
        let state_file = persist::state_path(&settings.state_dir);
        let state = load_state(&state_file);
        let t = now();
        let mut jails = Vec::new();
        for c in settings.enabled_jails() {
            tracing::info!(target: "fail2ban.jail", "Creating new jail '{}'", c.name);
            let cursor = state
                .cursors
                .iter()
                .find(|r| r.jail == c.name)
                .map(|r| r.cursor.clone());
            let rj = jails::build(
                c,
                settings.max_tracked,
                jails::positions_for(&c.name, &state.positions),
                cursor,
                t,
            )?;
            if jails::files(&rj).is_empty() {
                tracing::warn!(target: "fail2ban.filter", "[{}] no file matches {:?} yet; files that appear later are followed", c.name, c.logpath);
            }
            jails.push(rj);
        }
        let mut backend = open_backend(&settings)?;
        let rules: Vec<_> = jails.iter().map(|j| jails::rules(&j.config)).collect();
        let kernel = backend.start(&rules).map_err(DaemonError::Firewall)?;
        let ipc = bind_socket(&settings)?;
        let mut d = Daemon {
            settings,
            overrides,
            backend,
            jails,
            history: BanHistory::from_records(state.bans),
            ipc: Some(ipc),
            signals,
            state_file,
            zone: LocalZone(crate::date::TimeZone::local()),
            pending: Vec::new(),
            last_retry: Instant::now(),
            last_purge: Instant::now(),
            last_positions: Instant::now(),
            positions_dirty: false,
            stop: false,
        };
        d.restore(&kernel, t);
        for j in &d.jails {
            tracing::info!(target: "fail2ban.jail", "Jail '{}' started", j.config.name);
        }
        Ok(d)
    }

    /// Restores bans from the state file, adding to the kernel only what it lacks.
    fn restore(&mut self, kernel: &[(String, KernelBan)], t: f64) {
        self.restore_jails(0, kernel, t);
    }

    /// [`Self::restore`] for the jails from index `first` on.
    fn restore_jails(&mut self, first: usize, kernel: &[(String, KernelBan)], t: f64) {
        for i in first..self.jails.len() {
            let events = self.jails[i].jail.restore(&self.history, t);
            let name = self.jails[i].config.name.clone();
            for ev in events {
                match &ev {
                    JailEvent::RestoreBan { ban, end } => {
                        self.log_event(i, &ev);
                        let in_kernel = ban
                            .ip
                            .is_some_and(|ip| kernel.iter().any(|(j, k)| *j == name && k.ip == ip));
                        if !in_kernel {
                            self.firewall_ban(i, ban.ip, *end, t);
                        }
                    }
                    _ => self.apply(i, vec![ev], t),
                }
            }
        }
    }

    /// Runs the loop until SIGTERM/SIGINT or `stop`, then shuts down.
    pub fn run(mut self) -> Result<(), DaemonError> {
        while !self.stop {
            let timeout = self.timeout();
            self.wait(timeout)?;
            self.step();
        }
        self.shutdown();
        Ok(())
    }

    /// Asks the loop to stop (from another thread: use the signal; from a command: this).
    pub fn request_stop(&mut self) {
        self.stop = true;
    }

    fn timeout(&mut self) -> Duration {
        let mut t = MAX_SLEEP;
        let n = now();
        for j in &mut self.jails {
            if j.has_pending() {
                return Duration::ZERO;
            }
            t = t.min(j.poll_interval());
            if let Some(dl) = j.jail.next_deadline() {
                t = t.min(Duration::from_secs_f64((dl - n).max(0.0)));
            }
        }
        if let Some(ipc) = &self.ipc {
            if let Some(it) = ipc.timeout(Instant::now()) {
                t = t.min(it);
            }
        }
        t
    }

    fn wait(&self, timeout: Duration) -> Result<(), DaemonError> {
        let sig = self.signals.fd();
        let mut fds = vec![PollFd::new(&sig, PollFlags::IN)];
        let watch_fds: Vec<_> = self.jails.iter().filter_map(|j| j.as_fd()).collect();
        for fd in &watch_fds {
            fds.push(PollFd::new(fd, PollFlags::IN));
        }
        if let Some(ipc) = &self.ipc {
            fds.extend(ipc.poll_fds());
        }
        let ts = rustix::time::Timespec {
            tv_sec: timeout.as_secs() as i64,
            tv_nsec: i64::from(timeout.subsec_nanos()),
        };
        match rustix::event::poll(&mut fds, Some(&ts)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
            Err(e) => Err(DaemonError::Poll(e.into())),
        }
    }

    /// One turn of the loop: signals, logs, timers, commands, retries, state.
    pub fn step(&mut self) {
        let sig = self.signals.take();
        if sig.stop {
            self.stop = true;
        }
        if sig.reload {
            if let Err(e) = self.reload(None) {
                tracing::error!(target: "fail2ban.server", "reload failed, the running configuration is kept: {}", crate::exit::chain(&e));
            }
        }
        for i in 0..self.jails.len() {
            self.read_logs(i);
        }
        let t = now();
        for i in 0..self.jails.len() {
            let events = self.jails[i].jail.due_unbans(t);
            self.apply(i, events, t);
        }
        self.serve();
        if self.last_purge.elapsed() >= PURGE_EVERY {
            self.last_purge = Instant::now();
            self.history.purge(now(), HISTORY_AGE);
        }
        if !self.pending.is_empty() && self.last_retry.elapsed() >= RETRY_EVERY {
            self.retry();
        }
        self.save_state(false);
    }

    fn read_logs(&mut self, i: usize) {
        if matches!(self.jails[i].source, jails::Source::Journal { .. }) {
            return self.read_journal(i);
        }
        let name = self.jails[i].config.name.clone();
        let jails::Source::Files(watcher) = &mut self.jails[i].source else {
            return;
        };
        let lines = match watcher.poll() {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(target: "fail2ban.filter", "[{name}] {}", crate::exit::chain(&e));
                Vec::new()
            }
        };
        let changes = watcher.take_changes();
        let errors = watcher.take_errors();
        for change in changes {
            let rec = crate::jail::logline::watch_record(&change);
            log_record(rec.logger, rec.level, &rec.message);
        }
        for e in errors {
            tracing::error!(target: "fail2ban.filter", "[{name}] {}", crate::exit::chain(&e));
        }
        if !lines.is_empty() {
            self.positions_dirty = true;
        }
        if self.jails[i].idle {
            return;
        }
        for line in lines {
            let t = now();
            let failures = self.jails[i].filter.process_line(&line.text, t);
            self.count(i, failures, line.in_operation, t);
        }
    }

    /// Journal entries arrive with their date: no date detection (fail2ban's journal backend).
    fn read_journal(&mut self, i: usize) {
        let name = self.jails[i].config.name.clone();
        let jails::Source::Journal { watcher, zone } = &mut self.jails[i].source else {
            return;
        };
        let lines = match watcher.poll() {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(target: "fail2ban.filter", "[{name}] {}", crate::exit::chain(&e));
                Vec::new()
            }
        };
        let tuples: Vec<_> = lines
            .iter()
            .map(|l| (l.tuple(zone), l.time, l.in_operation))
            .collect();
        if self.jails[i].idle {
            return;
        }
        if !tuples.is_empty() {
            self.positions_dirty = true;
        }
        for (tuple, time, in_operation) in tuples {
            let t = now();
            let failures: Vec<_> = self.jails[i]
                .filter
                .process_dated(tuple, time, t)
                .findings
                .into_iter()
                .filter(crate::filter::Finding::is_failure)
                .filter_map(|f| f.into_failure(t))
                .collect();
            self.count(i, failures, in_operation, t);
        }
    }

    /// Counts the failures of one line in jail `i` and carries out what follows.
    fn count(
        &mut self,
        i: usize,
        failures: Vec<crate::filter::Failure>,
        in_operation: bool,
        t: f64,
    ) {
        for f in failures {
            let events = self.jails[i]
                .jail
                .on_failure(&f, in_operation, t, &mut self.history);
            self.apply(i, events, t);
        }
    }

    /// Logs the events of jail `i` and carries out their firewall changes.
    pub(super) fn apply(&mut self, i: usize, events: Vec<JailEvent>, t: f64) {
        for ev in events {
            self.log_event(i, &ev);
            match &ev {
                JailEvent::Ban { ban, end } | JailEvent::RestoreBan { ban, end } => {
                    self.firewall_ban(i, ban.ip, *end, t);
                }
                JailEvent::AlreadyBanned {
                    id,
                    prolonged_to: Some(end),
                    ..
                } => {
                    let ip = self.jails[i].jail.ban(id).and_then(|b| b.ip);
                    self.firewall_ban(i, ip, *end, t);
                }
                JailEvent::Unban { ban } => {
                    if let Some(ip) = ban.ip {
                        self.firewall_unban(i, ip);
                    }
                }
                _ => {}
            }
        }
    }

    fn log_event(&self, i: usize, ev: &JailEvent) {
        let rec = ev.log_record(&self.jails[i].config.name, &self.zone);
        log_record(rec.logger, rec.level, &rec.message);
    }

    fn firewall_ban(&mut self, i: usize, ip: Option<std::net::IpAddr>, end: f64, t: f64) {
        let cfg = &self.jails[i].config;
        let Some(ip) = ip else {
            tracing::warn!(target: "fail2ban.actions", "[{}] the banned id is not an address; nothing to add to the firewall", cfg.name);
            return;
        };
        if !jails::bans_family(cfg, ip) {
            return;
        }
        let timeout = if end.is_infinite() {
            None
        } else {
            Some(Duration::from_secs_f64((end - t).max(1.0)))
        };
        let entry = BanEntry { ip, timeout };
        let jail = cfg.name.clone();
        if let Err(e) = self.backend.ban(&jail, &[entry]) {
            tracing::error!(target: "fail2ban.actions", "[{jail}] ban of {ip} failed, retrying: {}", crate::exit::chain(&e));
            self.pending.push(Pending::Ban { jail, entry, end });
        }
    }

    fn firewall_unban(&mut self, i: usize, ip: std::net::IpAddr) {
        let jail = self.jails[i].config.name.clone();
        self.pending.retain(
            |p| !matches!(p, Pending::Ban { jail: j, entry, .. } if *j == jail && entry.ip == ip),
        );
        if let Err(e) = self.backend.unban(&jail, &[ip]) {
            tracing::error!(target: "fail2ban.actions", "[{jail}] unban of {ip} failed, retrying: {}", crate::exit::chain(&e));
            self.pending.push(Pending::Unban { jail, ip });
        }
    }

    fn retry(&mut self) {
        self.last_retry = Instant::now();
        let t = now();
        for p in std::mem::take(&mut self.pending) {
            let result = match &p {
                Pending::Ban { jail, entry, end } => {
                    if !end.is_infinite() && *end <= t {
                        continue;
                    }
                    let entry = BanEntry {
                        ip: entry.ip,
                        timeout: (!end.is_infinite())
                            .then(|| Duration::from_secs_f64((end - t).max(1.0))),
                    };
                    self.backend.ban(jail, &[entry])
                }
                Pending::Unban { jail, ip } => self.backend.unban(jail, &[*ip]),
            };
            if let Err(e) = result {
                tracing::error!(target: "fail2ban.actions", "firewall retry failed: {}", crate::exit::chain(&e));
                self.pending.push(p);
            }
        }
    }

    fn serve(&mut self) {
        let Some(mut server) = self.ipc.take() else {
            return;
        };
        for (conn, argv) in server.on_ready(Instant::now()) {
            let response = ipc::execute(self, &argv);
            server.reply(conn, &response);
        }
        self.ipc = Some(server);
    }

    /// Writes the state file when bans changed, and positions now and then.
    pub(super) fn save_state(&mut self, force: bool) {
        let bans_changed = self.history.take_dirty();
        let positions_due =
            self.positions_dirty && self.last_positions.elapsed() >= POSITIONS_EVERY;
        if !(force || bans_changed || positions_due) {
            return;
        }
        let state = persist::State {
            bans: self.history.records().cloned().collect(),
            positions: self
                .jails
                .iter()
                .flat_map(jails::position_records)
                .collect(),
            cursors: self.jails.iter().filter_map(jails::cursor_record).collect(),
        };
        match persist::save(&self.state_file, &state) {
            Ok(()) => {
                self.last_positions = Instant::now();
                self.positions_dirty = false;
            }
            Err(e) => {
                tracing::error!(target: "fail2ban.database", "cannot save state: {}", crate::exit::chain(&e));
            }
        }
    }

    /// Re-reads the configuration and applies it. `jail`: only that one (client `reload JAIL`).
    pub(super) fn reload(&mut self, only: Option<&str>) -> Result<(), DaemonError> {
        tracing::info!(target: "fail2ban.server", "Reload all jails");
        let mut settings = super::load_source(self.settings.source.clone())?;
        self.overrides.apply(&mut settings);
        let t = now();
        let mut next = Vec::new();
        for c in settings.enabled_jails() {
            if only.is_some_and(|o| o != c.name) {
                continue;
            }
            match self.jails.iter().position(|j| j.config.name == c.name) {
                Some(k) => {
                    let filter = jails::compile_filter(c)?;
                    let js = jails::jail_settings(c, settings.max_tracked)?;
                    let rj = &mut self.jails[k];
                    rj.jail
                        .reconfigure(js, &crate::jail::SystemResolver)
                        .map_err(|source| JailBuildError::Settings {
                            jail: c.name.clone(),
                            source,
                        })?;
                    rj.filter = filter;
                    if rj.config.logpath != c.logpath || rj.config.backend != c.backend {
                        let positions = jails::position_records(rj);
                        let cursor = jails::cursor_record(rj).map(|r| r.cursor);
                        let fresh = jails::build(
                            c,
                            settings.max_tracked,
                            jails::positions_for(&c.name, &positions),
                            cursor,
                            t,
                        )?;
                        rj.source = fresh.source;
                    }
                    rj.config = c.clone();
                }
                None => next.push(jails::build(c, settings.max_tracked, Vec::new(), None, t)?),
            }
        }
        let removed: Vec<String> = if only.is_some() {
            Vec::new()
        } else {
            self.jails
                .iter()
                .map(|j| j.config.name.clone())
                .filter(|n| !settings.enabled_jails().any(|c| &c.name == n))
                .collect()
        };
        for name in &removed {
            self.stop_jail_named(name);
        }
        let first_new = self.jails.len();
        self.jails.extend(next);
        let rules: Vec<_> = self.jails.iter().map(|j| jails::rules(&j.config)).collect();
        let kernel = self.backend.start(&rules).map_err(DaemonError::Firewall)?;
        // A jail (re)started by the reload gets its bans back from the history, as at start.
        self.restore_jails(first_new, &kernel, t);
        let kept_source = self.settings.source.clone();
        self.settings = settings;
        self.settings.source = kept_source;
        tracing::info!(target: "fail2ban.server", "Reload finished.");
        Ok(())
    }

    /// Stops one jail: its bans leave the firewall, its scaffold is removed.
    pub(super) fn stop_jail_named(&mut self, name: &str) -> bool {
        let Some(k) = self.jails.iter().position(|j| j.config.name == name) else {
            return false;
        };
        let events = self.jails[k].jail.flush();
        self.apply(k, events, now());
        if let Err(e) = self.backend.stop(&[name.to_string()]) {
            tracing::error!(target: "fail2ban.actions", "[{name}] cannot remove the firewall rules: {}", crate::exit::chain(&e));
        }
        self.jails.remove(k);
        tracing::info!(target: "fail2ban.jail", "Jail '{name}' stopped");
        true
    }

    fn shutdown(&mut self) {
        tracing::info!(target: "fail2ban.server", "Shutdown in progress...");
        self.save_state(true);
        if let Some(mut s) = self.ipc.take() {
            s.flush(Duration::from_millis(500));
        }
        for j in &self.jails {
            tracing::info!(target: "fail2ban.jail", "Jail '{}' stopped", j.config.name);
        }
        tracing::info!(target: "fail2ban.server", "Exiting fail2zig; bans stay in the kernel until they expire");
    }

    /// The socket the daemon listens on.
    pub fn socket(&self) -> &std::path::Path {
        &self.settings.socket
    }

    /// Where the configuration came from.
    pub fn source(&self) -> &ConfigSource {
        &self.settings.source
    }
}

/// Loads the state file; problems are reported and what is valid is kept.
fn load_state(path: &std::path::Path) -> persist::State {
    match persist::load(path) {
        Ok(loaded) => {
            for p in &loaded.problems {
                tracing::warn!(target: "fail2ban.database", "state file {}: {p}; the rest is used", path.display());
            }
            loaded.state
        }
        Err(e) => {
            tracing::error!(target: "fail2ban.database", "{}; starting without saved state", crate::exit::chain(&e));
            persist::State::default()
        }
    }
}

fn open_backend(s: &Settings) -> Result<Box<dyn Backend>, DaemonError> {
    match s.backend {
        BackendKind::Log => {
            tracing::warn!(target: "fail2ban.actions", "backend \"log\": decisions are recorded only; no firewall is changed");
            Ok(Box::new(LogBackend::new()))
        }
        BackendKind::Nftables => {
            let cfg = NftConfig {
                table: s.nftables_table.clone(),
                ..NftConfig::default()
            };
            let b = NftablesBackend::open(cfg).map_err(|e| {
                DaemonError::Firewall(FirewallError {
                    backend: "nftables",
                    operation: "open netlink socket".into(),
                    message: crate::exit::chain(&e),
                    source: None,
                })
            })?;
            tracing::info!(target: "fail2ban.actions", "backend nftables: table inet {}", s.nftables_table);
            Ok(Box::new(b))
        }
    }
}

fn bind_socket(s: &Settings) -> Result<ipc::Server, DaemonError> {
    let group = match &s.socket_group {
        Some(g) => Some(ipc::group_by_name(g).map_err(|source| DaemonError::Ipc {
            path: s.socket.clone(),
            source,
        })?),
        None => None,
    };
    ipc::Server::bind(&s.socket, group).map_err(|source| DaemonError::Ipc {
        path: s.socket.clone(),
        source,
    })
}

/// Writes one of fail2ban's log lines through tracing under its logger name.
pub(super) fn log_record(logger: &str, level: Level, message: &str) {
    macro_rules! emit {
        ($target:literal) => {
            match level {
                Level::Debug => tracing::debug!(target: $target, "{message}"),
                Level::Msg | Level::Info => tracing::info!(target: $target, "{message}"),
                Level::Notice => tracing::info!(target: $target, notice = true, "{message}"),
                Level::Warning => tracing::warn!(target: $target, "{message}"),
                Level::Error | Level::Critical => tracing::error!(target: $target, "{message}"),
            }
        };
    }
    match logger {
        "fail2ban.filter" => emit!("fail2ban.filter"),
        "fail2ban.actions" => emit!("fail2ban.actions"),
        "fail2ban.observer" => emit!("fail2ban.observer"),
        "fail2ban.jail" => emit!("fail2ban.jail"),
        "fail2ban.server" => emit!("fail2ban.server"),
        _ => emit!("fail2ban.jail"),
    }
}
