//! Golden bytes for every nf_tables message the backend sends, and parsed kernel replies.
//!
//! Cases are files in `testdata/netlink/` (`*.golden`: a message program and the expected hex)
//! and `testdata/netlink/replies/` (`*.golden`: kernel reply hex and the expected parse). Each
//! message case is headed by the `nft` command that sends the same message (`tools/nft-capture.sh`
//! prints nft's bytes; nft differs only where the header says). Adding a case = adding a file.
//!
//! Program lines (before the hex), one message each inside a `batch <first seq>`:
//! `newtable T`, `deltable T`, `destroytable T`, `newset T NAME v4|v6 [id=N]`,
//! `portset T id=N size=N`, `delset T NAME`, `destroyset T NAME`, `newchain T C prio=N`,
//! `flushchain T C`, `rule T C v4|v6 SET[/ID] [PROTO:PORTSET/ID] drop|reject`,
//! `newelem T SET[/ID] ELEM...` (ELEM = `ADDR[,timeout=MS][,expires=MS]` or `port:N`),
//! `delelem T SET ADDR...`, `destroyelem T SET ADDR...`, `flushset T SET`.
//! Outside batches: `request <seq> getgen`, `request <seq> getsetelem T SET`,
//! `request <seq> getset T`, and
//! `ensure <first seq> T C PRIO JAIL...` (JAIL = `name[:ports=22,1000-1001][:proto=tcp,udp][:reject]`),
//! the backend's whole start-up batch.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use fail2zig::firewall::netlink::{self, Batch, Messages};
use fail2zig::firewall::nft_wire::{self, AddrFamily, Element, PortMatch, RuleSpec, SetRef};
use fail2zig::firewall::nftables::{NftConfig, ensure_batch_bytes};
use fail2zig::firewall::uapi::*;
use fail2zig::firewall::{BlockType, JailRules};

fn cases(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "golden"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no cases in {}", dir.display());
    v
}

fn is_hex_line(l: &str) -> bool {
    let mut it = l.split_whitespace();
    it.next()
        .is_some_and(|o| o.len() == 4 && o.chars().all(|c| c.is_ascii_hexdigit()))
        && l.len() > 6
}

/// Hex blocks (separated by blank lines) after the program.
fn hex_blocks(lines: &[&str]) -> Vec<Vec<u8>> {
    let mut blocks = vec![Vec::new()];
    for l in lines {
        if l.trim().is_empty() {
            if !blocks.last().unwrap().is_empty() {
                blocks.push(Vec::new());
            }
            continue;
        }
        assert!(is_hex_line(l), "not a hex line: {l:?}");
        let b = blocks.last_mut().unwrap();
        for h in l.split_whitespace().skip(1) {
            b.push(u8::from_str_radix(h, 16).unwrap_or_else(|_| panic!("bad hex {h:?}")));
        }
    }
    blocks.retain(|b| !b.is_empty());
    blocks
}

fn family(s: &str) -> AddrFamily {
    match s {
        "v4" => AddrFamily::V4,
        "v6" => AddrFamily::V6,
        _ => panic!("family must be v4 or v6, got {s:?}"),
    }
}

fn set_ref(s: &str) -> SetRef<'_> {
    match s.split_once('/') {
        Some((name, id)) => SetRef {
            name,
            id: Some(id.parse().unwrap()),
        },
        None => SetRef { name: s, id: None },
    }
}

fn kv<'a>(word: &'a str, key: &str) -> &'a str {
    word.strip_prefix(key)
        .and_then(|r| r.strip_prefix('='))
        .unwrap_or_else(|| panic!("expected {key}=..., got {word:?}"))
}

fn key_bytes(s: &str) -> Vec<u8> {
    if let Some(p) = s.strip_prefix("port:") {
        return p.parse::<u16>().unwrap().to_be_bytes().to_vec();
    }
    let ip: IpAddr = s.parse().unwrap_or_else(|_| panic!("bad address {s:?}"));
    let (f, k) = nft_wire::key_of(ip);
    k[..f.key_len() as usize].to_vec()
}

fn l4(s: &str) -> u8 {
    match s {
        "tcp" => 6,
        "udp" => 17,
        _ => panic!("unknown protocol {s:?}"),
    }
}

fn message(b: &mut Batch, w: &[&str]) {
    let r = match w {
        ["newtable", t] => nft_wire::new_table(b, t),
        ["deltable", t] => nft_wire::del_table(b, t, false),
        ["destroytable", t] => nft_wire::del_table(b, t, true),
        ["newset", t, name, fam, rest @ ..] => {
            let id = rest.first().map(|r| kv(r, "id").parse().unwrap());
            nft_wire::new_addr_set(b, t, family(fam), SetRef { name, id })
        }
        ["portset", t, id, size] => nft_wire::new_port_set(
            b,
            t,
            kv(id, "id").parse().unwrap(),
            kv(size, "size").parse().unwrap(),
        ),
        ["delset", t, s] => nft_wire::del_set(b, t, s, false),
        ["destroyset", t, s] => nft_wire::del_set(b, t, s, true),
        ["newchain", t, c, prio] => {
            nft_wire::new_input_chain(b, t, c, kv(prio, "prio").parse().unwrap())
        }
        ["flushchain", t, c] => nft_wire::flush_chain(b, t, c),
        ["rule", t, c, fam, set, rest @ ..] => {
            let (ports, verdict) = match rest {
                [v] => (None, *v),
                [p, v] => {
                    let (proto, ps) = p.split_once(':').expect("PROTO:PORTSET/ID");
                    let pm = PortMatch {
                        l4proto: l4(proto),
                        ports: set_ref(ps),
                    };
                    (Some(pm), *v)
                }
                _ => panic!("rule: {w:?}"),
            };
            let verdict = match verdict {
                "drop" => BlockType::Drop,
                "reject" => BlockType::Reject,
                v => panic!("verdict {v:?}"),
            };
            let rule = RuleSpec {
                family: family(fam),
                set: set_ref(set),
                ports,
                verdict,
            };
            nft_wire::new_rule(b, t, c, &rule)
        }
        ["newelem", t, set, elems @ ..] => {
            let parsed: Vec<(Vec<u8>, Option<u64>, Option<u64>)> = elems
                .iter()
                .map(|e| {
                    let mut parts = e.split(',');
                    let key = key_bytes(parts.next().unwrap());
                    let (mut to, mut ex) = (None, None);
                    for p in parts {
                        match p.split_once('=') {
                            Some(("timeout", v)) => to = Some(v.parse().unwrap()),
                            Some(("expires", v)) => ex = Some(v.parse().unwrap()),
                            _ => panic!("element option {p:?}"),
                        }
                    }
                    (key, to, ex)
                })
                .collect();
            let elems: Vec<Element<'_>> = parsed
                .iter()
                .map(|(k, t, x)| Element {
                    key: k,
                    timeout_ms: *t,
                    expiration_ms: *x,
                })
                .collect();
            nft_wire::new_elements(b, t, set_ref(set), &elems)
        }
        [op @ ("delelem" | "destroyelem"), t, set, keys @ ..] => {
            let keys: Vec<Vec<u8>> = keys.iter().map(|k| key_bytes(k)).collect();
            let refs: Vec<&[u8]> = keys.iter().map(|k| k.as_slice()).collect();
            nft_wire::del_elements(b, t, set, &refs, *op == "destroyelem")
        }
        ["flushset", t, s] => nft_wire::flush_set(b, t, s),
        _ => panic!("unknown message line {w:?}"),
    };
    r.unwrap_or_else(|e| panic!("{w:?}: {e}"));
}

fn jail_spec(s: &str) -> JailRules {
    let mut parts = s.split(':');
    let mut j = JailRules {
        jail: parts.next().unwrap().to_string(),
        ports: vec![],
        protocols: vec![],
        blocktype: BlockType::Drop,
    };
    for p in parts {
        if p == "reject" {
            j.blocktype = BlockType::Reject;
        } else if let Some(ports) = p.strip_prefix("ports=") {
            for r in ports.split(',') {
                let (lo, hi) = r.split_once('-').unwrap_or((r, r));
                j.ports.push((lo.parse().unwrap(), hi.parse().unwrap()));
            }
        } else if let Some(protos) = p.strip_prefix("proto=") {
            j.protocols = protos.split(',').map(str::to_string).collect();
        } else {
            panic!("jail option {p:?}");
        }
    }
    j
}

/// Runs a case's program and returns the bytes it builds.
fn build(program: &[&str]) -> Vec<u8> {
    let first: Vec<&str> = program[0].split_whitespace().collect();
    match first.as_slice() {
        ["batch", seq] => {
            let mut b = Batch::new(seq.parse().unwrap(), NFNL_SUBSYS_NFTABLES).unwrap();
            for l in &program[1..] {
                message(&mut b, &l.split_whitespace().collect::<Vec<_>>());
            }
            b.finish().unwrap().to_vec()
        }
        ["request", seq, "getgen"] => {
            assert_eq!(program.len(), 1);
            let ty = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN;
            netlink::build_request(ty, 0, NFPROTO_UNSPEC, seq.parse().unwrap(), |_| Ok(())).unwrap()
        }
        ["request", seq, "getsetelem", t, s] => {
            let ty = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM;
            netlink::build_request(ty, NLM_F_DUMP, NFPROTO_INET, seq.parse().unwrap(), |w| {
                nft_wire::get_elements_attrs(w, t, s)
            })
            .unwrap()
        }
        ["request", seq, "getset", t] => {
            let ty = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSET;
            netlink::build_request(ty, NLM_F_DUMP, NFPROTO_INET, seq.parse().unwrap(), |w| {
                nft_wire::get_sets_attrs(w, t)
            })
            .unwrap()
        }
        ["ensure", seq, t, c, prio, jails @ ..] => {
            let cfg = NftConfig {
                table: t.to_string(),
                chain: c.to_string(),
                priority: prio.parse().unwrap(),
            };
            let jails: Vec<JailRules> = jails.iter().map(|j| jail_spec(j)).collect();
            ensure_batch_bytes(&cfg, seq.parse().unwrap(), &jails).unwrap()
        }
        _ => panic!("unknown program head {:?}", program[0]),
    }
}

fn dump(b: &[u8]) -> String {
    b.chunks(16)
        .enumerate()
        .map(|(i, c)| {
            let hex: Vec<String> = c.iter().map(|x| format!("{x:02x}")).collect();
            format!("{:04x}  {}\n", i * 16, hex.join(" "))
        })
        .collect()
}

#[test]
fn messages_match_golden_bytes() {
    for path in cases("testdata/netlink") {
        let text = fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("# nft "),
            "{}: the first line must be the nft command",
            path.display()
        );
        let body: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| !l.starts_with('#'))
            .collect();
        let split = body
            .iter()
            .position(|l| is_hex_line(l))
            .unwrap_or_else(|| panic!("{}: no hex", path.display()));
        let program: Vec<&str> = body[..split]
            .iter()
            .copied()
            .filter(|l| !l.trim().is_empty())
            .collect();
        let expected: Vec<u8> = hex_blocks(&body[split..]).concat();
        let got = build(&program);
        assert!(
            got == expected,
            "{}: bytes differ\n--- expected\n{}--- got\n{}",
            path.display(),
            dump(&expected),
            dump(&got)
        );
    }
}

/// One line per message of a reply datagram, in the `expect` section's format.
fn describe(datagram: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for m in Messages::new(datagram) {
        let m = m.expect("well-formed reply");
        let line = match m.ty {
            NLMSG_ERROR => {
                let e = netlink::parse_error(&m).unwrap();
                let mut s = format!(
                    "error seq={} errno={} request={:#06x}",
                    m.seq, e.errno, e.request_type
                );
                if let Some(o) = e.offset {
                    s += &format!(" offset={o}");
                }
                if let Some(t) = e.message {
                    s += &format!(" msg={t:?}");
                }
                s
            }
            NLMSG_DONE => format!("done seq={}", m.seq),
            t if t == (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN => {
                format!("gen {}", nft_wire::parse_gen_id(m.payload).unwrap())
            }
            t if t == (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSET => {
                let s = nft_wire::parse_set(m.payload).unwrap();
                format!("set {} flags={:#x} key_len={}", s.name, s.flags, s.key_len)
            }
            t if t == (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM => {
                let mut elems = Vec::new();
                nft_wire::parse_elements(m.payload, |e| {
                    let mut s = match e.key.len() {
                        4 => format!(
                            "{}",
                            std::net::Ipv4Addr::from(
                                <[u8; 4]>::try_from(e.key.as_slice()).unwrap()
                            )
                        ),
                        16 => format!(
                            "{}",
                            std::net::Ipv6Addr::from(
                                <[u8; 16]>::try_from(e.key.as_slice()).unwrap()
                            )
                        ),
                        _ => format!("{:02x?}", e.key),
                    };
                    if let Some(t) = e.timeout_ms {
                        s += &format!(" timeout={t}");
                    }
                    if let Some(x) = e.expiration_ms {
                        s += &format!(" expires={x}");
                    }
                    elems.push(s);
                })
                .unwrap();
                format!("elements [{}]", elems.join(", "))
            }
            t => format!("type {t:#06x}"),
        };
        out.push(line);
    }
    out
}

#[test]
fn replies_parse_as_expected() {
    for path in cases("testdata/netlink/replies") {
        let text = fs::read_to_string(&path).unwrap();
        let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        let at = body
            .iter()
            .position(|l| l.trim() == "expect")
            .unwrap_or_else(|| panic!("{}: no expect section", path.display()));
        let got: Vec<String> = hex_blocks(&body[..at])
            .iter()
            .flat_map(|d| describe(d))
            .collect();
        let expected: Vec<String> = body[at + 1..]
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.trim().to_string())
            .collect();
        assert_eq!(got, expected, "{}", path.display());
    }
}
