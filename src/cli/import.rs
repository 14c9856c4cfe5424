//! `fail2zig import` arguments (owned by the importer, `crate::import`).

use std::path::PathBuf;

/// `fail2zig import [DIR] [-o FILE] [--force] [--strict]`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The fail2ban configuration directory.
    #[arg(value_name = "DIR", default_value = "/etc/fail2ban")]
    pub dir: PathBuf,
    /// Write the native TOML here instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,
    /// Turn any rejected action or unsupported option into an error.
    #[arg(long)]
    pub strict: bool,
}
