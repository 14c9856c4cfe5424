//! daemon: the composition root. Loads the configuration, builds every stage (filters, jails,
//! log watchers, firewall backend, control socket) and runs the one-thread poll loop.
//!
//! This is the only module that knows every other one. `run` is `fail2zig run`; `check` is
//! `fail2zig check`; `demo` is `fail2zig demo`.

mod check;
mod control;
mod demo;
mod jails;
mod logfmt;
mod runtime;
mod signals;

use std::path::Path;

pub use check::{check, compile, summary};
pub use demo::{DemoError, demo};
pub use jails::{JailBuildError, RunningJail};
pub use logfmt::{format_utc, init_logging};
pub use runtime::{Daemon, DaemonError, Overrides, now};

use crate::cli::RunArgs;

use crate::config::{Config, ConfigError, ConfigSource, EMBEDDED_DEFAULT, FilterDef, Settings};

/// Finds a built-in filter by name (our own filters, embedded in the binary).
pub fn builtin_filter(name: &str) -> Option<FilterDef> {
    crate::filter::builtin_filter(name)
}

/// Loads and validates the configuration: `-c PATH` (a TOML file or a fail2ban directory), else
/// the default locations, else the embedded default.
pub fn load(explicit: Option<&Path>) -> Result<Settings, ConfigError> {
    load_source(ConfigSource::discover(explicit))
}

/// Loads and validates one configuration source.
pub fn load_source(source: ConfigSource) -> Result<Settings, ConfigError> {
    match &source {
        ConfigSource::File(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
                path: path.clone(),
                source: e,
            })?;
            let cfg = Config::parse(&text, path)?;
            cfg.resolve(source.clone(), &text, &builtin_filter)
        }
        ConfigSource::Embedded => {
            let cfg = Config::parse(EMBEDDED_DEFAULT, &source.path())?;
            cfg.resolve(source.clone(), EMBEDDED_DEFAULT, &builtin_filter)
        }
        ConfigSource::Fail2ban(dir) => {
            let (cfg, _report) =
                crate::import::import_dir(dir, false).map_err(|e| ConfigError::Import {
                    path: dir.clone(),
                    message: crate::exit::chain(&e),
                })?;
            let text = cfg.to_toml();
            cfg.resolve(source.clone(), &text, &builtin_filter)
        }
    }
}

/// `fail2zig run`: loads the configuration, starts every stage and runs the loop until
/// SIGTERM/SIGINT or `fail2zig-client stop`.
pub fn run(args: &RunArgs) -> Result<(), DaemonError> {
    let source = ConfigSource::discover(args.config.as_deref());
    // Log at the default level until the configuration names one.
    let settings = match load_source(source) {
        Ok(s) => s,
        Err(e) => {
            init_logging("info");
            return Err(e.into());
        }
    };
    init_logging(&settings.loglevel);
    let overrides = Overrides {
        socket: args.socket.clone(),
        backend: args.backend,
        state_dir: args.state_dir.clone(),
    };
    Daemon::start(settings, overrides)?.run()
}
