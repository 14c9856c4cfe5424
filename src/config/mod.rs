//! config: the native TOML configuration (`fail2zig.toml`), its schema and its validation.
//!
//! Parse, then validate, in two types: [`Config`] is the file as written (every jail option
//! optional, `[defaults]` not yet applied); [`Settings`] is what the daemon runs (every jail
//! resolved against `[defaults]` and the built-in defaults, its filter found, its durations and
//! ports typed). Errors name the file, the line and the key: `file:line: key: problem`.
//!
//! This module does not read fail2ban's INI files (`crate::fail2ban`, `crate::import` do and
//! produce a [`Config`]), and does not compile filters (`crate::filter` does).
//!
//! # Compatibility
//! Option names keep fail2ban's spelling (`maxretry`, `bantime.increment`, ...), so a dotted key
//! is quoted in TOML: `"bantime.increment" = true`. Durations are fail2ban time expressions.
//! Defaults are those of fail2ban's stock jail.conf (maxretry 5, findtime 10m, bantime 10m).

mod duration;
mod filter_def;
mod port;
mod source;

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

pub use duration::{DurationError, TimeSpan, str2seconds};
pub use filter_def::FilterDef;
pub use port::{PortError, parse_ports};
pub use source::{ConfigSource, locate};

use crate::cli::BackendKind;
use crate::firewall::BlockType;

/// The default control socket.
pub const DEFAULT_SOCKET: &str = "/run/fail2zig/fail2zig.sock";
/// The default state directory.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/fail2zig";
/// The default nftables table (family inet).
pub const DEFAULT_TABLE: &str = "fail2zig";
/// The embedded default configuration: an sshd jail on our own sshd filter.
pub const EMBEDDED_DEFAULT: &str = include_str!("default.toml");

/// What went wrong loading a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not fit the schema.
    #[error("{}:{line}: {key}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
    /// A value is well-formed but wrong (a bad duration, a missing filter, ...).
    #[error("{}:{line}: {key}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
    /// A fail2ban directory could not be imported.
    #[error("{}: import failed: {message}", path.display())]
    Import { path: PathBuf, message: String },
}

/// The native configuration file, as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub global: Global,
    /// Options every jail inherits (fail2ban's `[DEFAULT]` of jail.conf).
    #[serde(default)]
    pub defaults: JailOptions,
    /// The jails, in file order (fail2ban keeps section order for `status`).
    #[serde(default)]
    pub jails: Ordered<JailOptions>,
    /// Filter definitions; a jail's filter is looked up here first, then among the built-ins.
    #[serde(default)]
    pub filters: Ordered<FilterDef>,
}

/// `[global]`: the daemon's own settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Global {
    /// The control socket (default /run/fail2zig/fail2zig.sock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<PathBuf>,
    /// A group whose members may use the socket besides root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket_group: Option<String>,
    /// Where the state file lives (default /var/lib/fail2zig).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
    /// The firewall backend: "nftables" (default) or "log".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<BackendKind>,
    /// The nftables table (family inet) holding every jail's sets and rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nftables_table: Option<String>,
    /// The daemon's log level: critical, error, warning, notice, info, debug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loglevel: Option<String>,
    /// Upper bound of addresses tracked with failures, per jail (active bans are never evicted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tracked: Option<usize>,
}

/// The options of one jail (and of `[defaults]`), all optional until resolved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JailOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `NAME` or `NAME[key=value, ...]`: a `[filters.NAME]` entry or a built-in filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Log files to follow; globs allowed; files that appear later are picked up.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "one_or_many")]
    pub logpath: Option<Vec<String>>,
    /// Where lines come from: "auto" (files, inotify with polling fallback), "polling",
    /// "systemd" (the journal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// Ports the ban applies to (`ssh`, `http,https`, `1000:2000`); absent = all ports.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "string_or_int"
    )]
    pub port: Option<String>,
    /// Transport protocol(s) for `port`: `tcp`, `udp`, `tcp,udp`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// "reject" (default, as fail2ban's firewall actions) or "drop".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocktype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maxretry: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maxmatches: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findtime: Option<TimeSpan>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bantime: Option<TimeSpan>,
    #[serde(
        default,
        rename = "bantime.increment",
        skip_serializing_if = "Option::is_none"
    )]
    pub bantime_increment: Option<bool>,
    #[serde(
        default,
        rename = "bantime.factor",
        skip_serializing_if = "Option::is_none",
        with = "string_or_int"
    )]
    pub bantime_factor: Option<String>,
    #[serde(
        default,
        rename = "bantime.formula",
        skip_serializing_if = "Option::is_none"
    )]
    pub bantime_formula: Option<String>,
    #[serde(
        default,
        rename = "bantime.multipliers",
        skip_serializing_if = "Option::is_none"
    )]
    pub bantime_multipliers: Option<String>,
    #[serde(
        default,
        rename = "bantime.maxtime",
        skip_serializing_if = "Option::is_none"
    )]
    pub bantime_maxtime: Option<TimeSpan>,
    #[serde(
        default,
        rename = "bantime.rndtime",
        skip_serializing_if = "Option::is_none"
    )]
    pub bantime_rndtime: Option<TimeSpan>,
    #[serde(
        default,
        rename = "bantime.overalljails",
        skip_serializing_if = "Option::is_none"
    )]
    pub bantime_overalljails: Option<bool>,
    /// Addresses, CIDRs and host names never banned.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "one_or_many")]
    pub ignoreip: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignoreself: Option<bool>,
    /// Overrides the filter's `maxlines`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maxlines: Option<u32>,
    /// Overrides the filter's `datepattern`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datepattern: Option<String>,
    /// Overrides the filter's `journalmatch`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "one_or_many")]
    pub journalmatch: Option<Vec<String>>,
    /// "warn" (default), "yes", "no", "raw".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usedns: Option<String>,
    /// Encoding of the log files ("auto" = UTF-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logencoding: Option<String>,
    /// Time zone of the log's dates when they carry none (`UTC`, `UTC+0200`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logtimezone: Option<String>,
    /// Address families banned: "any" (default), "ipv4", "ipv6".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Names of the fail2ban actions this jail's ban stands for (set by the importer), shown by
    /// `fail2zig-client get JAIL actions`; by default the firewall backend's name.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "one_or_many")]
    pub actions: Option<Vec<String>>,
}

/// fail2ban's `usedns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UseDns {
    /// Resolve DNS names, no warning.
    Yes,
    /// Resolve DNS names (fail2ban's default).
    #[default]
    Warn,
    /// `<HOST>` matches addresses only.
    No,
    /// DNS names are ids, never resolved.
    Raw,
}

impl UseDns {
    /// fail2ban's `setUseDns`: case-insensitive; anything unknown is `no` (with an error log).
    pub fn parse(s: &str) -> UseDns {
        match s.to_ascii_lowercase().as_str() {
            "yes" | "true" => UseDns::Yes,
            "warn" => UseDns::Warn,
            "raw" => UseDns::Raw,
            "no" | "false" => UseDns::No,
            other => {
                tracing::error!("incorrect value {other:?} specified for usedns, using safe 'no'");
                UseDns::No
            }
        }
    }
}

/// Which address families a jail bans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    #[default]
    Any,
    Ipv4,
    Ipv6,
}

/// `bantime.*` settings, resolved.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Increment {
    pub enabled: bool,
    /// An arithmetic expression (fail2ban evaluates it as Python); "1" by default.
    pub factor: String,
    pub formula: Option<String>,
    pub multipliers: Vec<u64>,
    pub maxtime: Option<TimeSpan>,
    pub rndtime: Option<TimeSpan>,
    pub overalljails: bool,
}

/// One jail, resolved: what the daemon runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Jail {
    pub name: String,
    pub enabled: bool,
    /// The filter's name as referenced (without options).
    pub filter_name: String,
    /// The jail's filter options (`name[key=value]`).
    pub filter_options: BTreeMap<String, String>,
    /// The filter definition, with the jail's `maxlines`/`datepattern`/`journalmatch` applied.
    pub filter: FilterDef,
    pub logpath: Vec<String>,
    pub backend: String,
    pub port_text: Option<String>,
    pub ports: Vec<(u16, u16)>,
    pub protocols: Vec<String>,
    pub blocktype: BlockType,
    pub family: Family,
    pub maxretry: u32,
    pub maxmatches: u32,
    pub findtime: TimeSpan,
    pub bantime: TimeSpan,
    pub increment: Increment,
    pub ignoreip: Vec<String>,
    pub ignoreself: bool,
    pub usedns: UseDns,
    pub logencoding: String,
    pub logtimezone: Option<String>,
    /// fail2ban action names for `get JAIL actions` (empty: the backend's name).
    pub actions: Vec<String>,
}

/// A loaded and validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Where it came from (a file, a fail2ban directory, the embedded default).
    pub source: ConfigSource,
    pub socket: PathBuf,
    pub socket_group: Option<String>,
    pub state_dir: PathBuf,
    pub backend: BackendKind,
    pub nftables_table: String,
    pub loglevel: String,
    pub max_tracked: usize,
    /// Every jail in file order, enabled or not.
    pub jails: Vec<Jail>,
}

impl Settings {
    /// The jails that run.
    pub fn enabled_jails(&self) -> impl Iterator<Item = &Jail> {
        self.jails.iter().filter(|j| j.enabled)
    }
}

/// Default bound on tracked addresses per jail (see `jail::FailManager`).
pub const DEFAULT_MAX_TRACKED: usize = 100_000;

impl Config {
    /// Parses TOML text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            let (line, key) = source::key_at(text, offset);
            ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                key,
                message: first_line(e.message()),
            }
        })
    }

    /// Serializes to TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot serialize: {e}\n"))
    }

    /// Resolves every jail and the global settings. `builtin` finds a built-in filter by name;
    /// `text` is the file's text (for line numbers in errors).
    pub fn resolve(
        &self,
        source: ConfigSource,
        text: &str,
        builtin: &dyn Fn(&str) -> Option<FilterDef>,
    ) -> Result<Settings, ConfigError> {
        let path = source.path();
        let invalid = |section: &[&str], key: &str, message: String| ConfigError::Invalid {
            path: path.clone(),
            line: locate(text, section, key).unwrap_or(0),
            key: format!("{}.{key}", section.join(".")),
            message,
        };
        let mut jails = Vec::new();
        for (name, opts) in self.jails.iter() {
            jails.push(self.resolve_jail(name, opts, builtin, &invalid)?);
        }
        let g = &self.global;
        if let Some(t) = &g.nftables_table {
            if t.is_empty() || t.len() > 255 {
                return Err(invalid(
                    &["global"],
                    "nftables_table",
                    "must be 1 to 255 bytes".into(),
                ));
            }
        }
        let loglevel = g.loglevel.clone().unwrap_or_else(|| "info".into());
        if log_filter(&loglevel).is_none() {
            return Err(invalid(
                &["global"],
                "loglevel",
                format!("unknown level {loglevel:?}"),
            ));
        }
        Ok(Settings {
            source,
            socket: g.socket.clone().unwrap_or_else(|| DEFAULT_SOCKET.into()),
            socket_group: g.socket_group.clone(),
            state_dir: g
                .state_dir
                .clone()
                .unwrap_or_else(|| DEFAULT_STATE_DIR.into()),
            backend: g.backend.unwrap_or(BackendKind::Nftables),
            nftables_table: g
                .nftables_table
                .clone()
                .unwrap_or_else(|| DEFAULT_TABLE.into()),
            loglevel,
            max_tracked: g.max_tracked.unwrap_or(DEFAULT_MAX_TRACKED),
            jails,
        })
    }

    fn resolve_jail(
        &self,
        name: &str,
        o: &JailOptions,
        builtin: &dyn Fn(&str) -> Option<FilterDef>,
        invalid: &dyn Fn(&[&str], &str, String) -> ConfigError,
    ) -> Result<Jail, ConfigError> {
        let d = &self.defaults;
        let sec: &[&str] = &["jails", name];
        macro_rules! pick {
            ($f:ident) => {
                o.$f.clone().or_else(|| d.$f.clone())
            };
        }
        let filter_spec = pick!(filter).unwrap_or_else(|| name.to_string());
        let (filter_name, filter_options) =
            parse_filter_spec(&filter_spec).map_err(|m| invalid(sec, "filter", m))?;
        let mut filter = self
            .filters
            .get(&filter_name)
            .cloned()
            .or_else(|| builtin(&filter_name))
            .ok_or_else(|| {
                invalid(
                    sec,
                    "filter",
                    format!("no filter {filter_name:?}: neither [filters.{filter_name}] nor a built-in filter"),
                )
            })?;
        if filter.failregex.is_empty() {
            return Err(invalid(
                sec,
                "filter",
                format!("filter {filter_name:?} has no failregex"),
            ));
        }
        if let Some(v) = pick!(maxlines) {
            filter.maxlines = Some(v);
        }
        if let Some(v) = pick!(datepattern) {
            filter.datepattern = Some(v);
        }
        if let Some(v) = pick!(journalmatch) {
            filter.journalmatch = v;
        }
        let port_text = pick!(port);
        let ports = match &port_text {
            Some(p) => parse_ports(p).map_err(|e| invalid(sec, "port", e.to_string()))?,
            None => Vec::new(),
        };
        let protocols: Vec<String> = pick!(protocol)
            .unwrap_or_else(|| "tcp".into())
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        for p in &protocols {
            if !matches!(
                p.as_str(),
                "tcp" | "udp" | "sctp" | "dccp" | "udplite" | "all"
            ) {
                return Err(invalid(sec, "protocol", format!("unknown protocol {p:?}")));
            }
        }
        let blocktype = match pick!(blocktype)
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("reject") => BlockType::Reject,
            Some("drop") => BlockType::Drop,
            Some(other) => {
                return Err(invalid(
                    sec,
                    "blocktype",
                    format!("{other:?}: expected \"reject\" or \"drop\""),
                ));
            }
        };
        let family = match pick!(family).as_deref() {
            None | Some("any") | Some("inet") => Family::Any,
            Some("ipv4") | Some("inet4") => Family::Ipv4,
            Some("ipv6") | Some("inet6") => Family::Ipv6,
            Some(other) => {
                return Err(invalid(
                    sec,
                    "family",
                    format!("{other:?}: expected any, ipv4 or ipv6"),
                ));
            }
        };
        let usedns = match pick!(usedns)
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("warn") => UseDns::Warn,
            Some("yes") => UseDns::Yes,
            Some("no") => UseDns::No,
            Some("raw") => UseDns::Raw,
            Some(other) => {
                return Err(invalid(
                    sec,
                    "usedns",
                    format!("{other:?}: expected yes, warn, no or raw"),
                ));
            }
        };
        let backend = pick!(backend).unwrap_or_else(|| "auto".into());
        let backend_name = backend.split('[').next().unwrap_or("").trim().to_string();
        if !matches!(
            backend_name.as_str(),
            "auto" | "polling" | "pyinotify" | "inotify" | "systemd" | "gamin"
        ) {
            return Err(invalid(
                sec,
                "backend",
                format!("unknown backend {backend:?}"),
            ));
        }
        let logpath = pick!(logpath).unwrap_or_default();
        let enabled = pick!(enabled).unwrap_or(false);
        if enabled && logpath.is_empty() && backend_name != "systemd" {
            return Err(invalid(
                sec,
                "logpath",
                "an enabled jail needs at least one log path".into(),
            ));
        }
        let maxretry = pick!(maxretry).unwrap_or(5);
        if maxretry == 0 {
            return Err(invalid(sec, "maxretry", "must be at least 1".into()));
        }
        let findtime = pick!(findtime).unwrap_or(TimeSpan(600));
        if findtime.seconds() <= 0 {
            return Err(invalid(sec, "findtime", "must be positive".into()));
        }
        let bantime = pick!(bantime).unwrap_or(TimeSpan(600));
        if bantime.seconds() < -1 || bantime.seconds() == 0 {
            return Err(invalid(
                sec,
                "bantime",
                "must be positive, or -1 for permanent".into(),
            ));
        }
        let multipliers = match pick!(bantime_multipliers) {
            Some(m) => m
                .split_whitespace()
                .map(|w| w.parse::<u64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| {
                    invalid(
                        sec,
                        "bantime.multipliers",
                        format!("{m:?}: expected integers separated by spaces"),
                    )
                })?,
            None => Vec::new(),
        };
        let increment = Increment {
            enabled: pick!(bantime_increment).unwrap_or(false),
            factor: pick!(bantime_factor).unwrap_or_else(|| "1".into()),
            formula: pick!(bantime_formula),
            multipliers,
            maxtime: pick!(bantime_maxtime),
            rndtime: pick!(bantime_rndtime),
            overalljails: pick!(bantime_overalljails).unwrap_or(false),
        };
        Ok(Jail {
            name: name.to_string(),
            enabled,
            filter_name,
            filter_options,
            filter,
            logpath,
            backend,
            port_text,
            ports,
            protocols,
            blocktype,
            family,
            maxretry,
            maxmatches: pick!(maxmatches).unwrap_or(maxretry),
            findtime,
            bantime,
            increment,
            ignoreip: pick!(ignoreip).unwrap_or_default(),
            ignoreself: pick!(ignoreself).unwrap_or(true),
            usedns,
            logencoding: pick!(logencoding).unwrap_or_else(|| "auto".into()),
            logtimezone: pick!(logtimezone),
            actions: pick!(actions).unwrap_or_default(),
        })
    }
}

/// Maps fail2ban's log level names to a tracing filter directive.
pub fn log_filter(level: &str) -> Option<&'static str> {
    Some(match level.to_ascii_lowercase().as_str() {
        "critical" | "error" => "error",
        "warning" | "warn" => "warn",
        "notice" | "info" => "info",
        "debug" => "debug",
        "trace" | "heavydebug" => "trace",
        _ => return None,
    })
}

/// Splits `name[k=v, k2="v 2"]` into the name and its options.
pub fn parse_filter_spec(spec: &str) -> Result<(String, BTreeMap<String, String>), String> {
    let spec = spec.trim();
    let Some(open) = spec.find('[') else {
        return Ok((spec.to_string(), BTreeMap::new()));
    };
    let name = spec[..open].trim().to_string();
    let rest = spec[open..].trim_end();
    let inner = rest
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .ok_or_else(|| format!("{spec:?}: expected NAME[key=value, ...]"))?;
    let mut opts = BTreeMap::new();
    let mut chars = inner.char_indices().peekable();
    let mut item = String::new();
    let mut quote: Option<char> = None;
    let mut items = Vec::new();
    while let Some((_, c)) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ',') => items.push(std::mem::take(&mut item)),
            (None, ']') if chars.peek().map(|p| p.1) == Some('[') => {
                chars.next();
                items.push(std::mem::take(&mut item));
            }
            _ => item.push(c),
        }
    }
    if quote.is_some() {
        return Err(format!("{spec:?}: unterminated quote"));
    }
    items.push(item);
    for it in items.iter().filter(|s| !s.trim().is_empty()) {
        let (k, v) = it
            .split_once('=')
            .ok_or_else(|| format!("{spec:?}: expected key=value, got {it:?}"))?;
        opts.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok((name, opts))
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

/// A string-keyed map that keeps file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Ordered<T>(pub Vec<(String, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<T> Ordered<T> {
    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&String, &T)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
    /// Inserts or replaces, keeping the first position.
    pub fn insert(&mut self, key: String, value: T) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Ordered<T>, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, T>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// A string, or a list of strings (`logpath = "/var/log/auth.log"` or a list).
mod one_or_many {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }

    pub fn serialize<S: Serializer>(v: &Option<Vec<String>>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
        Ok(Some(match OneOrMany::deserialize(d)? {
            OneOrMany::One(s) => s
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
            OneOrMany::Many(v) => v,
        }))
    }
}

/// A string, or a number written as one (`port = 22`, `"bantime.factor" = 1.5`).
mod string_or_int {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StringOrInt {
        S(String),
        I(i64),
        F(f64),
    }

    pub fn serialize<S: Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Some(match StringOrInt::deserialize(d)? {
            StringOrInt::S(s) => s,
            StringOrInt::I(i) => i.to_string(),
            StringOrInt::F(f) => f.to_string(),
        }))
    }
}

#[cfg(test)]
mod tests;
