//! ipc: the control socket between `fail2zig-client` and the daemon, and the command executor.
//!
//! * [`frame`]: the versioned, length-prefixed wire format (request = the command words,
//!   response = a [`Value`] or a [`RemoteError`]), with size caps.
//! * [`server`]: the daemon's non-blocking end, driven by the daemon's one poll loop
//!   ([`Server::bind`], [`Server::poll_fds`], [`Server::on_ready`], [`Server::reply`]), with the
//!   peer-credential check of [`peer`].
//! * [`client`]: the blocking end ([`Connection`]).
//! * [`execute`](execute()) and [`Control`]: fail2ban's server-side command semantics, mapped
//!   onto a small trait the daemon implements over its jails.
//!
//! It does not render answers for people (that is `client`) and knows nothing of jails beyond
//! the [`Control`] trait. The daemon (`daemon`) owns the [`Server`] and implements [`Control`];
//! `client` uses [`Connection`].
//!
//! # Compatibility
//! The command words, result values and exceptions are fail2ban 1.0.2's (runtime spec §6.3); the
//! byte format on the socket is fail2zig's own (§6.6 says nothing outside Python speaks
//! fail2ban's pickle protocol). See the submodules for details.

use std::path::PathBuf;

pub mod client;
pub mod control;
mod execute;
pub mod frame;
pub mod peer;
pub mod server;
pub mod time;
pub mod value;

pub use client::Connection;
pub use control::{
    BanEntry, Control, ControlError, JailOption, JailStatus, ReloadRequest, ServerOption, Setting,
    UnbanOutcome,
};
pub use execute::{FAIL2BAN_VERSION, execute, py_int, remote_error, strerror};
pub use frame::{ErrorKind, FrameError, RemoteError, Response};
pub use peer::{PeerPolicy, group_by_name};
pub use server::{ConnId, Limits, Server, ServerStats};
pub use value::Value;

/// The default control socket.
pub const DEFAULT_SOCKET: &str = "/run/fail2zig/fail2zig.sock";

/// Errors of the control socket.
#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    /// The socket's directory could not be created.
    #[error("cannot create the socket directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A socket operation failed.
    #[error("control socket {path}: {op} failed")]
    Socket {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another daemon answers on the socket.
    #[error("a daemon is already listening on {0}")]
    AlreadyRunning(PathBuf),
    /// The socket path is taken by something that is not a socket.
    #[error("{0} exists and is not a socket")]
    NotASocket(PathBuf),
    /// The user database could not be read.
    #[error("cannot read {path}")]
    UserDatabase {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The configured group does not exist.
    #[error("unknown group {0}")]
    UnknownGroup(String),
    /// The client could not connect.
    #[error("cannot connect to {path}")]
    Connect {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Sending or receiving failed (including a timeout).
    #[error("{op} failed")]
    Transfer {
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A frame could not be built or read.
    #[error(transparent)]
    Frame(#[from] FrameError),
}
