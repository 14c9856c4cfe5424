//! filter: fail2ban filters on regex-automata. `pyre` parses Python `re` syntax and compiles it;
//! the rest of this module expands fail2ban's tags, cuts the date out of a line and finds failures
//! exactly as fail2ban's `Filter.processLine`/`findFailure` do.

use std::collections::BTreeMap;
use std::net::IpAddr;

pub mod pyre;

/// One failure found in a log: what the jail counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// fail2ban's failure id: the address text, or the `<F-ID>` value.
    pub id: String,
    /// The address, when the id is one (IPv4-mapped IPv6 given as IPv4).
    pub ip: Option<IpAddr>,
    /// The failure's time, epoch seconds (from the log line's date).
    pub time: f64,
    /// The matched log line(s), as fail2ban keeps them for `<matches>`.
    pub lines: Vec<String>,
    /// Captured `<F-...>` values (`user`, `alt_user`, custom ones), lower-case names as fail2ban.
    pub tags: BTreeMap<String, String>,
    /// Index of the failregex that matched.
    pub regex: usize,
}
