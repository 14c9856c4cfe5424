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
//! Differences, all for bounded memory: the number of tracked ids is capped at `max_tracked`;
//! matched lines are trimmed to `maxmatches` also for the first failure of an id, and each kept
//! line to [`MAX_MATCH_BYTES`].
//!
//! # Eviction policy
//! When a new id arrives and `max_tracked` ids are tracked, entries idle for `findtime` are
//! dropped first (the regular cleanup); if that leaves more than 7/8 of the cap, the entries
//! with the oldest last failure are evicted until 7/8 of the cap remain. Bans never live here
//! (a banned id has left the window), so eviction can never lift or shorten a ban; it can only
//! make a very slow attacker among a flood of others start counting again. Evictions are counted
//! ([`FailWindow::evicted`]).

use std::collections::HashMap;

/// Longest matched line kept per failure (bytes, cut at a character boundary).
pub const MAX_MATCH_BYTES: usize = 2048;

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
    pub matches: Vec<Box<str>>,
}

/// An id that reached `maxretry`, removed from the window: what a ban is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct FailTicket {
    pub id: Box<str>,
    pub entry: FailEntry,
}

/// fail2ban's `FailManager`, with a bound on tracked ids.
#[derive(Debug)]
pub struct FailWindow {
    entries: HashMap<Box<str>, FailEntry>,
    findtime: f64,
    maxretry: u32,
    maxmatches: usize,
    max_tracked: usize,
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
            push_matches(&mut e.matches, lines, self.maxmatches);
        } else {
            if self.entries.len() >= self.max_tracked {
                self.make_room(now);
            }
            let mut matches = Vec::new();
            push_matches(&mut matches, lines, self.maxmatches);
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
        self.take_if_due(id)
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
        let due = self.entries.get(id)?.retry >= f64::from(self.maxretry);
        if !due {
            return None;
        }
        let (id, entry) = self.entries.remove_entry(id)?;
        Some(FailTicket { id, entry })
    }

    /// Drops entries whose last failure is at or before `now - findtime`.
    pub fn cleanup(&mut self, now: f64) {
        let limit = now - self.findtime;
        self.entries.retain(|_, e| e.last > limit);
    }

    /// Forgets one id (manual unban does not need this; `delFailure`).
    pub fn remove(&mut self, id: &str) -> Option<FailEntry> {
        self.entries.remove(id)
    }

    fn make_room(&mut self, now: f64) {
        self.cleanup(now);
        let keep = self.max_tracked - (self.max_tracked / 8).max(1);
        if self.entries.len() <= keep {
            return;
        }
        let excess = self.entries.len() - keep;
        let mut lasts: Vec<f64> = self.entries.values().map(|e| e.last).collect();
        let (_, cut, _) = lasts.select_nth_unstable_by(excess - 1, f64::total_cmp);
        let cut = *cut;
        let mut left = excess;
        self.entries.retain(|_, e| {
            if left > 0 && e.last.total_cmp(&cut).is_le() {
                left -= 1;
                false
            } else {
                true
            }
        });
        self.evicted += (excess - left) as u64;
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

    /// Ids evicted because the window was full.
    pub fn evicted(&self) -> u64 {
        self.evicted
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

fn push_matches(matches: &mut Vec<Box<str>>, lines: &[String], max: usize) {
    if max == 0 {
        matches.clear();
        return;
    }
    let skip = lines.len().saturating_sub(max);
    for line in &lines[skip..] {
        matches.push(cut_line(line).into());
    }
    if matches.len() > max {
        matches.drain(..matches.len() - max);
    }
}

fn cut_line(line: &str) -> &str {
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
        assert_eq!(e.matches.len(), 2);
        assert_eq!(&*e.matches[0], "b");
        assert_eq!(e.matches[1].len(), MAX_MATCH_BYTES);
    }
}
