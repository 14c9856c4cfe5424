//! ip: fail2ban's failure ids (`IPAddr`): an address, a masked network, or a raw text id.
//!
//! Owns parsing a captured host or `<F-ID>` into an id, its text form and equality. Name
//! resolution (`usedns = yes|warn`) is here too; the engine (`super::engine`) calls it only when
//! fail2ban would. Nothing else touches the network.
//!
//! # Compatibility
//! Same as fail2ban 1.0.2's `IPAddr`: `inet_pton` parsing (IPv4 with leading zeros is not an
//! address and stays raw text), a surrounding `[…]` stripped only when no family is forced,
//! `::ffff:a.b.c.d` turned into IPv4, `a.b.c.d/n` masked networks, `inet_ntop` text (glibc prints
//! `::a.b.c.d` for IPv4-compatible addresses), equality by family, value and prefix, raw ids by
//! text. `textToIp` accepts a text that is itself an address without a lookup.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

/// How an id was asked to be parsed (fail2ban's `cidr` argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// `CIDR_RAW`: keep the text, never parse.
    Raw,
    /// `CIDR_UNSPEC`: try IPv4 then IPv6, `[…]` and `/n` understood.
    Unspec,
    /// `FAM_IPv4`: IPv4 only.
    V4,
    /// `FAM_IPv6`: IPv6 only.
    V6,
    /// An explicit prefix length from a `<CIDR>` group.
    Prefix(u32),
}

/// One failure id.
#[derive(Debug, Clone)]
pub enum FailId {
    /// A valid address (or a network when `plen` is shorter than the address).
    Addr { addr: IpAddr, plen: u8 },
    /// An id that is not an address (raw, or a text that did not parse).
    Raw { text: String, parsed: bool },
}

impl FailId {
    /// fail2ban's `IPAddr(text, cidr)`.
    pub fn new(text: &str, kind: IdKind) -> FailId {
        let raw = |text: &str, parsed: bool| FailId::Raw {
            text: text.to_string(),
            parsed,
        };
        let (mut text, mut kind) = (text, kind);
        if kind == IdKind::Raw {
            return raw(text, false);
        }
        if kind == IdKind::Unspec {
            if text.len() > 2 && text.starts_with('[') && text.ends_with(']') {
                text = &text[1..text.len() - 1];
            }
            if let Some((a, p)) = text.split_once('/') {
                let plen = if p.contains('.') || p.contains(':') {
                    mask_to_plen(p)
                } else {
                    p.parse::<u32>().ok()
                };
                match plen {
                    Some(n) => {
                        kind = IdKind::Prefix(n);
                        text = a;
                    }
                    // fail2ban raises ValueError here; the text stays an unparsed id.
                    None => return raw(text, true),
                }
            }
        }
        let v4 = || text.parse::<Ipv4Addr>().ok();
        let v6 = || text.parse::<Ipv6Addr>().ok();
        let (addr, plen) = match kind {
            IdKind::V4 => match v4() {
                Some(a) => (IpAddr::V4(a), None),
                None => return raw(text, true),
            },
            IdKind::V6 => match v6() {
                Some(a) => (IpAddr::V6(a), None),
                None => return raw(text, true),
            },
            IdKind::Prefix(n) => match (v4(), v6()) {
                (Some(a), _) => (IpAddr::V4(a), Some(n)),
                (None, Some(a)) => (IpAddr::V6(a), Some(n)),
                _ => return raw(text, true),
            },
            _ => match (v4(), v6()) {
                (Some(a), _) => (IpAddr::V4(a), None),
                (None, Some(a)) => (IpAddr::V6(a), None),
                _ => return raw(text, true),
            },
        };
        match (addr, plen) {
            (IpAddr::V4(a), Some(n)) => {
                let n = n.min(32);
                let mask = if n == 0 { 0 } else { u32::MAX << (32 - n) };
                FailId::Addr {
                    addr: IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask)),
                    plen: n as u8,
                }
            }
            (IpAddr::V6(a), Some(n)) => {
                let n = n.min(128);
                let mask = if n == 0 { 0 } else { u128::MAX << (128 - n) };
                FailId::Addr {
                    addr: IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask)),
                    plen: n as u8,
                }
            }
            (IpAddr::V4(a), None) => FailId::Addr {
                addr: IpAddr::V4(a),
                plen: 32,
            },
            (IpAddr::V6(a), None) => match a.to_ipv4_mapped() {
                Some(v4) => FailId::Addr {
                    addr: IpAddr::V4(v4),
                    plen: 32,
                },
                None => FailId::Addr {
                    addr: IpAddr::V6(a),
                    plen: 128,
                },
            },
        }
    }

    /// The address, when this id is a single address.
    pub fn addr(&self) -> Option<IpAddr> {
        match self {
            FailId::Addr { addr, plen } if u32::from(*plen) == full_plen(addr) => Some(*addr),
            _ => None,
        }
    }

    /// Appends the text form (as [`fmt::Display`]) to `out`; a plain IPv4 address, the common
    /// case of `fail2zig regex -o ip`, without the formatting machinery.
    pub fn write_text(&self, out: &mut Vec<u8>) {
        match self {
            FailId::Raw { text, .. } => out.extend_from_slice(text.as_bytes()),
            FailId::Addr {
                addr: IpAddr::V4(a),
                plen: 32,
            } => {
                for (i, &o) in a.octets().iter().enumerate() {
                    if i > 0 {
                        out.push(b'.');
                    }
                    if o >= 100 {
                        out.push(b'0' + o / 100);
                    }
                    if o >= 10 {
                        out.push(b'0' + o / 10 % 10);
                    }
                    out.push(b'0' + o % 10);
                }
            }
            _ => {
                use std::io::Write;
                // Writing into a Vec cannot fail.
                let _ = write!(out, "{self}");
            }
        }
    }

    /// Whether the id is an address or a network (fail2ban's `isValid`).
    pub fn is_valid(&self) -> bool {
        matches!(self, FailId::Addr { .. })
    }
}

fn full_plen(a: &IpAddr) -> u32 {
    if a.is_ipv4() { 32 } else { 128 }
}

fn mask_to_plen(mask: &str) -> Option<u32> {
    let m: u128 = match FailId::new(mask, IdKind::Unspec) {
        FailId::Addr {
            addr: IpAddr::V4(a),
            ..
        } => u128::from(u32::from(a)) << 96,
        FailId::Addr {
            addr: IpAddr::V6(a),
            ..
        } => u128::from(a),
        _ => return None,
    };
    Some(m.leading_ones())
}

impl PartialEq for FailId {
    fn eq(&self, other: &FailId) -> bool {
        match (self, other) {
            (FailId::Addr { addr: a, plen: p }, FailId::Addr { addr: b, plen: q }) => {
                a == b && p == q
            }
            (FailId::Raw { text: a, parsed: x }, FailId::Raw { text: b, parsed: y }) => {
                a == b && x == y
            }
            _ => false,
        }
    }
}

impl fmt::Display for FailId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailId::Raw { text, .. } => f.write_str(text),
            FailId::Addr { addr, plen } => {
                match addr {
                    IpAddr::V4(a) => write!(f, "{a}")?,
                    IpAddr::V6(a) => write!(f, "{}", ntop6(a))?,
                }
                if u32::from(*plen) < full_plen(addr) && *plen > 0 {
                    write!(f, "/{plen}")?;
                }
                Ok(())
            }
        }
    }
}

/// glibc's `inet_ntop(AF_INET6)`: RFC 5952 except that IPv4-compatible addresses (`::a.b.c.d`,
/// first 96 bits zero, not `::` or `::1`-like with the last word zero) print dotted.
fn ntop6(a: &Ipv6Addr) -> String {
    let s = a.segments();
    if s[..6].iter().all(|&w| w == 0) && s[6] != 0 {
        let v4 = Ipv4Addr::from(u128::from(*a) as u32);
        return format!("::{v4}");
    }
    a.to_string()
}

/// fail2ban's `DNSUtils.textToIp`: the text itself when it is an address, otherwise (only for
/// `yes`/`warn`) the addresses it resolves to, A before AAAA, without duplicates.
pub fn text_to_ip(text: &str, resolve: bool) -> Vec<FailId> {
    if let Some(ip) = search_ip(text) {
        let id = FailId::new(ip, IdKind::Unspec);
        if id.is_valid() {
            return vec![id];
        }
    }
    if !resolve {
        return Vec::new();
    }
    let mut out: Vec<FailId> = Vec::new();
    if let Ok(addrs) = (text, 0u16).to_socket_addrs() {
        let mut all: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
        all.sort_by_key(|a| a.is_ipv6());
        for a in all {
            let id = FailId::new(&a.to_string(), IdKind::Unspec);
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

/// fail2ban's `IPAddr.searchIP`: the whole text is an IPv4 or a (bracketed) IPv6 shape.
fn search_ip(text: &str) -> Option<&str> {
    let t = text;
    let is_v4 = t.split('.').count() == 4
        && t.split('.')
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    if is_v4 {
        return Some(t);
    }
    let inner = t.strip_prefix('[').unwrap_or(t);
    let inner = inner.strip_suffix(']').unwrap_or(inner);
    if inner.contains(':')
        && inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
        && inner.parse::<Ipv6Addr>().is_ok()
    {
        return Some(inner);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_like_fail2ban() {
        let p = |t: &str, k| FailId::new(t, k).to_string();
        assert_eq!(p("192.030.0.6", IdKind::V4), "192.030.0.6");
        assert_eq!(p("::ffff:1.2.3.4", IdKind::V6), "1.2.3.4");
        assert_eq!(p("[2001:db8::1]", IdKind::Unspec), "2001:db8::1");
        assert_eq!(p("192.0.2.77/24", IdKind::Unspec), "192.0.2.0/24");
        assert_eq!(p("10.0.0.1", IdKind::Raw), "10.0.0.1");
        assert_eq!(p("::1.2.3.4", IdKind::V6), "::1.2.3.4");
        assert_eq!(
            FailId::new("2001:DB8::1", IdKind::V6),
            FailId::new("2001:db8:0::1", IdKind::Unspec)
        );
    }

    #[test]
    fn write_text_is_display() {
        let ids = [
            ("0.0.0.0", IdKind::V4),
            ("1.20.100.255", IdKind::V4),
            ("10.9.99.109", IdKind::Unspec),
            ("192.0.2.77/24", IdKind::Unspec),
            ("2001:db8::1", IdKind::V6),
            ("::1.2.3.4", IdKind::V6),
            ("host.example", IdKind::Raw),
            ("192.030.0.6", IdKind::V4),
        ];
        for (t, k) in ids {
            let id = FailId::new(t, k);
            let mut out = Vec::new();
            id.write_text(&mut out);
            assert_eq!(String::from_utf8(out).unwrap(), id.to_string(), "{t}");
        }
    }
}
