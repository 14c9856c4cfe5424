//! The nftables backend: fail2zig's bans as elements of kernel sets, written over netlink.
//!
//! Owns what the ruleset looks like and which messages change it:
//!
//! ```text
//! table inet fail2zig {                                   # name configurable
//!   set <jail>_ipv4 { type ipv4_addr; flags timeout; }    # one pair per jail
//!   set <jail>_ipv6 { type ipv6_addr; flags timeout; }
//!   chain input { type filter hook input priority 0; policy accept;
//!     meta nfproto ipv4 ip saddr @<jail>_ipv4 [meta l4proto tcp th dport { 22, 2222 }] drop|reject
//!     meta nfproto ipv6 ip6 saddr @<jail>_ipv6 [...] drop|reject
//!   }
//! }
//! ```
//!
//! A ban is a set element whose kernel timeout is the remaining ban time, so bans expire in the
//! kernel even when the daemon is gone; a permanent ban has no timeout. Installing the scaffold
//! is one atomic batch and idempotent: the table and sets are kept (with their elements), the
//! chain is flushed and its rules re-added in the same batch, so a restart never duplicates
//! rules and no packet ever sees the chain without them. Many bans go in one batch, split into
//! several messages (a nest holds at most 64 KiB) and, past the socket's send limit, several
//! batches. IPv4-mapped IPv6 addresses are banned as IPv4.
//!
//! Does not: decide bans (the jail does), persist anything (the persist module does), exec
//! anything, or touch tables other than its own. Framing lives in `netlink.rs`, message bytes in
//! `nft_wire.rs`. Called by the daemon through the `Backend` trait; `probe` is the start-up
//! diagnostic for a kernel without nf_tables or a process without CAP_NET_ADMIN.
//!
//! # Compatibility
//! fail2ban's `nftables` action (`nftables-common.local`) makes one table `inet f2b-table`, a
//! set `addr-set-<jail>` per jail and family and a rule `<proto> dport { <ports> } ip saddr
//! @addr-set-<jail> <blocktype>`; fail2zig's table and set names differ (`fail2zig`,
//! `<jail>_ipv4`) but the matching is the same: multiport on the jail's `port` and `protocol`,
//! or all ports when the jail has none. fail2ban's `reject` becomes ICMP/ICMPv6 port
//! unreachable. Unlike fail2ban, timeouts live in the kernel rather than in the daemon's timer.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use rustix::io::Errno;

use super::netlink::{Batch, KernelError, NetlinkError, NetlinkSocket};
use super::nft_ruleset::{EnsureStep, add_jail_rules, build_ensure, protocols, validate_jail};
pub use super::nft_ruleset::{ensure_batch_bytes, set_name};
use super::nft_wire::{self, AddrFamily, Element, SetRef, chunks};
use super::uapi::*;
use super::{Backend, BanEntry, FirewallError, JailRules, KernelBan};

/// The longest kernel timeout we send: 2^40 ms (about 34 years) is verified to work; a longer
/// ban is installed as permanent.
const MAX_TIMEOUT_MS: u64 = 1 << 40;
/// An element key (first 4 or 16 bytes used) with its kernel timeout in ms.
type KeyTimeout = ([u8; 16], Option<u64>);
/// How often a dump is retried when a concurrent change interrupted it.
const DUMP_RETRIES: usize = 3;

/// Where the backend puts its objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NftConfig {
    /// Table name in family `inet`.
    pub table: String,
    /// Base chain name (hook input).
    pub chain: String,
    /// Base chain priority (0 = `filter`).
    pub priority: i32,
}

impl Default for NftConfig {
    fn default() -> Self {
        Self {
            table: "fail2zig".into(),
            chain: "input".into(),
            priority: 0,
        }
    }
}

/// What went wrong in the nftables backend.
#[derive(Debug, thiserror::Error)]
pub enum NftError {
    #[error(
        "nf_tables is not available in this kernel (no nfnetlink socket or nf_tables subsystem); \
         load nf_tables or configure backend = \"log\""
    )]
    Unavailable(#[source] NetlinkError),
    #[error(
        "permission denied by nf_tables: fail2zig needs CAP_NET_ADMIN in this network namespace \
         (run as root or grant the capability), or configure backend = \"log\""
    )]
    PermissionDenied(#[source] NetlinkError),
    #[error("jail name {jail:?} cannot name an nftables set: {reason}")]
    BadJailName { jail: String, reason: &'static str },
    #[error(
        "jail {jail}: unknown protocol {protocol:?} (expected tcp, udp, sctp, dccp or udplite)"
    )]
    UnknownProtocol { jail: String, protocol: String },
    #[error(
        "set {set} in table inet {table} already exists with a different type or flags; \
         delete it (nft delete set inet {table} {set}) or choose another table name"
    )]
    ConflictingSet {
        table: String,
        set: String,
        #[source]
        source: NetlinkError,
    },
    #[error(
        "chain {chain} in table inet {table} already exists with a different hook or priority; \
         delete it (nft delete chain inet {table} {chain}) or choose another table name"
    )]
    ConflictingChain {
        table: String,
        chain: String,
        #[source]
        source: NetlinkError,
    },
    #[error("jail {jail} has no sets in table inet {table}; was the scaffold installed?")]
    MissingSets {
        table: String,
        jail: String,
        #[source]
        source: NetlinkError,
    },
    #[error("{step}")]
    Netlink {
        step: String,
        #[source]
        source: NetlinkError,
    },
}

impl NftError {
    fn netlink(step: impl Into<String>) -> impl FnOnce(NetlinkError) -> NftError {
        let step = step.into();
        move |source| classify(step, source)
    }

    /// The top-level message and the underlying cause, for `FirewallError`.
    fn into_parts(self) -> (String, Option<Box<dyn std::error::Error + Send + Sync>>) {
        let message = self.to_string();
        let source: Option<Box<dyn std::error::Error + Send + Sync>> = match self {
            NftError::Unavailable(s) | NftError::PermissionDenied(s) => Some(Box::new(s)),
            NftError::ConflictingSet { source, .. }
            | NftError::ConflictingChain { source, .. }
            | NftError::MissingSets { source, .. }
            | NftError::Netlink { source, .. } => Some(Box::new(source)),
            NftError::BadJailName { .. } | NftError::UnknownProtocol { .. } => None,
        };
        (message, source)
    }
}

/// EPERM anywhere means the capability is missing; everything else keeps its step.
fn classify(step: String, source: NetlinkError) -> NftError {
    match source.kernel_errno() {
        Some(Errno::PERM) => NftError::PermissionDenied(source),
        _ => NftError::Netlink { step, source },
    }
}

/// Checks that nf_tables is usable: opens the netlink socket and asks for the ruleset
/// generation (GETGEN), which needs CAP_NET_ADMIN. Returns the generation id. The daemon calls
/// this at start and exits with the error's message unless the configuration chose `log`.
pub fn probe() -> Result<u32, NftError> {
    let mut sock = open_socket()?;
    probe_socket(&mut sock)
}

/// Opens the socket; says which of "no nfnetlink", "not allowed" or something else it was.
fn open_socket() -> Result<NetlinkSocket, NftError> {
    NetlinkSocket::open_netfilter().map_err(|e| match &e {
        NetlinkError::Open(Errno::PROTONOSUPPORT | Errno::AFNOSUPPORT) => NftError::Unavailable(e),
        NetlinkError::Open(Errno::ACCESS | Errno::PERM) => NftError::PermissionDenied(e),
        _ => NftError::Netlink {
            step: "opening the netlink socket".into(),
            source: e,
        },
    })
}

fn probe_socket(sock: &mut NetlinkSocket) -> Result<u32, NftError> {
    let mut gen_id = None;
    let r = sock.request(
        (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN,
        0,
        NFPROTO_UNSPEC,
        "GETGEN",
        |_| Ok(()),
        |m| {
            if m.ty == (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN {
                gen_id = Some(nft_wire::parse_gen_id(m.payload)?);
            }
            Ok(())
        },
    );
    match r {
        Ok(()) => gen_id.ok_or(NftError::Netlink {
            step: "probing nf_tables".into(),
            source: NetlinkError::Malformed("GETGEN answered without NEWGEN"),
        }),
        Err(e) => match e.kernel_errno() {
            Some(Errno::PERM) => Err(NftError::PermissionDenied(e)),
            Some(Errno::INVAL) | Some(Errno::OPNOTSUPP) => Err(NftError::Unavailable(e)),
            _ => Err(classify("probing nf_tables".into(), e)),
        },
    }
}

/// The nftables backend over one netlink socket.
#[derive(Debug)]
pub struct NftablesBackend {
    sock: NetlinkSocket,
    cfg: NftConfig,
    /// Jails whose rules are installed in the chain, by name.
    jails: BTreeMap<String, JailRules>,
    /// False once the kernel refused a DESTROY* message (older than 6.3).
    destroy_supported: bool,
    /// Ban = DESTROYSETELEM + NEWSETELEM in one batch, so that a re-ban sets the new timeout
    /// on kernels 6.3 to 6.11, where re-adding an element keeps its old expiry.
    refresh_by_destroy: bool,
}

impl NftablesBackend {
    /// Opens the netlink socket and probes nf_tables (see `probe`).
    pub fn open(cfg: NftConfig) -> Result<Self, NftError> {
        let mut sock = open_socket()?;
        probe_socket(&mut sock)?;
        Ok(Self {
            sock,
            cfg,
            jails: BTreeMap::new(),
            destroy_supported: true,
            refresh_by_destroy: needs_refresh_by_destroy(&rustix::system::uname()),
        })
    }

    /// Forces (or stops) the 6.3–6.11 re-ban method on any kernel; for tests and for kernels
    /// whose version string does not tell.
    pub fn set_refresh_by_destroy(&mut self, on: bool) {
        self.refresh_by_destroy = on;
    }

    pub fn config(&self) -> &NftConfig {
        &self.cfg
    }

    /// Largest batch the socket sends at once (for benchmarks and diagnostics).
    pub fn max_batch_bytes(&self) -> usize {
        self.sock.max_batch_bytes()
    }

    /// Installs the scaffold for `jails` in one batch; see the module doc.
    pub fn ensure(&mut self, jails: &[JailRules]) -> Result<(), NftError> {
        for j in jails {
            validate_jail(&j.jail)?;
            protocols(j)?;
        }
        let first_seq = self.sock.next_seq();
        let (mut batch, steps) = build_ensure(&self.cfg, first_seq, jails)?;
        match self.sock.transact(&mut batch) {
            Ok(()) => {
                self.jails = jails.iter().map(|j| (j.jail.clone(), j.clone())).collect();
            }
            Err(e) => return Err(self.explain_ensure_error(e, &steps)),
        }
        if let Err(e) = self.remove_orphan_sets() {
            tracing::warn!(table = %self.cfg.table, "cannot remove sets of jails no longer configured: {e}");
        }
        Ok(())
    }

    /// Deletes the ban sets of jails that are no longer configured (left by an earlier run),
    /// in their own batch: a set still referenced from elsewhere makes only this step fail.
    fn remove_orphan_sets(&mut self) -> Result<(), NftError> {
        let table = self.cfg.table.clone();
        let mut sets = Vec::new();
        self.sock
            .request(
                (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSET,
                NLM_F_DUMP,
                NFPROTO_INET,
                &format!("list sets of table inet {table}"),
                |w| nft_wire::get_sets_attrs(w, &table),
                |m| {
                    sets.push(nft_wire::parse_set(m.payload)?);
                    Ok(())
                },
            )
            .map_err(NftError::netlink("listing sets"))?;
        let orphans: Vec<String> = sets
            .into_iter()
            .filter(|s| self.is_orphan(s))
            .map(|s| s.name)
            .collect();
        if orphans.is_empty() {
            return Ok(());
        }
        tracing::info!(table = %table, sets = ?orphans, "removing sets of jails no longer configured");
        let mut batch = self.sock.new_batch(NFNL_SUBSYS_NFTABLES)?;
        for name in &orphans {
            nft_wire::del_set(&mut batch, &table, name, false)?;
        }
        self.sock.transact(&mut batch).map_err(NftError::netlink(
            "removing sets of jails no longer configured",
        ))
    }

    /// A ban set as this backend makes them (`<jail>_ipv4|6`, timeout flag, address key) whose
    /// jail is not configured now.
    fn is_orphan(&self, s: &nft_wire::SetInfo) -> bool {
        if s.flags & NFT_SET_ANONYMOUS != 0 || s.flags & NFT_SET_TIMEOUT == 0 {
            return false;
        }
        AddrFamily::ALL.into_iter().any(|fam| {
            s.key_len == fam.key_len()
                && s.name
                    .strip_suffix(fam.suffix())
                    .and_then(|j| j.strip_suffix('_'))
                    .is_some_and(|jail| !jail.is_empty() && !self.jails.contains_key(jail))
        })
    }

    fn explain_ensure_error(&self, e: NetlinkError, steps: &[EnsureStep]) -> NftError {
        let step = match &e {
            NetlinkError::Kernel(k) => match **k {
                KernelError {
                    index: Some(i),
                    errno,
                    ..
                } => steps.get(i).map(|s| (s.clone(), errno)),
                _ => None,
            },
            _ => None,
        };
        let table = self.cfg.table.clone();
        match step {
            Some((EnsureStep::Set(set), Errno::EXIST)) => NftError::ConflictingSet {
                table,
                set,
                source: e,
            },
            Some((EnsureStep::Chain, Errno::OPNOTSUPP | Errno::EXIST)) => {
                NftError::ConflictingChain {
                    table,
                    chain: self.cfg.chain.clone(),
                    source: e,
                }
            }
            Some((EnsureStep::Table, Errno::OPNOTSUPP | Errno::AFNOSUPPORT)) => {
                NftError::Unavailable(e)
            }
            _ => classify(format!("installing table inet {table}"), e),
        }
    }

    /// Adds bans in one jail: one batch, split into NEWSETELEM messages of at most 64 KiB of
    /// elements (2340 IPv4 with timeout); past the socket's batch limit (8 MiB, about 290,000
    /// IPv4 bans) into several batches, each atomic. Re-banning a banned address sets its new
    /// timeout on Linux 6.12+; older kernels keep the old expiry (unban first there).
    pub fn add_bans(&mut self, jail: &str, bans: &[BanEntry]) -> Result<(), NftError> {
        self.retry_after_ensure(jail, |b| b.add_bans_once(jail, bans))
    }

    fn add_bans_once(&mut self, jail: &str, bans: &[BanEntry]) -> Result<(), NftError> {
        let mut groups: BTreeMap<AddrFamily, Vec<KeyTimeout>> = BTreeMap::new();
        for b in bans {
            let (fam, key) = nft_wire::key_of(b.ip);
            groups
                .entry(fam)
                .or_default()
                .push((key, b.timeout.and_then(timeout_ms)));
        }
        let table = self.cfg.table.clone();
        let mut batch = self.sock.new_batch(NFNL_SUBSYS_NFTABLES)?;
        for (fam, items) in &groups {
            let set = set_name(jail, *fam);
            let klen = fam.key_len() as usize;
            let elems: Vec<Element<'_>> = items
                .iter()
                .map(|(k, t)| Element {
                    key: &k[..klen],
                    timeout_ms: *t,
                    expiration_ms: None,
                })
                .collect();
            for chunk in chunks(&elems, Element::encoded_len) {
                // A destroy of the same keys costs at most half again the elements' bytes.
                let bytes = chunk.1 + if self.refresh_by_destroy { chunk.1 } else { 0 };
                self.flush_if_full(&mut batch, bytes, &format!("banning in jail {jail}"))?;
                if self.refresh_by_destroy {
                    let keys: Vec<&[u8]> = chunk.0.iter().map(|e| e.key).collect();
                    nft_wire::del_elements(&mut batch, &table, &set, &keys, true)?;
                }
                let set = SetRef {
                    name: &set,
                    id: None,
                };
                nft_wire::new_elements(&mut batch, &table, set, chunk.0)?;
            }
        }
        self.sock
            .transact(&mut batch)
            .map_err(NftError::netlink(format!("banning in jail {jail}")))
    }

    /// Sends `batch` and starts a new one when adding `next` bytes would exceed the limit.
    fn flush_if_full(
        &mut self,
        batch: &mut Batch,
        next: usize,
        step: &str,
    ) -> Result<(), NftError> {
        // 128 bytes: message header, table and set names, nest header, BATCH_END.
        if !batch.is_empty() && batch.len() + next + 128 + 512 > self.sock.max_batch_bytes() {
            self.sock
                .transact(batch)
                .map_err(NftError::netlink(step.to_string()))?;
            *batch = self.sock.new_batch(NFNL_SUBSYS_NFTABLES)?;
        }
        Ok(())
    }

    /// Removes bans in one jail. Missing elements are fine (they may have just expired).
    pub fn remove_bans(&mut self, jail: &str, ips: &[IpAddr]) -> Result<(), NftError> {
        self.retry_after_ensure(jail, |b| {
            if b.destroy_supported {
                match b.remove_bans_once(jail, ips, true) {
                    Err(e) if is_unknown_msg(&e) => b.destroy_supported = false,
                    r => return r,
                }
            }
            // Before 6.3 a missing element aborts the batch: delete only what is there.
            let present: BTreeSet<IpAddr> = b.list_bans(jail)?.into_iter().map(|k| k.ip).collect();
            let ips: Vec<IpAddr> = ips
                .iter()
                .copied()
                .filter(|ip| present.contains(&canonical(*ip)))
                .collect();
            b.remove_bans_once(jail, &ips, false)
        })
    }

    fn remove_bans_once(
        &mut self,
        jail: &str,
        ips: &[IpAddr],
        destroy: bool,
    ) -> Result<(), NftError> {
        let mut groups: BTreeMap<AddrFamily, Vec<[u8; 16]>> = BTreeMap::new();
        for ip in ips {
            let (fam, key) = nft_wire::key_of(*ip);
            groups.entry(fam).or_default().push(key);
        }
        let table = self.cfg.table.clone();
        let step = format!("unbanning in jail {jail}");
        let mut batch = self.sock.new_batch(NFNL_SUBSYS_NFTABLES)?;
        for (fam, keys) in &groups {
            let set = set_name(jail, *fam);
            let klen = fam.key_len() as usize;
            let keys: Vec<&[u8]> = keys.iter().map(|k| &k[..klen]).collect();
            let per = |k: &&[u8]| 4 + 4 + ((4 + k.len() + 3) & !3);
            for chunk in chunks(&keys, per) {
                self.flush_if_full(&mut batch, chunk.1, &step)?;
                nft_wire::del_elements(&mut batch, &table, &set, chunk.0, destroy)?;
            }
        }
        self.sock
            .transact(&mut batch)
            .map_err(NftError::netlink(step))
    }

    /// Removes every ban of one jail (both families, one batch).
    pub fn flush_jail(&mut self, jail: &str) -> Result<(), NftError> {
        self.retry_after_ensure(jail, |b| {
            let table = b.cfg.table.clone();
            let mut batch = b.sock.new_batch(NFNL_SUBSYS_NFTABLES)?;
            for fam in AddrFamily::ALL {
                nft_wire::flush_set(&mut batch, &table, &set_name(jail, fam))?;
            }
            b.sock
                .transact(&mut batch)
                .map_err(NftError::netlink(format!("flushing jail {jail}")))
        })
    }

    /// Reads a jail's bans back with their remaining expiry.
    pub fn list_bans(&mut self, jail: &str) -> Result<Vec<KernelBan>, NftError> {
        let mut out = Vec::new();
        for fam in AddrFamily::ALL {
            let set = set_name(jail, fam);
            let mut attempt = 0;
            loop {
                let start = out.len();
                match self.dump_set(&set, &mut out) {
                    Err(NetlinkError::DumpInterrupted) if attempt < DUMP_RETRIES => {
                        out.truncate(start);
                        attempt += 1;
                    }
                    Err(e) if e.kernel_errno() == Some(Errno::NOENT) => {
                        return Err(NftError::MissingSets {
                            table: self.cfg.table.clone(),
                            jail: jail.to_string(),
                            source: e,
                        });
                    }
                    Err(e) => return Err(classify(format!("listing set {set}"), e)),
                    Ok(()) => break,
                }
            }
        }
        Ok(out)
    }

    fn dump_set(&mut self, set: &str, out: &mut Vec<KernelBan>) -> Result<(), NetlinkError> {
        let table = self.cfg.table.clone();
        let mut bad = None;
        self.sock.request(
            (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM,
            NLM_F_DUMP,
            NFPROTO_INET,
            &format!("list set {set}"),
            |w| nft_wire::get_elements_attrs(w, &table, set),
            |m| {
                nft_wire::parse_elements(m.payload, |e| match ip_of(&e.key) {
                    Some(ip) => out.push(KernelBan {
                        ip,
                        expires_in: e.expiration_ms.map(Duration::from_millis),
                    }),
                    None => bad = Some(e.key.len()),
                })
            },
        )?;
        match bad {
            Some(_) => Err(NetlinkError::Malformed("set element key is not an address")),
            None => Ok(()),
        }
    }

    /// Removes the listed jails: their rules (the chain is rebuilt for the remaining jails) and
    /// their sets, in one batch; when no jail remains the whole table goes.
    pub fn remove_jails(&mut self, jails: &[String]) -> Result<(), NftError> {
        let remaining: Vec<JailRules> = self
            .jails
            .values()
            .filter(|j| !jails.contains(&j.jail))
            .cloned()
            .collect();
        let r = self.remove_jails_once(jails, &remaining, self.destroy_supported);
        match r {
            Err(e) if self.destroy_supported && is_unknown_msg(&e) => {
                self.destroy_supported = false;
                self.remove_jails_once(jails, &remaining, false)?;
            }
            r => r?,
        }
        self.jails.retain(|name, _| !jails.contains(name));
        Ok(())
    }

    fn remove_jails_once(
        &mut self,
        jails: &[String],
        remaining: &[JailRules],
        destroy: bool,
    ) -> Result<(), NftError> {
        let cfg = self.cfg.clone();
        let mut batch = self.sock.new_batch(NFNL_SUBSYS_NFTABLES)?;
        if remaining.is_empty() {
            nft_wire::del_table(&mut batch, &cfg.table, destroy)?;
        } else {
            nft_wire::flush_chain(&mut batch, &cfg.table, &cfg.chain)?;
            let mut ids = 0u32;
            for j in remaining {
                add_jail_rules(&mut batch, &cfg, j, &mut ids, None)?;
            }
            for j in jails {
                for fam in AddrFamily::ALL {
                    nft_wire::del_set(&mut batch, &cfg.table, &set_name(j, fam), destroy)?;
                }
            }
        }
        let step = format!("removing jails from table inet {}", cfg.table);
        self.sock
            .transact(&mut batch)
            .map_err(NftError::netlink(step))
    }

    /// Runs `op`; if the kernel says a table/set is missing (an admin flushed the ruleset) and
    /// we know our jails, installs the scaffold again and retries once. A table or set still
    /// missing becomes `MissingSets` for `jail`.
    fn retry_after_ensure<T>(
        &mut self,
        jail: &str,
        mut op: impl FnMut(&mut Self) -> Result<T, NftError>,
    ) -> Result<T, NftError> {
        let r = match op(self) {
            Err(NftError::Netlink { source, step })
                if source.kernel_errno() == Some(Errno::NOENT) && self.jails.contains_key(jail) =>
            {
                tracing::warn!(%step, table = %self.cfg.table, "nftables objects vanished; reinstalling");
                let jails: Vec<JailRules> = self.jails.values().cloned().collect();
                self.ensure(&jails)?;
                op(self)
            }
            r => r,
        };
        match r {
            Err(NftError::Netlink { source, .. })
                if source.kernel_errno() == Some(Errno::NOENT) =>
            {
                Err(NftError::MissingSets {
                    table: self.cfg.table.clone(),
                    jail: jail.to_string(),
                    source,
                })
            }
            r => r,
        }
    }
}

impl From<NetlinkError> for NftError {
    fn from(source: NetlinkError) -> Self {
        classify("building netlink messages".into(), source)
    }
}

/// Kernels 6.3 to 6.11 have DESTROYSETELEM but keep an element's old expiry on re-add
/// (6.12 refreshes it; before 6.3 there is no way without knowing the element is there).
fn needs_refresh_by_destroy(u: &rustix::system::Uname) -> bool {
    kernel_version(&u.release().to_string_lossy()).is_some_and(|v| ((6, 3)..(6, 12)).contains(&v))
}

/// `major.minor` of a kernel release string like `6.8.0-45-generic`.
fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut it = release.split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// True when the kernel did not know a message type (DESTROY* before 6.3).
fn is_unknown_msg(e: &NftError) -> bool {
    let src = match e {
        NftError::Netlink { source, .. } => source,
        _ => return false,
    };
    is_unknown_msg_nl(src)
}

fn is_unknown_msg_nl(e: &NetlinkError) -> bool {
    matches!(
        e.kernel_errno(),
        Some(Errno::INVAL) | Some(Errno::OPNOTSUPP)
    )
}

/// Kernel timeout for a remaining ban time: at least 1 ms (0 would mean permanent), and
/// permanent past 2^40 ms.
fn timeout_ms(d: Duration) -> Option<u64> {
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1);
    (ms <= MAX_TIMEOUT_MS).then_some(ms)
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn ip_of(key: &[u8]) -> Option<IpAddr> {
    match key.len() {
        4 => <[u8; 4]>::try_from(key)
            .ok()
            .map(|k| IpAddr::V4(Ipv4Addr::from(k))),
        16 => <[u8; 16]>::try_from(key)
            .ok()
            .map(|k| IpAddr::V6(Ipv6Addr::from(k))),
        _ => None,
    }
}

impl Backend for NftablesBackend {
    fn name(&self) -> &'static str {
        "nftables"
    }

    fn start(&mut self, jails: &[JailRules]) -> Result<Vec<(String, KernelBan)>, FirewallError> {
        self.ensure(jails).map_err(fw("start"))?;
        let mut existing = Vec::new();
        for j in jails {
            for ban in self.list_bans(&j.jail).map_err(fw("start"))? {
                existing.push((j.jail.clone(), ban));
            }
        }
        Ok(existing)
    }

    fn ban(&mut self, jail: &str, bans: &[BanEntry]) -> Result<(), FirewallError> {
        self.add_bans(jail, bans).map_err(fw("ban"))
    }

    fn unban(&mut self, jail: &str, ips: &[IpAddr]) -> Result<(), FirewallError> {
        self.remove_bans(jail, ips).map_err(fw("unban"))
    }

    fn flush(&mut self, jail: &str) -> Result<(), FirewallError> {
        self.flush_jail(jail).map_err(fw("flush"))
    }

    fn list(&mut self, jail: &str) -> Result<Vec<KernelBan>, FirewallError> {
        self.list_bans(jail).map_err(fw("list"))
    }

    fn stop(&mut self, jails: &[String]) -> Result<(), FirewallError> {
        self.remove_jails(jails).map_err(fw("stop"))
    }
}

fn fw(operation: &'static str) -> impl FnOnce(NftError) -> FirewallError {
    move |e| {
        let (message, source) = e.into_parts();
        FirewallError {
            backend: "nftables",
            operation: operation.to_string(),
            message,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        assert_eq!(timeout_ms(Duration::from_secs(600)), Some(600_000));
        assert_eq!(timeout_ms(Duration::ZERO), Some(1));
        assert_eq!(timeout_ms(Duration::from_micros(10)), Some(1));
        assert_eq!(timeout_ms(Duration::from_millis(MAX_TIMEOUT_MS + 1)), None);
    }

    #[test]
    fn kernel_versions() {
        assert_eq!(kernel_version("6.8.0-45-generic"), Some((6, 8)));
        assert_eq!(kernel_version("6.18.44-fc-v669"), Some((6, 18)));
        assert_eq!(kernel_version("5.10"), Some((5, 10)));
        assert_eq!(kernel_version("x"), None);
    }
}
