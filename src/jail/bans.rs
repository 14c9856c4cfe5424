//! The ban table of one jail: fail2ban's `BanManager`. Holds current bans in ban order, their
//! end times, and a deadline heap so the daemon's timer learns the next expiry in O(log n).
//!
//! It does not decide bans (that is [`super::Jail`]) and never touches a firewall.
//!
//! # Compatibility
//! As fail2ban: a ban's end is `time + bantime` where `time` is the last failure's log time and
//! `bantime` is the ban's own (increment, prolongation) or else the jail's current one — so a
//! changed jail bantime moves every ban without an own bantime. `-1` is permanent. A ban expires
//! when `now > end` (strictly). A repeated ban of a banned id prolongs it only if the new end is
//! later, setting the own bantime to `bantime + (new time - old time)`. The banned list keeps
//! insertion order (fail2ban's dict order) for `status`.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::net::IpAddr;

/// One current ban.
#[derive(Debug, Clone, PartialEq)]
pub struct Ban {
    /// Failure id (address text or raw id).
    pub id: Box<str>,
    /// The address, when the id is one.
    pub ip: Option<IpAddr>,
    /// Ban time: the last failure's log time (epoch seconds), or `now` for manual bans.
    pub time: f64,
    /// Own ban time (increment, prolongation, restore); `None` = the jail's bantime.
    pub bantime: Option<f64>,
    /// How many times this id has been banned, this ban included.
    pub ban_count: u32,
    /// Raw failures that led to the ban.
    pub failures: u32,
    /// Matched lines kept for the ban (`<matches>`).
    pub matches: Vec<Box<str>>,
    /// Restored from the state file at start.
    pub restored: bool,
    seq: u64,
}

impl Ban {
    pub fn new(id: &str, ip: Option<IpAddr>, time: f64) -> Ban {
        Ban {
            id: id.into(),
            ip,
            time,
            bantime: None,
            ban_count: 0,
            failures: 0,
            matches: Vec::new(),
            restored: false,
            seq: 0,
        }
    }

    /// The effective ban time under jail bantime `default`.
    pub fn effective_bantime(&self, default: f64) -> f64 {
        self.bantime.unwrap_or(default)
    }

    /// End of the ban (epoch seconds; `f64::INFINITY` when permanent).
    pub fn end(&self, default: f64) -> f64 {
        let bt = self.effective_bantime(default);
        if bt == -1.0 {
            f64::INFINITY
        } else {
            self.time + bt
        }
    }
}

/// Why [`BanTable::add`] did not add a ban.
#[derive(Debug, Clone, PartialEq)]
pub enum NotAdded {
    /// The ban's end is already in the past.
    Expired,
    /// The id is banned; `prolonged` says whether its end moved later. Carries the time of the
    /// existing ban (for fail2ban's "already banned" log level).
    AlreadyBanned { banned_at: f64, prolonged: bool },
}

#[derive(Debug, Clone, Copy)]
struct Deadline {
    end: f64,
    seq: u64,
}

impl PartialEq for Deadline {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Deadline {}
impl PartialOrd for Deadline {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Deadline {
    fn cmp(&self, o: &Self) -> Ordering {
        self.end.total_cmp(&o.end).then(self.seq.cmp(&o.seq))
    }
}

/// Current bans of one jail.
#[derive(Debug, Default)]
pub struct BanTable {
    bans: HashMap<Box<str>, Ban>,
    by_seq: HashMap<u64, Box<str>>,
    heap: BinaryHeap<Reverse<Deadline>>,
    next_seq: u64,
    total: u64,
}

impl BanTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// `BanManager.addBanTicket`: adds `ban` unless it is expired or the id is already banned
    /// (then prolongs as fail2ban does). On success the ban count is incremented and `Total
    /// banned` grows.
    pub fn add(&mut self, mut ban: Ban, bantime: f64, now: f64) -> Result<&Ban, NotAdded> {
        let end = ban.end(bantime);
        if end < now {
            return Err(NotAdded::Expired);
        }
        if let Some(old) = self.bans.get_mut(&ban.id) {
            let banned_at = old.time;
            let prolonged = end > old.end(bantime);
            if prolonged {
                let mut bt = ban.effective_bantime(bantime);
                if bt != -1.0 {
                    let dif = ban.time - old.time;
                    if dif > 0.0 {
                        bt += dif;
                    }
                }
                old.bantime = Some(bt);
                let d = Deadline {
                    end: old.end(bantime),
                    seq: old.seq,
                };
                self.heap.push(Reverse(d));
            }
            return Err(NotAdded::AlreadyBanned {
                banned_at,
                prolonged,
            });
        }
        self.next_seq += 1;
        ban.seq = self.next_seq;
        ban.ban_count += 1;
        self.total += 1;
        self.heap.push(Reverse(Deadline { end, seq: ban.seq }));
        self.by_seq.insert(ban.seq, ban.id.clone());
        let id = ban.id.clone();
        Ok(self.bans.entry(id).or_insert(ban))
    }

    /// Sets the own bantime of a current ban (increment) and reschedules it.
    pub fn set_bantime(&mut self, id: &str, bantime: f64, jail_bantime: f64) {
        if let Some(b) = self.bans.get_mut(id) {
            b.bantime = Some(bantime);
            let d = Deadline {
                end: b.end(jail_bantime),
                seq: b.seq,
            };
            self.heap.push(Reverse(d));
        }
    }

    /// Sets the ban count of a current ban (increment learnt it from the history).
    pub fn set_ban_count(&mut self, id: &str, count: u32) {
        if let Some(b) = self.bans.get_mut(id) {
            b.ban_count = count;
        }
    }

    /// Removes and returns the bans with `now > end`, earliest end first.
    pub fn expire(&mut self, now: f64, bantime: f64) -> Vec<Ban> {
        let mut out = Vec::new();
        while let Some(Reverse(d)) = self.heap.peek().copied() {
            if now <= d.end || d.end.is_nan() {
                break;
            }
            self.heap.pop();
            let Some(id) = self.by_seq.get(&d.seq) else {
                continue;
            };
            let Some(ban) = self.bans.get(id) else {
                continue;
            };
            let end = ban.end(bantime);
            if end.total_cmp(&d.end) != Ordering::Equal {
                continue; // stale deadline: the ban was prolonged or re-timed
            }
            let id = id.clone();
            if let Some(ban) = self.remove(&id) {
                out.push(ban);
            }
        }
        out
    }

    /// Earliest end among current bans (`None` if none or all permanent).
    pub fn next_end(&mut self, bantime: f64) -> Option<f64> {
        while let Some(Reverse(d)) = self.heap.peek().copied() {
            let live = self
                .by_seq
                .get(&d.seq)
                .and_then(|id| self.bans.get(id))
                .is_some_and(|b| b.end(bantime).total_cmp(&d.end) == Ordering::Equal);
            if live {
                return d.end.is_finite().then_some(d.end);
            }
            self.heap.pop();
        }
        None
    }

    /// Rebuilds the deadline heap (after the jail bantime changed).
    pub fn reschedule(&mut self, bantime: f64) {
        self.heap = self
            .bans
            .values()
            .map(|b| {
                Reverse(Deadline {
                    end: b.end(bantime),
                    seq: b.seq,
                })
            })
            .collect();
    }

    pub fn remove(&mut self, id: &str) -> Option<Ban> {
        let ban = self.bans.remove(id)?;
        self.by_seq.remove(&ban.seq);
        Some(ban)
    }

    pub fn get(&self, id: &str) -> Option<&Ban> {
        self.bans.get(id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.bans.contains_key(id)
    }

    /// `Currently banned`.
    pub fn len(&self) -> usize {
        self.bans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bans.is_empty()
    }

    /// `Total banned` since the jail was created (restored bans included).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Current bans in ban order (fail2ban's `Banned IP list`).
    pub fn in_ban_order(&self) -> Vec<&Ban> {
        let mut v: Vec<&Ban> = self.bans.values().collect();
        v.sort_by_key(|b| b.seq);
        v
    }

    /// Current bans ordered by end time (fail2ban's `get banip --with-time` order).
    pub fn in_end_order(&self, bantime: f64) -> Vec<&Ban> {
        let mut v = self.in_ban_order();
        v.sort_by(|a, b| a.end(bantime).total_cmp(&b.end(bantime)));
        v
    }
}
