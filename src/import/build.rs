//! Turning read fail2ban jails ([`RawJail`]) into native jail options and filters, filling the
//! migration report as it goes.
//!
//! Owns the option-by-option mapping (fail2ban spelling → [`JailOptions`]), the merge of a jail's
//! firewall actions into one native ban, filter naming, and factoring common values into
//! `[defaults]`. Reading is `crate::fail2ban::jail`; classification is `classify.rs`.
//!
//! # Compatibility
//!
//! Values fail2ban's server would refuse (a bad time expression, `usedns = maybe`, a non-integer
//! `maxretry`) are left out, so the native default applies as fail2ban's code default does, and
//! each is reported. The result is exact: `[defaults]` only takes a value that every jail has,
//! and jails that differ keep their own.

use std::collections::BTreeMap;

use crate::config::{FilterDef, JailOptions, Ordered, TimeSpan, parse_ports};
use crate::fail2ban::jail::{RawJail, RawOption, as_bool, python_int};

use super::classify::{ActionClass, Decision, FirewallBan, classify};
use super::report::{IgnoredOption, JailLine, MappedAction, RejectedAction, Report};

/// Native jail and filter collection under construction.
pub struct Builder {
    pub report: Report,
    pub jails: Vec<(String, JailOptions)>,
    pub filters: Ordered<FilterDef>,
}

/// fail2ban's `splitwords`: split on spaces, commas and newlines.
fn splitwords(s: &str) -> Vec<String> {
    s.split([' ', ',', '\n'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

impl Builder {
    pub fn new(report: Report) -> Self {
        Self {
            report,
            jails: Vec::new(),
            filters: Ordered::default(),
        }
    }

    fn ignore(
        &mut self,
        raw: &RawJail,
        option: &str,
        value: &str,
        reason: String,
        unsupported: bool,
    ) {
        self.report.ignored.push(IgnoredOption {
            scope: format!("jail {}", raw.name),
            option: option.to_string(),
            value: value.to_string(),
            reason,
            unsupported,
            active: raw.enabled,
        });
    }

    /// The native name of a filter: its own name; when another jail resolved the same filter
    /// differently, an existing identical variant, else the jail's name (or `name-jail`).
    fn register_filter(&mut self, name: &str, jail: &str, def: FilterDef) -> String {
        if self.filters.get(name).is_some() {
            let same = self
                .report
                .filters
                .iter()
                .find(|k| self.filters.get(k.as_str()) == Some(&def));
            if let Some(k) = same {
                return k.clone();
            }
        } else {
            self.filters.insert(name.to_string(), def);
            self.report.filters.push(name.to_string());
            return name.to_string();
        }
        let mut key = if self.filters.get(jail).is_none() {
            jail.to_string()
        } else {
            format!("{name}-{jail}")
        };
        let mut n = 2;
        while self.filters.get(&key).is_some_and(|d| *d != def) {
            key = format!("{name}-{jail}-{n}");
            n += 1;
        }
        if self.filters.get(&key).is_none() {
            self.filters.insert(key.clone(), def);
            self.report.filters.push(key.clone());
        }
        key
    }

    /// Import one read jail; one that cannot be represented is reported as skipped.
    pub fn add_jail(&mut self, raw: &RawJail) {
        let mut o = JailOptions {
            enabled: Some(raw.enabled),
            ..JailOptions::default()
        };
        let mut disabled: Vec<String> = Vec::new();
        let Some(filter) = &raw.filter else {
            self.skip(
                raw,
                "no filter set (fail2ban runs it without one; it can never ban)".into(),
            );
            return;
        };
        if filter.def.failregex.is_empty() {
            self.skip(raw, "its filter has no failregex (it can never ban)".into());
            return;
        }
        let fname = raw.filter_name.clone().unwrap_or_else(|| raw.name.clone());
        o.filter = Some(self.register_filter(&fname, &raw.name, filter.def.clone()));
        if let Some(u) = &filter.usedns {
            let l = u.to_lowercase();
            if matches!(l.as_str(), "yes" | "warn" | "no" | "raw") {
                o.usedns = Some(l);
            } else {
                self.ignore(
                    raw,
                    "usedns",
                    u,
                    "not yes, warn, no or raw; fail2ban then uses no".into(),
                    false,
                );
                o.usedns = Some("no".into());
            }
        }
        let opt = |k: &str| raw.options.get(k).cloned();
        let backend = opt("backend").map_or_else(|| "auto".into(), |b| b.value);
        let backend_name = backend.split('[').next().unwrap_or("").trim().to_string();
        if matches!(
            backend_name.as_str(),
            "auto" | "polling" | "pyinotify" | "gamin" | "systemd"
        ) {
            o.backend = Some(backend.clone());
        } else {
            disabled.push(format!("unknown backend {backend:?}"));
        }
        if !backend_name.starts_with("systemd") {
            self.logpath(raw, &mut o, &mut disabled);
        }
        self.numbers(raw, &mut o);
        self.lists(raw, &mut o);
        self.actions(raw, &mut o, &mut disabled);
        if !disabled.is_empty() {
            o.enabled = Some(false);
        }
        self.report.jails.push(JailLine {
            jail: raw.name.clone(),
            enabled_in_fail2ban: raw.enabled,
            enabled: o.enabled == Some(true),
            disabled_reason: (!disabled.is_empty()).then(|| disabled.join("; ")),
            filter: o.filter.clone().unwrap_or_default(),
        });
        self.jails.push((raw.name.clone(), o));
    }

    /// Record a jail that cannot be imported.
    pub fn skip(&mut self, raw: &RawJail, reason: String) {
        self.report.skipped.push(super::report::SkippedJail {
            jail: raw.name.clone(),
            enabled_in_fail2ban: raw.enabled,
            reason,
        });
    }

    fn logpath(&mut self, raw: &RawJail, o: &mut JailOptions, disabled: &mut Vec<String>) {
        let mut paths = Vec::new();
        if let Some(lp) = raw.options.get("logpath") {
            for line in lp.value.split('\n').filter(|l| !l.trim().is_empty()) {
                match line.rsplit_once(' ') {
                    Some((path, mode))
                        if matches!(mode.to_lowercase().as_str(), "head" | "tail") =>
                    {
                        if mode.eq_ignore_ascii_case("tail") {
                            self.ignore(raw, "logpath", line, "read mode tail: fail2zig starts every file where it decides, as on restart".into(), false);
                        }
                        paths.push(path.trim().to_string());
                    }
                    Some((_, mode)) => {
                        self.ignore(raw, "logpath", line, format!("read mode {mode:?} is not head or tail; fail2ban refuses this path, kept whole"), true);
                        paths.push(line.trim().to_string());
                    }
                    None => paths.push(line.trim().to_string()),
                }
            }
        }
        if raw.enabled {
            for p in &paths {
                let found = glob::glob(p)
                    .map(|g| g.filter_map(Result::ok).any(|f| f.exists()))
                    .unwrap_or(false);
                if !found {
                    self.report.warnings.push(format!(
                        "jail {}: no file matches logpath {p} now (fail2ban refuses to start without one; fail2zig follows it once it appears)",
                        raw.name
                    ));
                }
            }
        }
        if paths.is_empty() {
            if raw.enabled {
                disabled.push("no logpath".into());
            }
        } else {
            o.logpath = Some(paths);
        }
    }

    fn time(
        &mut self,
        raw: &RawJail,
        key: &str,
        v: &RawOption,
        allow_permanent: bool,
    ) -> Option<TimeSpan> {
        match TimeSpan::parse(&v.value) {
            Ok(t) if t.seconds() > 0 || (allow_permanent && t.seconds() == -1) => Some(t),
            Ok(t) => {
                self.ignore(
                    raw,
                    key,
                    &v.value,
                    format!(
                        "{} seconds is not a usable duration ({})",
                        t.seconds(),
                        v.origin
                    ),
                    true,
                );
                None
            }
            Err(e) => {
                self.ignore(
                    raw,
                    key,
                    &v.value,
                    format!("{e} ({}); fail2ban's server refuses it too", v.origin),
                    true,
                );
                None
            }
        }
    }

    fn int(&mut self, raw: &RawJail, key: &str, v: &RawOption, min: i64) -> Option<u32> {
        match python_int(&v.value) {
            Some(n) if n >= min && n <= i64::from(u32::MAX) => Some(n as u32),
            _ => {
                self.ignore(
                    raw,
                    key,
                    &v.value,
                    format!("not an integer >= {min} ({})", v.origin),
                    true,
                );
                None
            }
        }
    }

    fn numbers(&mut self, raw: &RawJail, o: &mut JailOptions) {
        for (key, v) in raw.options.iter() {
            match key {
                "maxretry" => o.maxretry = self.int(raw, key, v, 1),
                "maxmatches" => o.maxmatches = self.int(raw, key, v, 0),
                "findtime" => o.findtime = self.time(raw, key, v, false),
                "bantime" => o.bantime = self.time(raw, key, v, true),
                "bantime.maxtime" => o.bantime_maxtime = self.time(raw, key, v, false),
                "bantime.rndtime" => o.bantime_rndtime = self.time(raw, key, v, false),
                "bantime.increment" => o.bantime_increment = Some(as_bool(&v.value)),
                "bantime.overalljails" => o.bantime_overalljails = Some(as_bool(&v.value)),
                "bantime.formula" => o.bantime_formula = Some(v.value.clone()),
                "bantime.factor" => {
                    // An arithmetic expression; the jail runtime evaluates (and validates) it.
                    o.bantime_factor = Some(v.value.trim().to_string())
                }
                "bantime.multipliers" => {
                    if v.value.split_whitespace().all(|w| w.parse::<u64>().is_ok()) {
                        o.bantime_multipliers =
                            Some(v.value.split_whitespace().collect::<Vec<_>>().join(" "));
                    } else {
                        self.ignore(
                            raw,
                            key,
                            &v.value,
                            "expected integers separated by spaces".into(),
                            true,
                        );
                    }
                }
                _ => {}
            }
        }
    }

    fn lists(&mut self, raw: &RawJail, o: &mut JailOptions) {
        for (key, v) in raw.options.iter() {
            match key {
                "ignoreip" => o.ignoreip = Some(splitwords(&v.value)),
                "ignoreself" => o.ignoreself = Some(as_bool(&v.value)),
                "logencoding" => o.logencoding = Some(v.value.clone()),
                "logtimezone" => o.logtimezone = Some(v.value.clone()),
                "ignorecommand" if !v.value.trim().is_empty() => self.ignore(
                    raw,
                    key,
                    &v.value,
                    "runs a shell command; fail2zig never runs one (use ignoreip)".into(),
                    true,
                ),
                "ignorecache" => self.ignore(
                    raw,
                    key,
                    &v.value,
                    "caches ignorecommand results, which fail2zig does not run".into(),
                    false,
                ),
                _ => {}
            }
        }
    }

    fn actions(&mut self, raw: &RawJail, o: &mut JailOptions, disabled: &mut Vec<String>) {
        let mut ban: Option<(String, FirewallBan)> = None;
        let mut kept: Vec<(String, Vec<String>)> = Vec::new();
        let mut rejected_names = Vec::new();
        for a in &raw.actions {
            let decision = match classify(a) {
                Decision::Mapped(b) => match &b.port {
                    Some(p) => match parse_ports(p) {
                        Ok(_) => Decision::Mapped(b),
                        Err(e) => Decision::Rejected {
                            class: ActionClass::Firewall,
                            reason: format!("{e}"),
                        },
                    },
                    None => Decision::Mapped(b),
                },
                d => d,
            };
            match decision {
                Decision::Mapped(b) => match &mut ban {
                    None => {
                        kept.push((a.actname.clone(), b.notes.clone()));
                        ban = Some((a.actname.clone(), b));
                    }
                    Some((first, cur)) => {
                        if cur.port == b.port
                            && cur.blocktype == b.blocktype
                            && cur.family == b.family
                        {
                            for p in b.protocols {
                                if !cur.protocols.contains(&p) {
                                    cur.protocols.push(p);
                                }
                            }
                            kept.push((a.actname.clone(), b.notes));
                        } else {
                            let reason = format!(
                                "a second firewall ban that differs from {first} in ports, block type or family; fail2zig applies one ban per jail (split the jail to keep both)"
                            );
                            rejected_names.push(a.actname.clone());
                            self.reject(raw, &a.actname, ActionClass::Firewall, reason);
                        }
                    }
                },
                Decision::Rejected { class, reason } => {
                    rejected_names.push(a.actname.clone());
                    self.reject(raw, &a.actname, class, reason);
                }
            }
        }
        match ban {
            Some((_, b)) => {
                for (name, notes) in &kept {
                    self.mapped(raw, name, notes, &b);
                }
                o.port = b.port.clone();
                o.protocol = Some(b.protocols.join(","));
                o.blocktype = Some(b.blocktype.to_string());
                o.family = Some(b.family.to_string());
                o.actions = Some(kept.iter().map(|(name, _)| name.clone()).collect());
            }
            None if raw.actions.is_empty() => {
                disabled.push("no action defined, so fail2ban never bans either".into())
            }
            None => disabled.push(format!(
                "no firewall action left (rejected: {})",
                rejected_names.join(", ")
            )),
        }
    }

    fn mapped(&mut self, raw: &RawJail, action: &str, notes: &[String], b: &FirewallBan) {
        let ports = b.port.as_deref().unwrap_or("all");
        self.report.mapped.push(MappedAction {
            jail: raw.name.clone(),
            action: action.to_string(),
            native: format!(
                "nftables ban: ports {ports}, protocol {}, {}, family {}",
                b.protocols.join(","),
                b.blocktype,
                b.family
            ),
            notes: notes.to_vec(),
            active: raw.enabled,
        });
    }

    fn reject(&mut self, raw: &RawJail, action: &str, class: ActionClass, reason: String) {
        self.report.rejected.push(RejectedAction {
            jail: raw.name.clone(),
            action: action.to_string(),
            class: class.label().to_string(),
            reason,
            active: raw.enabled,
        });
    }
}

/// Values a native jail has when it does not set the option (`crate::config` built-ins).
fn builtin_defaults() -> Vec<(&'static str, toml::Value)> {
    use toml::Value::{Boolean, Integer, String as S};
    vec![
        ("enabled", Boolean(false)),
        ("backend", S("auto".into())),
        ("protocol", S("tcp".into())),
        ("blocktype", S("reject".into())),
        ("family", S("any".into())),
        ("maxretry", Integer(5)),
        ("findtime", Integer(600)),
        ("bantime", Integer(600)),
        ("usedns", S("warn".into())),
        ("logencoding", S("auto".into())),
        ("ignoreself", Boolean(true)),
    ]
}

/// Move values every jail shares (the most common one) into `[defaults]`; jails keep only what
/// differs. A jail that does not set an option counts with the built-in default. `filter` and
/// `logpath` stay per jail.
pub fn factor_defaults(jails: &mut [(String, JailOptions)]) -> JailOptions {
    if jails.len() < 2 {
        return JailOptions::default();
    }
    let tables: Vec<toml::Table> = jails
        .iter()
        .map(|(_, o)| {
            let mut t = toml::Table::try_from(o).unwrap_or_default();
            for (k, v) in builtin_defaults() {
                if !t.contains_key(k) {
                    t.insert(k.to_string(), v);
                }
            }
            t
        })
        .collect();
    let mut defaults = toml::Table::new();
    let keys: Vec<String> = tables[0].keys().cloned().collect();
    for key in keys {
        if key == "filter" || key == "logpath" || !tables.iter().all(|t| t.contains_key(&key)) {
            continue;
        }
        let mut counts: BTreeMap<String, (usize, toml::Value)> = BTreeMap::new();
        for t in &tables {
            let v = &t[&key];
            counts.entry(v.to_string()).or_insert((0, v.clone())).0 += 1;
        }
        if let Some((_, (_, v))) = counts.into_iter().max_by_key(|(_, (n, _))| *n) {
            defaults.insert(key, v);
        }
    }
    for ((_, o), mut t) in jails.iter_mut().zip(tables) {
        for (k, v) in &defaults {
            if t.get(k) == Some(v) {
                t.remove(k);
            }
        }
        if let Ok(back) = toml::Value::Table(t).try_into::<JailOptions>() {
            *o = back;
        }
    }
    toml::Value::Table(defaults).try_into().unwrap_or_default()
}
