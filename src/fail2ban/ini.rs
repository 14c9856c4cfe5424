//! One fail2ban INI file, parsed the way Python's `configparser.ConfigParser` (strict, inline
//! comment prefix `;`) reads it, with the file and line of every option kept for error messages.
//!
//! Owns the line grammar only: sections, `key = value` / `key: value`, continuation lines,
//! comments and duplicate detection. Merging several files, includes and interpolation live in
//! `merged.rs`; callers are `merged.rs` (every file it reads) and nothing else.
//!
//! # Compatibility
//!
//! Identical to CPython 3.11 `RawConfigParser._read` with fail2ban's settings: keys are
//! lower-cased and cut at the first `=` or `:`; a line indented deeper than the line that started
//! the current option continues its value; full-line comments start with `#` or `;` (even inside
//! a multi-line value); `;` starts an inline comment only at column 0 or after whitespace; blank
//! lines inside a value are kept and trailing ones dropped; a section or option repeated in one
//! file is an error; `[DEFAULT]` may repeat. Lines are split like Python's universal newlines
//! (`\r\n`, `\r`, `\n`). Differences: a file that is not UTF-8 is an error here (fail2ban logs it
//! and reads nothing from it); every bad line is reported with its line number, the first one
//! wins.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Fail2banError;

/// Where a value came from: a file and a 1-based line, or a value passed in by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Read from this file at this line (the line holding the key).
    File(Arc<PathBuf>, usize),
    /// Passed by the caller (jail options, `name[key=value]`, built-in defaults).
    Passed,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path, line) => write!(f, "{}:{}", path.display(), line),
            Origin::Passed => f.write_str("<passed option>"),
        }
    }
}

/// A raw (not interpolated) option value and its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The value as configparser stores it: continuation lines joined with `\n`.
    pub text: String,
    /// Where it was written.
    pub origin: Origin,
}

/// A map that remembers insertion order (Python `dict` semantics: re-inserting keeps the
/// original position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderedMap<V> {
    entries: Vec<(String, V)>,
    index: HashMap<String, usize>,
}

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<V> OrderedMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }

    /// Mutable access to the value under `key`.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.index.get(key).map(|&i| &mut self.entries[i].1)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// Insert or replace; a replaced key keeps its position.
    pub fn insert(&mut self, key: String, value: V) {
        match self.index.get(&key) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, value));
            }
        }
    }

    /// Keys and values in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<V: Clone> OrderedMap<V> {
    /// Python `dict.update`: insert every entry of `other`, later wins.
    pub fn update(&mut self, other: &OrderedMap<V>) {
        for (k, v) in other.iter() {
            self.insert(k.to_string(), v.clone());
        }
    }
}

/// One parsed file.
#[derive(Debug, Clone, Default)]
pub struct IniFile {
    /// All `[DEFAULT]` options of the file.
    pub defaults: OrderedMap<Value>,
    /// Other sections in file order, with their options in file order.
    pub sections: OrderedMap<OrderedMap<Value>>,
}

/// Where the current option is being collected.
enum Target {
    Defaults,
    Section(String),
}

/// Parser state while walking the lines of one file.
struct Reader {
    path: Arc<PathBuf>,
    file: IniFile,
    target: Option<Target>,
    section_name: String,
    /// The current option and its value lines (joined at the end).
    option: Option<String>,
    lines: HashMap<(String, String), Vec<String>>,
    seen_options: std::collections::HashSet<(String, String)>,
    indent_level: usize,
}

/// Parse `text` (the content of `path`).
pub fn parse(path: &Path, text: &str) -> Result<IniFile, Fail2banError> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut r = Reader {
        path: Arc::new(path.to_path_buf()),
        file: IniFile::default(),
        target: None,
        section_name: String::new(),
        option: None,
        lines: HashMap::new(),
        seen_options: Default::default(),
        indent_level: 0,
    };
    for (i, line) in text.split_inclusive('\n').enumerate() {
        r.line(i + 1, line)?;
    }
    Ok(r.finish())
}

/// Byte offset where a comment starts in `line`, if any.
fn comment_start(line: &str) -> Option<usize> {
    let trimmed = line.trim();
    if trimmed.starts_with('#') || trimmed.starts_with(';') {
        return Some(0);
    }
    line.char_indices().find_map(|(i, c)| {
        let after_space = line[..i]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace);
        (c == ';' && after_space).then_some(i)
    })
}

/// Python's `\[(?P<header>.+)\]` matched at the start of `value`: the text up to the last `]`.
fn section_header(value: &str) -> Option<&str> {
    let rest = value.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    (end > 0).then(|| &rest[..end])
}

impl Reader {
    fn key_of(&self, option: &str) -> (String, String) {
        (self.section_name.clone(), option.to_string())
    }

    fn line(&mut self, lineno: usize, line: &str) -> Result<(), Fail2banError> {
        let comment = comment_start(line);
        let value = line[..comment.unwrap_or(line.len())].trim();
        if value.is_empty() {
            if comment.is_none() {
                if let Some(opt) = &self.option {
                    let key = self.key_of(opt);
                    if let Some(v) = self.lines.get_mut(&key) {
                        v.push(String::new());
                    }
                }
            }
            return Ok(());
        }
        let indent = line
            .char_indices()
            .find(|(_, c)| !c.is_whitespace())
            .map_or(0, |(i, _)| line[..i].chars().count());
        if self.target.is_some() && self.option.is_some() && indent > self.indent_level {
            let key = self.key_of(self.option.as_deref().unwrap_or_default());
            if let Some(v) = self.lines.get_mut(&key) {
                v.push(value.to_string());
            }
            return Ok(());
        }
        self.indent_level = indent;
        if let Some(header) = section_header(value) {
            self.start_section(header, lineno)
        } else if self.target.is_none() {
            Err(self.error(lineno, "file contains no section header before this line"))
        } else {
            self.start_option(value, lineno)
        }
    }

    fn start_section(&mut self, header: &str, lineno: usize) -> Result<(), Fail2banError> {
        self.option = None;
        self.section_name = header.to_string();
        if header == "DEFAULT" {
            self.target = Some(Target::Defaults);
            return Ok(());
        }
        if self.file.sections.contains_key(header) {
            return Err(Fail2banError::DuplicateSection {
                path: self.path.to_path_buf(),
                line: lineno,
                section: header.to_string(),
            });
        }
        self.file
            .sections
            .insert(header.to_string(), OrderedMap::new());
        self.target = Some(Target::Section(header.to_string()));
        Ok(())
    }

    fn start_option(&mut self, value: &str, lineno: usize) -> Result<(), Fail2banError> {
        let Some(delim) = value.find(['=', ':']) else {
            return Err(self.error(lineno, "line is neither a section header nor `key = value`"));
        };
        let name = value[..delim].trim_end().to_lowercase();
        if name.is_empty() {
            return Err(self.error(lineno, "option without a name"));
        }
        let text = value[delim + 1..].trim().to_string();
        let key = self.key_of(&name);
        if !self.seen_options.insert(key.clone()) {
            return Err(Fail2banError::DuplicateOption {
                path: self.path.to_path_buf(),
                line: lineno,
                section: self.section_name.clone(),
                key: name,
            });
        }
        let entry = Value {
            text: String::new(),
            origin: Origin::File(self.path.clone(), lineno),
        };
        match &self.target {
            Some(Target::Defaults) => self.file.defaults.insert(name.clone(), entry),
            Some(Target::Section(s)) => {
                if let Some(sec) = self.file.sections.get_mut(s) {
                    sec.insert(name.clone(), entry);
                }
            }
            None => {}
        }
        self.lines.insert(key, vec![text]);
        self.option = Some(name);
        Ok(())
    }

    fn error(&self, line: usize, message: &str) -> Fail2banError {
        Fail2banError::Syntax {
            path: self.path.to_path_buf(),
            line,
            message: message.to_string(),
        }
    }

    /// Join the collected lines of every option (configparser's `_join_multiline_values`).
    fn finish(mut self) -> IniFile {
        let join = |lines: &HashMap<(String, String), Vec<String>>, sec: &str, key: &str| {
            lines
                .get(&(sec.to_string(), key.to_string()))
                .map(|v| v.join("\n").trim_end().to_string())
                .unwrap_or_default()
        };
        let keys: Vec<String> = self.file.defaults.keys().map(str::to_string).collect();
        for k in keys {
            let text = join(&self.lines, "DEFAULT", &k);
            if let Some(v) = self.file.defaults.get_mut(&k) {
                v.text = text;
            }
        }
        let names: Vec<String> = self.file.sections.keys().map(str::to_string).collect();
        for name in names {
            let Some(sec) = self.file.sections.get_mut(&name) else {
                continue;
            };
            let keys: Vec<String> = sec.keys().map(str::to_string).collect();
            for k in keys {
                let text = join(&self.lines, &name, &k);
                if let Some(v) = sec.get_mut(&k) {
                    v.text = text;
                }
            }
        }
        self.file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> IniFile {
        parse(Path::new("t.conf"), text).expect("parses")
    }

    fn get<'a>(f: &'a IniFile, sec: &str, key: &str) -> &'a str {
        &f.sections
            .get(sec)
            .and_then(|s| s.get(key))
            .expect("key")
            .text
    }

    #[test]
    fn continuation_comments_and_blank_lines() {
        let f = p("[Definition]\nfailregex = a\n  # comment\n  b\n\n  c\n\n\nx=1;2 ; c\nY: z\n");
        assert_eq!(get(&f, "Definition", "failregex"), "a\nb\n\nc");
        assert_eq!(get(&f, "Definition", "x"), "1;2");
        assert_eq!(get(&f, "Definition", "y"), "z");
    }

    #[test]
    fn unindented_line_starts_new_option() {
        let f = p("[D]\nfailregex = a\n^fifth: <HOST>\n");
        assert_eq!(get(&f, "D", "^fifth"), "<HOST>");
    }

    #[test]
    fn header_with_trailing_space_and_default_repeat() {
        let f = p("[Definition] \na=1\n[DEFAULT]\nb=2\n[DEFAULT]\nc=3\n");
        assert_eq!(get(&f, "Definition", "a"), "1");
        assert_eq!(f.defaults.len(), 2);
    }

    #[test]
    fn errors_name_line() {
        let e = parse(Path::new("t.conf"), "[a]\nx=1\nx=2\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.conf:3: option 'x' in section [a] already exists"
        );
        let e = parse(Path::new("t.conf"), "x=1\n").unwrap_err();
        assert!(e.to_string().starts_with("t.conf:1: "), "{e}");
        let e = parse(Path::new("t.conf"), "[a]\n[a]\n").unwrap_err();
        assert!(e.to_string().starts_with("t.conf:2: "), "{e}");
        let e = parse(Path::new("t.conf"), "[a]\njunk\n").unwrap_err();
        assert!(e.to_string().starts_with("t.conf:2: "), "{e}");
    }
}
