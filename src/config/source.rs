//! Where a configuration comes from, and finding lines in its text for error messages.

use std::fmt;
use std::path::{Path, PathBuf};

/// The native configuration file looked for first.
pub const DEFAULT_NATIVE: &str = "/etc/fail2zig/fail2zig.toml";
/// The fail2ban directory looked for next.
pub const DEFAULT_FAIL2BAN: &str = "/etc/fail2ban";

/// Where a configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A native TOML file.
    File(PathBuf),
    /// A fail2ban configuration directory, imported in memory.
    Fail2ban(PathBuf),
    /// The embedded default.
    Embedded,
}

impl ConfigSource {
    /// `-c PATH` if given (a directory is a fail2ban configuration), else the native file if
    /// present, else /etc/fail2ban if present, else the embedded default.
    pub fn discover(explicit: Option<&Path>) -> ConfigSource {
        Self::discover_in(
            explicit,
            Path::new(DEFAULT_NATIVE),
            Path::new(DEFAULT_FAIL2BAN),
        )
    }

    /// [`Self::discover`] with the default locations given (for tests).
    pub fn discover_in(explicit: Option<&Path>, native: &Path, fail2ban: &Path) -> ConfigSource {
        match explicit {
            Some(p) if p.is_dir() => ConfigSource::Fail2ban(p.to_path_buf()),
            Some(p) => ConfigSource::File(p.to_path_buf()),
            None if native.is_file() => ConfigSource::File(native.to_path_buf()),
            None if fail2ban.join("jail.conf").is_file() => {
                ConfigSource::Fail2ban(fail2ban.to_path_buf())
            }
            None => ConfigSource::Embedded,
        }
    }

    /// The path errors are reported against.
    pub fn path(&self) -> PathBuf {
        match self {
            ConfigSource::File(p) | ConfigSource::Fail2ban(p) => p.clone(),
            ConfigSource::Embedded => PathBuf::from("<embedded default>"),
        }
    }
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::File(p) => write!(f, "native configuration {}", p.display()),
            ConfigSource::Fail2ban(p) => write!(
                f,
                "fail2ban configuration {} (imported in memory)",
                p.display()
            ),
            ConfigSource::Embedded => f.write_str("embedded default configuration"),
        }
    }
}

/// Splits a TOML header or key path into its parts (`jails."my jail".x` -> [jails, my jail, x]).
fn split_path(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '.') => parts.push(std::mem::take(&mut cur).trim().to_string()),
            (None, c) if c.is_whitespace() => {}
            _ => cur.push(c),
        }
    }
    parts.push(cur.trim().to_string());
    parts
}

/// The key an assignment line sets (`bantime = "1x"` -> `bantime`), if it is one.
fn line_key(line: &str) -> Option<String> {
    let l = line.trim_start();
    if l.starts_with('#') || l.starts_with('[') {
        return None;
    }
    let (k, _) = l.split_once('=')?;
    Some(split_path(k).join("."))
}

/// The table header a line opens (`[jails.sshd]` -> [jails, sshd]).
fn line_header(line: &str) -> Option<Vec<String>> {
    let l = line.trim();
    let inner = l
        .strip_prefix("[[")
        .and_then(|r| r.strip_suffix("]]"))
        .or_else(|| {
            l.strip_prefix('[')
                .and_then(|r| r.split('#').next()?.trim_end().strip_suffix(']'))
        })?;
    Some(split_path(inner))
}

/// The 1-based line where `key` is set inside the table `section`, or where the table opens.
pub fn locate(text: &str, section: &[&str], key: &str) -> Option<usize> {
    let mut current: Vec<String> = Vec::new();
    let mut header_line = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(h) = line_header(line) {
            current = h;
            if current
                .iter()
                .map(String::as_str)
                .eq(section.iter().copied())
            {
                header_line = Some(i + 1);
            }
            continue;
        }
        if let Some(k) = line_key(line) {
            let full: Vec<String> = current.iter().cloned().chain(split_path(&k)).collect();
            let want: Vec<&str> = section
                .iter()
                .copied()
                .chain(std::iter::once(key))
                .collect();
            if full.iter().map(String::as_str).eq(want.iter().copied()) {
                return Some(i + 1);
            }
        }
    }
    header_line
}

/// The 1-based line of byte `offset`, and the dotted key set on that line (or its table).
pub fn key_at(text: &str, offset: usize) -> (usize, String) {
    let offset = offset.min(text.len());
    let line_no = text[..offset].bytes().filter(|&b| b == b'\n').count() + 1;
    let mut current: Vec<String> = Vec::new();
    let mut key = String::new();
    for (i, line) in text.lines().enumerate() {
        if i + 1 > line_no {
            break;
        }
        if let Some(h) = line_header(line) {
            current = h;
            key = current.join(".");
        } else if i + 1 == line_no {
            if let Some(k) = line_key(line) {
                key = current
                    .iter()
                    .cloned()
                    .chain(std::iter::once(k))
                    .collect::<Vec<_>>()
                    .join(".");
            }
        }
    }
    if key.is_empty() {
        key = "(top level)".into();
    }
    (line_no, key)
}
