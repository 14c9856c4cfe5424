//! filter: fail2ban filters on regex-automata.
//!
//! `pyre` parses Python `re` syntax and compiles it; `tags` expands fail2ban's regex tags;
//! `engine` cuts the date out of a line and finds failures exactly as fail2ban's
//! `Filter.processLine`/`findFailure` do; `regex_tool` is `fail2zig regex` (fail2ban-regex);
//! `compat` replays fail2ban's failJSON sample corpus; `builtin` holds our own filters for hosts
//! without fail2ban. Reading filter.d (INI, includes, `%(x)s`) is `crate::fail2ban`'s job; counting
//! failures over time is the jail's.
//!
//! # Compatibility
//! Matching follows fail2ban 1.0.2 (see `engine` and `tags` for the details and the few
//! documented differences); `compat/divergences.txt` lists every sample the corpus runner does not
//! reproduce.

use std::collections::BTreeMap;
use std::net::IpAddr;

pub mod builtin;
pub mod compat;
mod composed;
pub mod engine;
pub mod ip;
pub mod pyre;
pub mod regex_tool;
pub mod tags;
pub mod value;

pub use builtin::builtin_filter;
pub use engine::{Filter, FilterSettings, Finding, LineOutcome, UseDns};

/// One failure found in a log: what the jail counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// fail2ban's failure id: the address text, or the `<F-ID>` value.
    pub id: String,
    /// The address, when the id is one (IPv4-mapped IPv6 given as IPv4).
    pub ip: Option<IpAddr>,
    /// The failure's time, epoch seconds (from the log line's date).
    pub time: f64,
    /// The matched log line(s), as fail2ban keeps them for `<matches>`.
    pub lines: Vec<String>,
    /// Captured `<F-...>` values (`user`, `alt_user`, custom ones), lower-case names as fail2ban.
    pub tags: BTreeMap<String, String>,
    /// Index of the failregex that matched.
    pub regex: usize,
}

/// Errors of the filter engine and of `fail2zig regex`.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// A regex is blank after tag expansion.
    #[error("cannot add empty regex")]
    EmptyRegex,
    /// A regex does not compile.
    #[error("unable to compile regular expression '{regex}'")]
    Compile {
        regex: String,
        #[source]
        source: Box<pyre::PyreError>,
    },
    /// A failregex has no failure-id group (and neither has the prefregex).
    #[error("no failure-id group in '{regex}'")]
    NoFailureId { regex: String },
    /// A `<tag>` substitution refers to itself.
    #[error("properties contain self referencing definitions (tag <{tag}>)")]
    SelfReference { tag: String },
    /// The datepattern is invalid.
    #[error("failed to set datepattern '{pattern}'")]
    DatePattern {
        pattern: String,
        #[source]
        source: Box<crate::date::DateError>,
    },
    /// A filter could not be read from a fail2ban configuration.
    #[error("failed to load filter {name}")]
    Load {
        name: String,
        #[source]
        source: Box<crate::fail2ban::Fail2banError>,
    },
    /// A built-in filter file is broken (a defect of the build).
    #[error("built-in filter {name} is invalid")]
    Builtin {
        name: String,
        #[source]
        source: Box<toml::de::Error>,
    },
    /// No filter of that name exists.
    #[error("no filter named {name} (not in {confdir} and not built in)")]
    UnknownFilter { name: String, confdir: String },
    /// A file could not be read.
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Bad command-line arguments.
    #[error("{0}")]
    Usage(String),
    /// Bad filter options (`name[key=value]`).
    #[error("invalid filter options in {0:?}")]
    Options(String),
}
