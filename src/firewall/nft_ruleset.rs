//! The ruleset layout of the nftables backend: which messages make the scaffold for a set of
//! jails (table, per-jail address sets, the input chain and its rules, anonymous port sets),
//! as pure functions over a `netlink::Batch`. `nftables.rs` sends what these build and explains
//! the kernel's answers; `nft_wire.rs` encodes each message. See `nftables.rs` for the layout.

use std::collections::BTreeSet;

use super::JailRules;
use super::netlink::Batch;
use super::nft_wire::{self, AddrFamily, Element, PortMatch, RuleSpec, SetRef, chunks};
use super::nftables::{NftConfig, NftError};
use super::uapi::NFNL_SUBSYS_NFTABLES;

/// The name of a jail's set for one family.
pub fn set_name(jail: &str, family: AddrFamily) -> String {
    format!("{jail}_{}", family.suffix())
}

pub(super) fn validate_jail(jail: &str) -> Result<(), NftError> {
    let bad = |reason| NftError::BadJailName {
        jail: jail.to_string(),
        reason,
    };
    if jail.is_empty() {
        return Err(bad("it is empty"));
    }
    if jail.len() > 250 {
        return Err(bad("it is longer than 250 bytes"));
    }
    if jail.bytes().any(|c| c == 0 || c.is_ascii_control()) {
        return Err(bad("it contains a control character"));
    }
    Ok(())
}

fn l4proto(jail: &str, name: &str) -> Result<u8, NftError> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "tcp" => 6,
        "udp" => 17,
        "dccp" => 33,
        "sctp" => 132,
        "udplite" => 136,
        _ => {
            return Err(NftError::UnknownProtocol {
                jail: jail.to_string(),
                protocol: name.to_string(),
            });
        }
    })
}

/// The ports a jail's rules match, expanded from its ranges; `None` = all ports.
fn port_list(rules: &JailRules) -> Option<Vec<u16>> {
    let ports: BTreeSet<u16> = rules
        .ports
        .iter()
        .flat_map(|&(lo, hi)| lo.min(hi)..=hi.max(lo))
        .collect();
    if ports.is_empty() || ports.len() == 65536 {
        return None;
    }
    Some(ports.into_iter().collect())
}

/// The protocols of a jail's port rules (fail2ban's default is tcp).
pub(super) fn protocols(rules: &JailRules) -> Result<Vec<u8>, NftError> {
    if rules.protocols.is_empty() {
        return Ok(vec![6]);
    }
    let mut v = Vec::new();
    for p in &rules.protocols {
        let n = l4proto(&rules.jail, p)?;
        if !v.contains(&n) {
            v.push(n);
        }
    }
    Ok(v)
}

/// What a message of the start-up batch was for, to explain a refusal.
#[derive(Debug, Clone)]
pub(super) enum EnsureStep {
    Table,
    Set(String),
    Chain,
    Other,
}

/// Builds the idempotent start-up batch (spec 7.2) for `jails`, with `first_seq` on
/// BATCH_BEGIN; returns it with what each data message is for.
pub(super) fn build_ensure(
    cfg: &NftConfig,
    first_seq: u32,
    jails: &[JailRules],
) -> Result<(Batch, Vec<EnsureStep>), NftError> {
    let mut b = Batch::new(first_seq, NFNL_SUBSYS_NFTABLES)?;
    let mut steps = vec![EnsureStep::Table];
    nft_wire::new_table(&mut b, &cfg.table)?;
    for (i, j) in jails.iter().enumerate() {
        for (k, fam) in AddrFamily::ALL.into_iter().enumerate() {
            let name = set_name(&j.jail, fam);
            let id = set_id(i, k);
            nft_wire::new_addr_set(
                &mut b,
                &cfg.table,
                fam,
                SetRef {
                    name: &name,
                    id: Some(id),
                },
            )?;
            steps.push(EnsureStep::Set(name));
        }
    }
    nft_wire::new_input_chain(&mut b, &cfg.table, &cfg.chain, cfg.priority)?;
    steps.push(EnsureStep::Chain);
    nft_wire::flush_chain(&mut b, &cfg.table, &cfg.chain)?;
    let mut anon = 0u32;
    for (i, j) in jails.iter().enumerate() {
        let ids = [set_id(i, 0), set_id(i, 1)];
        add_jail_rules(&mut b, cfg, j, &mut anon, Some(ids))?;
    }
    let n = b.ops().len();
    steps.resize(n, EnsureStep::Other);
    Ok((b, steps))
}

/// Batch-local id of jail `i`'s set for family index `k` (1, 2 for the first jail, ...).
fn set_id(i: usize, k: usize) -> u32 {
    u32::try_from(i * 2 + k + 1).unwrap_or(u32::MAX)
}

/// Appends a jail's rules (and their anonymous port sets) to the chain. `ids` = the batch-local
/// ids of the address sets when they are created in the same batch. `anon` counts the
/// anonymous sets of the batch (their ids are numbered from 0x1000_0001, apart from the others).
pub(super) fn add_jail_rules(
    b: &mut Batch,
    cfg: &NftConfig,
    j: &JailRules,
    anon: &mut u32,
    ids: Option<[u32; 2]>,
) -> Result<(), NftError> {
    let ports = port_list(j);
    let protos = if ports.is_some() {
        protocols(j)?
    } else {
        Vec::new()
    };
    for (k, fam) in AddrFamily::ALL.into_iter().enumerate() {
        let name = set_name(&j.jail, fam);
        let set = SetRef {
            name: &name,
            id: ids.map(|i| i[k]),
        };
        let Some(ports) = &ports else {
            let rule = RuleSpec {
                family: fam,
                set,
                ports: None,
                verdict: j.blocktype,
            };
            nft_wire::new_rule(b, &cfg.table, &cfg.chain, &rule)?;
            continue;
        };
        for &proto in &protos {
            *anon += 1;
            let pid = 0x1000_0000 + *anon;
            add_port_set(b, &cfg.table, pid, ports)?;
            let pm = PortMatch {
                l4proto: proto,
                ports: SetRef {
                    name: nft_wire::ANON_SET_NAME,
                    id: Some(pid),
                },
            };
            let rule = RuleSpec {
                family: fam,
                set,
                ports: Some(pm),
                verdict: j.blocktype,
            };
            nft_wire::new_rule(b, &cfg.table, &cfg.chain, &rule)?;
        }
    }
    Ok(())
}

fn add_port_set(b: &mut Batch, table: &str, id: u32, ports: &[u16]) -> Result<(), NftError> {
    let size = u32::try_from(ports.len()).unwrap_or(u32::MAX);
    nft_wire::new_port_set(b, table, id, size)?;
    let keys: Vec<[u8; 2]> = ports.iter().map(|p| p.to_be_bytes()).collect();
    let elems: Vec<Element<'_>> = keys
        .iter()
        .map(|k| Element {
            key: k,
            timeout_ms: None,
            expiration_ms: None,
        })
        .collect();
    for (chunk, _) in chunks(&elems, Element::encoded_len) {
        let set = SetRef {
            name: nft_wire::ANON_SET_NAME,
            id: Some(id),
        };
        nft_wire::new_elements(b, table, set, chunk)?;
    }
    Ok(())
}

/// The start-up batch's bytes for `jails`, BATCH_BEGIN at `first_seq` (golden tests).
pub fn ensure_batch_bytes(
    cfg: &NftConfig,
    first_seq: u32,
    jails: &[JailRules],
) -> Result<Vec<u8>, NftError> {
    let (mut b, _) = build_ensure(cfg, first_seq, jails)?;
    Ok(b.finish()?.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_expand_and_all_ports_is_none() {
        let mut j = JailRules {
            jail: "sshd".into(),
            ports: vec![(22, 22), (2222, 2223)],
            protocols: vec![],
            blocktype: Default::default(),
        };
        assert_eq!(port_list(&j), Some(vec![22, 2222, 2223]));
        j.ports = vec![(0, 65535)];
        assert_eq!(port_list(&j), None);
        j.protocols = vec!["icmp".into()];
        assert!(matches!(
            protocols(&j),
            Err(NftError::UnknownProtocol { .. })
        ));
    }
}
