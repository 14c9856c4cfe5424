//! cli: the clap structures of both binaries, and nothing else. The names and flags here are a
//! contract: scripts, tests and users depend on them. Extend, never rename.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

pub mod client;
pub mod import;
pub mod regex;

/// fail2zig: a drop-in replacement for fail2ban.
#[derive(Debug, Parser)]
#[command(name = "fail2zig", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of `fail2zig`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon in the foreground (systemd style), logging to stderr.
    Run(RunArgs),
    /// Load and validate the configuration and print a summary.
    Check(CheckArgs),
    /// Translate a fail2ban configuration directory into native TOML, with a migration report.
    Import(import::ImportArgs),
    /// Test a filter on a log file or line, like fail2ban-regex.
    Regex(regex::RegexArgs),
    /// Show fail2zig banning an attacker, in a private network namespace.
    Demo(DemoArgs),
}

/// `fail2zig run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A native TOML file or a fail2ban configuration directory.
    #[arg(short = 'c', long = "config", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The control socket (overrides the configuration's `global.socket`).
    #[arg(short = 's', long = "socket", value_name = "SOCKET")]
    pub socket: Option<PathBuf>,
    /// The firewall backend (overrides the configuration's `global.backend`).
    #[arg(long, value_enum)]
    pub backend: Option<BackendKind>,
    /// The state directory (overrides the configuration's `global.state_dir`).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

/// `fail2zig check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// A native TOML file or a fail2ban configuration directory.
    #[arg(short = 'c', long = "config", value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// `fail2zig demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Keep the generated files (config, log, state) in this directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

/// The firewall backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Direct netlink to nf_tables (the default).
    Nftables,
    /// Record decisions only; touches no firewall.
    Log,
}
