//! `fail2zig import`: a fail2ban configuration directory → the native [`Config`] (and its TOML),
//! with a migration report.
//!
//! Reads every jail of `jail.conf`/`jail.d`/`jail.local` (enabled or not) through
//! `crate::fail2ban::jail`, resolves each jail's filter into a native `[filters.*]` entry with all
//! interpolation expanded (regexes stay in fail2ban syntax), keeps firewall actions as native bans
//! (`classify.rs`), rejects everything that would need a shell, and says so in the [`Report`].
//! Called by the CLI ([`run`]) and by the daemon, which imports `run -c /etc/fail2ban` in memory
//! ([`import_dir`]). It does not validate the native result beyond making sure it loads:
//! `crate::config` does.
//!
//! # Compatibility
//!
//! The reading is fail2ban 1.0.2's (see `crate::fail2ban`). Where fail2ban refuses the whole
//! configuration (a parse or interpolation error in what it runs) the import fails naming file
//! and line; where fail2ban skips one jail (missing filter or action file, bad `name[...]`
//! syntax) the jail is skipped and reported. A jail left without a firewall action is imported
//! disabled, with the reason. Mail, reporting, custom and Python actions never run: the daemon
//! never forks. `--strict` refuses anything lost from what fail2ban actually runs (a rejected
//! action or unsupported option of an enabled jail, an enabled jail skipped or disabled); jails
//! fail2ban does not run are carried over and reported, never fatal.

mod build;
mod classify;
mod report;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::import::ImportArgs;
use crate::config::{
    Config, ConfigError, ConfigSource, FilterDef, Global, JailOptions, log_filter,
};
use crate::fail2ban::Fail2banError;
use crate::fail2ban::jail::{JailReadError, jail_names, read_jail, read_jail_config};
use crate::fail2ban::merged::Merged;

pub use classify::{ActionClass, Decision, FirewallBan, classify, stock_class};
pub use report::{IgnoredOption, JailLine, MappedAction, RejectedAction, Report, SkippedJail};

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The configuration could not be read (missing directory, parse error, ...).
    #[error("cannot read the fail2ban configuration in {}", dir.display())]
    Read {
        dir: PathBuf,
        #[source]
        source: Box<Fail2banError>,
    },
    /// A jail fail2ban runs has an error that makes fail2ban refuse the whole configuration.
    #[error("jail {jail}")]
    Jail {
        jail: String,
        #[source]
        source: Box<Fail2banError>,
    },
    /// `--strict` and something was not carried over.
    #[error("--strict: {count} problem(s); first: {first}")]
    Strict { count: usize, first: String },
    /// The output file exists and `--force` was not given.
    #[error("{} exists; use --force to overwrite it", path.display())]
    Exists { path: PathBuf },
    /// Writing the output failed.
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The generated configuration does not load (a bug in the importer).
    #[error("the imported configuration does not load")]
    Invalid {
        #[source]
        source: ConfigError,
    },
}

/// What fail2zig does instead of each `fail2ban.conf` option.
const GLOBAL_IGNORED: &[(&str, &str)] = &[
    (
        "logtarget",
        "fail2zig logs to stderr (the journal under systemd)",
    ),
    (
        "syslogsocket",
        "fail2zig logs to stderr (the journal under systemd)",
    ),
    ("socket", "fail2zig's control socket is global.socket"),
    (
        "pidfile",
        "fail2zig writes no pid file (run it under systemd)",
    ),
    ("allowipv6", "fail2zig always handles IPv6"),
    ("dbfile", "fail2zig keeps its state in global.state_dir"),
    ("dbmaxmatches", "fail2zig's state file keeps no log lines"),
    (
        "dbpurgeage",
        "fail2zig's state file holds only current bans",
    ),
];

/// `fail2ban.conf` (and `.d`/`.local`) → `[global]`, reporting what is not carried over.
fn read_global(dir: &Path, report: &mut Report) -> Result<Global, ImportError> {
    let mut global = Global::default();
    let cfg = match Merged::read(dir, "fail2ban") {
        Ok(cfg) => cfg,
        Err(Fail2banError::NotFound { .. }) => return Ok(global),
        Err(source) => {
            return Err(ImportError::Read {
                dir: dir.to_path_buf(),
                source: Box::new(source),
            });
        }
    };
    let get = |opt: &str| -> Result<Option<String>, ImportError> {
        cfg.get("Definition", opt, None)
            .map_err(|source| ImportError::Read {
                dir: dir.to_path_buf(),
                source: Box::new(source),
            })
    };
    if let Some(level) = get("loglevel")? {
        let lower = level.trim().to_lowercase();
        if log_filter(&lower).is_some() {
            global.loglevel = Some(lower);
        } else {
            report.ignored.push(IgnoredOption {
                scope: "fail2ban.conf".into(),
                option: "loglevel".into(),
                value: level,
                reason: "not a level name fail2zig knows; info is used".into(),
                unsupported: false,
                active: true,
            });
        }
    }
    for (opt, reason) in GLOBAL_IGNORED {
        if let Some(value) = get(opt)? {
            report.ignored.push(IgnoredOption {
                scope: "fail2ban.conf".into(),
                option: opt.to_string(),
                value,
                reason: reason.to_string(),
                unsupported: false,
                active: true,
            });
        }
    }
    Ok(global)
}

/// Import the fail2ban configuration in `dir`. With `strict`, anything not carried over from
/// what fail2ban runs (a rejected action, an unsupported option, a skipped or disabled jail) is
/// an error.
pub fn import_dir(dir: &Path, strict: bool) -> Result<(Config, Report), ImportError> {
    let mut report = Report {
        source: dir.to_path_buf(),
        ..Report::default()
    };
    let global = read_global(dir, &mut report)?;
    let read_err = |source| ImportError::Read {
        dir: dir.to_path_buf(),
        source: Box::new(source),
    };
    let mut cfg = read_jail_config(dir).map_err(read_err)?;
    let mut builder = build::Builder::new(report);
    for name in jail_names(&cfg) {
        let enabled = cfg
            .get(&name, "enabled", None)
            .map_err(|source| ImportError::Jail {
                jail: name.clone(),
                source: Box::new(source),
            })?
            .is_some_and(|v| crate::fail2ban::jail::as_bool(&v));
        match read_jail(&mut cfg, dir, &name) {
            Ok(raw) => builder.add_jail(&raw),
            Err(JailReadError::Fatal(source)) if enabled => {
                return Err(ImportError::Jail {
                    jail: name,
                    source: Box::new(source),
                });
            }
            Err(e) => builder.report.skipped.push(SkippedJail {
                jail: name.clone(),
                enabled_in_fail2ban: enabled,
                reason: e.to_string(),
            }),
        }
    }
    let build::Builder {
        report,
        mut jails,
        filters,
    } = builder;
    let defaults = build::factor_defaults(&mut jails);
    let config = Config {
        global,
        defaults,
        jails: crate::config::Ordered(jails),
        filters,
    };
    if strict {
        let problems = report.strict_problems();
        if let Some(first) = problems.first() {
            return Err(ImportError::Strict {
                count: problems.len(),
                first: first.clone(),
            });
        }
    }
    Ok((config, report))
}

#[derive(Serialize)]
struct GlobalPart<'a> {
    global: &'a Global,
}

#[derive(Serialize)]
struct DefaultsPart<'a> {
    defaults: &'a JailOptions,
}

#[derive(Serialize)]
struct JailPart<'a> {
    jails: std::collections::BTreeMap<&'a str, &'a JailOptions>,
}

#[derive(Serialize)]
struct FilterPart<'a> {
    filters: std::collections::BTreeMap<&'a str, &'a FilterDef>,
}

fn pretty<T: Serialize>(v: &T) -> String {
    toml::to_string_pretty(v).unwrap_or_else(|e| format!("# cannot serialize: {e}\n"))
}

fn comment(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "# {line}");
    }
}

/// The native TOML of an import, with comments saying where things came from.
pub fn render_toml(config: &Config, report: &Report) -> String {
    let mut out = String::new();
    comment(
        &mut out,
        &format!(
            "fail2zig configuration imported from {} by `fail2zig import`.\nFilters keep fail2ban's regex syntax; the migration report lists what was not carried over.",
            report.source.display()
        ),
    );
    out.push('\n');
    out.push_str(&pretty(&GlobalPart {
        global: &config.global,
    }));
    out.push('\n');
    out.push_str(&pretty(&DefaultsPart {
        defaults: &config.defaults,
    }));
    for (name, opts) in config.jails.iter() {
        out.push('\n');
        if let Some(line) = report.jails.iter().find(|j| &j.jail == name) {
            if let Some(reason) = &line.disabled_reason {
                comment(&mut out, &format!("disabled by the import: {reason}"));
            }
        }
        for m in report.mapped.iter().filter(|m| &m.jail == name) {
            comment(&mut out, &format!("action {}: {}", m.action, m.native));
        }
        for r in report.rejected.iter().filter(|r| &r.jail == name) {
            comment(
                &mut out,
                &format!(
                    "action {} not imported ({}): {}",
                    r.action, r.class, r.reason
                ),
            );
        }
        let mut one = std::collections::BTreeMap::new();
        one.insert(name.as_str(), opts);
        out.push_str(&pretty(&JailPart { jails: one }));
    }
    for (name, def) in config.filters.iter() {
        out.push('\n');
        let mut one = std::collections::BTreeMap::new();
        one.insert(name.as_str(), def);
        out.push_str(&pretty(&FilterPart { filters: one }));
    }
    out
}

/// Load `text` as `fail2zig check` does (every filter must be in the file).
pub fn check_toml(text: &str, path: &Path) -> Result<(), ConfigError> {
    let cfg = Config::parse(text, path)?;
    cfg.resolve(ConfigSource::File(path.to_path_buf()), text, &|_| None)?;
    Ok(())
}

/// `fail2zig import [DIR] [-o FILE] [--force] [--strict]`: write the TOML (stdout without `-o`,
/// never overwriting without `--force`) and the report on stderr.
pub fn run(args: &ImportArgs) -> Result<(), ImportError> {
    let (config, report) = import_dir(&args.dir, args.strict)?;
    let text = render_toml(&config, &report);
    let name = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("<stdout>"));
    check_toml(&text, &name).map_err(|source| ImportError::Invalid { source })?;
    match &args.output {
        Some(path) => write_output(path, &text, args.force)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|source| ImportError::Write {
                    path: name.clone(),
                    source,
                })?;
        }
    }
    eprint!("{report}");
    Ok(())
}

fn write_output(path: &Path, text: &str, force: bool) -> Result<(), ImportError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    let mut f = opts.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            ImportError::Exists {
                path: path.to_path_buf(),
            }
        } else {
            ImportError::Write {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|source| ImportError::Write {
            path: path.to_path_buf(),
            source,
        })
}
