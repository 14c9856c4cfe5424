//! Who may talk to the daemon: root, and the members of one configured group.
//!
//! The kernel tells the server who is on the other end of a connection (`SO_PEERCRED`: uid,
//! gid, pid at `connect()` time). `SO_PEERCRED` carries only the primary group, so membership
//! through a supplementary group is decided from the user database (`/etc/passwd` and
//! `/etc/group`), read once when the policy is built — before the daemon sandboxes itself.
//!
//! # Compatibility
//! fail2ban relies on the socket file's mode only (`srwx------`, root). fail2zig keeps a
//! restrictive mode (0600, or 0660 with the group) and checks credentials as well, so a socket
//! made world-writable by mistake still admits nobody else.

use rustix::process::{Gid, Uid};

use super::IpcError;

/// The credentials check applied to every accepted connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerPolicy {
    group: Option<Gid>,
    members: Vec<Uid>,
}

impl PeerPolicy {
    /// Only root.
    pub fn root_only() -> PeerPolicy {
        PeerPolicy {
            group: None,
            members: Vec::new(),
        }
    }

    /// Root and the group `gid`: processes whose gid is `gid`, and the users the user database
    /// lists as members (primary group or member list).
    pub fn with_group(gid: Gid) -> PeerPolicy {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
        PeerPolicy::from_database(gid, &passwd, &group)
    }

    /// As [`PeerPolicy::with_group`], from the texts of `/etc/passwd` and `/etc/group`.
    pub fn from_database(gid: Gid, passwd: &str, group: &str) -> PeerPolicy {
        let raw_gid = gid.as_raw();
        let mut names: Vec<&str> = Vec::new();
        for line in group.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() >= 4 && f[2].parse::<u32>() == Ok(raw_gid) {
                names.extend(f[3].split(',').filter(|n| !n.is_empty()));
            }
        }
        let mut members = Vec::new();
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 4 {
                continue;
            }
            let (Ok(uid), Ok(primary)) = (f[2].parse::<u32>(), f[3].parse::<u32>()) else {
                continue;
            };
            if primary == raw_gid || names.contains(&f[0]) {
                members.push(Uid::from_raw(uid));
            }
        }
        PeerPolicy {
            group: Some(gid),
            members,
        }
    }

    /// The group admitted besides root.
    pub fn group(&self) -> Option<Gid> {
        self.group
    }

    /// Whether a peer with these credentials may send commands.
    pub fn allows(&self, uid: Uid, gid: Gid) -> bool {
        uid.is_root() || self.group == Some(gid) || self.members.contains(&uid)
    }
}

/// The gid of a group name, from `/etc/group`.
pub fn group_by_name(name: &str) -> Result<Gid, IpcError> {
    let text = std::fs::read_to_string("/etc/group").map_err(|e| IpcError::UserDatabase {
        path: "/etc/group".into(),
        source: e,
    })?;
    group_in_database(name, &text).ok_or_else(|| IpcError::UnknownGroup(name.to_string()))
}

/// The gid of a group name in the text of `/etc/group`.
pub fn group_in_database(name: &str, group: &str) -> Option<Gid> {
    group.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() >= 3 && f[0] == name)
            .then(|| f[2].parse::<u32>().ok().map(Gid::from_raw))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        alice:x:1000:1000::/home/alice:/bin/sh\n\
        bob:x:1001:1001::/home/bob:/bin/sh\n\
        carol:x:1002:120::/home/carol:/bin/sh\n\
        broken line\n";
    const GROUP: &str = "root:x:0:\nalice:x:1000:\nbob:x:1001:\nf2z:x:120:alice\n";

    #[test]
    fn root_only_admits_root() {
        let p = PeerPolicy::root_only();
        assert!(p.allows(Uid::ROOT, Gid::ROOT));
        assert!(!p.allows(Uid::from_raw(1000), Gid::from_raw(1000)));
        assert!(!p.allows(Uid::from_raw(1000), Gid::ROOT));
    }

    #[test]
    fn group_members_from_database() {
        let gid = group_in_database("f2z", GROUP).unwrap();
        assert_eq!(gid.as_raw(), 120);
        let p = PeerPolicy::from_database(gid, PASSWD, GROUP);
        assert!(p.allows(Uid::ROOT, Gid::ROOT));
        // Listed member (supplementary), primary group elsewhere.
        assert!(p.allows(Uid::from_raw(1000), Gid::from_raw(1000)));
        // Primary group.
        assert!(p.allows(Uid::from_raw(1002), Gid::from_raw(120)));
        // Anyone whose process runs with the group as its gid.
        assert!(p.allows(Uid::from_raw(5000), Gid::from_raw(120)));
        // Not a member.
        assert!(!p.allows(Uid::from_raw(1001), Gid::from_raw(1001)));
        assert_eq!(group_in_database("nosuch", GROUP), None);
    }
}
