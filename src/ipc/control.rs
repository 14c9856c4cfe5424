//! The [`Control`] trait: what the command executor needs from the running daemon.
//!
//! `ipc::execute` parses a command's words, checks them the way fail2ban's server does, and
//! calls these methods; the daemon implements them over its jails (the lead's `daemon` module,
//! on top of `jail`). The methods are typed and small; fail2ban's exact result shapes, counts
//! and error texts are produced by the executor from what they return, so an implementation
//! never formats user-facing text except in [`ControlError::Refused`].
//!
//! Methods with a default body are optional: the default answers the command the way a
//! daemon without that feature must (for example `add` is refused, `flushlogs` says `flushed`).
//!
//! # Compatibility
//! This is fail2ban's `Server` API (server/server.py) cut down to what fail2zig does: jails are
//! configured from files, not built command by command, so `add`, `addaction` and the `action`
//! setters are optional here.

use super::value::Value;

/// Why the daemon could not do what a command asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// No jail of that name.
    #[error("unknown jail {0}")]
    UnknownJail(String),
    /// A jail of that name exists already.
    #[error("jail {0} exists already")]
    DuplicateJail(String),
    /// The jail has no action of that name.
    #[error("unknown action {0}")]
    UnknownAction(String),
    /// The item to delete is not in the list (`delignoreip` of an address not ignored).
    #[error("not in the list")]
    NotInList,
    /// A file cannot be used (`addlogpath`): the errno and the path.
    #[error("{path}: os error {errno}")]
    File { errno: i32, path: String },
    /// Reading the configuration for a reload failed; shown as
    /// `Failed during configuration: <text>`.
    #[error("{0}")]
    Config(String),
    /// A value or operation refused; the text is shown to the user as it is, so it should be
    /// fail2ban's text where fail2ban has one.
    #[error("{0}")]
    Refused(String),
    /// The command exists in fail2ban but not in fail2zig.
    #[error("{0} is not supported by fail2zig")]
    Unsupported(&'static str),
}

impl ControlError {
    /// fail2ban's error for `reload JAIL` of a jail the configuration does not have:
    /// `No section: 'JAIL'`.
    pub fn no_section(jail: &str) -> ControlError {
        ControlError::Config(format!("No section: '{jail}'"))
    }
}

/// A jail's counters for `status JAIL`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JailStatus {
    /// Addresses with failures counted now (not yet banned, not yet expired).
    pub currently_failed: u64,
    /// Failures counted since the jail started.
    pub total_failed: u64,
    /// The monitored log files, in the order they were added.
    pub files: Vec<String>,
    /// Bans since the jail started (restored bans included).
    pub total_banned: u64,
}

/// One current ban, for `banned`, `status` and `get JAIL banip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanEntry {
    /// The banned address (or network), as fail2ban prints it.
    pub ip: String,
    /// When the ban started, Unix seconds.
    pub start: i64,
    /// The ban's length in seconds; `-1` is permanent.
    pub bantime: i64,
}

/// What an unban did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnbanOutcome {
    /// Bans lifted (a network given as `a.b.c.d/n` counts every ban inside it).
    pub unbanned: u64,
    /// The given addresses that were not banned, in the order given.
    pub absent: Vec<String>,
}

/// A jail option `get JAIL <option>` reads. The `Value` shape each returns is fixed:
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JailOption {
    /// `Int` seconds.
    BanTime,
    /// `Int` seconds.
    FindTime,
    /// `Int`.
    MaxRetry,
    /// `Int`.
    MaxLines,
    /// `Int`.
    MaxMatches,
    /// `Bool`.
    IgnoreSelf,
    /// `List` of `Str`, in fail2ban's order (networks as added, single addresses after).
    IgnoreIp,
    /// `Str` (empty when unset).
    IgnoreCommand,
    /// `None` or `Str`.
    IgnoreCache,
    /// `List` of `Str`: the monitored files.
    LogPath,
    /// `Str`, e.g. `UTF-8`.
    LogEncoding,
    /// `List` of `List` of `Str` (empty for file jails).
    JournalMatch,
    /// `List` of `Str`: the regexes after tag expansion.
    FailRegex,
    /// `List` of `Str`.
    IgnoreRegex,
    /// `Str` (empty when none).
    PrefRegex,
    /// `None` (not set), or `Tuple` of (`None` or `Str` pattern, `Str` name), e.g.
    /// `(None, 'Default Detectors')` or `('^%%b %%d', '^%b %d')`.
    DatePattern,
    /// `Str`: `yes`, `warn`, `no` or `raw`.
    UseDns,
    /// `None` or `Str`.
    LogTimeZone,
    /// `List` of `Str`: the action names.
    Actions,
    /// `Bool`.
    Idle,
    /// `bantime.<name>`: `None` when unset, else the value (`Bool` for `increment`).
    BanTimeExtra(String),
}

/// A jail setting `set JAIL <option> ...` changes. Times are fail2ban time expressions for the
/// implementation to convert (runtime spec §1.6); integers and booleans are already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting<'a> {
    /// `bantime TIME`.
    BanTime(&'a str),
    /// `findtime TIME`.
    FindTime(&'a str),
    /// `maxretry N`.
    MaxRetry(i64),
    /// `maxlines N`.
    MaxLines(i64),
    /// `maxmatches N`.
    MaxMatches(i64),
    /// `ignoreself true|false` (fail2ban's truth words already applied).
    IgnoreSelf(bool),
    /// `addignoreip IP...`, in order; a duplicate is ignored.
    AddIgnoreIp(&'a [String]),
    /// `delignoreip IP`: [`ControlError::NotInList`] when absent.
    DelIgnoreIp(&'a str),
    /// `ignorecommand CMD`.
    IgnoreCommand(&'a str),
    /// `ignorecache OPTS`.
    IgnoreCache(&'a str),
    /// `addlogpath FILE [tail|head]`; a duplicate is accepted silently.
    AddLogPath {
        /// The file.
        path: &'a str,
        /// Start reading at the end.
        tail: bool,
    },
    /// `dellogpath FILE`; an absent file is accepted silently.
    DelLogPath(&'a str),
    /// `logencoding ENC`.
    LogEncoding(&'a str),
    /// `addjournalmatch MATCH...`.
    AddJournalMatch(&'a [String]),
    /// `deljournalmatch MATCH...`.
    DelJournalMatch(&'a [String]),
    /// `addfailregex RE`.
    AddFailRegex(&'a str),
    /// `delfailregex INDEX`.
    DelFailRegex(i64),
    /// `addignoreregex RE`.
    AddIgnoreRegex(&'a str),
    /// `delignoreregex INDEX`.
    DelIgnoreRegex(i64),
    /// `prefregex RE`.
    PrefRegex(&'a str),
    /// `datepattern PATTERN`.
    DatePattern(&'a str),
    /// `usedns yes|warn|no|raw`.
    UseDns(&'a str),
    /// `logtimezone TZ`.
    LogTimeZone(&'a str),
    /// `idle on|off`.
    Idle(bool),
    /// `bantime.<name> VALUE`.
    BanTimeExtra {
        /// The part after `bantime.`.
        name: &'a str,
        /// The value as given.
        value: &'a str,
    },
}

/// A server-wide option (`get/set loglevel|logtarget|...`). Value shapes for `get`:
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerOption {
    /// `Str` level name as set (`INFO`, `20`), or `Int` level.
    LogLevel,
    /// `Str`: `STDERR`, `SYSLOG`, `SYSTEMD-JOURNAL` or a file.
    LogTarget,
    /// `Str`.
    SyslogSocket,
    /// `None` (no database) or `Str` path.
    DbFile,
    /// `None` or `Int`.
    DbMaxMatches,
    /// `None` or `Int` seconds.
    DbPurgeAge,
    /// `Str` (set only).
    AllowIpv6,
}

/// What `reload` / `restart JAIL` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadRequest {
    /// One jail, or every jail when `None` (`--all`).
    pub jail: Option<String>,
    /// `--restart`: stop and start the affected jails.
    pub restart: bool,
    /// `--unban`: lift the affected jails' bans.
    pub unban: bool,
    /// `--if-exists`: a jail that is not running is created from the configuration.
    pub if_exists: bool,
}

/// The running daemon, as the command executor sees it.
pub trait Control {
    /// The jails, in creation order.
    fn jails(&self) -> Vec<String>;

    /// The counters of one jail.
    fn jail_status(&self, jail: &str) -> Result<JailStatus, ControlError>;

    /// The current bans of one jail, in the order they were made.
    fn bans(&self, jail: &str) -> Result<Vec<BanEntry>, ControlError>;

    /// Bans addresses now, bypassing the ignore rules; returns how many were not banned yet.
    fn ban(&mut self, jail: &str, ips: &[String]) -> Result<u64, ControlError>;

    /// Lifts bans of the given addresses or networks in one jail (and forgets them in the
    /// persistent state).
    fn unban(&mut self, jail: &str, ips: &[String]) -> Result<UnbanOutcome, ControlError>;

    /// Lifts every ban of one jail; returns how many.
    fn unban_all(&mut self, jail: &str) -> Result<u64, ControlError>;

    /// Reads a jail option.
    fn get(&self, jail: &str, option: &JailOption) -> Result<Value, ControlError>;

    /// Changes a jail option.
    fn set(&mut self, jail: &str, setting: Setting<'_>) -> Result<(), ControlError>;

    /// Re-reads the configuration and applies it (runtime spec §3.9). Checks, in fail2ban's
    /// order: a configuration that cannot be read, or a named jail absent from it, is
    /// [`ControlError::Config`] (use [`ControlError::no_section`] for the latter); then a named
    /// jail that is not running is [`ControlError::UnknownJail`] unless `if_exists` is set.
    fn reload(&mut self, request: &ReloadRequest) -> Result<(), ControlError>;

    /// Starts a configured jail (no-op if running).
    fn start_jail(&mut self, jail: &str) -> Result<(), ControlError>;

    /// Stops a jail (its bans are flushed from the firewall) and removes it.
    fn stop_jail(&mut self, jail: &str) -> Result<(), ControlError>;

    /// Asks the daemon to stop once this answer is sent.
    fn shutdown(&mut self);

    /// Stops every jail and starts them again from the configuration (`restart`).
    fn restart(&mut self) -> Result<(), ControlError> {
        Err(ControlError::Unsupported("restart"))
    }

    /// `add JAIL BACKEND`.
    fn add_jail(&mut self, _jail: &str, _backend: &str) -> Result<(), ControlError> {
        Err(ControlError::Unsupported("add"))
    }

    /// `set JAIL attempt IP [LINE...]`: counts failures as if the lines were logged; returns
    /// the number of failures added.
    fn attempt(&mut self, _jail: &str, _ip: &str, _lines: &[String]) -> Result<u64, ControlError> {
        Err(ControlError::Unsupported("attempt"))
    }

    /// Reopens a log file target; `rolled over` for a file, `flushed` otherwise.
    fn flush_logs(&mut self) -> Result<String, ControlError> {
        Ok("flushed".into())
    }

    /// Reads a server option.
    fn get_server(&self, _option: ServerOption) -> Result<Value, ControlError> {
        Err(ControlError::Unsupported("this server option"))
    }

    /// Changes a server option.
    fn set_server(&mut self, _option: ServerOption, _value: &str) -> Result<(), ControlError> {
        Err(ControlError::Unsupported("this server option"))
    }

    /// `get JAIL action ACT PROPERTY`.
    fn action_property(
        &self,
        _jail: &str,
        action: &str,
        _property: &str,
    ) -> Result<Value, ControlError> {
        Err(ControlError::UnknownAction(action.to_string()))
    }

    /// `set JAIL action ACT PROPERTY VALUE`; returns the new value.
    fn set_action_property(
        &mut self,
        _jail: &str,
        action: &str,
        _property: &str,
        _value: &str,
    ) -> Result<Value, ControlError> {
        Err(ControlError::UnknownAction(action.to_string()))
    }

    /// `get JAIL actionproperties ACT`.
    fn action_properties(&self, _jail: &str, action: &str) -> Result<Vec<String>, ControlError> {
        Err(ControlError::UnknownAction(action.to_string()))
    }

    /// `get JAIL actionmethods ACT`.
    fn action_methods(&self, _jail: &str, action: &str) -> Result<Vec<String>, ControlError> {
        Err(ControlError::UnknownAction(action.to_string()))
    }

    /// `set JAIL addaction ACT`.
    fn add_action(&mut self, _jail: &str, _action: &str) -> Result<(), ControlError> {
        Err(ControlError::Unsupported("addaction"))
    }

    /// `set JAIL delaction ACT`.
    fn del_action(&mut self, _jail: &str, _action: &str) -> Result<(), ControlError> {
        Err(ControlError::Unsupported("delaction"))
    }
}
