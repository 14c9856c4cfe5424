//! nf_tables messages: the bytes of every message the nftables backend sends, and the parsers
//! for the replies it reads. Pure functions over `netlink::Batch`/`Writer`; no socket.
//!
//! Layouts follow `shared/spec/nftables-netlink.md` (verified on Linux 6.18) and are pinned by
//! the golden tests in `tests/firewall_golden.rs` (cases in `testdata/netlink/`, each headed by
//! the `nft` command that sends the same bytes). The backend (`nftables.rs`) decides which
//! messages to send; this file only encodes them. All objects live in family `inet`.

use std::net::IpAddr;

use super::BlockType;
use super::netlink::{Attrs, Batch, NetlinkError, Writer, be32, be64};
use super::uapi::*;

/// nft's set userdata: libnftnl TLV "key byte order = big endian" (optional to the kernel; sent
/// so that `nft list` prints elements exactly as for sets nft created).
const SET_USERDATA_KEY_BE: [u8; 6] = [0, 4, 2, 0, 0, 0];
/// Name template the kernel fills in for anonymous sets (`__set0`, `__set1`, ...).
pub const ANON_SET_NAME: &str = "__set%d";

/// The address family of a ban set and its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddrFamily {
    V4,
    V6,
}

impl AddrFamily {
    pub const ALL: [AddrFamily; 2] = [AddrFamily::V4, AddrFamily::V6];

    pub fn key_len(self) -> u32 {
        match self {
            AddrFamily::V4 => 4,
            AddrFamily::V6 => 16,
        }
    }

    fn key_type(self) -> u32 {
        match self {
            AddrFamily::V4 => NFT_DATATYPE_IPV4_ADDR,
            AddrFamily::V6 => NFT_DATATYPE_IPV6_ADDR,
        }
    }

    fn nfproto(self) -> u8 {
        match self {
            AddrFamily::V4 => NFPROTO_IPV4,
            AddrFamily::V6 => NFPROTO_IPV6,
        }
    }

    /// Offset of the source address in the network header.
    fn saddr_offset(self) -> u32 {
        match self {
            AddrFamily::V4 => 12,
            AddrFamily::V6 => 8,
        }
    }

    fn port_unreach(self) -> u8 {
        match self {
            AddrFamily::V4 => ICMP_PORT_UNREACH,
            AddrFamily::V6 => ICMPV6_PORT_UNREACH,
        }
    }

    /// Suffix of the jail's set name.
    pub fn suffix(self) -> &'static str {
        match self {
            AddrFamily::V4 => "ipv4",
            AddrFamily::V6 => "ipv6",
        }
    }
}

/// A set reference in a message: by name, plus the batch-local id when the set is created in
/// the same batch (mandatory for anonymous sets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetRef<'a> {
    pub name: &'a str,
    pub id: Option<u32>,
}

/// The port restriction of a rule: `meta l4proto <proto> th dport @<anonymous set>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortMatch<'a> {
    pub l4proto: u8,
    pub ports: SetRef<'a>,
}

/// One drop/reject rule: source address in `set`, optionally restricted to ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleSpec<'a> {
    pub family: AddrFamily,
    pub set: SetRef<'a>,
    pub ports: Option<PortMatch<'a>>,
    pub verdict: BlockType,
}

/// One element to add: key bytes in network order and optional timeout/expiration in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    pub key: &'a [u8],
    pub timeout_ms: Option<u64>,
    pub expiration_ms: Option<u64>,
}

impl Element<'_> {
    /// Encoded size inside `NFTA_SET_ELEM_LIST_ELEMENTS` (LIST_ELEM + KEY + DATA_VALUE + times).
    pub fn encoded_len(&self) -> usize {
        let key = 4 + ((4 + self.key.len() + 3) & !3);
        4 + key
            + if self.timeout_ms.is_some() { 12 } else { 0 }
            + if self.expiration_ms.is_some() { 12 } else { 0 }
    }
}

/// Usable bytes of one `NFTA_SET_ELEM_LIST_ELEMENTS` nest (its `nla_len` is a u16).
pub const ELEMENTS_NEST_CAPACITY: usize = 65535 - 4;

/// Key bytes of an address in network order; IPv4-mapped IPv6 is banned as IPv4.
pub fn key_of(ip: IpAddr) -> (AddrFamily, [u8; 16]) {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let mut k = [0u8; 16];
    match ip {
        IpAddr::V4(v4) => {
            k[..4].copy_from_slice(&v4.octets());
            (AddrFamily::V4, k)
        }
        IpAddr::V6(v6) => (AddrFamily::V6, v6.octets()),
    }
}

fn nft(batch: &mut Batch, ty: u16, flags: u16, op: String) -> Result<&mut Writer, NetlinkError> {
    batch.begin(ty, flags, NFPROTO_INET, op)?;
    Ok(batch.writer())
}

/// NEWTABLE (create or keep), flags 0.
pub fn new_table(b: &mut Batch, table: &str) -> Result<(), NetlinkError> {
    let w = nft(
        b,
        NFT_MSG_NEWTABLE,
        NLM_F_CREATE,
        format!("add table inet {table}"),
    )?;
    w.put_str(NFTA_TABLE_NAME, table)?;
    w.put_be32(NFTA_TABLE_FLAGS, 0)?;
    b.end()
}

/// DELTABLE, or DESTROYTABLE (6.3+, a missing table is fine).
pub fn del_table(b: &mut Batch, table: &str, destroy: bool) -> Result<(), NetlinkError> {
    let ty = if destroy {
        NFT_MSG_DESTROYTABLE
    } else {
        NFT_MSG_DELTABLE
    };
    let w = nft(b, ty, 0, format!("delete table inet {table}"))?;
    w.put_str(NFTA_TABLE_NAME, table)?;
    b.end()
}

/// NEWSET for a ban set: `type ipv4_addr|ipv6_addr; flags timeout;`.
pub fn new_addr_set(
    b: &mut Batch,
    table: &str,
    family: AddrFamily,
    set: SetRef<'_>,
) -> Result<(), NetlinkError> {
    let w = nft(
        b,
        NFT_MSG_NEWSET,
        NLM_F_CREATE,
        format!("add set {}", set.name),
    )?;
    w.put_str(NFTA_SET_TABLE, table)?;
    w.put_str(NFTA_SET_NAME, set.name)?;
    w.put_be32(NFTA_SET_FLAGS, NFT_SET_TIMEOUT)?;
    w.put_be32(NFTA_SET_KEY_TYPE, family.key_type())?;
    w.put_be32(NFTA_SET_KEY_LEN, family.key_len())?;
    if let Some(id) = set.id {
        w.put_be32(NFTA_SET_ID, id)?;
    }
    w.put(NFTA_SET_USERDATA, &SET_USERDATA_KEY_BE)?;
    b.end()
}

/// NEWSET for an anonymous constant port set (`{ 22, 2222 }`), bound by the next rule.
pub fn new_port_set(b: &mut Batch, table: &str, id: u32, size: u32) -> Result<(), NetlinkError> {
    let w = nft(
        b,
        NFT_MSG_NEWSET,
        NLM_F_CREATE,
        "add anonymous port set".into(),
    )?;
    w.put_str(NFTA_SET_TABLE, table)?;
    w.put_str(NFTA_SET_NAME, ANON_SET_NAME)?;
    w.put_be32(NFTA_SET_FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT)?;
    w.put_be32(NFTA_SET_KEY_TYPE, NFT_DATATYPE_INET_SERVICE)?;
    w.put_be32(NFTA_SET_KEY_LEN, 2)?;
    w.put_be32(NFTA_SET_ID, id)?;
    let d = w.begin_nest(NFTA_SET_DESC)?;
    w.put_be32(NFTA_SET_DESC_SIZE, size)?;
    w.end_nest(d)?;
    w.put(NFTA_SET_USERDATA, &SET_USERDATA_KEY_BE)?;
    b.end()
}

/// DELSET, or DESTROYSET (6.3+, a missing set is fine).
pub fn del_set(b: &mut Batch, table: &str, set: &str, destroy: bool) -> Result<(), NetlinkError> {
    let ty = if destroy {
        NFT_MSG_DESTROYSET
    } else {
        NFT_MSG_DELSET
    };
    let w = nft(b, ty, 0, format!("delete set {set}"))?;
    w.put_str(NFTA_SET_TABLE, table)?;
    w.put_str(NFTA_SET_NAME, set)?;
    b.end()
}

/// NEWCHAIN: `type filter hook input priority <prio>; policy accept;`.
pub fn new_input_chain(
    b: &mut Batch,
    table: &str,
    chain: &str,
    priority: i32,
) -> Result<(), NetlinkError> {
    let w = nft(
        b,
        NFT_MSG_NEWCHAIN,
        NLM_F_CREATE,
        format!("add chain {chain}"),
    )?;
    w.put_str(NFTA_CHAIN_TABLE, table)?;
    w.put_str(NFTA_CHAIN_NAME, chain)?;
    w.put_str(NFTA_CHAIN_TYPE, "filter")?;
    w.put_be32(NFTA_CHAIN_POLICY, NF_ACCEPT)?;
    let h = w.begin_nest(NFTA_CHAIN_HOOK)?;
    w.put_be32(NFTA_HOOK_HOOKNUM, NF_INET_LOCAL_IN)?;
    w.put(NFTA_HOOK_PRIORITY, &priority.to_be_bytes())?;
    w.end_nest(h)?;
    b.end()
}

/// DELRULE with only table and chain: flushes the chain.
pub fn flush_chain(b: &mut Batch, table: &str, chain: &str) -> Result<(), NetlinkError> {
    let w = nft(b, NFT_MSG_DELRULE, 0, format!("flush chain {chain}"))?;
    w.put_str(NFTA_RULE_TABLE, table)?;
    w.put_str(NFTA_RULE_CHAIN, chain)?;
    b.end()
}

fn expr(
    w: &mut Writer,
    name: &str,
    data: impl FnOnce(&mut Writer) -> Result<(), NetlinkError>,
) -> Result<(), NetlinkError> {
    let e = w.begin_nest(NFTA_LIST_ELEM)?;
    w.put_str(NFTA_EXPR_NAME, name)?;
    let d = w.begin_nest(NFTA_EXPR_DATA)?;
    data(w)?;
    w.end_nest(d)?;
    w.end_nest(e)
}

fn meta_eq(w: &mut Writer, key: u32, value: u8) -> Result<(), NetlinkError> {
    expr(w, "meta", |w| {
        w.put_be32(NFTA_META_KEY, key)?;
        w.put_be32(NFTA_META_DREG, NFT_REG_1)
    })?;
    expr(w, "cmp", |w| {
        w.put_be32(NFTA_CMP_SREG, NFT_REG_1)?;
        w.put_be32(NFTA_CMP_OP, NFT_CMP_EQ)?;
        let d = w.begin_nest(NFTA_CMP_DATA)?;
        w.put(NFTA_DATA_VALUE, &[value])?;
        w.end_nest(d)
    })
}

fn payload_lookup(
    w: &mut Writer,
    base: u32,
    offset: u32,
    len: u32,
    set: SetRef<'_>,
) -> Result<(), NetlinkError> {
    expr(w, "payload", |w| {
        w.put_be32(NFTA_PAYLOAD_DREG, NFT_REG_1)?;
        w.put_be32(NFTA_PAYLOAD_BASE, base)?;
        w.put_be32(NFTA_PAYLOAD_OFFSET, offset)?;
        w.put_be32(NFTA_PAYLOAD_LEN, len)
    })?;
    expr(w, "lookup", |w| {
        w.put_be32(NFTA_LOOKUP_SREG, NFT_REG_1)?;
        w.put_str(NFTA_LOOKUP_SET, set.name)?;
        if let Some(id) = set.id {
            w.put_be32(NFTA_LOOKUP_SET_ID, id)?;
        }
        Ok(())
    })
}

/// NEWRULE appended to the chain:
/// `meta nfproto ipv4 ip saddr @set [meta l4proto tcp th dport @ports] drop|reject`.
pub fn new_rule(
    b: &mut Batch,
    table: &str,
    chain: &str,
    rule: &RuleSpec<'_>,
) -> Result<(), NetlinkError> {
    let op = format!("add rule for set {}", rule.set.name);
    let w = nft(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, op)?;
    w.put_str(NFTA_RULE_TABLE, table)?;
    w.put_str(NFTA_RULE_CHAIN, chain)?;
    let exprs = w.begin_nest(NFTA_RULE_EXPRESSIONS)?;
    let f = rule.family;
    meta_eq(w, NFT_META_NFPROTO, f.nfproto())?;
    payload_lookup(
        w,
        NFT_PAYLOAD_NETWORK_HEADER,
        f.saddr_offset(),
        f.key_len(),
        rule.set,
    )?;
    if let Some(p) = rule.ports {
        meta_eq(w, NFT_META_L4PROTO, p.l4proto)?;
        payload_lookup(w, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, p.ports)?;
    }
    match rule.verdict {
        BlockType::Drop => expr(w, "immediate", |w| {
            w.put_be32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT)?;
            let d = w.begin_nest(NFTA_IMMEDIATE_DATA)?;
            let v = w.begin_nest(NFTA_DATA_VERDICT)?;
            w.put_be32(NFTA_VERDICT_CODE, NF_DROP)?;
            w.end_nest(v)?;
            w.end_nest(d)
        })?,
        BlockType::Reject => expr(w, "reject", |w| {
            w.put_be32(NFTA_REJECT_TYPE, NFT_REJECT_ICMP_UNREACH)?;
            w.put_u8(NFTA_REJECT_ICMP_CODE, f.port_unreach())
        })?,
    }
    w.end_nest(exprs)?;
    b.end()
}

fn elem_list_head<'b>(
    b: &'b mut Batch,
    ty: u16,
    flags: u16,
    table: &str,
    set: SetRef<'_>,
    op: String,
) -> Result<&'b mut Writer, NetlinkError> {
    let w = nft(b, ty, flags, op)?;
    w.put_str(NFTA_SET_ELEM_LIST_TABLE, table)?;
    w.put_str(NFTA_SET_ELEM_LIST_SET, set.name)?;
    if let Some(id) = set.id {
        w.put_be32(NFTA_SET_ELEM_LIST_SET_ID, id)?;
    }
    Ok(w)
}

fn put_key(w: &mut Writer, key: &[u8]) -> Result<(), NetlinkError> {
    let k = w.begin_nest(NFTA_SET_ELEM_KEY)?;
    w.put(NFTA_DATA_VALUE, key)?;
    w.end_nest(k)
}

/// One NEWSETELEM message (add, no EXCL: re-adding refreshes the timeout on 6.12+). The caller
/// keeps the elements within `ELEMENTS_NEST_CAPACITY` (see `Element::encoded_len`).
pub fn new_elements(
    b: &mut Batch,
    table: &str,
    set: SetRef<'_>,
    elems: &[Element<'_>],
) -> Result<(), NetlinkError> {
    let op = format!("add {} element(s) to set {}", elems.len(), set.name);
    let w = elem_list_head(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE, table, set, op)?;
    let list = w.begin_nest(NFTA_SET_ELEM_LIST_ELEMENTS)?;
    for e in elems {
        let le = w.begin_nest(NFTA_LIST_ELEM)?;
        put_key(w, e.key)?;
        if let Some(t) = e.timeout_ms {
            w.put_be64(NFTA_SET_ELEM_TIMEOUT, t)?;
        }
        if let Some(x) = e.expiration_ms {
            w.put_be64(NFTA_SET_ELEM_EXPIRATION, x)?;
        }
        w.end_nest(le)?;
    }
    w.end_nest(list)?;
    b.end()
}

/// One DELSETELEM (missing key = ENOENT) or DESTROYSETELEM (6.3+, missing key is fine) message.
pub fn del_elements(
    b: &mut Batch,
    table: &str,
    set: &str,
    keys: &[&[u8]],
    destroy: bool,
) -> Result<(), NetlinkError> {
    let ty = if destroy {
        NFT_MSG_DESTROYSETELEM
    } else {
        NFT_MSG_DELSETELEM
    };
    let op = format!("delete {} element(s) from set {set}", keys.len());
    let w = elem_list_head(
        b,
        ty,
        0,
        table,
        SetRef {
            name: set,
            id: None,
        },
        op,
    )?;
    let list = w.begin_nest(NFTA_SET_ELEM_LIST_ELEMENTS)?;
    for k in keys {
        let le = w.begin_nest(NFTA_LIST_ELEM)?;
        put_key(w, k)?;
        w.end_nest(le)?;
    }
    w.end_nest(list)?;
    b.end()
}

/// DELSETELEM without ELEMENTS: removes every element of the set.
pub fn flush_set(b: &mut Batch, table: &str, set: &str) -> Result<(), NetlinkError> {
    let op = format!("flush set {set}");
    elem_list_head(
        b,
        NFT_MSG_DELSETELEM,
        0,
        table,
        SetRef {
            name: set,
            id: None,
        },
        op,
    )?;
    b.end()
}

/// Attributes of a GETSETELEM dump request (type `NFT_MSG_GETSETELEM`, flags `NLM_F_DUMP`).
pub fn get_elements_attrs(w: &mut Writer, table: &str, set: &str) -> Result<(), NetlinkError> {
    w.put_str(NFTA_SET_ELEM_LIST_TABLE, table)?;
    w.put_str(NFTA_SET_ELEM_LIST_SET, set)
}

/// One element read back from a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpedElement {
    pub key: Vec<u8>,
    pub timeout_ms: Option<u64>,
    /// Remaining time; `None` for a permanent element.
    pub expiration_ms: Option<u64>,
}

/// Parses one NEWSETELEM dump message (payload after the netlink header) and calls `f` per
/// element. Unknown attributes are skipped; nests are recognised by schema, not flag.
pub fn parse_elements(
    payload: &[u8],
    mut f: impl FnMut(DumpedElement),
) -> Result<(), NetlinkError> {
    let attrs = payload
        .get(4..)
        .ok_or(NetlinkError::Malformed("short nf_tables message"))?;
    for a in Attrs::new(attrs) {
        let (ty, v) = a?;
        if ty != NFTA_SET_ELEM_LIST_ELEMENTS {
            continue;
        }
        for le in Attrs::new(v) {
            let (lty, lv) = le?;
            if lty == NFTA_LIST_ELEM {
                f(parse_element(lv)?);
            }
        }
    }
    Ok(())
}

fn parse_element(bytes: &[u8]) -> Result<DumpedElement, NetlinkError> {
    let mut e = DumpedElement {
        key: Vec::new(),
        timeout_ms: None,
        expiration_ms: None,
    };
    for a in Attrs::new(bytes) {
        let (ty, v) = a?;
        match ty {
            NFTA_SET_ELEM_KEY => {
                for d in Attrs::new(v) {
                    let (dty, dv) = d?;
                    if dty == NFTA_DATA_VALUE {
                        e.key = dv.to_vec();
                    }
                }
            }
            NFTA_SET_ELEM_TIMEOUT => e.timeout_ms = Some(be64(v)?),
            NFTA_SET_ELEM_EXPIRATION => e.expiration_ms = Some(be64(v)?),
            _ => {}
        }
    }
    if e.key.is_empty() {
        return Err(NetlinkError::Malformed("set element without a key"));
    }
    Ok(e)
}

/// Parses a NEWGEN reply: the ruleset generation id.
pub fn parse_gen_id(payload: &[u8]) -> Result<u32, NetlinkError> {
    let attrs = payload
        .get(4..)
        .ok_or(NetlinkError::Malformed("short nf_tables message"))?;
    for a in Attrs::new(attrs) {
        let (ty, v) = a?;
        if ty == NFTA_GEN_ID {
            return be32(v);
        }
    }
    Err(NetlinkError::Malformed("NEWGEN without a generation id"))
}

/// Attributes of a GETSET dump request for every set of a table.
pub fn get_sets_attrs(w: &mut Writer, table: &str) -> Result<(), NetlinkError> {
    w.put_str(NFTA_SET_TABLE, table)
}

/// A set read back from a GETSET dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetInfo {
    pub name: String,
    pub flags: u32,
    pub key_len: u32,
}

/// Parses one NEWSET dump message (payload after the netlink header).
pub fn parse_set(payload: &[u8]) -> Result<SetInfo, NetlinkError> {
    let attrs = payload
        .get(4..)
        .ok_or(NetlinkError::Malformed("short nf_tables message"))?;
    let mut info = SetInfo {
        name: String::new(),
        flags: 0,
        key_len: 0,
    };
    for a in Attrs::new(attrs) {
        let (ty, v) = a?;
        match ty {
            NFTA_SET_NAME => {
                let text = v.split(|&c| c == 0).next().unwrap_or(&[]);
                info.name = String::from_utf8_lossy(text).into_owned();
            }
            NFTA_SET_FLAGS => info.flags = be32(v)?,
            NFTA_SET_KEY_LEN => info.key_len = be32(v)?,
            _ => {}
        }
    }
    if info.name.is_empty() {
        return Err(NetlinkError::Malformed("set without a name"));
    }
    Ok(info)
}

/// Splits items into runs that fit one elements nest; yields (items, encoded bytes).
pub fn chunks<T>(items: &[T], size: impl Fn(&T) -> usize) -> impl Iterator<Item = (&[T], usize)> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut bytes = 0;
        let mut n = 0;
        while n < rest.len() && bytes + size(&rest[n]) <= ELEMENTS_NEST_CAPACITY {
            bytes += size(&rest[n]);
            n += 1;
        }
        let n = n.max(1);
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Some((head, bytes))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunking_respects_the_nest_limit() {
        let keys = vec![[1u8, 2, 3, 4]; 5000];
        let elems: Vec<Element<'_>> = keys
            .iter()
            .map(|k| Element {
                key: k,
                timeout_ms: Some(1),
                expiration_ms: None,
            })
            .collect();
        let c: Vec<_> = chunks(&elems, Element::encoded_len).collect();
        assert_eq!(
            c.iter().map(|c| c.0.len()).collect::<Vec<_>>(),
            vec![2340, 2340, 320]
        );
        assert!(c.iter().all(|c| c.1 <= ELEMENTS_NEST_CAPACITY));
    }
}
