//! The failure window of one jail: fail2ban's `FailManager`, keyed by failure id, bounded.
//!
//! Owns the per-id counters (`first`, `last`, weighted `retry`, raw `failures`, last matches)
//! and decides when an id reaches `maxretry`. It knows nothing about bans, ignore rules or time
//! sources; [`super::Jail`] calls it.
//!
//! # Compatibility
//! Identical to fail2ban 1.0.2's `FailManager.addFailure` + `FailTicket.adjustTime`: a failure
//! later than the entry's last one whose window start is older than `t - findtime` rescales the
//! count to `int(round(retry / (t - first) * findtime))` (half-to-even, the same floating-point
//! operations in the same order) and moves the window start to `t - findtime`; then `retry` grows
//! by the failure's weight. An id is handed over for banning as soon as `retry >= maxretry`, and
//! [`FailWindow::cleanup`] drops entries whose last failure is `findtime` old.
//!
//! Differences, all for bounded memory: the number of tracked ids is capped at `max_tracked`
//! and the bytes of kept matched lines at a budget ([`DEFAULT_MATCH_BUDGET`]); matched lines are
//! trimmed to `maxmatches` also for the first failure of an id, and each kept line to
//! [`MAX_MATCH_BYTES`].
//!
//! # Eviction policy
//! When a new id arrives while `max_tracked` ids are tracked, or the kept matched lines exceed
//! their budget, entries idle for `findtime` are dropped first (the regular cleanup); if that
//! leaves more than 7/8 of either bound in use, the entries with the oldest last failure are
//! evicted until at most 7/8 of both are used. Bans never live here (a banned id has left the
//! window), so eviction can never lift or shorten a ban; it can only make a slow attacker hidden
//! in a flood of others start counting again. Evictions are counted ([`FailWindow::evicted`],
//! shown in status).

use std::collections::HashMap;

/// Longest matched line kept per failure (bytes, cut at a character boundary).
pub const MAX_MATCH_BYTES: usize = 2048;
/// Default bound on the matched-line bytes kept by one window.
pub const DEFAULT_MATCH_BUDGET: usize = 16 * 1024 * 1024;

/// Matched lines of one entry, stored as one allocation (lines joined by `\n`; a log line
/// never contains one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matches(Option<Box<str>>);

impl Matches {
    /// The lines, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.as_deref().into_iter().flat_map(|s| s.split('\n'))
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// Heap bytes held.
    pub fn bytes(&self) -> usize {
        self.0.as_ref().map_or(0, |s| s.len())
    }

    /// Appends `lines` and keeps the last `max`.
    fn push(&mut self, lines: &[String], max: usize) {
        if max == 0 {
            self.0 = None;
            return;
        }
        if lines.is_empty() {
            return;
        }
        let kept: Vec<&str> = self
            .iter()
            .chain(lines.iter().map(|l| cut_line(l)))
            .collect();
        let skip = kept.len().saturating_sub(max);
        self.0 = Some(kept[skip..].join("\n").into_boxed_str());
    }

    pub fn to_vec(&self) -> Vec<Box<str>> {
        self.iter().map(Box::from).collect()
    }
}

/// One tracked failure id.
#[derive(Debug, Clone, PartialEq)]
pub struct FailEntry {
    /// Start of the (rate-estimated) window.
    pub first: f64,
    /// Time of the latest failure (the future ban's time).
    pub last: f64,
    /// Weighted count compared with `maxretry`.
    pub retry: f64,
    /// Raw number of failures (`<failures>`).
    pub failures: u32,
    /// Ban count learnt from history (increment's failure weighting).
    pub ban_count: u32,
    /// The last `maxmatches` matched lines.
    pub matches: Matches,
}

/// An id that reached `maxretry`, removed from the window: what a ban is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct FailTicket {
    pub id: Box<str>,
    pub entry: FailEntry,
}

/// fail2ban's `FailManager`, with bounds on tracked ids and kept matched-line bytes.
#[derive(Debug)]
pub struct FailWindow {
    entries: HashMap<Box<str>, FailEntry>,
    findtime: f64,
    maxretry: u32,
    maxmatches: usize,
    max_tracked: usize,
    match_budget: usize,
    match_bytes: usize,
    total: u64,
    evicted: u64,
}

impl FailWindow {
    pub fn new(findtime: f64, maxretry: u32, maxmatches: usize, max_tracked: usize) -> Self {
        FailWindow {
            entries: HashMap::new(),
            findtime,
            maxretry,
            maxmatches,
            max_tracked: max_tracked.max(1),
            match_budget: DEFAULT_MATCH_BUDGET,
            match_bytes: 0,
            total: 0,
            evicted: 0,
        }
    }

    /// Applies changed settings (reload); tracked entries are kept.
    pub fn configure(&mut self, findtime: f64, maxretry: u32, maxmatches: usize, cap: usize) {
        self.findtime = findtime;
        self.maxretry = maxretry;
        self.maxmatches = maxmatches;
        self.max_tracked = cap.max(1);
    }

    /// Bounds the bytes of matched lines kept over all entries.
    pub fn set_match_budget(&mut self, bytes: usize) {
        self.match_budget = bytes.max(MAX_MATCH_BYTES);
    }

    /// Adds one failure of `id` at `time` weighing `count` (1 for a log line), with its lines.
    /// Returns the ticket when the id reaches `maxretry` (it then leaves the window).
    pub fn add(
        &mut self,
        id: &str,
        time: f64,
        count: f64,
        lines: &[String],
        now: f64,
    ) -> Option<FailTicket> {
        self.total += 1;
        if let Some(e) = self.entries.get_mut(id) {
            adjust_time(e, time, self.findtime);
            e.retry += count;
            e.failures += 1;
            let before = e.matches.bytes();
            e.matches.push(lines, self.maxmatches);
            self.match_bytes = self.match_bytes + e.matches.bytes() - before;
        } else {
            if self.entries.len() >= self.max_tracked {
                self.make_room(now);
            }
            let mut matches = Matches::default();
            matches.push(lines, self.maxmatches);
            self.match_bytes += matches.bytes();
            let entry = FailEntry {
                first: time,
                last: time,
                retry: count,
                failures: 1,
                ban_count: 0,
                matches,
            };
            self.entries.insert(id.into(), entry);
        }
        let ticket = self.take_if_due(id);
        if self.match_bytes > self.match_budget {
            self.make_room(now);
        }
        ticket
    }

    /// fail2ban's observer re-adding an already counted failure with extra weight (increment's
    /// failure weighting): only if the id is still tracked. Returns the ticket when it is due.
    pub fn add_weight(
        &mut self,
        id: &str,
        time: f64,
        extra: f64,
        ban_count: u32,
    ) -> Option<FailTicket> {
        let e = self.entries.get_mut(id)?;
        self.total += 1;
        adjust_time(e, time, self.findtime);
        e.retry += extra;
        e.failures += 1;
        e.ban_count = e.ban_count.max(ban_count);
        self.take_if_due(id)
    }

    fn take_if_due(&mut self, id: &str) -> Option<FailTicket> {
        if self.entries.get(id)?.retry < f64::from(self.maxretry) {
            return None;
        }
        let (id, entry) = self.entries.remove_entry(id)?;
        self.match_bytes -= entry.matches.bytes();
        Some(FailTicket { id, entry })
    }

    /// Drops entries whose last failure is at or before `now - findtime`.
    pub fn cleanup(&mut self, now: f64) {
        let limit = now - self.findtime;
        let mut freed = 0;
        self.entries.retain(|_, e| {
            let keep = e.last > limit;
            if !keep {
                freed += e.matches.bytes();
            }
            keep
        });
        self.match_bytes -= freed;
    }

    /// Forgets one id.
    pub fn remove(&mut self, id: &str) -> Option<FailEntry> {
        let e = self.entries.remove(id)?;
        self.match_bytes -= e.matches.bytes();
        Some(e)
    }

    /// The eviction policy (module doc): cleanup, then the least recently failed entries until
    /// at most 7/8 of both bounds are used.
    fn make_room(&mut self, now: f64) {
        self.cleanup(now);
        let keep = self.max_tracked - (self.max_tracked / 8).max(1);
        let keep_bytes = self.match_budget - self.match_budget / 8;
        if self.entries.len() <= keep && self.match_bytes <= keep_bytes {
            return;
        }
        let mut order: Vec<(f64, usize)> = self
            .entries
            .values()
            .map(|e| (e.last, e.matches.bytes()))
            .collect();
        order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let (mut n, mut bytes, mut cut) = (self.entries.len(), self.match_bytes, f64::NEG_INFINITY);
        let mut evict = 0usize;
        for (last, b) in order {
            if n <= keep && bytes <= keep_bytes {
                break;
            }
            n -= 1;
            bytes -= b;
            cut = last;
            evict += 1;
        }
        let mut left = evict;
        let mut freed = 0;
        self.entries.retain(|_, e| {
            if left > 0 && e.last <= cut {
                left -= 1;
                freed += e.matches.bytes();
                false
            } else {
                true
            }
        });
        self.match_bytes -= freed;
        self.evicted += (evict - left) as u64;
    }

    /// `Currently failed`.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `Total failed`: failure additions since the jail was created.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Ids evicted because a bound was reached.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Bytes of matched lines currently kept.
    pub fn match_bytes(&self) -> usize {
        self.match_bytes
    }

    pub fn get(&self, id: &str) -> Option<&FailEntry> {
        self.entries.get(id)
    }
}

/// `FailTicket.adjustTime`.
fn adjust_time(e: &mut FailEntry, time: f64, findtime: f64) {
    if time > e.last {
        if e.first < time - findtime {
            let scaled = e.retry / (time - e.first) * findtime;
            e.retry = scaled.round_ties_even();
            e.first = time - findtime;
        }
        e.last = time;
    }
}

fn cut_line(line: &str) -> &str {
    let line = line.split('\n').next().unwrap_or("");
    if line.len() <= MAX_MATCH_BYTES {
        return line;
    }
    let mut end = MAX_MATCH_BYTES;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_budget_evicts_oldest() {
        let mut w = FailWindow::new(600.0, 100, 5, 1000);
        w.set_match_budget(MAX_MATCH_BYTES * 4);
        let long = vec!["y".repeat(MAX_MATCH_BYTES)];
        for i in 0..5 {
            w.add(&format!("id{i}"), f64::from(i), 1.0, &long, 10.0);
        }
        assert!(w.match_bytes() <= MAX_MATCH_BYTES * 4);
        assert!(w.get("id0").is_none() && w.get("id4").is_some());
        assert_eq!(w.match_bytes(), w.len() * MAX_MATCH_BYTES);
    }

    #[test]
    fn eviction_keeps_newest() {
        let mut w = FailWindow::new(600.0, 100, 1, 16);
        for i in 0..16 {
            w.add(
                &format!("10.0.0.{i}"),
                1000.0 + f64::from(i),
                1.0,
                &[],
                1016.0,
            );
        }
        assert_eq!(w.len(), 16);
        w.add("10.0.1.1", 1017.0, 1.0, &[], 1017.0);
        assert_eq!(w.len(), 15);
        assert_eq!(w.evicted(), 2);
        assert!(w.get("10.0.0.0").is_none() && w.get("10.0.0.1").is_none());
        assert!(w.get("10.0.0.2").is_some() && w.get("10.0.1.1").is_some());
    }

    #[test]
    fn matches_are_bounded() {
        let mut w = FailWindow::new(600.0, 100, 2, 16);
        let long = "x".repeat(MAX_MATCH_BYTES + 10);
        let lines = vec!["a".to_string(), "b".to_string(), long];
        w.add("id", 1.0, 1.0, &lines, 1.0);
        let e = w.get("id").unwrap();
        let kept: Vec<&str> = e.matches.iter().collect();
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0], "b");
        assert_eq!(kept[1].len(), MAX_MATCH_BYTES);
        assert_eq!(w.match_bytes(), 1 + 1 + MAX_MATCH_BYTES);
    }
}
