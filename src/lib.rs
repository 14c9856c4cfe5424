//! fail2zig: a drop-in replacement for fail2ban.
//!
//! The modules follow the pipeline: configuration (`config`, `fail2ban`, `import`) is read once;
//! the daemon (`daemon`) owns one poll loop that follows logs (`watch`), matches lines against
//! fail2ban filters (`filter`, `date`), counts failures and decides bans (`jail`), writes kernel
//! firewall state (`firewall`), answers the client (`ipc`, `client`) and keeps state (`persist`).
#![deny(unsafe_code)]

pub mod cli;
pub mod client;
pub mod config;
pub mod daemon;
pub mod date;
pub mod exit;
pub mod fail2ban;
pub mod filter;
pub mod firewall;
pub mod import;
pub mod ipc;
pub mod jail;
pub mod persist;
pub mod sandbox;
pub mod watch;
