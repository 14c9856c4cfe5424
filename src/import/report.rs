//! The migration report of `fail2zig import`: what was imported, enabled, disabled, mapped,
//! rejected and ignored, and its text rendering (stderr of the CLI, files under
//! `testdata/import/`).
//!
//! Owns the report's data and wording only; the importer (`mod.rs`, `build.rs`) fills it.

use std::fmt::{self, Write as _};
use std::path::PathBuf;

/// One imported jail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JailLine {
    /// The jail.
    pub jail: String,
    /// Whether fail2ban runs it.
    pub enabled_in_fail2ban: bool,
    /// Whether fail2zig runs it.
    pub enabled: bool,
    /// Why it is disabled although fail2ban enables it.
    pub disabled_reason: Option<String>,
    /// The native filter it uses.
    pub filter: String,
}

/// An action kept as a native firewall ban.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedAction {
    pub jail: String,
    /// The action as written (`iptables-multiport[port="ssh", ...]` shortened to its name).
    pub action: String,
    /// What it became (`nftables ban: ports ssh, tcp, reject`).
    pub native: String,
    /// Approximations.
    pub notes: Vec<String>,
    /// Whether fail2ban runs the jail.
    pub active: bool,
}

/// An action not carried over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedAction {
    pub jail: String,
    pub action: String,
    /// Its class (`notification`, `custom`, ...).
    pub class: String,
    pub reason: String,
    /// Whether fail2ban runs the jail (only those count for `--strict`).
    pub active: bool,
}

/// An option not carried over, or carried over differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredOption {
    /// `jail sshd`, `fail2ban.conf`, ...
    pub scope: String,
    pub option: String,
    pub value: String,
    pub reason: String,
    /// Whether behaviour is lost (an error under `--strict`) rather than merely irrelevant.
    pub unsupported: bool,
    /// Whether it concerns something fail2ban runs (a global option or an enabled jail).
    pub active: bool,
}

/// A jail that could not be imported at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedJail {
    pub jail: String,
    pub enabled_in_fail2ban: bool,
    pub reason: String,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The fail2ban directory.
    pub source: PathBuf,
    pub jails: Vec<JailLine>,
    pub skipped: Vec<SkippedJail>,
    /// Native filter names, in output order.
    pub filters: Vec<String>,
    pub mapped: Vec<MappedAction>,
    pub rejected: Vec<RejectedAction>,
    pub ignored: Vec<IgnoredOption>,
    /// Things worth knowing that change nothing in the output (missing log files, ...).
    pub warnings: Vec<String>,
}

impl Report {
    /// Problems `--strict` refuses, in what fail2ban runs: rejected actions, unsupported
    /// options, skipped or disabled jails.
    pub fn strict_problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .rejected
            .iter()
            .filter(|r| r.active)
            .map(|r| {
                format!(
                    "jail {}: action {} rejected: {}",
                    r.jail, r.action, r.reason
                )
            })
            .collect();
        out.extend(
            self.ignored
                .iter()
                .filter(|i| i.unsupported && i.active)
                .map(|i| format!("{}: option {} unsupported: {}", i.scope, i.option, i.reason)),
        );
        out.extend(
            self.skipped
                .iter()
                .filter(|s| s.enabled_in_fail2ban)
                .map(|s| format!("jail {} skipped: {}", s.jail, s.reason)),
        );
        out.extend(
            self.jails
                .iter()
                .filter(|j| j.enabled_in_fail2ban && !j.enabled)
                .map(|j| {
                    format!(
                        "jail {} disabled: {}",
                        j.jail,
                        j.disabled_reason.as_deref().unwrap_or_default()
                    )
                }),
        );
        out
    }

    /// The one-line summary.
    pub fn summary(&self) -> String {
        let enabled = self.jails.iter().filter(|j| j.enabled).count();
        let unsupported = self.ignored.iter().filter(|i| i.unsupported).count();
        format!(
            "summary: {} jails imported ({} enabled, {} disabled), {} skipped, {} filters translated, {} actions mapped, {} rejected, {} options ignored ({} unsupported)",
            self.jails.len(),
            enabled,
            self.jails.len() - enabled,
            self.skipped.len(),
            self.filters.len(),
            self.mapped.len(),
            self.rejected.len(),
            self.ignored.len(),
            unsupported
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        let enabled: Vec<&JailLine> = self.jails.iter().filter(|j| j.enabled).collect();
        let _ = writeln!(s, "fail2zig import of {}", self.source.display());
        let _ = writeln!(
            s,
            "jails imported: {} ({} enabled, {} disabled)",
            self.jails.len(),
            enabled.len(),
            self.jails.len() - enabled.len()
        );
        for j in &enabled {
            let _ = writeln!(s, "  enabled: {} (filter {})", j.jail, j.filter);
        }
        for j in self.jails.iter().filter(|j| !j.enabled) {
            if let Some(r) = &j.disabled_reason {
                let also = if j.enabled_in_fail2ban {
                    ""
                } else {
                    " (disabled in fail2ban too)"
                };
                let _ = writeln!(s, "  disabled: {}{also}: {r}", j.jail);
            }
        }
        let quiet = self
            .jails
            .iter()
            .filter(|j| !j.enabled && j.disabled_reason.is_none())
            .count();
        if quiet > 0 {
            let _ = writeln!(s, "  disabled: {quiet} jails disabled in fail2ban as well");
        }
        if !self.skipped.is_empty() {
            let _ = writeln!(s, "jails skipped: {}", self.skipped.len());
            for j in &self.skipped {
                let state = if j.enabled_in_fail2ban {
                    "enabled"
                } else {
                    "disabled"
                };
                let _ = writeln!(s, "  {} ({state} in fail2ban): {}", j.jail, j.reason);
            }
        }
        let _ = writeln!(s, "filters translated: {}", self.filters.len());
        if !self.filters.is_empty() {
            let _ = writeln!(s, "  {}", self.filters.join(", "));
        }
        let _ = writeln!(s, "actions mapped: {}", self.mapped.len());
        let hidden = self.mapped.iter().filter(|m| !m.active).count();
        for m in self.mapped.iter().filter(|m| m.active) {
            let _ = writeln!(s, "  {}: {} -> {}", m.jail, m.action, m.native);
            for n in &m.notes {
                let _ = writeln!(s, "    note: {n}");
            }
        }
        if hidden > 0 {
            let _ = writeln!(
                s,
                "  {hidden} more in jails disabled in fail2ban (listed in the TOML comments)"
            );
        }
        let _ = writeln!(s, "actions rejected: {}", self.rejected.len());
        for r in &self.rejected {
            let off = if r.active {
                ""
            } else {
                " [jail disabled in fail2ban]"
            };
            let _ = writeln!(
                s,
                "  {}: {} ({}): {}{off}",
                r.jail, r.action, r.class, r.reason
            );
        }
        let _ = writeln!(s, "options ignored or unsupported: {}", self.ignored.len());
        for i in &self.ignored {
            let kind = if i.unsupported {
                "unsupported"
            } else {
                "ignored"
            };
            let off = if i.active {
                ""
            } else {
                " [jail disabled in fail2ban]"
            };
            let _ = writeln!(
                s,
                "  {}: {} = {:?} {kind}: {}{off}",
                i.scope, i.option, i.value, i.reason
            );
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(s, "warnings: {}", self.warnings.len());
            for w in &self.warnings {
                let _ = writeln!(s, "  {w}");
            }
        }
        let _ = writeln!(s, "{}", self.summary());
        f.write_str(&s)
    }
}
