//! `fail2zig-client` arguments, fail2ban-client's (owned by `crate::client`).

use std::path::PathBuf;

/// `fail2zig-client [-s SOCKET] COMMAND ...`.
#[derive(Debug, clap::Parser)]
#[command(
    name = "fail2zig-client",
    version,
    about = "fail2ban-client compatible control client"
)]
pub struct ClientArgs {
    /// The control socket.
    #[arg(short = 's', value_name = "SOCKET")]
    pub socket: Option<PathBuf>,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}
