//! Generator of log lines that exercise every fail2ban default date template (and the edge cases
//! of each: padding, fractions, zones, invalid calendar dates, surrounding text). Shared by
//! `tests/date_reference.rs` (differential test against fail2ban) and `tools/bench_date.rs`.

/// A small deterministic PRNG (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

struct Parts {
    y: u64,
    mo: u64,
    d: u64,
    h: u64,
    mi: u64,
    s: u64,
}

fn parts(r: &mut Rng) -> Parts {
    let y = match r.below(10) {
        0 => 1999,
        1 => 2029 + r.below(3),
        2 => 2020 + r.below(10),
        _ => 2004 + r.below(3),
    };
    let mo = 1 + r.below(12);
    let d = if r.chance(5) {
        29 + r.below(3)
    } else {
        1 + r.below(28)
    };
    let h = if r.chance(3) { 24 } else { r.below(24) };
    let mi = r.below(60);
    let s = if r.chance(3) {
        60 + r.below(2)
    } else {
        r.below(60)
    };
    Parts { y, mo, d, h, mi, s }
}

fn frac(r: &mut Rng, sep: &str) -> String {
    if r.chance(30) {
        let n = 1 + r.below(7);
        let digits: String = (0..n)
            .map(|_| char::from(b'0' + r.below(10) as u8))
            .collect();
        format!("{sep}{digits}")
    } else {
        String::new()
    }
}

fn mon(r: &mut Rng, m: u64) -> String {
    let name = MONTHS[(m - 1) as usize];
    match r.below(10) {
        0 => name.to_uppercase(),
        1 => name.to_lowercase(),
        _ => name.to_string(),
    }
}

fn day_pad(r: &mut Rng, d: u64) -> String {
    match r.below(3) {
        0 => format!("{d:2}"),
        1 => format!("{d:02}"),
        _ => format!("{d}"),
    }
}

const ZONES: [&str; 14] = [
    "Z", "UTC", "GMT", "+0200", "-0430", "+01:00", "-04:30", "+01", "CEST", "utc", "IST", "PDT",
    "+2000", "z",
];

/// One date text of template form `form` (0..=20).
pub fn date(r: &mut Rng, form: u64) -> String {
    let p = parts(r);
    let Parts { y, mo, d, h, mi, s } = p;
    match form {
        0 => {
            let sep = r.pick(&["-", "/", ".", "-"]);
            let t = r.pick(&["T", " ", "  ", "T"]);
            let fs = r.pick(&[".", ","]);
            let f = frac(r, fs);
            let z = if r.chance(40) {
                format!("{}{}", r.pick(&["", " ", "  "]), r.pick(&ZONES))
            } else {
                String::new()
            };
            format!("{y}{sep}{mo:02}{sep}{d:02}{t}{h:02}:{mi:02}:{s:02}{f}{z}")
        }
        1 => {
            let wd = if r.chance(30) {
                format!("{} ", DAYS[r.below(7) as usize])
            } else {
                String::new()
            };
            let f = frac(r, ".");
            let yr = if r.chance(30) {
                format!(" {y}")
            } else {
                String::new()
            };
            let hh = if r.chance(20) {
                format!("{h:2}")
            } else {
                format!("{h:02}")
            };
            format!(
                "{wd}{} {} {hh}:{mi:02}:{s:02}{f}{yr}",
                mon(r, mo),
                day_pad(r, d)
            )
        }
        2 => {
            let wd = if r.chance(50) {
                format!("{} ", DAYS[r.below(7) as usize])
            } else {
                String::new()
            };
            format!(
                "{wd}{} {} {y} {h:02}:{mi:02}:{s:02}{}",
                mon(r, mo),
                day_pad(r, d),
                frac(r, ".")
            )
        }
        3 => {
            let sep = r.pick(&["/", "-"]);
            let yy = if r.chance(50) {
                format!("{y}")
            } else {
                format!("{:02}", y % 100)
            };
            format!("{d:02}{sep}{mo:02}{sep}{yy} {h:02}:{mi:02}:{s:02}")
        }
        4 => {
            let sep = r.pick(&["/", "-"]);
            let mid = r.pick(&[":", " ", ""]);
            let z = if r.chance(50) {
                format!(" {}", r.pick(&ZONES))
            } else {
                String::new()
            };
            format!(
                "{d:02}{sep}{}{sep}{y}{mid}{h:02}:{mi:02}:{s:02}{}{z}",
                mon(r, mo),
                frac(r, ".")
            )
        }
        5 => format!("{mo:02}/{d:02}/{y}:{h:02}:{mi:02}:{s:02}"),
        6 => format!("{mo:02}-{d:02}-{y} {h:02}:{mi:02}:{s:02}{}", frac(r, ".")),
        7 => {
            let base = 1_000_000_000 + r.below(200_000_000);
            match r.below(6) {
                0 => format!("{base}"),
                1 => format!("{base}.{:03}", r.below(1000)),
                2 => format!("{base}{:03}", r.below(1000)),
                3 => format!("{base}{:06}", r.below(1_000_000)),
                4 => format!("{base}{:03}.{:03}", r.below(1000), r.below(1000)),
                _ => format!("{base}.{}", r.below(10_000_000)),
            }
        }
        8 => format!("{h:02}:{mi:02}:{s:02}"),
        9 => format!("<{mo:02}/{d:02}/{:02}@{h:02}:{mi:02}:{s:02}>", y % 100),
        10 => format!(
            "{:02}{mo:02}{d:02} {}{h}:{mi:02}:{s:02}",
            y % 100,
            r.pick(&["", " "])
        ),
        11 => {
            let hh = 1 + h % 12;
            format!(
                "{} {d}, {y} {hh}:{mi:02}:{s:02} {}",
                mon(r, mo),
                r.pick(&["AM", "PM", "am", "pm"])
            )
        }
        12 => format!("{}-{d:02}-{:02} {h:02}:{mi:02}:{s:02}", mon(r, mo), y % 100),
        13 => {
            let t = r.pick(&["T", " ", "  "]);
            let z = if r.chance(30) {
                r.pick(&["Z", "+0200", " UTC", "-04:30"]).to_string()
            } else {
                String::new()
            };
            format!("{y}{mo:02}{d:02}{t}{h:02}{mi:02}{s:02}{}{z}", frac(r, "."))
        }
        14 => format!(
            "{} {} {} {h:02}:{mi:02}:{s:02}",
            r.pick(&["PDT", "CEST", "IST", "UTC", "EST", "NZDT", "ABC", "Z"]),
            mon(r, mo),
            day_pad(r, d)
        ),
        15 => format!(
            "{} {} {} {h:02}:{mi:02}:{s:02}{}",
            r.pick(&["+00:00", "-0700", "+05", "Z", "GMT"]),
            mon(r, mo),
            day_pad(r, d),
            if r.chance(30) {
                format!(" {y}")
            } else {
                String::new()
            }
        ),
        16 => {
            let secs = 0x4000_0000_0000_0000u64 + 1_000_000_000 + r.below(300_000_000);
            format!("@{secs:016x}{:08x}", r.below(1 << 32))
        }
        17 => format!("{y}-{mo:02}-{d:02}"),
        18 => format!("{y}-{mo:02}-{d:02} {h:02}:{mi:02}"),
        19 => format!("{} {} {y}", DAYS[r.below(7) as usize], mon(r, mo)),
        _ => format!("{}", r.below(100_000)),
    }
}

const PREFIXES: [&str; 14] = [
    "",
    "",
    "",
    "[",
    "host ",
    "foo bar ",
    "<W>",
    "=== x === ",
    "- ",
    "[[",
    "...",
    "2 ",
    "é ",
    "type=AVC msg=audit(",
];
const SUFFIXES: [&str; 10] = [
    " host sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2",
    "] \"GET / HTTP/1.1\" 404 1.2.3.4",
    "x",
    "",
    ".5 z",
    ":45): avc denied",
    " [error] 123#0: *1 user \"u\" was not found",
    "5",
    " €uro",
    "_x",
];

/// `n` lines in runs of one form (so the detector's caching and reordering are exercised).
pub fn lines(seed: u64, n: usize) -> Vec<String> {
    let mut r = Rng::new(seed);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let form = r.below(21);
        let run = 1 + r.below(6);
        let prefix = r.pick(&PREFIXES);
        for _ in 0..run {
            let suffix = r.pick(&SUFFIXES);
            let pre = if r.chance(85) {
                prefix
            } else {
                r.pick(&PREFIXES)
            };
            out.push(format!("{pre}{}{suffix}", date(&mut r, form)));
        }
    }
    out.truncate(n);
    out
}
