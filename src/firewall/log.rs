//! The `log` backend: records every decision through tracing and in memory, touches nothing.
//! Chosen only when the configuration says `backend = "log"`; the daemon says so at start.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Instant;

use super::{Backend, BanEntry, FirewallError, JailRules, KernelBan};

/// Records bans in memory, with their expiry, as a kernel set with timeouts would.
#[derive(Debug, Default)]
pub struct LogBackend {
    sets: BTreeMap<String, BTreeMap<IpAddr, Option<Instant>>>,
}

impl LogBackend {
    pub fn new() -> Self {
        Self::default()
    }

    fn live(&mut self, jail: &str) -> &mut BTreeMap<IpAddr, Option<Instant>> {
        let set = self.sets.entry(jail.to_string()).or_default();
        let now = Instant::now();
        set.retain(|_, exp| exp.is_none_or(|e| e > now));
        set
    }
}

impl Backend for LogBackend {
    fn name(&self) -> &'static str {
        "log"
    }

    fn start(&mut self, jails: &[JailRules]) -> Result<Vec<(String, KernelBan)>, FirewallError> {
        let mut existing = Vec::new();
        for rules in jails {
            tracing::info!(jail = %rules.jail, "log backend: jail ready (no firewall is changed)");
            for ban in self.list(&rules.jail)? {
                existing.push((rules.jail.clone(), ban));
            }
        }
        Ok(existing)
    }

    fn ban(&mut self, jail: &str, bans: &[BanEntry]) -> Result<(), FirewallError> {
        let now = Instant::now();
        let set = self.live(jail);
        for b in bans {
            tracing::info!(jail, ip = %b.ip, timeout = ?b.timeout, "log backend: ban");
            set.insert(b.ip, b.timeout.map(|t| now + t));
        }
        Ok(())
    }

    fn unban(&mut self, jail: &str, ips: &[IpAddr]) -> Result<(), FirewallError> {
        let set = self.live(jail);
        for ip in ips {
            tracing::info!(jail, %ip, "log backend: unban");
            set.remove(ip);
        }
        Ok(())
    }

    fn flush(&mut self, jail: &str) -> Result<(), FirewallError> {
        tracing::info!(jail, "log backend: flush");
        self.live(jail).clear();
        Ok(())
    }

    fn list(&mut self, jail: &str) -> Result<Vec<KernelBan>, FirewallError> {
        let now = Instant::now();
        Ok(self
            .live(jail)
            .iter()
            .map(|(ip, exp)| KernelBan {
                ip: *ip,
                expires_in: exp.map(|e| e.saturating_duration_since(now)),
            })
            .collect())
    }

    fn stop(&mut self, jails: &[String]) -> Result<(), FirewallError> {
        for j in jails {
            self.sets.remove(j);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn records_and_expires() {
        let mut b = LogBackend::new();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let ip2: IpAddr = "2001:db8::1".parse().unwrap();
        b.ban(
            "sshd",
            &[
                BanEntry { ip, timeout: None },
                BanEntry {
                    ip: ip2,
                    timeout: Some(Duration::ZERO),
                },
            ],
        )
        .unwrap();
        let l = b.list("sshd").unwrap();
        assert_eq!(
            l,
            vec![KernelBan {
                ip,
                expires_in: None
            }]
        );
        b.unban("sshd", &[ip]).unwrap();
        assert!(b.list("sshd").unwrap().is_empty());
    }
}
