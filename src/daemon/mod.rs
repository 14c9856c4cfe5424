//! daemon: the composition root. Loads the configuration, builds every stage (filters, jails,
//! log watchers, firewall backend, control socket) and runs the one-thread poll loop.
//!
//! This is the only module that knows every other one. `run` is `fail2zig run`; `check` is
//! `fail2zig check`; `demo` is `fail2zig demo`.

mod check;
mod logfmt;

use std::path::Path;

pub use check::{check, summary};
pub use logfmt::init_logging;

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
