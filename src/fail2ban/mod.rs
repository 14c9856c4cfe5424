//! Reading fail2ban's INI world: `.conf`/`.d/`/`.local` layering, `[INCLUDES]`, `[DEFAULT]`,
//! `%(x)s` interpolation (with `known/` and `section/` forms), `<tag>` substitution and option
//! lists, producing resolved filter definitions.
//!
//! This module reads and resolves; it does not decide anything about jails or actions (that is
//! `crate::import`, which builds on [`merged::Merged`] and [`reader::DefinitionReader`]) and it
//! does not touch regex syntax (`crate::filter` expands `<HOST>`, `<F-...>`, `<SKIPLINES>`, ...).
//! Callers: the importer, the daemon when run on a fail2ban directory, the regex tool and the
//! sample harness.
//!
//! Layout: `ini.rs` (one file's grammar), `merged.rs` (file order, includes, merge,
//! interpolation), `tags.rs` (`<tag>` substitution), `options.rs` (`name[k=v]` lists),
//! `reader.rs` (filter/action definitions), `jail.rs` (one jail: options, filter, actions).
//!
//! # Compatibility
//!
//! Reproduces fail2ban 1.0.2's client-side reader (`configparserinc.py`, `configreader.py`,
//! `filterreader.py`) as specified in fail2ban-filter.md §1 and fail2ban-runtime.md §1.1–1.5:
//! for every stock filter in every mode the resolved definition equals what fail2ban's
//! `FilterReader` sends to its server (checked by `tests/fail2ban_stock.rs` against the installed
//! package). The documented differences are stricter error handling: non-UTF-8 files,
//! unreadable includes, filters without `[Definition]` and non-integer `maxlines` are errors
//! here, each naming the file (and line where there is one).

pub mod ini;
pub mod jail;
pub mod merged;
pub mod options;
pub mod python;
pub mod reader;
pub mod tags;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::FilterDef;

pub use ini::{OrderedMap, Origin};
pub use options::{extract_options, parse_option_list, split_with_options};
pub use reader::{DefinitionReader, ResolvedFilter};

/// Everything that can go wrong reading fail2ban configuration.
#[derive(Debug, thiserror::Error)]
pub enum Fail2banError {
    /// A file exists but could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file is not UTF-8.
    #[error("{path}: not valid UTF-8 after byte {offset}")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Bytes of valid UTF-8 before the first bad one.
        offset: usize,
    },
    /// A line that is neither a section header, an option, a comment nor a continuation.
    #[error("{path}:{line}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A section repeated within one file.
    #[error("{path}:{line}: section [{section}] already exists")]
    DuplicateSection {
        /// The file.
        path: PathBuf,
        /// 1-based line of the repetition.
        line: usize,
        /// The section.
        section: String,
    },
    /// An option repeated within one section of one file.
    #[error("{path}:{line}: option '{key}' in section [{section}] already exists")]
    DuplicateOption {
        /// The file.
        path: PathBuf,
        /// 1-based line of the repetition.
        line: usize,
        /// The section.
        section: String,
        /// The option.
        key: String,
    },
    /// The configuration directory does not exist.
    #[error("base configuration directory {path} does not exist")]
    NoBaseDir {
        /// The directory.
        path: PathBuf,
    },
    /// None of `N.conf`, `N.d/*.conf`, `N.local`, `N.d/*.local` exists.
    #[error("found no accessible config files for '{name}' under {base}")]
    NotFound {
        /// The logical name (`filter.d/sshd`).
        name: String,
        /// The configuration directory.
        base: PathBuf,
    },
    /// A filter or action without a `[Definition]` section.
    #[error("{name} has no [Definition] section (read {files:?})")]
    NoDefinition {
        /// The logical name.
        name: String,
        /// The files read.
        files: Vec<PathBuf>,
    },
    /// `%(name)s` names an option that does not exist.
    #[error(
        "{origin}: option '{key}' in section [{section}] refers to '{name}', which is not a valid option name (raw value {raw:?})"
    )]
    MissingInterpolation {
        /// Where the option being read was written.
        origin: Origin,
        /// The section it was read in.
        section: String,
        /// The option being read.
        key: String,
        /// The missing name.
        name: String,
        /// The raw value of the option.
        raw: String,
    },
    /// Bad `%` syntax or nesting deeper than 10.
    #[error("{origin}: option '{key}' in section [{section}]: {message}")]
    Interpolation {
        /// Where the option was written.
        origin: Origin,
        /// The section.
        section: String,
        /// The option.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// `<tag>` substitution does not terminate.
    #[error("{what}: option '{key}' contains self-referencing tag <{tag}>")]
    RecursiveTag {
        /// The definition (`filter.d/sshd`).
        what: String,
        /// The option being substituted.
        key: String,
        /// The tag.
        tag: String,
    },
    /// A malformed `name[k=v, ...]` list.
    #[error("invalid option list {spec:?}: {message}")]
    OptionList {
        /// The text.
        spec: String,
        /// fail2ban's description of the problem.
        message: String,
    },
    /// A value of the wrong type after substitution.
    #[error("{name}: invalid {key} value {value:?}")]
    InvalidValue {
        /// The definition (`filter.d/sshd`).
        name: String,
        /// The option.
        key: String,
        /// The value.
        value: String,
    },
}

fn ordered(options: &BTreeMap<String, String>) -> OrderedMap<String> {
    let mut m = OrderedMap::new();
    for (k, v) in options {
        m.insert(k.clone(), v.clone());
    }
    m
}

/// Read `filter.d/<name>` of `confdir` with options (`"sshd[mode=aggressive]"` or just
/// `"sshd"`), as fail2ban's `FilterReader` + `getCombined`/`convert` do, returning the resolved
/// definition: all `%(x)s` and non-regex `<x>` tags expanded; regex tags (`<HOST>`,
/// `<F-...>`, `<ADDR>`, `<SKIPLINES>`, ...) left for the filter engine.
pub fn read_filter(confdir: &Path, spec: &str) -> Result<FilterDef, Fail2banError> {
    let (name, options) = extract_options(spec)?;
    Ok(reader::resolve_filter(confdir, &name, &options, &OrderedMap::new())?.def)
}

/// Same as [`read_filter`], with the options given separately (as a jail passes `mode`,
/// `logtype`, ...).
pub fn read_filter_with(
    confdir: &Path,
    name: &str,
    options: &BTreeMap<String, String>,
) -> Result<FilterDef, Fail2banError> {
    Ok(reader::resolve_filter(confdir, name, &ordered(options), &OrderedMap::new())?.def)
}

/// Same as [`read_filter_with`], but an `[INCLUDES]` file that does not exist is looked up by
/// file name in `include_fallback` (e.g. `/etc/fail2ban/filter.d`). The sample harness needs this
/// for the `zzz-*` test filters, whose `before = ../../../../../../../config/filter.d/common.conf`
/// points nowhere in Debian's installed layout (fail2ban-filter.md §1.1).
pub fn read_filter_with_fallback(
    confdir: &Path,
    name: &str,
    options: &BTreeMap<String, String>,
    include_fallback: &Path,
) -> Result<FilterDef, Fail2banError> {
    Ok(reader::resolve_filter_with_fallback(
        confdir,
        name,
        &ordered(options),
        &OrderedMap::new(),
        Some(include_fallback),
    )?
    .def)
}
