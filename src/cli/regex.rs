//! `fail2zig regex` arguments, fail2ban-regex's (owned by the filter engine, `crate::filter`).

/// `fail2zig regex [OPTIONS] LOG REGEX [IGNOREREGEX]`.
#[derive(Debug, clap::Args)]
pub struct RegexArgs {
    /// A log file, or a single log line.
    #[arg(value_name = "LOG")]
    pub log: String,
    /// A filter name with options, a filter file, or a regex.
    #[arg(value_name = "REGEX")]
    pub regex: String,
    /// An ignoreregex, a filter name or file.
    #[arg(value_name = "IGNOREREGEX")]
    pub ignoreregex: Option<String>,
}
