//! firewall: the `Backend` trait the daemon bans through, and its implementations.
//!
//! `netlink.rs` is only the socket and the framing; `nft_wire.rs` builds and parses the
//! nf_tables messages; `nft_ruleset.rs` lays out the scaffold of the jails; `nftables.rs` is the backend that says what they mean (`NftablesBackend`,
//! and `probe_nftables`, the start-up diagnostic for a kernel without nf_tables or a process
//! without CAP_NET_ADMIN); `uapi.rs` holds the kernel constants; `log.rs` records decisions
//! without touching the kernel (chosen only explicitly). The daemon never execs: no `nft`
//! binary, no shell.

use std::net::IpAddr;
use std::time::Duration;

mod log;
pub mod netlink;
pub mod nft_ruleset;
pub mod nft_wire;
pub mod nftables;
pub mod uapi;

pub use log::LogBackend;
pub use nftables::{NftConfig, NftError, NftablesBackend, probe as probe_nftables};

/// Which packets a jail blocks: fail2ban's `port` and `protocol` (multiport) or all ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JailRules {
    /// The jail's name; sets are named after it.
    pub jail: String,
    /// Port ranges (inclusive); empty = all ports.
    pub ports: Vec<(u16, u16)>,
    /// Transport protocols the port restriction applies to (`tcp`, `udp`, `sctp`, ...); ignored
    /// when `ports` is empty.
    pub protocols: Vec<String>,
    /// What a banned packet gets.
    pub blocktype: BlockType,
}

/// fail2ban's `blocktype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockType {
    /// Silently drop.
    #[default]
    Drop,
    /// Reject (ICMP/TCP reset as the kernel chooses).
    Reject,
}

/// One ban to install: the address and its remaining time (`None` = permanent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BanEntry {
    pub ip: IpAddr,
    pub timeout: Option<Duration>,
}

/// An element found in the kernel: the address and its remaining expiry (`None` = permanent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelBan {
    pub ip: IpAddr,
    pub expires_in: Option<Duration>,
}

/// What went wrong in a backend; the implementation's error, boxed with its context.
#[derive(Debug, thiserror::Error)]
#[error("{backend}: {operation}: {message}")]
pub struct FirewallError {
    pub backend: &'static str,
    pub operation: String,
    pub message: String,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// A firewall the daemon bans through. Every call either fully succeeds or returns an error
/// having changed nothing (batches are atomic).
pub trait Backend {
    /// Short name for logs and status ("nftables", "log").
    fn name(&self) -> &'static str;
    /// Installs (or reuses) the scaffold for these jails, idempotently, and returns the bans
    /// already present in the firewall per jail, for reconciliation.
    fn start(&mut self, jails: &[JailRules]) -> Result<Vec<(String, KernelBan)>, FirewallError>;
    /// Bans addresses in one jail, all in one transaction.
    fn ban(&mut self, jail: &str, bans: &[BanEntry]) -> Result<(), FirewallError>;
    /// Removes bans in one jail, all in one transaction.
    fn unban(&mut self, jail: &str, ips: &[IpAddr]) -> Result<(), FirewallError>;
    /// Removes every ban of one jail.
    fn flush(&mut self, jail: &str) -> Result<(), FirewallError>;
    /// Reads back the bans of one jail with their remaining expiry.
    fn list(&mut self, jail: &str) -> Result<Vec<KernelBan>, FirewallError>;
    /// Removes the scaffold of these jails (on `stop`); bans of jails not listed are kept.
    fn stop(&mut self, jails: &[String]) -> Result<(), FirewallError>;
}
