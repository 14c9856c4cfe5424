//! The nftables backend against the real kernel, each case in a fresh network namespace.
//!
//! Every `#[test]` re-executes this test binary under `unshare -n` (plus `setpriv` to drop
//! CAP_NET_ADMIN for the EPERM case) with `F2Z_NETNS_CASE` naming the case; the child runs only
//! that test, which then does the work. The kernel state is checked with `nft -j list`. A case
//! whose namespace cannot be made fails; it never skips.

use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use fail2zig::firewall::{
    Backend, BanEntry, BlockType, JailRules, KernelBan, NftConfig, NftError, NftablesBackend,
};
use serde_json::Value;

const CASE_ENV: &str = "F2Z_NETNS_CASE";

/// Runs `body` inside a new network namespace (`wrap` = extra commands before the binary).
fn in_netns(case: &str, wrap: &[&str], body: impl FnOnce()) {
    if std::env::var(CASE_ENV).as_deref() == Ok(case) {
        body();
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new("unshare");
    cmd.arg("-n").args(wrap).arg(&exe);
    cmd.args([case, "--exact", "--nocapture", "--test-threads=1"]);
    let out = cmd
        .env(CASE_ENV, case)
        .output()
        .unwrap_or_else(|e| panic!("cannot run unshare for case {case}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "case {case} failed in its namespace ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("1 passed"),
        "case {case} did not run in its namespace:\n{stdout}\n{stderr}"
    );
}

fn nft(args: &[&str]) -> String {
    let out = Command::new("nft").args(args).output().expect("run nft");
    assert!(
        out.status.success(),
        "nft {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ruleset() -> Value {
    serde_json::from_str(&nft(&["-j", "list", "ruleset"])).expect("nft -j output")
}

/// The `nftables` array items of one kind (`table`, `set`, `chain`, `rule`).
fn objects(rs: &Value, kind: &str) -> Vec<Value> {
    rs["nftables"]
        .as_array()
        .expect("nftables array")
        .iter()
        .filter_map(|o| o.get(kind).cloned())
        .collect()
}

/// Elements of a set as (address, expires in s) from `nft -j list set`.
fn elements(table: &str, set: &str) -> Vec<(String, Option<u64>)> {
    let v: Value =
        serde_json::from_str(&nft(&["-j", "list", "set", "inet", table, set])).expect("json");
    let s = objects(&v, "set");
    let Some(elems) = s[0].get("elem").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut out: Vec<_> = elems
        .iter()
        .map(|e| match e.get("elem") {
            Some(inner) => (
                inner["val"].as_str().expect("val").to_string(),
                inner.get("expires").and_then(Value::as_u64),
            ),
            None => (e.as_str().expect("plain elem").to_string(), None),
        })
        .collect();
    out.sort();
    out
}

fn jail(name: &str) -> JailRules {
    JailRules {
        jail: name.into(),
        ports: vec![],
        protocols: vec![],
        blocktype: BlockType::Drop,
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ban(s: &str, secs: Option<u64>) -> BanEntry {
    BanEntry {
        ip: ip(s),
        timeout: secs.map(Duration::from_secs),
    }
}

fn backend() -> NftablesBackend {
    NftablesBackend::open(NftConfig::default()).expect("open nftables backend")
}

fn rules_text() -> String {
    nft(&["list", "chain", "inet", "fail2zig", "input"])
}

#[test]
fn scaffold_is_installed() {
    in_netns("scaffold_is_installed", &[], || {
        let mut b = backend();
        let mut ssh = jail("sshd");
        ssh.ports = vec![(22, 22), (2222, 2222)];
        ssh.protocols = vec!["tcp".into()];
        let mut web = jail("nginx");
        web.blocktype = BlockType::Reject;
        let existing = b.start(&[ssh, web]).unwrap();
        assert!(existing.is_empty());
        let rs = ruleset();
        let sets = objects(&rs, "set");
        let names: Vec<&str> = sets.iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            ["sshd_ipv4", "sshd_ipv6", "nginx_ipv4", "nginx_ipv6"]
        );
        for s in &sets {
            assert_eq!(s["family"], "inet");
            assert_eq!(s["table"], "fail2zig");
            assert_eq!(s["flags"], serde_json::json!(["timeout"]));
        }
        assert_eq!(sets[0]["type"], "ipv4_addr");
        assert_eq!(sets[1]["type"], "ipv6_addr");
        let chains = objects(&rs, "chain");
        assert_eq!(chains.len(), 1);
        assert_eq!(chains[0]["hook"], "input");
        assert_eq!(chains[0]["policy"], "accept");
        assert_eq!(objects(&rs, "rule").len(), 4);
        let text = rules_text();
        assert!(
            text.contains("ip saddr @sshd_ipv4 tcp dport { 22, 2222 } drop"),
            "{text}"
        );
        assert!(
            text.contains("ip6 saddr @sshd_ipv6 tcp dport { 22, 2222 } drop"),
            "{text}"
        );
        assert!(
            text.contains("ip saddr @nginx_ipv4 reject with icmp port-unreachable"),
            "{text}"
        );
        assert!(
            text.contains("ip6 saddr @nginx_ipv6 reject with icmpv6 port-unreachable"),
            "{text}"
        );
    });
}

#[test]
fn ban_unban_list_v4_v6() {
    in_netns("ban_unban_list_v4_v6", &[], || {
        let mut b = backend();
        b.start(&[jail("sshd")]).unwrap();
        b.ban(
            "sshd",
            &[
                ban("192.0.2.1", Some(600)),
                ban("2001:db8::1", Some(300)),
                ban("::ffff:198.51.100.7", None),
            ],
        )
        .unwrap();
        let v4 = elements("fail2zig", "sshd_ipv4");
        assert_eq!(v4.len(), 2, "{v4:?}");
        assert_eq!(v4[0].0, "192.0.2.1");
        assert!(v4[0].1.unwrap() > 590 && v4[0].1.unwrap() <= 600, "{v4:?}");
        assert_eq!(v4[1], ("198.51.100.7".to_string(), None));
        let v6 = elements("fail2zig", "sshd_ipv6");
        assert_eq!(v6.len(), 1);
        assert_eq!(v6[0].0, "2001:db8::1");

        let mut listed = b.list("sshd").unwrap();
        listed.sort_by_key(|k| k.ip);
        assert_eq!(listed.len(), 3);
        assert_eq!(listed[0].ip, ip("192.0.2.1"));
        let left = listed[0].expires_in.unwrap();
        assert!(left > Duration::from_secs(590) && left <= Duration::from_secs(600));
        assert_eq!(
            listed[1],
            KernelBan {
                ip: ip("198.51.100.7"),
                expires_in: None
            }
        );
        assert_eq!(listed[2].ip, ip("2001:db8::1"));

        // Unban, including an address that is not banned (already expired): not an error.
        b.unban(
            "sshd",
            &[ip("192.0.2.1"), ip("2001:db8::1"), ip("203.0.113.9")],
        )
        .unwrap();
        assert_eq!(
            elements("fail2zig", "sshd_ipv4"),
            [("198.51.100.7".to_string(), None)]
        );
        assert!(elements("fail2zig", "sshd_ipv6").is_empty());
        b.unban("sshd", &[ip("::ffff:198.51.100.7")]).unwrap();
        assert!(b.list("sshd").unwrap().is_empty());
    });
}

#[test]
fn bans_expire_in_the_kernel() {
    in_netns("bans_expire_in_the_kernel", &[], || {
        let mut b = backend();
        b.start(&[jail("sshd")]).unwrap();
        b.ban(
            "sshd",
            &[
                BanEntry {
                    ip: ip("192.0.2.5"),
                    timeout: Some(Duration::from_millis(300)),
                },
                ban("192.0.2.6", Some(600)),
            ],
        )
        .unwrap();
        assert_eq!(elements("fail2zig", "sshd_ipv4").len(), 2);
        // The daemon is gone: only the kernel's timeout removes the element.
        drop(b);
        std::thread::sleep(Duration::from_millis(800));
        let left = elements("fail2zig", "sshd_ipv4");
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(left[0].0, "192.0.2.6");
    });
}

#[test]
fn flush_removes_every_ban_of_a_jail() {
    in_netns("flush_removes_every_ban_of_a_jail", &[], || {
        let mut b = backend();
        b.start(&[jail("sshd"), jail("nginx")]).unwrap();
        b.ban(
            "sshd",
            &[ban("192.0.2.1", Some(60)), ban("2001:db8::2", None)],
        )
        .unwrap();
        b.ban("nginx", &[ban("192.0.2.1", Some(60))]).unwrap();
        b.flush("sshd").unwrap();
        assert!(elements("fail2zig", "sshd_ipv4").is_empty());
        assert!(elements("fail2zig", "sshd_ipv6").is_empty());
        assert_eq!(elements("fail2zig", "nginx_ipv4").len(), 1);
    });
}

#[test]
fn restart_keeps_elements_without_duplicating_rules() {
    in_netns(
        "restart_keeps_elements_without_duplicating_rules",
        &[],
        || {
            let mut ssh = jail("sshd");
            ssh.ports = vec![(22, 22)];
            {
                let mut b = backend();
                b.start(&[ssh.clone()]).unwrap();
                b.ban(
                    "sshd",
                    &[ban("192.0.2.1", Some(600)), ban("2001:db8::1", None)],
                )
                .unwrap();
            }
            let before = rules_text();
            let mut b = backend();
            let mut existing = b.start(&[ssh.clone()]).unwrap();
            existing.sort_by_key(|e| e.1.ip);
            assert_eq!(existing.len(), 2, "{existing:?}");
            assert_eq!(existing[0].0, "sshd");
            assert_eq!(existing[0].1.ip, ip("192.0.2.1"));
            assert!(existing[0].1.expires_in.unwrap() > Duration::from_secs(590));
            assert_eq!(
                existing[1].1,
                KernelBan {
                    ip: ip("2001:db8::1"),
                    expires_in: None
                }
            );
            // Third start in the same process: still two rules.
            b.start(&[ssh]).unwrap();
            assert_eq!(objects(&ruleset(), "rule").len(), 2);
            let strip = |t: &str| t.replace(char::is_numeric, "");
            assert_eq!(strip(&rules_text()), strip(&before));
            assert_eq!(elements("fail2zig", "sshd_ipv4").len(), 1);
        },
    );
}

#[test]
fn stop_removes_listed_jails_only() {
    in_netns("stop_removes_listed_jails_only", &[], || {
        let mut b = backend();
        b.start(&[jail("sshd"), jail("nginx")]).unwrap();
        b.ban("nginx", &[ban("192.0.2.1", Some(60))]).unwrap();
        b.stop(&["sshd".to_string()]).unwrap();
        let rs = ruleset();
        let sets: Vec<String> = objects(&rs, "set")
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(sets, ["nginx_ipv4", "nginx_ipv6"]);
        assert_eq!(objects(&rs, "rule").len(), 2);
        assert_eq!(elements("fail2zig", "nginx_ipv4").len(), 1);
        b.stop(&["nginx".to_string()]).unwrap();
        assert!(objects(&ruleset(), "table").is_empty());
    });
}

#[test]
fn conflicting_set_is_a_clear_error() {
    in_netns("conflicting_set_is_a_clear_error", &[], || {
        nft(&["add", "table", "inet", "fail2zig"]);
        nft(&[
            "add",
            "set",
            "inet",
            "fail2zig",
            "sshd_ipv4",
            "{ type ipv4_addr; }",
        ]);
        let mut b = backend();
        let err = b.ensure(&[jail("sshd")]).unwrap_err();
        assert!(
            matches!(&err, NftError::ConflictingSet { set, .. } if set == "sshd_ipv4"),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("set sshd_ipv4 in table inet fail2zig already exists"),
            "{msg}"
        );
        let src = std::error::Error::source(&err).unwrap().to_string();
        assert!(src.contains("add set sshd_ipv4"), "{src}");
        assert!(src.contains("File exists"), "{src}");
        // Nothing of the batch was applied: no chain, the old set untouched.
        assert!(objects(&ruleset(), "chain").is_empty());
    });
}

#[test]
fn missing_table_is_a_clear_error() {
    in_netns("missing_table_is_a_clear_error", &[], || {
        let mut b = backend();
        let err = b
            .add_bans("sshd", &[ban("192.0.2.1", Some(60))])
            .unwrap_err();
        assert!(
            matches!(&err, NftError::MissingSets { jail, .. } if jail == "sshd"),
            "{err:?}"
        );
        let src = std::error::Error::source(&err).unwrap().to_string();
        assert!(src.contains("add 1 element(s) to set sshd_ipv4"), "{src}");
        assert!(src.contains("No such file or directory"), "{src}");
        assert!(b.list_bans("sshd").is_err());
    });
}

#[test]
fn table_flushed_behind_our_back_is_reinstalled() {
    in_netns("table_flushed_behind_our_back_is_reinstalled", &[], || {
        let mut b = backend();
        b.start(&[jail("sshd")]).unwrap();
        nft(&["flush", "ruleset"]);
        b.ban("sshd", &[ban("192.0.2.1", Some(60))]).unwrap();
        assert_eq!(elements("fail2zig", "sshd_ipv4").len(), 1);
        assert_eq!(objects(&ruleset(), "rule").len(), 2);
    });
}

#[test]
fn without_cap_net_admin_the_probe_says_so() {
    in_netns(
        "without_cap_net_admin_the_probe_says_so",
        &[
            "setpriv",
            "--inh-caps=-net_admin",
            "--bounding-set=-net_admin",
            "--",
        ],
        || {
            let err = fail2zig::firewall::probe_nftables().unwrap_err();
            assert!(matches!(err, NftError::PermissionDenied(_)), "{err:?}");
            assert!(err.to_string().contains("CAP_NET_ADMIN"), "{err}");
            let src = std::error::Error::source(&err).unwrap().to_string();
            assert!(src.contains("Operation not permitted"), "{src}");
        },
    );
}

#[test]
fn many_bans_split_into_messages() {
    in_netns("many_bans_split_into_messages", &[], || {
        let mut b = backend();
        b.start(&[jail("sshd")]).unwrap();
        let mut bans: Vec<BanEntry> = (0..10_000u32)
            .map(|i| BanEntry {
                ip: IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i)),
                timeout: if i % 2 == 0 {
                    Some(Duration::from_secs(600))
                } else {
                    None
                },
            })
            .collect();
        bans.extend((0..3_000u128).map(|i| BanEntry {
            ip: IpAddr::from(std::net::Ipv6Addr::from(0x2001_0db8_u128 << 96 | i)),
            timeout: Some(Duration::from_secs(60)),
        }));
        b.ban("sshd", &bans).unwrap();
        assert_eq!(elements("fail2zig", "sshd_ipv4").len(), 10_000);
        assert_eq!(elements("fail2zig", "sshd_ipv6").len(), 3_000);
        let listed = b.list("sshd").unwrap();
        assert_eq!(listed.len(), 13_000);
        assert_eq!(
            listed.iter().filter(|k| k.expires_in.is_none()).count(),
            5_000
        );
        let ips: Vec<IpAddr> = bans.iter().map(|b| b.ip).collect();
        b.unban("sshd", &ips).unwrap();
        assert!(b.list("sshd").unwrap().is_empty());
    });
}

#[test]
fn restart_drops_sets_of_jails_no_longer_configured() {
    in_netns(
        "restart_drops_sets_of_jails_no_longer_configured",
        &[],
        || {
            {
                let mut b = backend();
                b.start(&[jail("sshd"), jail("old")]).unwrap();
                b.ban("old", &[ban("192.0.2.9", None)]).unwrap();
                b.ban("sshd", &[ban("192.0.2.1", None)]).unwrap();
            }
            // Someone else's set in our table that only looks like nothing of ours is kept.
            nft(&[
                "add",
                "set",
                "inet",
                "fail2zig",
                "allow",
                "{ type ipv4_addr; }",
            ]);
            let mut b = backend();
            let existing = b.start(&[jail("sshd")]).unwrap();
            assert_eq!(existing.len(), 1);
            let names: Vec<String> = objects(&ruleset(), "set")
                .iter()
                .map(|s| s["name"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(names, ["sshd_ipv4", "sshd_ipv6", "allow"]);
            assert_eq!(objects(&ruleset(), "rule").len(), 2);
        },
    );
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Connected,
    Refused,
    TimedOut,
}

/// A TCP connect from `from` to `to` over loopback, bounded to 700 ms.
fn connect(from: &str, to: std::net::SocketAddr) -> Outcome {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use rustix::net::{AddressFamily, SocketFlags, SocketType, sockopt};
    let family = if to.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd = rustix::net::socket_with(
        family,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )
    .unwrap();
    let src = std::net::SocketAddr::new(ip(from), 0);
    rustix::net::bind(&fd, &src).unwrap();
    match rustix::net::connect(&fd, &to) {
        Ok(()) => return Outcome::Connected,
        Err(rustix::io::Errno::INPROGRESS) => {}
        Err(rustix::io::Errno::CONNREFUSED) => return Outcome::Refused,
        Err(e) => panic!("connect {from} -> {to}: {e}"),
    }
    let mut fds = [PollFd::new(&fd, PollFlags::OUT)];
    let ts = Timespec {
        tv_sec: 0,
        tv_nsec: 700_000_000,
    };
    if poll(&mut fds, Some(&ts)).unwrap() == 0 {
        return Outcome::TimedOut;
    }
    match sockopt::socket_error(&fd).unwrap() {
        Ok(()) => Outcome::Connected,
        Err(rustix::io::Errno::CONNREFUSED) => Outcome::Refused,
        Err(e) => panic!("connect {from} -> {to}: {e}"),
    }
}

fn ip_cmd(args: &[&str]) {
    let st = Command::new("ip").args(args).status().expect("run ip");
    assert!(st.success(), "ip {args:?}");
}

#[test]
fn banned_packets_are_dropped_or_rejected_on_the_jails_ports() {
    in_netns(
        "banned_packets_are_dropped_or_rejected_on_the_jails_ports",
        &[],
        || {
            ip_cmd(&["link", "set", "lo", "up"]);
            ip_cmd(&["-6", "addr", "add", "2001:db8::1/128", "dev", "lo", "nodad"]);
            ip_cmd(&["-6", "addr", "add", "2001:db8::2/128", "dev", "lo", "nodad"]);
            let l_ssh4 = std::net::TcpListener::bind("127.0.0.1:2222").unwrap();
            let l_web4 = std::net::TcpListener::bind("127.0.0.1:8080").unwrap();
            let l_ssh6 = std::net::TcpListener::bind("[2001:db8::1]:2222").unwrap();
            let ssh4 = l_ssh4.local_addr().unwrap();
            let web4 = l_web4.local_addr().unwrap();
            let ssh6 = l_ssh6.local_addr().unwrap();

            let mut sshd = jail("sshd");
            sshd.ports = vec![(2222, 2222)];
            sshd.protocols = vec!["tcp".into()];
            let mut web = jail("web");
            web.blocktype = BlockType::Reject;
            let mut b = backend();
            b.start(&[sshd, web]).unwrap();
            assert_eq!(connect("127.0.0.2", ssh4), Outcome::Connected);

            b.ban(
                "sshd",
                &[ban("127.0.0.2", Some(60)), ban("2001:db8::2", Some(60))],
            )
            .unwrap();
            assert_eq!(connect("127.0.0.2", ssh4), Outcome::TimedOut);
            assert_eq!(connect("2001:db8::2", ssh6), Outcome::TimedOut);
            // Other ports and other sources still pass.
            assert_eq!(connect("127.0.0.2", web4), Outcome::Connected);
            assert_eq!(connect("127.0.0.3", ssh4), Outcome::Connected);

            b.ban("web", &[ban("127.0.0.3", Some(60))]).unwrap();
            assert_eq!(connect("127.0.0.3", web4), Outcome::Refused);
            assert_eq!(connect("127.0.0.3", ssh4), Outcome::Refused);

            b.unban("sshd", &[ip("127.0.0.2")]).unwrap();
            assert_eq!(connect("127.0.0.2", ssh4), Outcome::Connected);
        },
    );
}

#[test]
fn losing_cap_net_admin_fails_bans_with_a_clear_error() {
    in_netns(
        "losing_cap_net_admin_fails_bans_with_a_clear_error",
        &[],
        || {
            use rustix::thread::{CapabilitySet, capabilities, set_capabilities};
            let mut b = backend();
            b.start(&[jail("sshd")]).unwrap();
            // This test process is the only thread doing anything here; drop the capability
            // from the effective set, as a misconfigured unit or sandbox would.
            let mut caps = capabilities(None).unwrap();
            caps.effective.remove(CapabilitySet::NET_ADMIN);
            set_capabilities(None, caps).unwrap();
            let err = b.ban("sshd", &[ban("192.0.2.1", Some(60))]).unwrap_err();
            assert_eq!(err.backend, "nftables");
            assert!(err.message.contains("CAP_NET_ADMIN"), "{err}");
            let src = std::error::Error::source(&err).unwrap().to_string();
            assert!(
                src.contains("batch") && src.contains("Operation not permitted"),
                "{src}"
            );
        },
    );
}

#[test]
fn reban_sets_the_new_timeout() {
    in_netns("reban_sets_the_new_timeout", &[], || {
        for refresh_by_destroy in [false, true] {
            let mut b = backend();
            b.set_refresh_by_destroy(refresh_by_destroy);
            b.start(&[jail("sshd")]).unwrap();
            b.ban(
                "sshd",
                &[ban("192.0.2.1", Some(600)), ban("2001:db8::1", None)],
            )
            .unwrap();
            // Shorter, and permanent -> timed; a new address in the same call.
            b.ban(
                "sshd",
                &[
                    ban("192.0.2.1", Some(30)),
                    ban("2001:db8::1", Some(60)),
                    ban("192.0.2.2", Some(60)),
                ],
            )
            .unwrap();
            let mut l = b.list("sshd").unwrap();
            l.sort_by_key(|k| k.ip);
            assert_eq!(l.len(), 3, "{l:?}");
            assert!(l[0].expires_in.unwrap() <= Duration::from_secs(30), "{l:?}");
            assert!(l[2].expires_in.unwrap() <= Duration::from_secs(60), "{l:?}");
            b.flush("sshd").unwrap();
        }
    });
}
