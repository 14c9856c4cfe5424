//! `fail2zig-client` arguments, fail2ban-client's (owned by `crate::client`).
//!
//! The options are fail2ban-client's (runtime spec §6.1); they precede the command words. clap's
//! own help and version flags are off: `-h`, `-V` and `--version` print fail2ban's texts, and
//! a parse error prints fail2ban's usage (`crate::client` handles both).

use std::path::PathBuf;

/// `fail2zig-client [OPTIONS] <COMMAND>`.
#[derive(Debug, Default, clap::Parser)]
#[command(
    name = "fail2zig-client",
    about = "fail2ban-client compatible control client",
    disable_help_flag = true,
    disable_version_flag = true
)]
pub struct ClientArgs {
    /// Configuration: a native TOML file (its `global.socket` is used) or a fail2ban directory.
    #[arg(short = 'c', long = "conf", value_name = "DIR")]
    pub conf: Option<PathBuf>,
    /// The control socket.
    #[arg(short = 's', long = "socket", value_name = "SOCKET")]
    pub socket: Option<PathBuf>,
    /// Pid file path (accepted for compatibility).
    #[arg(short = 'p', long = "pidfile", value_name = "FILE")]
    pub pidfile: Option<PathBuf>,
    /// Process name of the server (accepted for compatibility).
    #[arg(long = "pname", value_name = "NAME")]
    pub pname: Option<String>,
    /// Logging level for a started server (accepted for compatibility).
    #[arg(long = "loglevel", value_name = "LEVEL")]
    pub loglevel: Option<String>,
    /// Logging target for a started server (accepted for compatibility).
    #[arg(long = "logtarget", value_name = "TARGET")]
    pub logtarget: Option<String>,
    /// Syslog socket for a started server (accepted for compatibility).
    #[arg(long = "syslogsocket", value_name = "SOCKET")]
    pub syslogsocket: Option<String>,
    /// Dump the configuration (use `fail2zig check`).
    #[arg(short = 'd')]
    pub dump: bool,
    /// Dump the configuration, pretty (use `fail2zig check`).
    #[arg(long = "dp", visible_alias = "dump-pretty")]
    pub dump_pretty: bool,
    /// Test the configuration (use `fail2zig check`).
    #[arg(short = 't', long = "test")]
    pub test: bool,
    /// Interactive mode: read commands from standard input.
    #[arg(short = 'i')]
    pub interactive: bool,
    /// Increase verbosity.
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Decrease verbosity.
    #[arg(short = 'q', action = clap::ArgAction::Count)]
    pub quiet: u8,
    /// Force execution of the server (accepted for compatibility).
    #[arg(short = 'x')]
    pub force: bool,
    /// Start the server in the background (accepted for compatibility).
    #[arg(short = 'b')]
    pub background: bool,
    /// Start the server in the foreground (accepted for compatibility).
    #[arg(short = 'f')]
    pub foreground: bool,
    /// Internal server start mode (accepted for compatibility).
    #[arg(long = "async")]
    pub async_: bool,
    /// How long to wait for the server to answer (a time expression, default 30s).
    #[arg(long = "timeout", value_name = "TIME")]
    pub timeout: Option<String>,
    /// Print a time expression converted to seconds, and exit.
    #[arg(long = "str2sec", value_name = "STRING")]
    pub str2sec: Option<String>,
    /// Print the usage and exit.
    #[arg(short = 'h', long = "help")]
    pub help: bool,
    /// Print the version in short form and exit.
    #[arg(short = 'V')]
    pub short_version: bool,
    /// Print the version and exit.
    #[arg(long = "version")]
    pub version: bool,
    /// Print every answer as JSON instead of fail2ban's text.
    #[arg(long = "json")]
    pub json: bool,
    /// The command and its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}
