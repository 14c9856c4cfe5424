//! composed: the line gate of first-match mode — the prefregex composed with each failregex, all
//! in one anchored lazy DFA over the line as the regexes see it.
//!
//! Owns the rejection test the filter engine runs on every line before any capture work, and the
//! candidate set it hands to the exact search. For a filter with `prefregex = P(?P<content>.+)$`
//! and failregexes `^F_i`, pattern i of the DFA is the superset gate of `P(?:F_i)`: a line can only
//! produce a failure with failregex i if some parse of the prefregex leaves a content at whose
//! start `F_i` matches, and that is what pattern i accepts. The DFA runs anchored over the line, so
//! on a line of another program it dies a few bytes after the prefregex's fixed part (instead of
//! searching every failregex over the whole line); on a candidate line one pass yields every
//! failregex that may match. It never confirms a match; the engine does that with the exact
//! regexes. Built and called by `engine` only.
//!
//! # Compatibility
//! Sound, never exact: every pattern is a superset (pyre's gate form: lookarounds dropped,
//! conditionals as both branches, backreferences as their group), the prefregex's choice of
//! content is relaxed to any parse, and `$` may also match after the final `\n`. A failregex the
//! composition cannot express soundly (no leading `^` is fine; another `^`/`\A`, a word boundary
//! or lookbehind right after the `^`, a numeric group reference) is reported as a candidate on
//! every line that reaches the engine.

use regex_automata::hybrid::LazyStateID;
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::{Anchored, Input, MatchKind};

use super::pyre;

/// One compiled form (ASCII classes or Unicode): a lazy DFA (a fully built one for a dozen
/// composed sshd rules does not fit in 256 MB) with its cache.
struct Form {
    dfa: DFA,
    cache: Cache,
}

impl Form {
    fn build(pats: &[String], ascii: bool) -> Option<Form> {
        let pats: Vec<&str> = pats.iter().map(String::as_str).collect();
        let mut config = DFA::config().match_kind(MatchKind::LeftmostFirst);
        if ascii {
            // The ASCII form stops at the first non-ASCII byte ([`Stop::NotAscii`]).
            for b in 0x80..=0xFF {
                config = config.quit(b, true);
            }
        }
        let dfa = DFA::builder()
            .configure(config)
            .syntax(
                regex_automata::util::syntax::Config::new()
                    .unicode(!ascii)
                    .utf8(!ascii),
            )
            .thompson(regex_automata::nfa::thompson::Config::new().utf8(!ascii))
            .build_many(&pats)
            .ok()?;
        let cache = dfa.create_cache();
        Some(Form { dfa, cache })
    }

    /// The same DFA with a cache of its own (for another thread).
    fn fork(&self) -> Form {
        Form {
            dfa: self.dfa.clone(),
            cache: self.dfa.create_cache(),
        }
    }

    /// The lowest-numbered pattern matching a prefix of the text `parts` make end to end (read
    /// in place, not joined): with leftmost-first priority every path of pattern i outranks
    /// every path of pattern i+1, so the match the anchored search reports is the first pattern
    /// that matches at all. The loop of regex-automata's `find_fwd` for an anchored
    /// leftmost-first search: match states come one byte late, and the last one seen before
    /// the dead state or the end wins.
    fn first_of(&mut self, parts: [&[u8]; 3]) -> Walked {
        match self.start() {
            Ok(sid) => self.walk(sid, None, parts, 0),
            Err(e) => (Err(e), None),
        }
    }

    fn start(&mut self) -> Result<LazyStateID, Stop> {
        let input = Input::new(&[][..]).anchored(Anchored::Yes);
        self.dfa
            .start_state_forward(&mut self.cache, &input)
            .map_err(|_| Stop::GaveUp)
    }

    /// [`Form::first_of`] from state `sid`, with `found` the pattern of the last match state
    /// seen before it and `read` bytes read before it.
    fn walk(
        &mut self,
        mut sid: LazyStateID,
        mut found: Option<usize>,
        parts: [&[u8]; 3],
        mut read: usize,
    ) -> Walked {
        let (dfa, cache) = (&self.dfa, &mut self.cache);
        for part in parts {
            for &b in part {
                sid = match dfa.next_state(cache, sid, b) {
                    Ok(sid) => sid,
                    Err(_) => return (Err(Stop::GaveUp), None),
                };
                read += 1;
                if sid.is_tagged() {
                    if let Some(end) = Self::tagged(dfa, cache, sid).settle(&mut found) {
                        return (end, Some(read));
                    }
                }
            }
        }
        let eoi = match dfa.next_eoi_state(cache, sid) {
            Ok(eoi) => eoi,
            Err(_) => return (Err(Stop::GaveUp), None),
        };
        if eoi.is_match() {
            found = Some(dfa.match_pattern(cache, eoi, 0).as_usize());
        }
        (Ok(found), None)
    }

    fn tagged(dfa: &DFA, cache: &Cache, sid: LazyStateID) -> Tag {
        if sid.is_match() {
            Tag::Match(dfa.match_pattern(cache, sid, 0).as_usize())
        } else if sid.is_dead() {
            Tag::Dead
        } else if sid.is_quit() {
            Tag::Quit
        } else {
            Tag::Other
        }
    }

    /// [`Form::first_of`] of the texts `a + "\n"` and `b + "\n"`, walked side by side while
    /// both last: each step's two table loads do not depend on each other, so the processor
    /// overlaps them (a lone walk waits for each load before the next).
    fn first_of_pair(&mut self, a: &[u8], b: &[u8]) -> [Walked; 2] {
        let start = match self.start() {
            Ok(s) => s,
            Err(_) => return [(Err(Stop::GaveUp), None), (Err(Stop::GaveUp), None)],
        };
        let (mut sa, mut sb) = (start, start);
        let (mut fa, mut fb) = (None, None);
        let n = a.len().min(b.len());
        let mut i = 0;
        while i < n {
            let (dfa, cache) = (&self.dfa, &mut self.cache);
            let next_a = dfa.next_state(cache, sa, a[i]);
            let next_b = dfa.next_state(cache, sb, b[i]);
            let (Ok(na), Ok(nb)) = (next_a, next_b) else {
                return [(Err(Stop::GaveUp), None), (Err(Stop::GaveUp), None)];
            };
            (sa, sb) = (na, nb);
            i += 1;
            if !(sa.is_tagged() || sb.is_tagged()) {
                continue;
            }
            // A lane that ends here leaves the other to walk on alone.
            let end_a = Self::tagged(dfa, cache, sa).settle(&mut fa);
            let end_b = Self::tagged(dfa, cache, sb).settle(&mut fb);
            match (end_a, end_b) {
                (None, None) => {}
                (Some(ra), None) => {
                    return [(ra, Some(i)), self.walk(sb, fb, [&b[i..], b"\n", b""], i)];
                }
                (None, Some(rb)) => {
                    return [self.walk(sa, fa, [&a[i..], b"\n", b""], i), (rb, Some(i))];
                }
                (Some(ra), Some(rb)) => return [(ra, Some(i)), (rb, Some(i))],
            }
        }
        [
            self.walk(sa, fa, [&a[i..], b"\n", b""], i),
            self.walk(sb, fb, [&b[i..], b"\n", b""], i),
        ]
    }
}

/// What a tagged state means to a walk.
enum Tag {
    Match(usize),
    Dead,
    Quit,
    Other,
}

impl Tag {
    /// Records a match in `found`; the walk's answer when it ends here.
    fn settle(self, found: &mut Option<usize>) -> Option<Result<Option<usize>, Stop>> {
        match self {
            Tag::Match(p) => {
                *found = Some(p);
                None
            }
            Tag::Dead => Some(Ok(*found)),
            Tag::Quit => Some(Err(Stop::NotAscii)),
            Tag::Other => None,
        }
    }
}

/// A walk's answer, with the number of bytes it read when it ended before the end of the
/// text (`None`: it read them all, or gave up).
type Walked = (Result<Option<usize>, Stop>, Option<usize>);

/// Why [`Form::first_of`] has no answer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stop {
    /// A byte the ASCII form does not read: the Unicode form judges the line.
    NotAscii,
    /// The lazy DFA gave up.
    GaveUp,
}

/// The composed gate of one filter.
pub(crate) struct ComposedGate {
    /// Failregex index of each DFA pattern.
    index: Vec<usize>,
    ascii: Form,
    unicode_syntax: Vec<String>,
    /// `None` = not built yet; `Some(None)` = cannot be built (all candidates on non-ASCII).
    unicode: Option<Option<Form>>,
    /// Failregexes the composition cannot judge: always candidates.
    always: Vec<usize>,
    early: Early,
}

/// The last line the ASCII form's walk ended early on (before the line's end), for the lines
/// after it that begin with the bytes that walk read: the walk is deterministic, so such a
/// line gets its answer without a walk. Lines are judged grouped by kind, and the lines of
/// other programs end early (`host CRON[`, `host systemd`...), so most of them are answered
/// here.
#[derive(Debug, Default)]
struct Early {
    /// The bytes the kept walk read (the first bytes of its line).
    read: Vec<u8>,
    /// Its answer; `None` until a walk is kept.
    answer: Option<Result<Option<usize>, Stop>>,
}

impl Early {
    /// Only walks that read at most this many bytes are kept: the comparison costs a
    /// fraction of the walk it saves.
    const MAX: usize = 32;

    /// The answer for `line` (the text after the date; no prefix), if it begins with the
    /// bytes the kept walk read.
    fn answer(&self, line: &[u8]) -> Option<Result<Option<usize>, Stop>> {
        let answer = self.answer?;
        line.starts_with(&self.read).then_some(answer)
    }

    /// Keeps the walk `w` of `line` if it ended early on a byte of the line.
    fn keep(&mut self, line: &[u8], w: &Walked) {
        let (answer, Some(read)) = *w else { return };
        if read <= line.len().min(Self::MAX) && answer != Err(Stop::GaveUp) {
            self.read.clear();
            self.read.extend_from_slice(&line[..read]);
            self.answer = Some(answer);
        }
    }
}

impl std::fmt::Debug for ComposedGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComposedGate")
            .field("patterns", &self.index.len())
            .field("always", &self.always)
            .finish()
    }
}

/// The tail every composable prefregex ends with.
const CONTENT_TAIL: &str = "(?P<content>.+)$";

impl ComposedGate {
    /// Composes `prefregex` (expanded Python text; `None` = no prefregex) with the expanded
    /// failregexes. `None` when the composition does not apply (a prefregex whose content is not
    /// the rest of the line, or nothing composable).
    pub(crate) fn new(prefregex: Option<&str>, failregex: &[&str]) -> Option<ComposedGate> {
        let prefix = match prefregex {
            Some(p) => Some(rename_groups(p.strip_suffix(CONTENT_TAIL)?)),
            None => None,
        };
        let opts = pyre::Options::default();
        let (mut index, mut ascii, mut unicode, mut always) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (i, f) in failregex.iter().enumerate() {
            let Some(body) = composable_body(f) else {
                always.push(i);
                continue;
            };
            let text = match &prefix {
                Some(p) => format!("{p}(?:{body})"),
                None => format!("^(?:{body})"),
            };
            match pyre::translate_gates(&text, &opts) {
                Ok((a, u)) => {
                    index.push(i);
                    ascii.push(a);
                    unicode.push(u);
                }
                Err(_) => always.push(i),
            }
        }
        let ascii = match Form::build(&ascii, true) {
            Some(f) => f,
            None => {
                // Some pattern cannot be built: those that cannot be built alone are left out
                // (candidates on every line), and the rest are built together.
                let mut k = 0;
                while k < index.len() {
                    if Form::build(&ascii[k..=k], true).is_some() {
                        k += 1;
                    } else {
                        always.push(index.remove(k));
                        ascii.remove(k);
                        unicode.remove(k);
                    }
                }
                always.sort_unstable();
                Form::build(&ascii, true)?
            }
        };
        if index.is_empty() {
            return None;
        }
        Some(ComposedGate {
            index,
            ascii,
            unicode_syntax: unicode,
            unicode: None,
            always,
            early: Early::default(),
        })
    }

    /// The same gate with caches of its own (for another thread).
    pub(crate) fn fork(&self) -> ComposedGate {
        ComposedGate {
            index: self.index.clone(),
            ascii: self.ascii.fork(),
            unicode_syntax: self.unicode_syntax.clone(),
            unicode: self.unicode.as_ref().map(|u| u.as_ref().map(Form::fork)),
            always: self.always.clone(),
            early: Early::default(),
        }
    }

    /// Judges the line `prefix + suffix + "\n"` (the line without its date). The ASCII form
    /// reads it in place; a line where it meets a non-ASCII byte goes to the Unicode form (on
    /// the ASCII text before that byte both forms go the same way, so a line the ASCII form
    /// judges before any non-ASCII byte gets the Unicode form's verdict).
    pub(crate) fn judge(&mut self, prefix: &str, suffix: &str) -> Verdict {
        let parts = [prefix.as_bytes(), suffix.as_bytes(), b"\n"];
        let ascii = if prefix.is_empty() {
            let line = suffix.as_bytes();
            match self.early.answer(line) {
                Some(answer) => answer,
                None => {
                    let w = self.ascii.first_of(parts);
                    self.early.keep(line, &w);
                    w.0
                }
            }
        } else {
            self.ascii.first_of(parts).0
        };
        self.finish(ascii, parts)
    }

    /// [`ComposedGate::judge`] of two lines `(prefix, suffix)` at once (see
    /// [`Form::first_of_pair`]; lines with a prefix are judged one by one).
    pub(crate) fn judge_pair(&mut self, a: (&str, &str), b: (&str, &str)) -> [Verdict; 2] {
        if !(a.0.is_empty() && b.0.is_empty()) {
            return [self.judge(a.0, a.1), self.judge(b.0, b.1)];
        }
        let (la, lb) = (a.1.as_bytes(), b.1.as_bytes());
        let [ra, rb] = match (self.early.answer(la), self.early.answer(lb)) {
            (Some(ra), Some(rb)) => [ra, rb],
            (Some(ra), None) => {
                let wb = self.ascii.first_of([b"", lb, b"\n"]);
                self.early.keep(lb, &wb);
                [ra, wb.0]
            }
            (None, Some(rb)) => {
                let wa = self.ascii.first_of([b"", la, b"\n"]);
                self.early.keep(la, &wa);
                [wa.0, rb]
            }
            (None, None) => {
                let [wa, wb] = self.ascii.first_of_pair(la, lb);
                self.early.keep(la, &wa);
                self.early.keep(lb, &wb);
                [wa.0, wb.0]
            }
        };
        [
            self.finish(ra, [b"", a.1.as_bytes(), b"\n"]),
            self.finish(rb, [b"", b.1.as_bytes(), b"\n"]),
        ]
    }

    /// The verdict from the ASCII form's answer on the line `parts`.
    fn finish(&mut self, ascii: Result<Option<usize>, Stop>, parts: [&[u8]; 3]) -> Verdict {
        match ascii {
            Ok(first) => return self.verdict(first),
            Err(Stop::GaveUp) => return Verdict::Unknown,
            Err(Stop::NotAscii) => {}
        }
        let syntax = &self.unicode_syntax;
        let form = match self
            .unicode
            .get_or_insert_with(|| Form::build(syntax, false))
        {
            Some(f) => f,
            None => return Verdict::Unknown,
        };
        match form.first_of(parts).0 {
            Ok(first) => self.verdict(first),
            // The Unicode form has no quit bytes: only a DFA that gave up.
            Err(_) => Verdict::Unknown,
        }
    }

    /// The verdict for the first matching DFA pattern.
    fn verdict(&self, first: Option<usize>) -> Verdict {
        let first = first.map(|k| self.index[k]);
        match (first, self.always.first()) {
            (None, None) => Verdict::Reject,
            (Some(i), None) => Verdict::First(i),
            (None, Some(&a)) => Verdict::First(a),
            (Some(i), Some(&a)) => Verdict::First(i.min(a)),
        }
    }
}

/// What the line gate says of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// No failregex can match.
    Reject,
    /// No failregex before this one can match; this one may.
    First(usize),
    /// The gate could not judge: every failregex is a candidate.
    Unknown,
}

/// The prefregex part with its named groups renamed, so that they cannot clash with the
/// failregex's (the composition is only a gate; names do not matter). Only real group syntax
/// is renamed: not an escaped `(` nor text inside a class. Groups referred to by
/// number keep their numbers: the prefix's groups come first.
fn rename_groups(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 16);
    let mut from = 0;
    for i in syntax_positions(p).filter(|&i| p.as_bytes()[i] == b'(') {
        let rest = &p[i..];
        let head = ["(?P<", "(?P=", "(?("]
            .into_iter()
            .find(|h| rest.starts_with(h));
        if let Some(h) = head {
            if !rest[h.len()..].starts_with(|c: char| c.is_ascii_digit()) {
                out.push_str(&p[from..i + h.len()]);
                out.push_str("pre__");
                from = i + h.len();
            }
        }
    }
    out.push_str(&p[from..]);
    out
}

/// The byte offsets of a Python pattern's syntax outside character classes: every character
/// there, an escape as the offset of its backslash (the escaped character is not reported).
fn syntax_positions(p: &str) -> impl Iterator<Item = usize> + '_ {
    let b = p.as_bytes();
    let (mut i, mut in_class) = (0, false);
    std::iter::from_fn(move || {
        while i < b.len() {
            let at = i;
            match b[at] {
                b'\\' => {
                    i += 2;
                    if !in_class {
                        return Some(at);
                    }
                    continue;
                }
                b'[' if !in_class => {
                    in_class = true;
                    if b.get(i + 1) == Some(&b'^') {
                        i += 1;
                    }
                    if b.get(i + 1) == Some(&b']') {
                        i += 1;
                    }
                }
                b']' if in_class => in_class = false,
                _ if !in_class => {
                    i += 1;
                    return Some(at);
                }
                _ => {}
            }
            i += 1;
        }
        None
    })
}

/// A failregex as it can follow the prefregex part: without its leading `^` (it matches at the
/// start of the content), or preceded by a lazy any-run when it has none (it is searched in the
/// content). `None` when that is not sound: another `^` or `\A` outside classes, a word boundary
/// or lookbehind right after the `^` (they would look at the prefregex's last character), or a
/// numeric group reference (group numbers shift behind the prefregex's groups).
fn composable_body(f: &str) -> Option<String> {
    let (rest, anchored) = match f.strip_prefix('^') {
        Some(r) => (r, true),
        None => (f, false),
    };
    if anchored && (rest.starts_with("\\b") || rest.starts_with("\\B") || rest.starts_with("(?<")) {
        return None;
    }
    let b = rest.as_bytes();
    for i in syntax_positions(rest) {
        let next = b.get(i + 1).copied();
        let refused = match b[i] {
            b'\\' => next == Some(b'A') || next.is_some_and(|c| c.is_ascii_digit()),
            b'^' => true,
            b'(' => {
                rest[i..].starts_with("(?(") && b.get(i + 3).is_some_and(|c| c.is_ascii_digit())
            }
            _ => false,
        };
        if refused {
            return None;
        }
    }
    Some(if anchored {
        rest.to_string()
    } else {
        format!("(?s:.)*?(?:{rest})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A prefregex of the shape of sshd's: host, then an optional daemon.
    const PRE: &str = r"^(?P<mlfid>\S+ (?:sshd\[\d+\]: )?)(?P<content>.+)$";

    fn first(g: &mut ComposedGate, line: &str) -> Verdict {
        g.judge(line, "")
    }

    /// A line judged from the last early-ended walk gets the verdict a walk of its own gives,
    /// one by one and in pairs: lines that begin with the bytes that walk read, lines that
    /// differ inside them, lines that are shorter, and lines after a non-ASCII walk.
    #[test]
    fn early_answers_agree_with_walks() {
        let fails = [
            r"^Failed \S+ for (?P<user>\S+) from (?P<ip4>[\d.]+)",
            r"^Invalid user (?P<user>\S*) from (?P<ip4>[\d.]+)",
            r"^Connection closed",
        ];
        let lines = [
            "host CRON[1]: session opened",
            "host CRON[2]: session closed",
            "host CRON",
            "host CR",
            "host Connection closed by 1.2.3.4",
            "host Connection reset",
            "host Connectio",
            "host sshd[1]: Failed password for root from 1.2.3.4",
            "host sshd[1]: Failed password",
            "host sshd[2]: Invalid user x from 1.2.3.4",
            "host sshd[2]: Invalid user \u{e9} from 1.2.3.4",
            "host sshd[2]: Invalid user \u{e9}",
            "host sshd[2]: Invalid",
            "hos",
            "",
            "host CRON[3]: session opened",
        ];
        let fresh = |line: &str| {
            let mut g = ComposedGate::new(Some(PRE), &fails).expect("composable");
            g.judge("", line)
        };
        let want: Vec<Verdict> = lines.iter().map(|l| fresh(l)).collect();
        for order in [false, true] {
            let mut seq: Vec<usize> = (0..lines.len()).collect();
            if order {
                seq.reverse();
            }
            let mut g = ComposedGate::new(Some(PRE), &fails).expect("composable");
            for &i in &seq {
                assert_eq!(g.judge("", lines[i]), want[i], "{:?}", lines[i]);
            }
            let mut g = ComposedGate::new(Some(PRE), &fails).expect("composable");
            for p in seq.chunks(2) {
                let (i, j) = (p[0], p[p.len() - 1]);
                let got = g.judge_pair(("", lines[i]), ("", lines[j]));
                assert_eq!(got, [want[i], want[j]], "{:?} {:?}", lines[i], lines[j]);
            }
            // Every line after every other: a kept walk meets every line.
            for &i in &seq {
                for &j in &seq {
                    let mut g = ComposedGate::new(Some(PRE), &fails).expect("composable");
                    g.judge("", lines[i]);
                    assert_eq!(
                        g.judge("", lines[j]),
                        want[j],
                        "{:?} after {:?}",
                        lines[j],
                        lines[i]
                    );
                }
            }
        }
        assert_eq!(want[0], Verdict::Reject);
        assert_eq!(want[4], Verdict::First(2));
        // The second CRON line is answered without a walk.
        let mut g = ComposedGate::new(Some(PRE), &fails).expect("composable");
        g.judge("", lines[0]);
        assert_eq!(g.early.answer(lines[1].as_bytes()), Some(Ok(None)));
    }

    #[test]
    fn composes_prefregex_and_failregexes() {
        let fails = [
            r"^Failed \S+ for (?P<user>\S+) from (?P<ip4>[\d.]+)",
            r"^Invalid user (?P<user>\S*) from (?P<ip4>[\d.]+)",
            r"from (?P<ip4>[\d.]+) refused",
            r"^Failed password",
        ];
        let mut g = ComposedGate::new(Some(PRE), &fails).expect("composable");
        // (line, verdict, why)
        let cases = [
            (
                "host sshd[1]: Failed password for root from 1.2.3.4 port 2",
                Verdict::First(0),
                "",
            ),
            (
                "host sshd[1]: Failed password for",
                Verdict::First(3),
                "a later pattern when the earlier ones cannot match",
            ),
            ("host Invalid user x from 1.2.3.4", Verdict::First(1), ""),
            ("host cron[1]: session opened", Verdict::Reject, ""),
            ("h x from 1.2.3.4 refused", Verdict::First(2), ""),
            (
                "h Invalid user é from 1.2.3.4",
                Verdict::First(1),
                "non-ASCII text uses the Unicode form",
            ),
        ];
        for (line, want, why) in cases {
            assert_eq!(first(&mut g, line), want, "{line:?} {why}");
        }
        let fails = [r"^Failed \S+ for (?P<user>\w+) from (?P<ip4>[\d.]+)"];
        let mut g = ComposedGate::new(Some(PRE), &fails).expect("composable");
        let cases = [
            (
                "host cron[1]: é",
                Verdict::Reject,
                "judged before the non-ASCII byte",
            ),
            (
                "host sshd[1]: Failed x for é from 1.2.3.4",
                Verdict::First(0),
                "a Unicode word",
            ),
            (
                "host sshd[1]: Failed x for é! from 1.2.3.4",
                Verdict::Reject,
                "",
            ),
        ];
        for (line, want, why) in cases {
            assert_eq!(first(&mut g, line), want, "{line:?} {why}");
        }
    }

    /// Two lines judged side by side get the verdicts each gets alone, whichever of them ends
    /// first (dead state, match, end of text, non-ASCII byte) and with or without a prefix.
    #[test]
    fn pairs_are_judged_as_lines_alone() {
        let fails = [
            r"^Failed \S+ for (?P<user>\S+) from (?P<ip4>[\d.]+)",
            r"^Invalid user (?P<user>\S*) from (?P<ip4>[\d.]+)$",
            r"^Failed password",
        ];
        let mut g = ComposedGate::new(Some(PRE), &fails).expect("composable");
        let lines = [
            "host sshd[1]: Failed password for root from 1.2.3.4 port 2",
            "host sshd[1]: Failed password for",
            "host sshd[1]: Failed password for root from x",
            "host sshd[1]: Invalid user x from 1.2.3.4",
            "host sshd[1]: Invalid user x from 1.2.3.4 extra",
            "host cron[1]: session opened",
            "h Invalid user é from 1.2.3.4",
            "host sshd[1]: Failed é",
            "",
            "h",
        ];
        for a in lines {
            for b in lines {
                let alone = [g.judge("", a), g.judge("", b)];
                assert_eq!(g.judge_pair(("", a), ("", b)), alone, "{a:?} {b:?}");
                let (pa, sa) = a.split_at(a.len().min(5));
                assert_eq!(g.judge_pair((pa, sa), ("", b)), alone, "{a:?} {b:?} prefix");
            }
        }
    }

    #[test]
    fn renames_only_real_groups() {
        assert_eq!(
            rename_groups(r"^(?P<a>x)(?P=a)(?(a)y|z)(?(1)y)"),
            r"^(?P<pre__a>x)(?P=pre__a)(?(pre__a)y|z)(?(1)y)"
        );
        assert_eq!(rename_groups(r"\(?P<a>[(?P<b]"), r"\(?P<a>[(?P<b]");
        assert_eq!(rename_groups(r"[]](?P<c>.)"), r"[]](?P<pre__c>.)");
        assert_eq!(rename_groups("é(?P<d>ü)"), "é(?P<pre__d>ü)");
    }

    #[test]
    fn refuses_what_it_cannot_judge() {
        let pre = r"^(?P<p>\S+ )(?P<content>.+)$";
        let fails = [
            r"^\bword (?P<ip4>\d+)",
            r"^a (?P<ip4>\d+)$|^b",
            r"^x(?P<ip4>\d)\1",
        ];
        let g = ComposedGate::new(Some(pre), &fails);
        assert!(g.is_none(), "nothing composable: {g:?}");
        let fails = [r"^a (?P<ip4>\d+)", r"^b(?P<ip4>\d)\1"];
        let mut g = ComposedGate::new(Some(pre), &fails).expect("one composable");
        assert_eq!(g.always, vec![1]);
        assert_eq!(first(&mut g, "h zzz"), Verdict::First(1));
        assert_eq!(first(&mut g, "h a 12"), Verdict::First(0));
        assert!(ComposedGate::new(Some(r"^(?P<content>.+) x$"), &fails[..1]).is_none());
    }
}
