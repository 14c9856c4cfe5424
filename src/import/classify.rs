//! What each fail2ban action is, and what a firewall action does in native terms.
//!
//! Owns the classification table of the stock `action.d/` files (fail2ban-runtime.md §2.4) and
//! the translation of the firewall ones (`nftables*`, `iptables*`, `iptables-ipset*`, `route`,
//! `hostsdeny`) into a [`FirewallBan`]: ports, protocols, block type, address family. Does not
//! read files (`crate::fail2ban::jail` does) and does not build the native jail (`build.rs`).
//!
//! # Compatibility
//!
//! A stock firewall name counts as native only while it still does what the stock file does: an
//! action whose files include a `.local` or a `.d/` snippet, or that is passed a parameter that
//! changes where or how it blocks (another chain hook, a custom rule, an unknown block type, ...),
//! is treated as custom. An edited stock `.conf` itself is not detected.

use crate::fail2ban::OrderedMap;
use crate::fail2ban::jail::RawAction;

/// fail2ban-runtime.md §2.4 classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionClass {
    /// A packet filter action fail2zig implements natively.
    Firewall,
    /// Blocks through another tool's CLI or API (firewalld, ufw, shorewall, BSD firewalls, ...).
    ExternalFirewall,
    /// Sends mail or messages.
    Notify,
    /// Reports to a third-party service.
    Report,
    /// Anything else shipped by fail2ban (DNS updates, nginx maps, test actions).
    Other,
    /// A Python action (`*.py`).
    Python,
    /// Not a stock action, or a stock one overridden locally.
    Custom,
}

impl ActionClass {
    /// Short name used in the report.
    pub fn label(self) -> &'static str {
        match self {
            ActionClass::Firewall => "firewall",
            ActionClass::ExternalFirewall => "external firewall",
            ActionClass::Notify => "notification",
            ActionClass::Report => "abuse report",
            ActionClass::Other => "other",
            ActionClass::Python => "python action",
            ActionClass::Custom => "custom",
        }
    }
}

/// The stock action files and their class.
const STOCK: &[(&str, ActionClass)] = &[
    ("nftables", ActionClass::Firewall),
    ("nftables-multiport", ActionClass::Firewall),
    ("nftables-allports", ActionClass::Firewall),
    ("iptables", ActionClass::Firewall),
    ("iptables-multiport", ActionClass::Firewall),
    ("iptables-allports", ActionClass::Firewall),
    ("iptables-new", ActionClass::Firewall),
    ("iptables-multiport-log", ActionClass::Firewall),
    ("iptables-ipset", ActionClass::Firewall),
    ("iptables-ipset-proto4", ActionClass::Firewall),
    ("iptables-ipset-proto6", ActionClass::Firewall),
    ("iptables-ipset-proto6-allports", ActionClass::Firewall),
    ("iptables-xt_recent-echo", ActionClass::Firewall),
    ("route", ActionClass::Firewall),
    ("hostsdeny", ActionClass::Firewall),
    ("firewallcmd-new", ActionClass::ExternalFirewall),
    ("firewallcmd-multiport", ActionClass::ExternalFirewall),
    ("firewallcmd-allports", ActionClass::ExternalFirewall),
    ("firewallcmd-ipset", ActionClass::ExternalFirewall),
    ("firewallcmd-rich-rules", ActionClass::ExternalFirewall),
    ("firewallcmd-rich-logging", ActionClass::ExternalFirewall),
    ("firewallcmd-common", ActionClass::Other),
    ("ufw", ActionClass::ExternalFirewall),
    ("shorewall", ActionClass::ExternalFirewall),
    ("shorewall-ipset-proto6", ActionClass::ExternalFirewall),
    ("apf", ActionClass::ExternalFirewall),
    ("pf", ActionClass::ExternalFirewall),
    ("npf", ActionClass::ExternalFirewall),
    ("ipfilter", ActionClass::ExternalFirewall),
    ("ipfw", ActionClass::ExternalFirewall),
    ("bsd-ipfw", ActionClass::ExternalFirewall),
    ("osx-ipfw", ActionClass::ExternalFirewall),
    ("osx-afctl", ActionClass::ExternalFirewall),
    (
        "symbiosis-blacklist-allports",
        ActionClass::ExternalFirewall,
    ),
    ("netscaler", ActionClass::ExternalFirewall),
    ("cloudflare", ActionClass::Report),
    ("cloudflare-token", ActionClass::Report),
    ("abuseipdb", ActionClass::Report),
    ("blocklist_de", ActionClass::Report),
    ("ipthreat", ActionClass::Report),
    ("dshield", ActionClass::Report),
    ("mynetwatchman", ActionClass::Report),
    ("xarf-login-attack", ActionClass::Report),
    ("complain", ActionClass::Report),
    ("mail", ActionClass::Notify),
    ("mail-whois", ActionClass::Notify),
    ("mail-whois-lines", ActionClass::Notify),
    ("mail-buffered", ActionClass::Notify),
    ("mail-whois-common", ActionClass::Other),
    ("sendmail", ActionClass::Notify),
    ("sendmail-whois", ActionClass::Notify),
    ("sendmail-whois-lines", ActionClass::Notify),
    ("sendmail-whois-matches", ActionClass::Notify),
    ("sendmail-whois-ipmatches", ActionClass::Notify),
    ("sendmail-whois-ipjailmatches", ActionClass::Notify),
    ("sendmail-geoip-lines", ActionClass::Notify),
    ("sendmail-buffered", ActionClass::Notify),
    ("sendmail-common", ActionClass::Other),
    ("apprise", ActionClass::Notify),
    ("smtp.py", ActionClass::Notify),
    ("nginx-block-map", ActionClass::Other),
    ("nsupdate", ActionClass::Other),
    ("dummy", ActionClass::Other),
    ("helpers-common", ActionClass::Other),
];

/// The stock class of an action file name, if it is a stock name.
pub fn stock_class(file: &str) -> Option<ActionClass> {
    STOCK.iter().find(|(n, _)| *n == file).map(|(_, c)| *c)
}

/// A ban as the native backend applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirewallBan {
    /// fail2ban port text (`ssh`, `http,https`, `0:65535`); `None` = every port.
    pub port: Option<String>,
    /// Protocols (`tcp`, `udp`, ..., `all`).
    pub protocols: Vec<String>,
    /// `reject` or `drop`.
    pub blocktype: &'static str,
    /// `any`, `ipv4`, `ipv6`.
    pub family: &'static str,
    /// Approximations worth telling the user about.
    pub notes: Vec<String>,
}

/// What became of one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Kept as a native firewall ban.
    Mapped(FirewallBan),
    /// Not carried over.
    Rejected {
        /// Its class.
        class: ActionClass,
        /// Why.
        reason: String,
    },
}

/// Parameters that do not change what a stock firewall action blocks.
const HARMLESS: &[&str] = &[
    "name",
    "actname",
    "table",
    "chain",
    "chain_priority",
    "nftables",
    "iptables",
    "lockingopt",
    "returntype",
    "actionstart_on_demand",
    "actionrepair_on_unban",
    "norestored",
    "ipmset",
    "default-ipsettime",
    "ipsettime",
    "familyopt",
    "bantime",
    "timeout",
    "iptname",
    "port",
    "protocol",
    "blocktype",
    "type",
    "table_family",
    "chain_type",
    "chain_hook",
    "rule_match-custom",
    "file",
    "daemon_list",
    "addr_family",
    "addr_type",
    "addr_set",
];

fn reject(class: ActionClass, reason: impl Into<String>) -> Decision {
    Decision::Rejected {
        class,
        reason: reason.into(),
    }
}

/// Decide what to do with one action of a jail.
pub fn classify(action: &RawAction) -> Decision {
    if action.file.ends_with(".py") {
        let class = stock_class(&action.file).unwrap_or(ActionClass::Python);
        return reject(
            class,
            "python action: fail2zig runs no external code; the ban itself is kept by the jail's firewall action",
        );
    }
    let Some(class) = stock_class(&action.file) else {
        if action.props.iter().all(|(k, _)| !k.starts_with("action")) {
            return reject(
                ActionClass::Custom,
                "custom action without commands (no [Definition]); it does nothing in fail2ban either",
            );
        }
        return reject(
            ActionClass::Custom,
            "custom action: it runs shell commands and fail2zig never runs a shell",
        );
    };
    if let Some(f) = action.files.iter().find(|f| is_override(f)) {
        return reject(
            ActionClass::Custom,
            format!(
                "stock action overridden by {}: fail2zig cannot know what it now does and never runs a shell",
                f.display()
            ),
        );
    }
    match class {
        ActionClass::Firewall => firewall(action),
        ActionClass::ExternalFirewall => reject(
            class,
            "blocks through another firewall tool's command line; fail2zig bans natively with nftables (use banaction = nftables)",
        ),
        ActionClass::Notify => reject(
            class,
            "sends mail or messages through a shell command; fail2zig never runs a shell",
        ),
        ActionClass::Report => reject(
            class,
            "reports to a third-party service through a shell command; fail2zig never runs a shell",
        ),
        _ => reject(
            class,
            "runs shell commands (not a ban); fail2zig never runs a shell",
        ),
    }
}

/// A `.local` file or a `.d/` snippet.
fn is_override(path: &std::path::Path) -> bool {
    let s = path.to_string_lossy();
    s.ends_with(".local")
        || path
            .parent()
            .is_some_and(|p| p.to_string_lossy().ends_with(".d") && !p.ends_with("action.d"))
}

fn prop<'a>(props: &'a OrderedMap<String>, key: &str) -> &'a str {
    props.get(key).map_or("", |s| s.trim())
}

fn protocols(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Map a stock firewall action to a native ban, or explain why it is custom.
fn firewall(action: &RawAction) -> Decision {
    if let Some((k, v)) = action
        .args
        .iter()
        .find(|(k, _)| !HARMLESS.contains(k) && !k.contains('?'))
    {
        return reject(
            ActionClass::Custom,
            format!(
                "parameter {k}={v:?} changes what the stock action does; fail2zig cannot map it"
            ),
        );
    }
    let p = &action.params;
    let file = action.file.as_str();
    let ban = if file.starts_with("nftables") {
        nftables(p)
    } else if file.starts_with("iptables") {
        iptables(file, p)
    } else if file == "route" {
        route(p)
    } else {
        hostsdeny(p)
    };
    match ban {
        Ok(b) if b.protocols.is_empty() => reject(ActionClass::Custom, "no protocol"),
        Ok(b) => Decision::Mapped(b),
        Err(why) => reject(ActionClass::Custom, why),
    }
}

/// `nftables`, `nftables-multiport`, `nftables-allports` (fail2ban-runtime.md §2.5).
fn nftables(p: &OrderedMap<String>) -> Result<FirewallBan, String> {
    if prop(p, "chain_type") != "filter" || prop(p, "chain_hook") != "input" {
        return Err(format!(
            "nftables chain type {:?} hook {:?}: fail2zig only filters input",
            prop(p, "chain_type"),
            prop(p, "chain_hook")
        ));
    }
    let family = match prop(p, "table_family") {
        "inet" => "any",
        "ip" => "ipv4",
        "ip6" => "ipv6",
        other => return Err(format!("nftables table family {other:?}")),
    };
    let (port, protocols) = match prop(p, "type") {
        "multiport" => (
            Some(prop(p, "port").to_string()),
            protocols(prop(p, "protocol")),
        ),
        "allports" => (None, protocols(prop(p, "protocol"))),
        "custom" if prop(p, "rule_match-custom").is_empty() => (None, vec!["all".to_string()]),
        other => {
            return Err(format!(
                "nftables rule type {other:?} with match {:?}",
                prop(p, "rule_match-custom")
            ));
        }
    };
    let (blocktype, note) = nft_blocktype(prop(p, "blocktype"))
        .ok_or_else(|| format!("nftables blocktype {:?}", prop(p, "blocktype")))?;
    Ok(FirewallBan {
        port,
        protocols,
        blocktype,
        family,
        notes: note.into_iter().collect(),
    })
}

/// `iptables*` and `iptables-ipset*`.
fn iptables(file: &str, p: &OrderedMap<String>) -> Result<FirewallBan, String> {
    if prop(p, "chain") != "INPUT" {
        return Err(format!(
            "iptables chain {:?}: fail2zig only filters input",
            prop(p, "chain")
        ));
    }
    if !matches!(prop(p, "returntype"), "" | "RETURN") {
        return Err(format!(
            "iptables returntype {:?} blocks everyone else too",
            prop(p, "returntype")
        ));
    }
    let (port, protocols) = if file == "iptables-xt_recent-echo" {
        (None, vec!["all".to_string()])
    } else {
        match prop(p, "type") {
            "oneport" | "multiport" => (
                Some(prop(p, "port").to_string()),
                protocols(prop(p, "protocol")),
            ),
            "allports" => (None, protocols(prop(p, "protocol"))),
            other => return Err(format!("iptables rule type {other:?}")),
        }
    };
    let (blocktype, note) = ipt_blocktype(prop(p, "blocktype"))
        .ok_or_else(|| format!("iptables blocktype {:?}", prop(p, "blocktype")))?;
    let mut notes: Vec<String> = note.into_iter().collect();
    if file == "iptables-multiport-log" {
        notes.push("its LOG rule is not reproduced".to_string());
    }
    if file == "iptables-new" {
        notes.push("bans all packets, not only new connections".to_string());
    }
    Ok(FirewallBan {
        port,
        protocols,
        blocktype,
        family: if file == "iptables-ipset-proto4" {
            "ipv4"
        } else {
            "any"
        },
        notes,
    })
}

/// `route`: `ip route add unreachable|prohibit|blackhole <ip>` blocks every port.
fn route(p: &OrderedMap<String>) -> Result<FirewallBan, String> {
    let blocktype = match prop(p, "blocktype") {
        "unreachable" | "prohibit" => "reject",
        "blackhole" => "drop",
        other => return Err(format!("route type {other:?}")),
    };
    Ok(FirewallBan {
        port: None,
        protocols: vec!["all".to_string()],
        blocktype,
        family: "any",
        notes: vec![
            "a route ban blocks every port; kept as a firewall ban on all ports".to_string(),
        ],
    })
}

/// `hostsdeny`: TCP wrappers, kept as a reject of every TCP port.
fn hostsdeny(p: &OrderedMap<String>) -> Result<FirewallBan, String> {
    if prop(p, "file") != "/etc/hosts.deny" {
        return Err(format!("hosts.deny file {:?}", prop(p, "file")));
    }
    Ok(FirewallBan {
        port: None,
        protocols: vec!["tcp".to_string()],
        blocktype: "reject",
        family: "any",
        notes: vec![format!(
            "TCP wrappers denial for {:?}; kept as a reject of every TCP port",
            prop(p, "daemon_list")
        )],
    })
}

fn nft_blocktype(b: &str) -> Option<(&'static str, Option<String>)> {
    match b {
        "reject" => Some(("reject", None)),
        "drop" => Some(("drop", None)),
        b if b.starts_with("reject with ") => Some((
            "reject",
            Some(format!("blocktype {b:?} approximated as reject")),
        )),
        _ => None,
    }
}

fn ipt_blocktype(b: &str) -> Option<(&'static str, Option<String>)> {
    let upper = b.to_ascii_uppercase();
    if upper == "DROP" {
        return Some(("drop", None));
    }
    if upper == "REJECT" || upper == "REJECT --REJECT-WITH ICMP-PORT-UNREACHABLE" {
        return Some(("reject", None));
    }
    upper.starts_with("REJECT ").then(|| {
        (
            "reject",
            Some(format!("blocktype {b:?} approximated as reject")),
        )
    })
}
