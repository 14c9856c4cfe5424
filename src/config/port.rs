//! fail2ban's `port` option: `ssh`, `http,https`, `22,2222`, `1000:2000`, `0:65535` (= all ports).
//! Service names resolve through /etc/services (read once), with a built-in table of the common
//! names for systems without it.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Why a port list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid port {item:?}: {reason}")]
pub struct PortError {
    pub item: String,
    pub reason: &'static str,
}

/// Port ranges, inclusive. An empty list means every port.
pub fn parse_ports(text: &str) -> Result<Vec<(u16, u16)>, PortError> {
    let mut out = Vec::new();
    for item in text.split([',', ' ', '\t', '\n']).filter(|s| !s.is_empty()) {
        let err = |reason| PortError {
            item: item.to_string(),
            reason,
        };
        let (lo, hi) = match item.split_once(':') {
            Some((a, b)) => (
                port(a).ok_or(err("unknown port"))?,
                port(b).ok_or(err("unknown port"))?,
            ),
            None => {
                let p = port(item).ok_or(err("unknown service name or port"))?;
                (p, p)
            }
        };
        if lo > hi {
            return Err(err("range start is above its end"));
        }
        if lo == 0 && hi == 65535 {
            return Ok(Vec::new());
        }
        out.push((lo, hi));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn port(s: &str) -> Option<u16> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u16>() {
        return Some(n);
    }
    services().get(&s.to_ascii_lowercase()).copied()
}

fn services() -> &'static HashMap<String, u16> {
    static SERVICES: OnceLock<HashMap<String, u16>> = OnceLock::new();
    SERVICES.get_or_init(|| {
        let mut map: HashMap<String, u16> =
            BUILTIN.iter().map(|(n, p)| (n.to_string(), *p)).collect();
        if let Ok(text) = std::fs::read_to_string("/etc/services") {
            parse_services(&text, &mut map);
        }
        map
    })
}

/// Reads `name port/proto aliases... # comment` lines into `map` (first definition wins).
fn parse_services(text: &str, map: &mut HashMap<String, u16>) {
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let (Some(name), Some(pp)) = (words.next(), words.next()) else {
            continue;
        };
        let Some(Ok(p)) = pp.split('/').next().map(str::parse::<u16>) else {
            continue;
        };
        for n in std::iter::once(name).chain(words) {
            map.entry(n.to_ascii_lowercase()).or_insert(p);
        }
    }
}

/// Names used by fail2ban's stock jails, for systems without /etc/services.
const BUILTIN: &[(&str, u16)] = &[
    ("ftp", 21),
    ("ftp-data", 20),
    ("ssh", 22),
    ("smtp", 25),
    ("submission", 587),
    ("submissions", 465),
    ("smtps", 465),
    ("domain", 53),
    ("http", 80),
    ("https", 443),
    ("pop3", 110),
    ("pop3s", 995),
    ("imap", 143),
    ("imap2", 143),
    ("imaps", 993),
    ("sieve", 4190),
    ("mysql", 3306),
    ("postgresql", 5432),
    ("ldap", 389),
    ("ldaps", 636),
    ("sip", 5060),
    ("sip-tls", 5061),
    ("telnet", 23),
    ("auth", 113),
    ("ident", 113),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_ranges_and_names() {
        assert_eq!(parse_ports("ssh").unwrap(), vec![(22, 22)]);
        assert_eq!(
            parse_ports("http,https").unwrap(),
            vec![(80, 80), (443, 443)]
        );
        assert_eq!(
            parse_ports("22, 2222").unwrap(),
            vec![(22, 22), (2222, 2222)]
        );
        assert_eq!(parse_ports("1000:2000").unwrap(), vec![(1000, 2000)]);
        assert_eq!(parse_ports("0:65535").unwrap(), vec![]);
        assert!(parse_ports("nosuchservice").is_err());
        assert!(parse_ports("20:10").is_err());
    }

    #[test]
    fn services_file() {
        let mut m = HashMap::new();
        parse_services("ssh 22/tcp # SSH\nhttp 80/tcp www\n", &mut m);
        assert_eq!(m.get("www"), Some(&80));
        assert_eq!(m.get("ssh"), Some(&22));
    }
}
