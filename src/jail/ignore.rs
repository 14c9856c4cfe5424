//! `ignoreip` / `ignoreself`: which failure ids a jail never counts.
//!
//! Parses the entries once (addresses, CIDR, `addr/netmask`, bracketed IPv6, DNS names) and
//! resolves names and this host's own addresses through a [`Resolver`] when the list is built —
//! never in the event loop. Called by [`super::Jail`] for every failure and every restored ban;
//! manual bans bypass it.
//!
//! # Compatibility
//! The order is fail2ban 1.0.2's `_inIgnoreIPList`: `ignoreself` first, then exact addresses,
//! then networks and names in configuration order; the reported source is `ignoreself rule`,
//! `ip` or `dns`. IPv4-mapped IPv6 addresses are compared as IPv4; a network only contains
//! addresses of its own family. "Own addresses" are, as in 1.0.2, the resolution of `localhost`
//! and of this host's name (plus 127.0.0.1 and ::1, which `localhost` always yields on Linux);
//! interface addresses are not enumerated. Differences: names are resolved once at start (fail2ban
//! re-resolves every 5 minutes; a reload re-resolves here), `ignorecommand` and `ignorecache` are
//! not supported (the daemon never execs). A failure id that is not an address is ignored only by
//! an entry with exactly the same text.

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

use super::JailError;

/// Resolves a host name to its addresses (A and AAAA). Failures resolve to nothing.
pub trait Resolver {
    fn resolve(&self, name: &str) -> Vec<IpAddr>;
    /// This host's name (`uname -n`).
    fn hostname(&self) -> Option<String>;
}

/// The system resolver (`getaddrinfo` through std) and `uname`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve(&self, name: &str) -> Vec<IpAddr> {
        match (name, 0u16).to_socket_addrs() {
            Ok(addrs) => {
                let mut v: Vec<IpAddr> = addrs.map(|a| normalize(a.ip())).collect();
                v.dedup();
                v
            }
            Err(_) => Vec::new(),
        }
    }
    fn hostname(&self) -> Option<String> {
        let uts = rustix::system::uname();
        let name = uts.nodename().to_str().ok()?;
        (!name.is_empty()).then(|| name.to_string())
    }
}

/// Which rule ignored a failure (the tail of fail2ban's `Ignore <ip> by <source>` line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreSource {
    SelfRule,
    Ip,
    Dns,
}

impl fmt::Display for IgnoreSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IgnoreSource::SelfRule => "ignoreself rule",
            IgnoreSource::Ip => "ip",
            IgnoreSource::Dns => "dns",
        })
    }
}

/// An address network: address with the host bits cleared, and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Net {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, normalize(ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => mask32(u32::from(a), self.prefix) == u32::from(n),
            (IpAddr::V6(n), IpAddr::V6(a)) => mask128(u128::from(a), self.prefix) == u128::from(n),
            _ => false,
        }
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Rule {
    Net(Net),
    Name { name: String, addrs: Vec<IpAddr> },
}

/// A jail's parsed ignore rules.
#[derive(Debug, Clone, Default)]
pub struct IgnoreList {
    own: HashSet<IpAddr>,
    exact: HashSet<IpAddr>,
    rules: Vec<Rule>,
    /// Entry order for `get <jail> ignoreip`: networks/names first, then exact addresses.
    exact_order: Vec<IpAddr>,
}

impl IgnoreList {
    /// Parses `entries` (each may itself hold several, separated by spaces or commas) and
    /// resolves names and, if `ignoreself`, this host's addresses.
    pub fn new(
        entries: &[String],
        ignoreself: bool,
        resolver: &dyn Resolver,
    ) -> Result<IgnoreList, JailError> {
        let mut list = IgnoreList::default();
        for entry in entries.iter().flat_map(|e| e.split([' ', ',', '\n', '\t'])) {
            if !entry.is_empty() {
                list.add(entry, resolver)?;
            }
        }
        if ignoreself {
            list.own.insert(IpAddr::V4(Ipv4Addr::LOCALHOST));
            list.own.insert(IpAddr::V6(Ipv6Addr::LOCALHOST));
            list.own.extend(resolver.resolve("localhost"));
            if let Some(host) = resolver.hostname() {
                list.own.extend(resolver.resolve(&host));
            }
        }
        Ok(list)
    }

    fn add(&mut self, entry: &str, resolver: &dyn Resolver) -> Result<(), JailError> {
        match parse_entry(entry)? {
            Entry::Addr(ip) => {
                if self.exact.insert(ip) {
                    self.exact_order.push(ip);
                }
            }
            Entry::Net(net) => {
                let rule = Rule::Net(net);
                if !self.rules.contains(&rule) {
                    self.rules.push(rule);
                }
            }
            Entry::Name(name) => {
                if !self
                    .rules
                    .iter()
                    .any(|r| matches!(r, Rule::Name { name: n, .. } if *n == name))
                {
                    let addrs = resolver.resolve(&name);
                    self.rules.push(Rule::Name { name, addrs });
                }
            }
        }
        Ok(())
    }

    /// Whether `id` (address `ip`, if it is one) is ignored, and by which rule.
    pub fn check(&self, id: &str, ip: Option<IpAddr>) -> Option<IgnoreSource> {
        let Some(ip) = ip.map(normalize) else {
            return self
                .rules
                .iter()
                .any(|r| matches!(r, Rule::Name { name, .. } if name == id))
                .then_some(IgnoreSource::Dns);
        };
        if self.own.contains(&ip) {
            return Some(IgnoreSource::SelfRule);
        }
        if self.exact.contains(&ip) {
            return Some(IgnoreSource::Ip);
        }
        self.rules.iter().find_map(|r| match r {
            Rule::Net(n) if n.contains(ip) => Some(IgnoreSource::Ip),
            Rule::Name { addrs, .. } if addrs.contains(&ip) => Some(IgnoreSource::Dns),
            _ => None,
        })
    }

    /// The entries as `get <jail> ignoreip` lists them: networks and names first, then the
    /// single addresses.
    pub fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .rules
            .iter()
            .map(|r| match r {
                Rule::Net(n) => n.to_string(),
                Rule::Name { name, .. } => name.clone(),
            })
            .collect();
        v.extend(self.exact_order.iter().map(IpAddr::to_string));
        v
    }
}

enum Entry {
    Addr(IpAddr),
    Net(Net),
    Name(String),
}

fn parse_entry(entry: &str) -> Result<Entry, JailError> {
    let bad = |why: &'static str| JailError::InvalidSetting {
        key: "ignoreip",
        value: entry.to_string(),
        why,
    };
    let (addr, mask) = match entry.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (entry, None),
    };
    let addr_text = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    let Ok(ip) = addr_text.parse::<IpAddr>() else {
        if mask.is_some() {
            return Err(bad("a network needs an IPv4 or IPv6 address before '/'"));
        }
        return Ok(Entry::Name(entry.to_string()));
    };
    let ip = normalize(ip);
    let bits: u8 = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match mask {
        None => return Ok(Entry::Addr(ip)),
        Some(m) => match m.parse::<u8>() {
            Ok(p) if p <= bits => p,
            Ok(_) => return Err(bad("prefix length too large for the address family")),
            Err(_) => netmask_prefix(m, ip.is_ipv4()).ok_or_else(|| bad("invalid netmask"))?,
        },
    };
    if prefix == bits {
        return Ok(Entry::Addr(ip));
    }
    let addr = match ip {
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(mask32(u32::from(a), prefix))),
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(mask128(u128::from(a), prefix))),
    };
    Ok(Entry::Net(Net { addr, prefix }))
}

/// `/255.255.0.0` or `/ffff:ffff::` → prefix length (contiguous masks only).
fn netmask_prefix(mask: &str, v4: bool) -> Option<u8> {
    let (value, bits) = match mask.parse::<IpAddr>().ok()? {
        IpAddr::V4(m) if v4 => (u128::from(u32::from(m)) << 96, 32),
        IpAddr::V6(m) if !v4 => (u128::from(m), 128),
        _ => return None,
    };
    let ones = value.leading_ones();
    (value.checked_shl(ones).unwrap_or(0) == 0 && ones <= bits).then_some(ones as u8)
}

fn mask32(a: u32, prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        a & (u32::MAX << (32 - u32::from(prefix)))
    }
}

fn mask128(a: u128, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        a & (u128::MAX << (128 - u32::from(prefix)))
    }
}

/// IPv4-mapped IPv6 → IPv4.
pub fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Parses an address or network argument (`1.2.3.0/24`), for unban-by-network.
pub fn parse_net(text: &str) -> Option<Net> {
    match parse_entry(text).ok()? {
        Entry::Net(n) => Some(n),
        Entry::Addr(a) => Some(Net {
            addr: a,
            prefix: if a.is_ipv4() { 32 } else { 128 },
        }),
        Entry::Name(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl Resolver for Fake {
        fn resolve(&self, name: &str) -> Vec<IpAddr> {
            match name {
                "localhost" => vec!["127.0.0.1".parse().unwrap()],
                "myhost" => vec!["192.0.2.200".parse().unwrap()],
                "good.example" => vec!["198.51.100.7".parse().unwrap()],
                _ => vec![],
            }
        }
        fn hostname(&self) -> Option<String> {
            Some("myhost".into())
        }
    }

    fn list(entries: &str, own: bool) -> IgnoreList {
        IgnoreList::new(&[entries.to_string()], own, &Fake).unwrap()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn order_and_sources() {
        let l = list(
            "127.0.0.1/8 ::1,10.99.0.0/16 good.example 203.0.113.5 [2001:db8::]/32",
            true,
        );
        assert_eq!(
            l.check("192.0.2.200", ip("192.0.2.200")),
            Some(IgnoreSource::SelfRule)
        );
        assert_eq!(
            l.check("127.0.0.1", ip("127.0.0.1")),
            Some(IgnoreSource::SelfRule)
        );
        assert_eq!(
            l.check("127.1.2.3", ip("127.1.2.3")),
            Some(IgnoreSource::Ip)
        );
        assert_eq!(
            l.check("10.99.3.4", ip("10.99.3.4")),
            Some(IgnoreSource::Ip)
        );
        assert_eq!(
            l.check("198.51.100.7", ip("198.51.100.7")),
            Some(IgnoreSource::Dns)
        );
        assert_eq!(
            l.check("203.0.113.5", ip("203.0.113.5")),
            Some(IgnoreSource::Ip)
        );
        assert_eq!(
            l.check("2001:db8::9", ip("2001:db8::9")),
            Some(IgnoreSource::Ip)
        );
        assert_eq!(
            l.check("::ffff:10.99.0.1", ip("::ffff:10.99.0.1")),
            Some(IgnoreSource::Ip)
        );
        assert_eq!(l.check("10.98.0.1", ip("10.98.0.1")), None);
        let no_self = list("", false);
        assert_eq!(no_self.check("127.0.0.1", ip("127.0.0.1")), None);
    }

    #[test]
    fn netmask_and_listing() {
        let l = list(
            "192.168.7.9/255.255.0.0 127.0.0.1/8 1.2.3.4 1.2.3.4 fe80::/ffff::",
            false,
        );
        assert_eq!(
            l.entries(),
            ["192.168.0.0/16", "127.0.0.0/8", "fe80::/16", "1.2.3.4"]
        );
        assert_eq!(
            l.check("192.168.200.1", ip("192.168.200.1")),
            Some(IgnoreSource::Ip)
        );
        assert!(IgnoreList::new(&["1.2.3.4/33".into()], false, &Fake).is_err());
        assert!(IgnoreList::new(&["1.2.3.4/255.0.255.0".into()], false, &Fake).is_err());
        assert!(IgnoreList::new(&["name/8".into()], false, &Fake).is_err());
    }
}
