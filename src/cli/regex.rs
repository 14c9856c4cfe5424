//! `fail2zig regex` arguments: fail2ban-regex's options and meaning (owned by the filter engine,
//! `crate::filter::regex_tool`).

use std::path::PathBuf;

/// `fail2zig regex [OPTIONS] LOG REGEX [IGNOREREGEX]`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegexArgs {
    /// A log file, or a log text (several lines when it contains newlines).
    #[arg(value_name = "LOG")]
    pub log: String,
    /// A filter name with options (`sshd[mode=aggressive]`), a filter file, or a regex.
    #[arg(value_name = "REGEX")]
    pub regex: String,
    /// An ignoreregex (always taken as a regex, as fail2ban-regex 1.0.2 does).
    #[arg(value_name = "IGNOREREGEX")]
    pub ignoreregex: Option<String>,
    /// fail2ban-regex's options (boxed: they are many).
    #[command(flatten)]
    pub opts: Box<RegexOptions>,
}

/// The options of `fail2zig regex`, fail2ban-regex's.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegexOptions {
    /// The fail2ban configuration directory; without one, our built-in filters are used.
    #[arg(
        short = 'c',
        long = "config",
        value_name = "DIR",
        default_value = "/etc/fail2ban"
    )]
    pub config: PathBuf,
    /// The date pattern; overrides the filter's.
    #[arg(short = 'd', long = "datepattern", value_name = "PATTERN")]
    pub datepattern: Option<String>,
    /// The zone of dates that carry none (`UTC`, `+0200`, `CET`).
    #[arg(
        long = "timezone",
        visible_alias = "TZ",
        value_name = "ZONE",
        allow_hyphen_values = true
    )]
    pub timezone: Option<String>,
    /// The log encoding (only UTF-8 is supported; invalid bytes become U+FFFD).
    #[arg(
        short = 'e',
        long = "encoding",
        value_name = "ENCODING",
        default_value = "UTF-8"
    )]
    pub encoding: String,
    /// Raw hosts: never resolve DNS names, keep them as ids.
    #[arg(short = 'r', long = "raw")]
    pub raw: bool,
    /// `<HOST>` and DNS handling: yes, warn (default), no or raw.
    #[arg(long = "usedns", value_name = "MODE")]
    pub usedns: Option<String>,
    /// maxlines for multi-line regexes; overrides the filter's and the print threshold.
    #[arg(short = 'L', long = "maxlines", value_name = "N", default_value_t = 0)]
    pub maxlines: u32,
    /// journalctl-style matches (accepted for compatibility; journal input is not read).
    #[arg(short = 'm', long = "journalmatch", value_name = "MATCH")]
    pub journalmatch: Option<String>,
    /// Log level of diagnostics (accepted for compatibility).
    #[arg(
        short = 'l',
        long = "log-level",
        value_name = "LEVEL",
        default_value = "critical"
    )]
    pub log_level: String,
    /// Increase verbosity.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Set the verbosity (0..4).
    #[arg(long = "verbosity", value_name = "N")]
    pub verbosity: Option<u8>,
    /// Show the weight, pattern and regex of each date template.
    #[arg(long = "verbose-date", visible_alias = "VD")]
    pub verbose_date: bool,
    /// Add debuggex.com URLs (accepted for compatibility; no URLs are printed).
    #[arg(short = 'D', long = "debuggex")]
    pub debuggex: bool,
    /// Stop at the first matching failregex, like the server.
    #[arg(long = "no-check-all")]
    pub no_check_all: bool,
    /// Print failure information only: id, ip, msg, row, a failure key, or a `<tag>` template.
    #[arg(short = 'o', long = "out", value_name = "FMT")]
    pub out: Option<String>,
    /// Threads: 2 (the default on a machine with two or more cores) compiles the filter on two
    /// and, for `-o` over a log file with one-line buffers, reads and dates the lines on one
    /// while both run the regexes; 1 does all on one. The output is the same.
    #[arg(long = "threads", value_name = "N", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub threads: Option<u8>,
    /// Print one JSON object per failure instead of the report.
    #[arg(long = "json", conflicts_with = "out")]
    pub json: bool,
    /// Do not print missed lines.
    #[arg(long = "print-no-missed", conflicts_with = "print_all_missed")]
    pub print_no_missed: bool,
    /// Do not print ignored lines.
    #[arg(long = "print-no-ignored", conflicts_with = "print_all_ignored")]
    pub print_no_ignored: bool,
    /// Print all matched lines.
    #[arg(long = "print-all-matched")]
    pub print_all_matched: bool,
    /// Print all missed lines, however many.
    #[arg(long = "print-all-missed")]
    pub print_all_missed: bool,
    /// Print all ignored lines, however many.
    #[arg(long = "print-all-ignored")]
    pub print_all_ignored: bool,
    /// Tracebacks in log messages (accepted for compatibility).
    #[arg(short = 't', long = "log-traceback")]
    pub log_traceback: bool,
    /// Full tracebacks (accepted for compatibility).
    #[arg(long = "full-traceback")]
    pub full_traceback: bool,
}
