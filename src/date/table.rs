//! The data of date detection, in one place: fail2ban 1.0.2's default date patterns in their
//! order, the strptime directive table (regex and display name of each `%` directive), and the
//! zone abbreviation table. Code lives in `pattern.rs`; this file is only data.
//!
//! # Compatibility
//! Values are fail2ban 1.0.2's (`DateDetectorCache.DEFAULT_TEMPLATES`, `strptime.timeRE` over
//! Python's C-locale `TimeRE`, `TZ_STR`), as described in the filter spec §4.3, §4.4 and §4.8.
//! `%ExY` is not a constant: `pattern.rs` builds it from the wall-clock year (§4.9).

/// The 17 base default patterns (B0–B16), in fail2ban's order.
pub const DEFAULT_PATTERNS: [&str; 17] = [
    r"%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?",
    r"(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?",
    r"(?:%a )?%b %d %ExY %k:%M:%S(?:\.%f)?",
    r"%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S",
    r"%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\.%f)?(?: %z)?",
    r"%m/%d/%ExY:%H:%M:%S",
    r"%m-%d-%ExY %k:%M:%S(?:\.%f)?",
    r"EPOCH",
    r"{^LN-BEG}%H:%M:%S",
    r"^<%m/%d/%Exy@%H:%M:%S>",
    r"%Exy%Exm%Exd  ?%H:%M:%S",
    r"%b %d, %ExY %I:%M:%S %p",
    r"^%b-%d-%Exy %k:%M:%S",
    r"%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\s*%z)?",
    r"(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?",
    r"(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?",
    r"TAI64N",
];

/// One strptime directive: the text after `%`, its regex (Python syntax) and display name.
pub struct Directive {
    pub key: &'static str,
    pub regex: &'static str,
    pub name: &'static str,
}

const fn d(key: &'static str, regex: &'static str, name: &'static str) -> Directive {
    Directive { key, regex, name }
}

/// Every directive fail2ban knows. `ExY`'s regex is a placeholder replaced at run time.
pub const DIRECTIVES: &[Directive] = &[
    d("d", r"(?P<d>[1-2]\d|[0 ]?[1-9]|3[0-1])", "Day"),
    d("f", r"(?P<f>[0-9]{1,6})", "Microseconds"),
    d("H", r"(?P<H>[0-1]?\d|2[0-3])", "24hour"),
    d("I", r"(?P<I>1[0-2]|0[1-9]|[1-9])", "12hour"),
    d("G", r"(?P<G>\d\d\d\d)", "%G"),
    d(
        "j",
        r"(?P<j>36[0-6]|3[0-5]\d|[1-2]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])",
        "Yearday",
    ),
    d("m", r"(?P<m>0?[1-9]|1[0-2])", "Month"),
    d("M", r"(?P<M>[0-5]?\d)", "Minute"),
    d("S", r"(?P<S>[0-5]?\d|6[0-1])", "Second"),
    d("U", r"(?P<U>5[0-3]|[0-4]\d|\d)", "Yearweek"),
    d("w", r"(?P<w>[0-6])", "Weekday"),
    d("u", r"(?P<u>[1-7])", "%u"),
    d("V", r"(?P<V>5[0-3]|0[1-9]|[1-4]\d|\d)", "%V"),
    d("y", r"(?P<y>\d\d)", "Year2"),
    d("Y", r"(?P<Y>\d{4})", "Year"),
    d(
        "z",
        r"(?P<z>Z|UTC|GMT|[+-][01]\d(?::?\d{2})?)",
        "Zone offset",
    ),
    d(
        "A",
        r"(?P<A>wednesday|thursday|saturday|tuesday|monday|friday|sunday)",
        "DAYNAME",
    ),
    d("a", r"(?P<a>mon|tue|wed|thu|fri|sat|sun)", "DAY"),
    d(
        "B",
        r"(?P<B>september|february|november|december|january|october|august|march|april|june|july|may)",
        "MONTH",
    ),
    d(
        "b",
        r"(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
        "MON",
    ),
    d("p", r"(?P<p>am|pm)", "AMPM"),
    d("Z", r"(?P<Z>Z|[A-Z]{3,5})", "Zone name"),
    d("%", r"%", "%"),
    d("W", r"(?P<W>5[0-3]|[0-4]\d|\d)", "Yearweek"),
    d(
        "c",
        r"(?P<a>mon|tue|wed|thu|fri|sat|sun)\s+(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\s+(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])\s+(?P<H>2[0-3]|[0-1]\d|\d):(?P<M>[0-5]\d|\d):(?P<S>6[0-1]|[0-5]\d|\d)\s+(?P<Y>\d\d\d\d)",
        "%c",
    ),
    d(
        "x",
        r"(?P<m>1[0-2]|0[1-9]|[1-9])/(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])/(?P<y>\d\d)",
        "%x",
    ),
    d(
        "X",
        r"(?P<H>2[0-3]|[0-1]\d|\d):(?P<M>[0-5]\d|\d):(?P<S>6[0-1]|[0-5]\d|\d)",
        "%X",
    ),
    d("k", r" ?(?P<H>[0-2]?\d)", "%k"),
    d("l", r" ?(?P<I>1?\d)", "%l"),
    d("ExZ", r"(?P<Z>[A-Z](?:[A-Z]{2,4})?)", "ExZone name"),
    d(
        "Exz",
        r"(?P<z>(?:[A-Z](?:[A-Z]{2,4})?)?[+-][01]\d(?::?\d{2})?|[A-Z](?:[A-Z]{2,4})?)",
        "ExZone offset",
    ),
    d("Exd", r"(?P<d>[1-2]\d|0[1-9]|3[0-1])", "ExDay"),
    d("Exm", r"(?P<m>0[1-9]|1[0-2])", "ExMonth"),
    d("ExH", r"(?P<H>[0-1]\d|2[0-3])", "Ex24hour"),
    d("Exk", r" ?(?P<H>[0-1]?\d|2[0-3])", "%Exk"),
    d("Exl", r" ?(?P<I>1[0-2]|\d)", "Ex%l"),
    d("ExM", r"(?P<M>[0-5]\d)", "ExMinute"),
    d("ExS", r"(?P<S>[0-5]\d|6[0-1])", "ExSecond"),
    d("ExY", "", "ExYear"),
    d("Exy", r"(?P<y>\d{2})", "ExYear2"),
];

/// English month and weekday names as Python's C locale gives them (`%b %B %a %A`).
pub const MONTHS_ABBR: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
pub const MONTHS_FULL: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
pub const WEEKDAYS_ABBR: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
pub const WEEKDAYS_FULL: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Zone abbreviations: (minutes east of UTC, space-separated names). Single letters are the
/// military zones. Looked up case-sensitively.
pub const TZ_ABBREVIATIONS: &[(i32, &str)] = &[
    (-720, "Y"),
    (-660, "X NUT SST"),
    (-600, "W CKT HAST HST TAHT TKT"),
    (-540, "V AKST GAMT GIT HADT HNY"),
    (-480, "U AKDT CIST HAY HNP PST PT"),
    (-420, "T HAP HNR MST PDT"),
    (-360, "S CST EAST GALT HAR HNC MDT"),
    (-300, "R CDT COT EASST ECT EST ET HAC HNE PET"),
    (-240, "Q AST BOT CLT COST EDT FKT GYT HAE HNA PYT"),
    (
        -180,
        "P ADT ART BRT CLST FKST GFT HAA PMST PYST SRT UYT WGT",
    ),
    (-120, "O BRST FNT PMDT UYST WGST"),
    (-60, "N AZOT CVT EGT"),
    (0, "Z EGST GMT UTC WET WT"),
    (60, "A CET DFT WAT WEDT WEST"),
    (120, "B CAT CEDT CEST EET SAST WAST"),
    (180, "C EAT EEDT EEST IDT MSK"),
    (240, "D AMT AZT GET GST KUYT MSD MUT RET SAMT SCT"),
    (
        300,
        "E AMST AQTT AZST HMT MAWT MVT PKT TFT TJT TMT UZT YEKT",
    ),
    (360, "F ALMT BIOT BTT IOT KGT NOVT OMST YEKST"),
    (420, "G CXT DAVT HOVT ICT KRAT NOVST OMSST THA WIB"),
    (
        480,
        "H ACT AWST BDT BNT CAST HKT IRKT KRAST MYT PHT SGT ULAT WITA WST",
    ),
    (540, "I AWDT IRKST JST KST PWT TLT WDT WIT YAKT"),
    (600, "K AEST ChST PGT VLAT YAKST YAPT"),
    (660, "L AEDT LHDT MAGT NCT PONT SBT VLAST VUT"),
    (
        720,
        "M ANAST ANAT FJT GILT MAGST MHT NZST PETST PETT TVT WFT",
    ),
    (780, "FJST NZDT"),
    (690, "NFT"),
    (630, "ACDT LHST"),
    (570, "ACST"),
    (390, "CCT MMT"),
    (345, "NPT"),
    (330, "SLT"),
    (270, "AFT IRDT"),
    (210, "IRST"),
    (-150, "HAT NDT"),
    (-210, "HNT NST NT"),
    (-270, "HLV VET"),
    (-570, "MART MIT"),
];
