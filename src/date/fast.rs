//! Hand-written matchers for the hot default templates: B0 (ISO 8601 / `2005/01/23 21:59:59`),
//! B1 (syslog `Jan 23 21:59:59`) and B4 (apache `23/Jan/2005:21:59:59 +0100`), in their
//! line-begin (`{^LN-BEG}`) and word-boundary forms.
//!
//! Called by `DateDetector` instead of the regex engine when the line is ASCII; any other line
//! goes to the regex engine. Each matcher enumerates the candidate matches in exactly the order
//! Python's backtracking tries them (greedy optionals first, alternatives left to right) and
//! accepts the first one whose end boundary holds, so it returns the same match and the same
//! group spans as the regex. Before enumerating, each tries its common fixed-width shape
//! (`quick_*`), which is provably the enumeration's first accepted path when it matches, and
//! reads the values there (`Values`) for `convert::finish`. `tests` below checks the matchers
//! against the regex engine on generated lines, and the whole detector with and without them.
//!
//! # Compatibility
//! Same results as fail2ban 1.0.2's regexes on ASCII text, including Python's `\s` (which also
//! matches `\x1c`–`\x1f`).

use super::convert::{Civil, Field, Spans};
use super::pattern::Found;

/// Which base pattern a fast matcher implements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Base {
    Iso,
    Syslog,
    Apache,
}

/// What precedes the date in the template's regex.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Prefix {
    /// `^(?:\W{0,2})?` (`{^LN-BEG}` templates).
    LineBegin,
    /// `(?=^|\b|\W)` (unanchored defaults).
    Word,
    /// `^[^\[]*\[` (datepattern `^[^\[]*\[({DATE})`).
    UntilBracket,
    /// `^` (datepattern `^{DATE}`).
    Start,
}

/// A fast matcher: a base pattern and what precedes it.
#[derive(Debug, Clone)]
pub(crate) struct Fast {
    pub(crate) base: Base,
    pub(crate) prefix: Prefix,
    /// Allowed first three digits of `%ExY`.
    pub(crate) years: &'static [[u8; 3]],
}

fn word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// How many characters `(?:\W{0,2})?` takes at the start of `hay` (its first try).
#[inline(always)]
fn line_begin_skip(hay: &[u8]) -> usize {
    match hay {
        [a, b, ..] if !word(*a) && !word(*b) => 2,
        [a, ..] if !word(*a) => 1,
        _ => 0,
    }
}

fn py_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1f)
}

/// Small candidate list (lengths in priority order).
struct Cands {
    v: [usize; 8],
    n: usize,
}

impl Cands {
    fn new() -> Cands {
        Cands { v: [0; 8], n: 0 }
    }
    fn push(&mut self, l: usize) {
        if self.n < 8 {
            self.v[self.n] = l;
            self.n += 1;
        }
    }
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.v[..self.n].iter().copied()
    }
}

struct Hay<'a> {
    h: &'a [u8],
}

impl Hay<'_> {
    fn at(&self, i: usize) -> u8 {
        self.h.get(i).copied().unwrap_or(0)
    }
    fn digit(&self, i: usize) -> bool {
        self.at(i).is_ascii_digit()
    }
    fn in_range(&self, i: usize, lo: u8, hi: u8) -> bool {
        (lo..=hi).contains(&self.at(i))
    }
    /// `[1-2]\d|[0 ]?[1-9]|3[0-1]`
    fn day(&self, p: usize) -> Cands {
        let mut c = Cands::new();
        if self.in_range(p, b'1', b'2') && self.digit(p + 1) {
            c.push(2);
        }
        if matches!(self.at(p), b'0' | b' ') && self.in_range(p + 1, b'1', b'9') {
            c.push(2);
        }
        if self.in_range(p, b'1', b'9') {
            c.push(1);
        }
        if self.at(p) == b'3' && self.in_range(p + 1, b'0', b'1') {
            c.push(2);
        }
        c
    }
    /// `0?[1-9]|1[0-2]`
    fn month(&self, p: usize) -> Cands {
        let mut c = Cands::new();
        if self.at(p) == b'0' && self.in_range(p + 1, b'1', b'9') {
            c.push(2);
        }
        if self.in_range(p, b'1', b'9') {
            c.push(1);
        }
        if self.at(p) == b'1' && self.in_range(p + 1, b'0', b'2') {
            c.push(2);
        }
        c
    }
    /// `[0-1]?\d|2[0-3]`
    fn hour(&self, p: usize) -> Cands {
        let mut c = Cands::new();
        if self.in_range(p, b'0', b'1') && self.digit(p + 1) {
            c.push(2);
        }
        if self.digit(p) {
            c.push(1);
        }
        if self.at(p) == b'2' && self.in_range(p + 1, b'0', b'3') {
            c.push(2);
        }
        c
    }
    /// `[0-hi]?\d`, longest first.
    fn optional_tens(&self, p: usize, hi: u8) -> Cands {
        let mut c = Cands::new();
        if self.in_range(p, b'0', hi) && self.digit(p + 1) {
            c.push(2);
        }
        if self.digit(p) {
            c.push(1);
        }
        c
    }
    /// `[0-2]?\d` (the hour of `%k`)
    fn hour_k(&self, p: usize) -> Cands {
        self.optional_tens(p, b'2')
    }
    /// `[0-5]?\d`
    fn minute(&self, p: usize) -> Cands {
        self.optional_tens(p, b'5')
    }
    /// `[0-5]?\d|6[0-1]`
    fn second(&self, p: usize) -> Cands {
        let mut c = self.minute(p);
        if self.at(p) == b'6' && self.in_range(p + 1, b'0', b'1') {
            c.push(2);
        }
        c
    }
    /// `(?:[seps]%f)?`: total lengths (separator included), then 0.
    fn fraction(&self, p: usize, seps: &[u8]) -> Cands {
        let mut c = Cands::new();
        if seps.contains(&self.at(p)) {
            let mut run = 0;
            while run < 6 && self.digit(p + 1 + run) {
                run += 1;
            }
            for l in (1..=run).rev() {
                c.push(1 + l);
            }
        }
        c.push(0);
        c
    }
    /// `%ExY`
    fn year(&self, p: usize, years: &[[u8; 3]]) -> bool {
        let Some(y) = self.h.get(p..p + 4) else {
            return false;
        };
        y[3].is_ascii_digit() && years.iter().any(|pre| y[..3] == pre[..])
    }
    /// Python `Z|UTC|GMT|[+-][01]\d(?::?\d{2})?` (case-insensitive when `ci`): lengths.
    fn zone(&self, p: usize, ci: bool) -> Cands {
        let mut c = Cands::new();
        let eq = |i: usize, lit: &[u8]| {
            self.h.get(i..i + lit.len()).is_some_and(|s| {
                if ci {
                    s.eq_ignore_ascii_case(lit)
                } else {
                    s == lit
                }
            })
        };
        if eq(p, b"Z") {
            c.push(1);
        }
        if eq(p, b"UTC") || eq(p, b"GMT") {
            c.push(3);
        }
        if matches!(self.at(p), b'+' | b'-')
            && self.in_range(p + 1, b'0', b'1')
            && self.digit(p + 2)
        {
            if self.at(p + 3) == b':' && self.digit(p + 4) && self.digit(p + 5) {
                c.push(6);
            }
            if self.digit(p + 3) && self.digit(p + 4) {
                c.push(5);
            }
            c.push(3);
        }
        c
    }
    fn month3(&self, p: usize) -> bool {
        matches!(
            self.lower3(p),
            Some(
                [b'j', b'a', b'n']
                    | [b'f', b'e', b'b']
                    | [b'm', b'a', b'r']
                    | [b'a', b'p', b'r']
                    | [b'm', b'a', b'y']
                    | [b'j', b'u', b'n']
                    | [b'j', b'u', b'l']
                    | [b'a', b'u', b'g']
                    | [b's', b'e', b'p']
                    | [b'o', b'c', b't']
                    | [b'n', b'o', b'v']
                    | [b'd', b'e', b'c']
            )
        )
    }
    fn weekday3(&self, p: usize) -> bool {
        matches!(
            self.lower3(p),
            Some(
                [b'm', b'o', b'n']
                    | [b't', b'u', b'e']
                    | [b'w', b'e', b'd']
                    | [b't', b'h', b'u']
                    | [b'f', b'r', b'i']
                    | [b's', b'a', b't']
                    | [b's', b'u', b'n']
            )
        )
    }
    fn lower3(&self, p: usize) -> Option<[u8; 3]> {
        let s = self.h.get(p..p + 3)?;
        Some([
            s[0].to_ascii_lowercase(),
            s[1].to_ascii_lowercase(),
            s[2].to_ascii_lowercase(),
        ])
    }
}

impl Fast {
    /// Python `search(line[..endpos], pos)` with this template's regex. ASCII `hay` only.
    pub(crate) fn search(&self, hay: &[u8], pos: usize, out: &mut Spans) -> Option<Found> {
        let h = Hay { h: hay };
        let end_ok = |e: usize| !(e > 0 && word(h.at(e - 1)) && e < hay.len() && word(h.at(e)));
        let at = |start: usize, g: usize, e: usize| Found {
            start,
            end: e,
            g1: (g, e),
            num: (g, e),
        };
        match self.prefix {
            Prefix::Start if pos == 0 => {
                return self.base(&h, 0, out, &end_ok).map(|e| at(0, 0, e));
            }
            Prefix::UntilBracket if pos == 0 => {
                let p = hay.iter().position(|&c| c == b'[')? + 1;
                return self.base(&h, p, out, &end_ok).map(|e| at(0, p, e));
            }
            Prefix::Start | Prefix::UntilBracket => return None,
            Prefix::Word | Prefix::LineBegin => {}
        }
        if self.prefix == Prefix::LineBegin {
            if pos != 0 {
                return None;
            }
            for start in (0..=line_begin_skip(hay)).rev() {
                if let Some(e) = self.base(&h, start, out, &end_ok) {
                    return Some(Found {
                        start: 0,
                        end: e,
                        g1: (start, e),
                        num: (start, e),
                    });
                }
            }
            return None;
        }
        for p in pos..=hay.len() {
            let begin_ok = p == 0
                || p == hay.len() && word(h.at(p - 1))
                || p < hay.len() && (!word(hay[p]) || !word(hay[p - 1]));
            if !begin_ok {
                continue;
            }
            // Every base starts with a digit, a letter or (day `%d`) a space or '0'.
            let c = h.at(p);
            if !(c.is_ascii_alphanumeric() || c == b' ') {
                continue;
            }
            if let Some(e) = self.base(&h, p, out, &end_ok) {
                return Some(Found {
                    start: p,
                    end: e,
                    g1: (p, e),
                    num: (p, e),
                });
            }
        }
        None
    }

    /// The result of `search(hay, pos)` and the values of its match, when the date at the first
    /// start `search` tries has the straight-line shape of `quick_*` (so that start wins) and a
    /// zone the values can hold. None means "ask `search`". Without `SPANS`, `out` is scratch
    /// (only a zone span is written), for a caller that needs the values alone.
    #[inline(always)]
    pub(crate) fn quick<const SPANS: bool>(
        &self,
        hay: &[u8],
        pos: usize,
        out: &mut Spans,
    ) -> Option<(Found, Values)> {
        let h = Hay { h: hay };
        let end_ok = |e: usize| !(e > 0 && word(h.at(e - 1)) && e < hay.len() && word(h.at(e)));
        let (start, p) = match self.prefix {
            Prefix::Word => {
                // `search` tries `pos` first when the word boundary holds there (a quick shape
                // is never empty, so `pos` is inside `hay`).
                let begin_ok =
                    pos == 0 || pos < hay.len() && (!word(hay[pos]) || !word(hay[pos - 1]));
                if !begin_ok {
                    return None;
                }
                (pos, pos)
            }
            _ if pos != 0 => return None,
            Prefix::Start => (0, 0),
            Prefix::UntilBracket => (0, hay.iter().position(|&c| c == b'[')? + 1),
            Prefix::LineBegin => (0, line_begin_skip(hay)),
        };
        let (e, v) = match self.base {
            Base::Iso => self.quick_iso::<SPANS>(&h, p, out, &end_ok),
            Base::Syslog => self.quick_syslog::<SPANS>(&h, p, out, &end_ok),
            Base::Apache => self.quick_apache::<SPANS>(&h, p, out, &end_ok),
        }?;
        let found = Found {
            start,
            end: e,
            g1: (p, e),
            num: (p, e),
        };
        v.plain.then_some((found, v))
    }

    fn base(
        &self,
        h: &Hay<'_>,
        p: usize,
        out: &mut Spans,
        ok: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        // Every path to a match writes all the fields of its base (optional ones as None), so
        // `out` needs no clearing.
        // The straight-line shape first: when it matches, it is the first candidate the general
        // enumeration would accept (see `quick_*`); otherwise the enumeration decides.
        match self.base {
            Base::Iso => self
                .quick_iso::<true>(h, p, out, ok)
                .map(|(e, _)| e)
                .or_else(|| self.iso(h, p, out, ok)),
            Base::Syslog => self
                .quick_syslog::<true>(h, p, out, ok)
                .map(|(e, _)| e)
                .or_else(|| self.syslog(h, p, out, ok)),
            Base::Apache => self
                .quick_apache::<true>(h, p, out, ok)
                .map(|(e, _)| e)
                .or_else(|| self.apache(h, p, out, ok)),
        }
    }

    /// B1's common shape `Mon dd HH:MM:SS` (no weekday, two-character day and hour, no fraction,
    /// no year) followed by a non-word character or the end. Along this path every field takes
    /// the first alternative that lets the next literal match (a one-digit day, hour or minute
    /// would need a space or `:` where this shape has a digit; the ` ?` of `%k` needs a space
    /// where it has a digit), so the first match the enumeration of `syslog` would accept is
    /// this one. Any other text returns None and the enumeration decides.
    #[inline(always)]
    fn quick_syslog<const SPANS: bool>(
        &self,
        h: &Hay<'_>,
        p: usize,
        out: &mut Spans,
        ok: &(impl Fn(usize) -> bool + ?Sized),
    ) -> Option<(usize, Values)> {
        let b: &[u8; 15] = h.h.get(p..p + 15)?.try_into().ok()?;
        let month = month_num(b[0], b[1], b[2]);
        let shape = month != 0
            && b[3] == b' '
            && day2(b[4], b[5])
            && b[6] == b' '
            && matches!(b[7], b'0'..=b'2')
            && b[8].is_ascii_digit()
            && b[9] == b':'
            && sexagesimal(b[10], b[11])
            && b[12] == b':'
            && sexagesimal(b[13], b[14]);
        let e = p + 15;
        // A `.` may start a fraction, a space and a digit a year: the enumeration handles those.
        let c = h.at(e);
        if !shape || c == b'.' || (c == b' ' && h.digit(e + 1)) || !ok(e) {
            return None;
        }
        if SPANS {
            out[Field::LowA as usize] = None;
            out[Field::LowB as usize] = Some((p, p + 3));
            out[Field::D as usize] = Some((p + 4, p + 6));
            out[Field::H as usize] = Some((p + 7, p + 9));
            out[Field::M as usize] = Some((p + 10, p + 12));
            out[Field::S as usize] = Some((p + 13, p + 15));
            out[Field::Y as usize] = None;
        }
        let civil = Civil {
            year: 0,
            month,
            day: d2(b[4], b[5]),
            hour: d2(b[7], b[8]),
            minute: d2(b[10], b[11]),
            second: d2(b[13], b[14]),
        };
        Some((
            e,
            Values {
                civil,
                assume_year: true,
                zone: None,
                plain: true,
            },
        ))
    }

    /// B0's common shape `YYYY-mm-dd[T ]HH:MM:SS` (two-digit month, day, hour, minute and
    /// second, one separator), then the same fraction and zone enumeration as `iso`. As in
    /// `quick_syslog`, the fixed part is the first path the enumeration tries that can reach
    /// its tail; when no tail is accepted the enumeration decides.
    #[inline(always)]
    fn quick_iso<const SPANS: bool>(
        &self,
        h: &Hay<'_>,
        p: usize,
        out: &mut Spans,
        ok: &(impl Fn(usize) -> bool + ?Sized),
    ) -> Option<(usize, Values)> {
        let b: &[u8; 19] = h.h.get(p..p + 19)?.try_into().ok()?;
        let sep = b[4];
        let shape = matches!(sep, b'-' | b'/' | b'.')
            && month2(b[5], b[6])
            && b[7] == sep
            && day2(b[8], b[9])
            && matches!(b[10], b'T' | b' ')
            && hour2(b[11], b[12])
            && b[13] == b':'
            && sexagesimal(b[14], b[15])
            && b[16] == b':'
            && sexagesimal(b[17], b[18])
            && h.year(p, self.years);
        if !shape {
            return None;
        }
        if SPANS {
            out[Field::Y as usize] = Some((p, p + 4));
            out[Field::LowM as usize] = Some((p + 5, p + 7));
            out[Field::D as usize] = Some((p + 8, p + 10));
            out[Field::H as usize] = Some((p + 11, p + 13));
            out[Field::M as usize] = Some((p + 14, p + 16));
            out[Field::S as usize] = Some((p + 17, p + 19));
        }
        let s = p + 19;
        let civil = Civil {
            year: d2(b[0], b[1]) * 100 + d2(b[2], b[3]),
            month: d2(b[5], b[6]),
            day: d2(b[8], b[9]),
            hour: d2(b[11], b[12]),
            minute: d2(b[14], b[15]),
            second: d2(b[17], b[18]),
        };
        for fl in h.fraction(s, b".,").iter() {
            if let Some(e) = iso_tail(h, s + fl, out, ok) {
                return Some((e, with_zone(civil, h.h, out)));
            }
        }
        None
    }

    /// B4's common shape `dd/Mon/YYYY[ :]HH:MM:SS` (two-digit day), then the same fraction and
    /// zone enumeration as `apache` (see `quick_iso`).
    #[inline(always)]
    fn quick_apache<const SPANS: bool>(
        &self,
        h: &Hay<'_>,
        p: usize,
        out: &mut Spans,
        ok: &(impl Fn(usize) -> bool + ?Sized),
    ) -> Option<(usize, Values)> {
        let b: &[u8; 20] = h.h.get(p..p + 20)?.try_into().ok()?;
        let sep = b[2];
        let month = month_num(b[3], b[4], b[5]);
        let shape = day2(b[0], b[1])
            && matches!(sep, b'-' | b'/')
            && b[6] == sep
            && matches!(b[11], b' ' | b':')
            && hour2(b[12], b[13])
            && b[14] == b':'
            && sexagesimal(b[15], b[16])
            && b[17] == b':'
            && sexagesimal(b[18], b[19])
            && month != 0
            && h.year(p + 7, self.years);
        if !shape {
            return None;
        }
        if SPANS {
            out[Field::D as usize] = Some((p, p + 2));
            out[Field::LowB as usize] = Some((p + 3, p + 6));
            out[Field::Y as usize] = Some((p + 7, p + 11));
            out[Field::H as usize] = Some((p + 12, p + 14));
            out[Field::M as usize] = Some((p + 15, p + 17));
            out[Field::S as usize] = Some((p + 18, p + 20));
        }
        let s = p + 20;
        let civil = Civil {
            year: d2(b[7], b[8]) * 100 + d2(b[9], b[10]),
            month,
            day: d2(b[0], b[1]),
            hour: d2(b[12], b[13]),
            minute: d2(b[15], b[16]),
            second: d2(b[18], b[19]),
        };
        for fl in h.fraction(s, b".").iter() {
            if let Some(e) = apache_tail(h, s + fl, out, ok) {
                return Some((e, with_zone(civil, h.h, out)));
            }
        }
        None
    }

    /// `H:M:S(?:[seps]%f)?` then `tail`; `hours` gives the hour candidates.
    #[allow(clippy::too_many_arguments)]
    fn hms(
        &self,
        h: &Hay<'_>,
        p: usize,
        hours: &Cands,
        seps: &[u8],
        out: &mut Spans,
        tail: &dyn Fn(usize, &mut Spans) -> Option<usize>,
    ) -> Option<usize> {
        for hl in hours.iter() {
            let q = p + hl;
            if h.at(q) != b':' {
                continue;
            }
            out[Field::H as usize] = Some((p, q));
            for ml in h.minute(q + 1).iter() {
                let r = q + 1 + ml;
                if h.at(r) != b':' {
                    continue;
                }
                out[Field::M as usize] = Some((q + 1, r));
                for sl in h.second(r + 1).iter() {
                    let s = r + 1 + sl;
                    out[Field::S as usize] = Some((r + 1, s));
                    for fl in h.fraction(s, seps).iter() {
                        if let Some(e) = tail(s + fl, out) {
                            return Some(e);
                        }
                    }
                }
            }
        }
        None
    }

    /// B0: `%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?`
    fn iso(
        &self,
        h: &Hay<'_>,
        p: usize,
        out: &mut Spans,
        ok: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        if !h.year(p, self.years) {
            return None;
        }
        let sep = h.at(p + 4);
        if !matches!(sep, b'-' | b'/' | b'.') {
            return None;
        }
        out[Field::Y as usize] = Some((p, p + 4));
        let pm = p + 5;
        let tail = |e: usize, out: &mut Spans| iso_tail(h, e, out, ok);
        for ml in h.month(pm).iter() {
            let pd = pm + ml;
            if h.at(pd) != sep {
                continue;
            }
            out[Field::LowM as usize] = Some((pm, pd));
            for dl in h.day(pd + 1).iter() {
                let pt = pd + 1 + dl;
                out[Field::D as usize] = Some((pd + 1, pt));
                let mut seps = Cands::new();
                if h.at(pt) == b'T' {
                    seps.push(1);
                }
                if h.at(pt) == b' ' {
                    if h.at(pt + 1) == b' ' {
                        seps.push(2);
                    }
                    seps.push(1);
                }
                for tl in seps.iter() {
                    let ph = pt + tl;
                    if let Some(e) = self.hms(h, ph, &h.hour(ph), b".,", out, &tail) {
                        return Some(e);
                    }
                }
            }
        }
        None
    }

    /// B1: `(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?` (case-insensitive names)
    fn syslog(
        &self,
        h: &Hay<'_>,
        p: usize,
        out: &mut Spans,
        ok: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        let tail = |e: usize, out: &mut Spans| -> Option<usize> {
            if h.at(e) == b' ' && h.year(e + 1, self.years) && ok(e + 5) {
                out[Field::Y as usize] = Some((e + 1, e + 5));
                return Some(e + 5);
            }
            out[Field::Y as usize] = None;
            ok(e).then_some(e)
        };
        for with_day in [true, false] {
            let mut q = p;
            if with_day {
                if !(h.weekday3(q) && h.at(q + 3) == b' ') {
                    continue;
                }
                out[Field::LowA as usize] = Some((q, q + 3));
                q += 4;
            } else {
                out[Field::LowA as usize] = None;
            }
            if !(h.month3(q) && h.at(q + 3) == b' ') {
                continue;
            }
            out[Field::LowB as usize] = Some((q, q + 3));
            let pd = q + 4;
            for dl in h.day(pd).iter() {
                let r = pd + dl;
                if h.at(r) != b' ' {
                    continue;
                }
                out[Field::D as usize] = Some((pd, r));
                for sp in [1, 0] {
                    if sp == 1 && h.at(r + 1) != b' ' {
                        continue;
                    }
                    let ph = r + 1 + sp;
                    if let Some(e) = self.hms(h, ph, &h.hour_k(ph), b".", out, &tail) {
                        return Some(e);
                    }
                }
            }
        }
        None
    }

    /// B4: `%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\.%f)?(?: %z)?` (case-insensitive)
    fn apache(
        &self,
        h: &Hay<'_>,
        p: usize,
        out: &mut Spans,
        ok: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        let tail = |e: usize, out: &mut Spans| apache_tail(h, e, out, ok);
        for dl in h.day(p).iter() {
            let ps = p + dl;
            let sep = h.at(ps);
            if !matches!(sep, b'-' | b'/') {
                continue;
            }
            out[Field::D as usize] = Some((p, ps));
            let pb = ps + 1;
            if !(h.month3(pb) && h.at(pb + 3) == sep && h.year(pb + 4, self.years)) {
                continue;
            }
            out[Field::LowB as usize] = Some((pb, pb + 3));
            out[Field::Y as usize] = Some((pb + 4, pb + 8));
            let py = pb + 8;
            for cl in [1, 0] {
                if cl == 1 && !matches!(h.at(py), b' ' | b':') {
                    continue;
                }
                let ph = py + cl;
                if let Some(e) = self.hms(h, ph, &h.hour(ph), b".", out, &tail) {
                    return Some(e);
                }
            }
        }
        None
    }
}

/// B0's `(?:\s*%z)?` and end boundary after the seconds (and fraction) ending at `e`.
#[inline(always)]
fn iso_tail(
    h: &Hay<'_>,
    e: usize,
    out: &mut Spans,
    ok: &(impl Fn(usize) -> bool + ?Sized),
) -> Option<usize> {
    let mut w = e;
    while py_space(h.at(w)) && w < h.h.len() {
        w += 1;
    }
    for zl in h.zone(w, false).iter() {
        if ok(w + zl) {
            out[Field::LowZ as usize] = Some((w, w + zl));
            return Some(w + zl);
        }
    }
    out[Field::LowZ as usize] = None;
    ok(e).then_some(e)
}

/// B4's `(?: %z)?` (case-insensitive) and end boundary after the seconds ending at `e`.
#[inline(always)]
fn apache_tail(
    h: &Hay<'_>,
    e: usize,
    out: &mut Spans,
    ok: &(impl Fn(usize) -> bool + ?Sized),
) -> Option<usize> {
    if h.at(e) == b' ' {
        for zl in h.zone(e + 1, true).iter() {
            if ok(e + 1 + zl) {
                out[Field::LowZ as usize] = Some((e + 1, e + 1 + zl));
                return Some(e + 1 + zl);
            }
        }
    }
    out[Field::LowZ as usize] = None;
    ok(e).then_some(e)
}

/// Two-character `%d`: `[1-2]\d`, `[0 ][1-9]` or `3[0-1]`.
fn day2(a: u8, b: u8) -> bool {
    match a {
        b'1' | b'2' => b.is_ascii_digit(),
        b'0' | b' ' => matches!(b, b'1'..=b'9'),
        b'3' => matches!(b, b'0' | b'1'),
        _ => false,
    }
}

/// Two-character `%m`: `0[1-9]` or `1[0-2]`.
fn month2(a: u8, b: u8) -> bool {
    match a {
        b'0' => matches!(b, b'1'..=b'9'),
        b'1' => matches!(b, b'0'..=b'2'),
        _ => false,
    }
}

/// Two-character `%H`: `[0-1]\d` or `2[0-3]`.
fn hour2(a: u8, b: u8) -> bool {
    match a {
        b'0' | b'1' => b.is_ascii_digit(),
        b'2' => matches!(b, b'0'..=b'3'),
        _ => false,
    }
}

/// Two-character minute or second: `[0-5]\d`.
fn sexagesimal(a: u8, b: u8) -> bool {
    matches!(a, b'0'..=b'5') && b.is_ascii_digit()
}

/// The value of captured digits. The matchers only capture ASCII digits, or a space before one
/// digit (`%d`), and `b' ' & 0x0f == 0`.
fn num(h: &[u8], span: Option<(usize, usize)>) -> i64 {
    let (s, e) = span.unwrap_or((0, 0));
    h.get(s..e)
        .unwrap_or(&[])
        .iter()
        .fold(0, |a, &c| a * 10 + i64::from(c & 0x0f))
}

/// Month number (1..=12) of a three-letter English name in any case, or 0.
fn month_num(a: u8, b: u8, c: u8) -> i64 {
    // `x | 0x20` is a lower-case letter only when `x` is that letter in either case.
    let key = u32::from_le_bytes([a | 0x20, b | 0x20, c | 0x20, 0]);
    const fn k(n: &[u8; 3]) -> u32 {
        u32::from_le_bytes([n[0], n[1], n[2], 0])
    }
    match key {
        x if x == k(b"jan") => 1,
        x if x == k(b"feb") => 2,
        x if x == k(b"mar") => 3,
        x if x == k(b"apr") => 4,
        x if x == k(b"may") => 5,
        x if x == k(b"jun") => 6,
        x if x == k(b"jul") => 7,
        x if x == k(b"aug") => 8,
        x if x == k(b"sep") => 9,
        x if x == k(b"oct") => 10,
        x if x == k(b"nov") => 11,
        x if x == k(b"dec") => 12,
        _ => 0,
    }
}

/// The value of two ASCII digits (a leading space counts as 0: `b' ' & 0x0f == 0`).
fn d2(a: u8, b: u8) -> i64 {
    i64::from(a & 0x0f) * 10 + i64::from(b & 0x0f)
}

/// `civil` with the zone the last tail wrote into `out` (LowZ).
fn with_zone(civil: Civil, h: &[u8], out: &Spans) -> Values {
    let (zone, plain) = match out[Field::LowZ as usize] {
        None => (None, true),
        Some((s, e)) => match h.get(s..e).and_then(zone_of) {
            Some(z) => (Some(z), true),
            None => (None, false),
        },
    };
    Values {
        civil,
        assume_year: false,
        zone,
        plain,
    }
}

/// Minutes east of UTC of `Z|UTC|GMT|[+-][01]\d(?::?\d{2})?` text as fail2ban reads it; None
/// for any other text (a case-insensitive `utc`), which the general conversion handles.
fn zone_of(z: &[u8]) -> Option<i32> {
    let d = |i: usize| i32::from(z[i] & 0x0f);
    let sign = match z.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return matches!(z, b"Z" | b"UTC" | b"GMT").then_some(0),
    };
    let hh = d(1) * 10 + d(2);
    match z.len() {
        3 => Some(sign * hh * 60),
        5 => Some(sign * (hh * 60 + d(3) * 10 + d(4))),
        6 => Some(sign * (hh * 60 + d(4) * 10 + d(5))),
        _ => None,
    }
}

/// The values of a fast match, ready for `convert::finish`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Values {
    pub(crate) civil: Civil,
    /// No year in the text: `civil.year` is a placeholder and the current year is assumed.
    pub(crate) assume_year: bool,
    /// Zone offset in minutes, when the text has one.
    pub(crate) zone: Option<i32>,
    /// False when the zone text needs the general conversion (a case-insensitive `utc`).
    pub(crate) plain: bool,
}

impl Fast {
    /// The values of the match whose `spans` the last `search` wrote into, or None when the
    /// general conversion must read them (a zone text it does not handle, a missing field).
    pub(crate) fn values(&self, line: &[u8], spans: &Spans) -> Option<Values> {
        let sp = |f: Field| spans[f as usize];
        let month = match self.base {
            Base::Iso => num(line, sp(Field::LowM)),
            Base::Syslog | Base::Apache => {
                let (s, _) = sp(Field::LowB)?;
                let b = line.get(s..s + 3)?;
                match month_num(b[0], b[1], b[2]) {
                    0 => return None,
                    m => m,
                }
            }
        };
        let zone = match sp(Field::LowZ) {
            Some((s, e)) if self.base != Base::Syslog => Some(zone_of(line.get(s..e)?)?),
            _ => None,
        };
        let year = sp(Field::Y);
        Some(Values {
            civil: Civil {
                year: num(line, year),
                month,
                day: num(line, sp(Field::D)),
                hour: num(line, sp(Field::H)),
                minute: num(line, sp(Field::M)),
                second: num(line, sp(Field::S)),
            },
            assume_year: year.is_none(),
            zone,
            plain: true,
        })
    }
}

#[cfg(test)]
#[path = "../../tools/date_gen.rs"]
#[allow(dead_code)]
mod date_gen;

#[cfg(test)]
mod tests {
    use super::super::convert::FIELD_COUNT;
    use super::super::pattern::{Engine, fast_matcher, template_spec};
    use super::super::table::DEFAULT_PATTERNS;
    use super::*;

    /// The fast matchers return the regex engine's match and group spans on generated lines,
    /// for whole-line and `[pos, endpos)` searches.
    #[test]
    fn fast_equals_regex() {
        let mut lines = date_gen::lines(42, 6000);
        let mut r = date_gen::Rng::new(7);
        for _ in 0..4000 {
            let form = [0, 1, 4, 2, 14, 15][r.below(6) as usize];
            let pre = r.pick(&[
                "",
                "[",
                " ",
                "  ",
                "x ",
                "(",
                "a",
                "[ ",
                "1.2.3.4 - - [",
                "[[",
                "a [b",
            ]);
            let suf = r.pick(&[
                "", " x", "x", "5", " +0100", ".1234567", " 2005x", " UTC", "Z", "\x1cZ",
            ]);
            lines.push(format!("{pre}{}{suf}", date_gen::date(&mut r, form)));
        }
        let mut checked = 0;
        for b in [0usize, 1, 4] {
            let d = DEFAULT_PATTERNS[b];
            for p in [
                d.to_string(),
                format!("{{^LN-BEG}}{d}"),
                format!("^{d}"),
                format!(r"^[^\[]*\[({d})"),
            ] {
                let spec = template_spec(&p).unwrap();
                let fast = fast_matcher(&spec).expect("fast matcher");
                let (mut engine, map) = Engine::compile(&spec).unwrap();
                for line in lines.iter().filter(|l| l.is_ascii()) {
                    let len = line.len();
                    for (pos, end) in [
                        (0, len),
                        (1.min(len), len),
                        (0, len.saturating_sub(3)),
                        (2.min(len), len.saturating_sub(1).max(2.min(len))),
                    ] {
                        let mut spans = [None; FIELD_COUNT];
                        let got = fast.search(&line.as_bytes()[..end], pos, &mut spans);
                        let want = engine.search(line, pos, end, 1);
                        let g = got.map(|f| (f.start, f.end, f.g1));
                        let w = want.map(|f| (f.start, f.end, f.g1));
                        assert_eq!(g, w, "{p:?} on {line:?} [{pos},{end})");
                        if want.is_some() {
                            let mut ws = [None; FIELD_COUNT];
                            engine.fields(&map, &mut ws);
                            assert_eq!(spans, ws, "fields of {p:?} on {line:?} [{pos},{end})");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 3000, "only {checked} matches compared");
    }

    /// Lines in the straight-line shapes (syslog, ISO 8601, apache), at the line start and
    /// inside it, for every `step` seconds of `[from, from + span)` (UTC instants written as they
    /// are, which the zones then read), in runs of one form as in a real log.
    fn shaped(from: i64, span: i64, step: i64) -> Vec<String> {
        const MON: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let mut forms: Vec<Vec<String>> = vec![Vec::new(); 9];
        let mut t = from;
        while t < from + span {
            let (y, m, d) = super::super::civil::civil_from_days(t.div_euclid(86_400));
            let sod = t.rem_euclid(86_400);
            let (hh, mm, ss) = (sod / 3600, sod % 3600 / 60, sod % 60);
            let mon = MON[m as usize - 1];
            let syslog = format!("{mon} {d:2} {hh:02}:{mm:02}:{ss:02}");
            let iso = format!("{y}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}");
            let apache = format!("{d:02}/{mon}/{y}:{hh:02}:{mm:02}:{ss:02}");
            let ip = 1 + t % 7;
            for (f, l) in forms.iter_mut().zip([
                format!("{syslog} host sshd[1]: x"),
                format!("{mon} {d:02} {hh:02}:{mm:02}:{ss:02} host sshd[1]: x"),
                format!("{iso}+01:00 host x"),
                format!("{y}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02},123 host x"),
                format!("192.0.2.{ip} - - [{apache} +0200] \"GET /\""),
                format!("host{ip}: {syslog} x"),
                format!("[{iso}] x"),
                format!("pid={ip} {iso}Z x"),
                format!("{ip} [{apache}] x"),
            ]) {
                f.push(l);
            }
            t += step;
        }
        forms.concat()
    }

    /// The whole detector with its fast matchers, fast lane and match set gives the same hits,
    /// with the same template statistics and order, as the same detector on the regex engines
    /// and the general conversion only: generated lines of every form plus runs of the fast shapes, at
    /// clocks just after a new year, around February 29 and around DST transitions, in zones
    /// with and without DST, and with a `logtimezone`.
    #[test]
    fn fast_lane_equals_general() {
        use super::super::{DateDetector, TimeZone};
        let mut lines = date_gen::lines(99, 3000);
        for (from, span) in [
            (1_136_030_400, 2 * 86_400), // 2005-12-31 .. 2006-01-02
            (1_709_078_400, 3 * 86_400), // 2024-02-28 .. 2024-03-02
            (1_711_843_200, 86_400 / 4), // 2024-03-31 00:00 .. 06:00
            (1_729_987_200, 86_400 / 4), // 2024-10-27 00:00 .. 06:00
            (1_740_614_400, 3 * 86_400), // 2025-02-27 .. 2025-03-02
        ] {
            lines.extend(shaped(from, span, 1_789));
        }
        let clocks = [
            ("CET-01CEST-02,M3.5.0,M10.5.0", 1_124_013_600.0, None),
            ("Europe/Berlin", 1_136_070_030.0, None),
            ("Europe/Berlin", 1_711_886_400.0, None),
            ("Europe/Berlin", 1_730_030_400.0, Some("UTC+0200")),
            ("UTC", 1_709_294_400.0, None),
            ("UTC", 1_740_657_600.0, None),
        ];
        let mut compared = 0;
        for dp in [None, Some("{^LN-BEG}"), Some(r"^[^\[]*\[({DATE})")] {
            for (tz, now, logtz) in clocks {
                let zone = TimeZone::from_tz_value(tz).unwrap();
                let mut fast = DateDetector::new(dp, logtz).unwrap();
                let mut slow = DateDetector::new(dp, logtz).unwrap();
                fast.set_local_zone(zone.clone());
                slow.set_local_zone(zone);
                for t in &mut slow.templates {
                    t.fast = None;
                }
                slow.set = super::super::SetState::Unavailable;
                assert!(fast.templates.iter().any(|t| t.fast.is_some()));
                for line in &lines {
                    let (a, b) = (fast.detect(line, now), slow.detect(line, now));
                    assert_eq!(a, b, "{dp:?} {tz} {now} on {line:?}");
                    compared += usize::from(a.is_some());
                }
                assert_eq!(fast.template_stats(), slow.template_stats(), "{dp:?} {tz}");
            }
        }
        assert!(compared > 30_000, "only {compared} hits compared");
    }
}
