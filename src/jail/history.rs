//! Ban history shared by all jails: the latest ban of each id per jail (fail2ban's `bips`
//! table), kept in memory and saved by `persist`.
//!
//! Jails record every new ban here and look up previous bans for `bantime.increment` (per jail,
//! or summed over all jails with `bantime.overalljails`) and for restoring bans at start. The
//! daemon owns one `BanHistory`, passes it to the jail calls that may ban or unban, and saves it
//! when [`BanHistory::take_dirty`] says it changed.
//!
//! # Compatibility
//! Rows are replaced per (jail, id) as `INSERT OR REPLACE INTO bips`; expiry keeps them; manual
//! unban deletes them (the id starts again at ban count 1); [`BanHistory::purge`] applies
//! fail2ban's `dbpurgeage` rule for `bips`. The overall-jails lookup returns
//! `(SUM(bancount), MAX(timeofban))` like fail2ban's query.

use std::collections::HashMap;

use crate::persist::BanRecord;

/// Latest ban per (jail, id).
#[derive(Debug, Default, Clone)]
pub struct BanHistory {
    by_id: HashMap<Box<str>, Vec<BanRecord>>,
    dirty: bool,
}

impl BanHistory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the history from loaded records (later duplicates replace earlier ones).
    pub fn from_records(records: impl IntoIterator<Item = BanRecord>) -> Self {
        let mut h = BanHistory::new();
        for r in records {
            h.record(r);
        }
        h.dirty = false;
        h
    }

    /// All records, for saving (grouped by id).
    pub fn records(&self) -> impl Iterator<Item = &BanRecord> {
        self.by_id.values().flatten()
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.by_id.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Records of one jail.
    pub fn for_jail<'a>(&'a self, jail: &'a str) -> impl Iterator<Item = &'a BanRecord> + 'a {
        self.records().filter(move |r| r.jail == jail)
    }

    pub fn get(&self, jail: &str, id: &str) -> Option<&BanRecord> {
        self.by_id.get(id)?.iter().find(|r| r.jail == jail)
    }

    /// Previous bans of `id`: `(ban count, time of ban)` in `jail`, or summed over every jail.
    pub fn lookup(&self, jail: &str, id: &str, overall: bool) -> Option<(u32, i64)> {
        if !overall {
            return self.get(jail, id).map(|r| (r.ban_count, r.time_of_ban));
        }
        let rows = self.by_id.get(id).filter(|v| !v.is_empty())?;
        let count = rows
            .iter()
            .map(|r| r.ban_count)
            .fold(0u32, u32::saturating_add);
        let time = rows.iter().map(|r| r.time_of_ban).max()?;
        Some((count, time))
    }

    /// Inserts or replaces the record of (jail, id).
    pub fn record(&mut self, rec: BanRecord) {
        self.dirty = true;
        let rows = self.by_id.entry(rec.id.as_str().into()).or_default();
        match rows.iter_mut().find(|r| r.jail == rec.jail) {
            Some(r) => *r = rec,
            None => rows.push(rec),
        }
    }

    /// Deletes the record of (jail, id); true if there was one.
    pub fn forget(&mut self, jail: &str, id: &str) -> bool {
        let Some(rows) = self.by_id.get_mut(id) else {
            return false;
        };
        let before = rows.len();
        rows.retain(|r| r.jail != jail);
        let removed = rows.len() != before;
        if rows.is_empty() {
            self.by_id.remove(id);
        }
        self.dirty |= removed;
        removed
    }

    /// Deletes every record of `jail` (`unban --all`, `reload --unban`).
    pub fn forget_jail(&mut self, jail: &str) {
        let before = self.len();
        self.by_id.retain(|_, rows| {
            rows.retain(|r| r.jail != jail);
            !rows.is_empty()
        });
        self.dirty |= self.len() != before;
    }

    /// fail2ban's purge of `bips`: drops records older than `purge_age` that are not permanent
    /// and whose `time_of_ban + 3 * bantime` is also older.
    pub fn purge(&mut self, now: f64, purge_age: f64) {
        let limit = now - purge_age;
        let before = self.len();
        self.by_id.retain(|_, rows| {
            rows.retain(|r| {
                let t = r.time_of_ban as f64;
                !(t < limit && r.bantime != -1.0 && t + 3.0 * r.bantime < limit)
            });
            !rows.is_empty()
        });
        self.dirty |= self.len() != before;
    }

    /// True once after any change since the last call: time to save.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }
}
