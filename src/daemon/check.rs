//! `fail2zig check`: load, validate, compile every enabled jail's filter, print a summary.

use std::fmt::Write as _;

use crate::cli::{BackendKind, CheckArgs};
use crate::config::{ConfigError, Jail, Settings};

/// Loads and validates; returns the summary text, or the first error.
pub fn check(args: &CheckArgs) -> Result<String, ConfigError> {
    let settings = super::load(args.config.as_deref())?;
    for jail in settings.enabled_jails() {
        compile(&settings, jail)?;
    }
    Ok(summary(&settings))
}

/// Compiles a jail's filter, mapping a regex error to `file:line: key: problem`.
pub fn compile(settings: &Settings, jail: &Jail) -> Result<crate::filter::Filter, ConfigError> {
    super::jails::compile_filter(jail).map_err(|e| ConfigError::Invalid {
        path: settings.source.path(),
        line: 0,
        key: format!("jails.{}.filter", jail.name),
        message: crate::exit::chain(&e),
    })
}

/// What `check` prints: the source, the backend, and one block per jail.
pub fn summary(s: &Settings) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Configuration: {}", s.source);
    let backend = match s.backend {
        BackendKind::Nftables => format!("nftables (table inet {})", s.nftables_table),
        BackendKind::Log => "log (records decisions only; no firewall is changed)".into(),
    };
    let _ = writeln!(out, "Backend: {backend}");
    let _ = writeln!(out, "Socket: {}", s.socket.display());
    let _ = writeln!(out, "State: {}", s.state_dir.display());
    let enabled = s.enabled_jails().count();
    let _ = writeln!(
        out,
        "Jails: {enabled} enabled, {} disabled",
        s.jails.len() - enabled
    );
    for j in s.enabled_jails() {
        let _ = writeln!(out, "  {}", j.name);
        let _ = writeln!(
            out,
            "    filter: {} ({} failregex, {} ignoreregex)",
            j.filter_name,
            j.filter.failregex.len(),
            j.filter.ignoreregex.len()
        );
        for p in &j.logpath {
            let found = glob::glob(p).map(|g| g.flatten().count()).unwrap_or(0);
            let _ = writeln!(out, "    logpath: {p} ({found} file(s) now)");
        }
        let ports = match &j.port_text {
            Some(p) if !j.ports.is_empty() => format!("{p} ({})", j.protocols.join(",")),
            _ => "all ports".into(),
        };
        let _ = writeln!(
            out,
            "    maxretry {}, findtime {}, bantime {}, {ports}",
            j.maxretry, j.findtime, j.bantime
        );
    }
    let disabled: Vec<&str> = s
        .jails
        .iter()
        .filter(|j| !j.enabled)
        .map(|j| j.name.as_str())
        .collect();
    if !disabled.is_empty() {
        let _ = writeln!(out, "Disabled: {}", disabled.join(", "));
    }
    out.push_str("OK\n");
    out
}
