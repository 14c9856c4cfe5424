//! Readers for `filter.d/` and `action.d/` definitions: the `[Definition]` / `[Init]` option
//! sets, their combination and `<tag>` substitution, and the conversion of a filter to
//! [`FilterDef`].
//!
//! Does not read jails (`crate::import`) and does not prepare regexes (`crate::filter`). Called
//! by `read_filter*` in this module and by the importer, which drives the two-pass jail flow
//! through [`DefinitionReader::get_options`].
//!
//! # Compatibility
//!
//! Mirrors fail2ban 1.0.2 `DefinitionInitConfigReader` (`getOptions`, `getCombOption`,
//! `getCombined`) and `FilterReader.convert` (fail2ban-filter.md §1.5–1.7): passed options beat
//! `[Init]`, which beats `[Definition]`; `known/<k>` keeps the file's `[Init]` value; a passed
//! option is not read from `[Definition]`; conditional keys `name?cond` keep `<name>`
//! unsubstituted; tags not found anywhere stay for the filter engine or the action runtime.
//! Differences: a filter file without `[Definition]` is an error (fail2ban logs one and
//! yields an empty filter); a `maxlines` that is not an integer is an error (fail2ban warns
//! and drops it); `maxlines` below 1 becomes 1, as fail2ban's server does.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::Fail2banError;
use super::ini::OrderedMap;
use super::merged::{Merged, Vars, vars_from};
use super::tags;
use crate::config::FilterDef;

/// The `[Definition]` options a filter reader fetches (`FilterReader._configOpts`).
pub const FILTER_OPTS: &[&str] = &[
    "usedns",
    "prefregex",
    "ignoreregex",
    "failregex",
    "maxlines",
    "datepattern",
    "journalmatch",
];

/// The `[Definition]` options an action reader fetches (`ActionReader._configOpts`).
pub const ACTION_OPTS: &[&str] = &[
    "actionstart",
    "actionstart_on_demand",
    "actionstop",
    "actionflush",
    "actionreload",
    "actioncheck",
    "actionrepair",
    "actionrepair_on_unban",
    "actionban",
    "actionprolong",
    "actionreban",
    "actionunban",
    "norestored",
];

/// A `filter.d/<name>` or `action.d/<name>` definition being resolved.
#[derive(Debug, Clone)]
pub struct DefinitionReader {
    /// The merged files.
    pub cfg: Merged,
    /// The logical name, e.g. `filter.d/sshd`.
    pub file: String,
    /// `_initOpts`: passed options, then `[Init]` values and `known/<k>`.
    pub init_opts: OrderedMap<String>,
    /// `_pOpts` of the last `get_options`, as configparser vars.
    p_vars: Vars,
    /// `_opts`: the `[Definition]` values fetched by the last `get_options`.
    opts: OrderedMap<String>,
    /// `_defCache` of `getCombOption`.
    def_cache: HashMap<String, Option<String>>,
    config_opts: &'static [&'static str],
}

impl DefinitionReader {
    /// Read `<kind>/<name>` under `base` with the options passed in brackets.
    pub fn read(
        base: &Path,
        kind: &str,
        name: &str,
        init_opts: OrderedMap<String>,
        config_opts: &'static [&'static str],
    ) -> Result<Self, Fail2banError> {
        Self::read_with_fallback(base, kind, name, init_opts, config_opts, None)
    }

    /// Like [`DefinitionReader::read`], with missing includes looked up in `fallback`
    /// ([`Merged::read_with_fallback`]).
    pub fn read_with_fallback(
        base: &Path,
        kind: &str,
        name: &str,
        init_opts: OrderedMap<String>,
        config_opts: &'static [&'static str],
        fallback: Option<&Path>,
    ) -> Result<Self, Fail2banError> {
        // As `os.path.join("filter.d", name)` in fail2ban: an absolute name is the file itself,
        // read alone with its includes (fail2ban-regex's `readexplicit` of a foreign file).
        let explicit = Path::new(name);
        let (file, cfg) = if explicit.is_absolute() && explicit.is_file() {
            let cfg = Merged::read_files(&[explicit.to_path_buf()], fallback)?;
            (name.to_string(), cfg)
        } else {
            let file = format!("{kind}/{name}");
            let cfg = Merged::read_with_fallback(base, &file, fallback)?;
            (file, cfg)
        };
        // A filter without [Definition] can never match; an action without one does nothing
        // (fail2ban logs an error and runs it as a no-op), which the importer reports.
        if kind == "filter.d" && !cfg.has_section("Definition") {
            return Err(Fail2banError::NoDefinition {
                name: file,
                files: cfg.files.clone(),
            });
        }
        Ok(Self {
            cfg,
            file,
            init_opts,
            p_vars: Vars::new(),
            opts: OrderedMap::new(),
            def_cache: HashMap::new(),
            config_opts,
        })
    }

    /// `getOptions(pOpts, all)`: fetch the `[Definition]` options with `p_opts` (plus the
    /// passed options) as vars, and fold `[Init]` into the passed options.
    pub fn get_options(
        &mut self,
        p_opts: &OrderedMap<String>,
        all: bool,
    ) -> Result<(), Fail2banError> {
        let mut p = p_opts.clone();
        p.update(&self.init_opts);
        let vars = vars_from(p.iter().map(|(k, v)| (k, v.as_str())));
        let mut opts = OrderedMap::new();
        for &name in self.config_opts {
            if p.contains_key(name) {
                continue;
            }
            if let Some(v) = self.cfg.get("Definition", name, Some(&vars))? {
                opts.insert(name.to_string(), v);
            }
        }
        self.p_vars = vars;
        for opt in self.cfg.options("Init", false) {
            let value = self.cfg.get("Init", &opt, None)?.unwrap_or_default();
            if !opt.starts_with("known/") {
                self.init_opts.insert(format!("known/{opt}"), value.clone());
            }
            if !self.init_opts.contains_key(&opt) {
                self.init_opts.insert(opt, value);
            }
        }
        if all {
            for opt in self.cfg.options("Definition", false) {
                if opts.contains_key(&opt) {
                    continue;
                }
                let value = self.cfg.get("Definition", &opt, None)?.unwrap_or_default();
                opts.insert(opt, value);
            }
        }
        self.opts = opts;
        Ok(())
    }

    /// `getCombined`: `[Definition]` values overlaid by the passed/`[Init]` ones, all `<tag>`s
    /// that name an option substituted. `ignore` names tags to leave alone.
    pub fn get_combined(&mut self, ignore: &[&str]) -> Result<OrderedMap<String>, Fail2banError> {
        let mut combined = self.opts.clone();
        combined.update(&self.init_opts);
        if combined.is_empty() {
            return Ok(combined);
        }
        let mut ignore: HashSet<String> = ignore.iter().map(|s| s.to_string()).collect();
        for key in combined.keys() {
            if let Some((base, _)) = conditional_key(key) {
                ignore.insert(base.to_string());
            }
        }
        let cfg = &self.cfg;
        let vars = &self.p_vars;
        let cache = &mut self.def_cache;
        let mut fallback = |name: &str| -> Result<Option<String>, Fail2banError> {
            if let Some(v) = cache.get(name) {
                return Ok(v.clone());
            }
            let v = cfg.get_ex("Definition", name, Some(vars))?;
            cache.insert(name.to_string(), v.clone());
            Ok(v)
        };
        tags::substitute(&mut combined, &ignore, &mut fallback, &self.file)?;
        Ok(combined)
    }
}

/// fail2ban `CONDITIONAL_RE` `^(\w+)(\?.+)$` on an option name.
pub fn conditional_key(key: &str) -> Option<(&str, &str)> {
    let q = key.find('?')?;
    let (base, cond) = key.split_at(q);
    let ok = !base.is_empty() && base.chars().all(|c| c.is_alphanumeric() || c == '_');
    (ok && cond.len() > 1).then_some((base, cond))
}

/// A resolved filter: the native definition plus what fail2ban also carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedFilter {
    /// What the filter engine needs.
    pub def: FilterDef,
    /// The filter's `usedns`, if it sets one (a jail option natively).
    pub usedns: Option<String>,
}

/// `FilterReader.convert` into the native type.
pub fn filter_from_combined(
    name: &str,
    opts: &OrderedMap<String>,
) -> Result<ResolvedFilter, Fail2banError> {
    let lines = |key: &str| -> Vec<String> {
        opts.get(key)
            .map(|v| {
                v.split('\n')
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let maxlines = match opts.get("maxlines") {
        None => None,
        Some(v) => Some(
            parse_maxlines(v).ok_or_else(|| Fail2banError::InvalidValue {
                name: name.to_string(),
                key: "maxlines".to_string(),
                value: v.clone(),
            })?,
        ),
    };
    Ok(ResolvedFilter {
        def: FilterDef {
            prefregex: opts.get("prefregex").cloned(),
            failregex: lines("failregex"),
            ignoreregex: lines("ignoreregex"),
            datepattern: opts.get("datepattern").cloned(),
            maxlines,
            journalmatch: lines("journalmatch"),
            options: Default::default(),
        },
        usedns: opts.get("usedns").cloned(),
    })
}

/// Python `int()` of a `maxlines` value, clamped to at least 1 as the server does.
fn parse_maxlines(v: &str) -> Option<u32> {
    let t = v.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    let n: i64 = t.replace('_', "").parse().ok()?;
    if t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    Some(n.clamp(1, i64::from(u32::MAX)) as u32)
}

/// Read and resolve a filter the way a standalone `FilterReader` does: `init` are the passed
/// options, `jail_vars` extra variables a jail supplies (its own options).
pub fn resolve_filter(
    confdir: &Path,
    name: &str,
    init: &OrderedMap<String>,
    jail_vars: &OrderedMap<String>,
) -> Result<ResolvedFilter, Fail2banError> {
    resolve_filter_with_fallback(confdir, name, init, jail_vars, None)
}

/// [`resolve_filter`] with missing includes looked up in `fallback`.
pub fn resolve_filter_with_fallback(
    confdir: &Path,
    name: &str,
    init: &OrderedMap<String>,
    jail_vars: &OrderedMap<String>,
    fallback: Option<&Path>,
) -> Result<ResolvedFilter, Fail2banError> {
    let mut r = DefinitionReader::read_with_fallback(
        confdir,
        "filter.d",
        name,
        init.clone(),
        FILTER_OPTS,
        fallback,
    )?;
    r.get_options(jail_vars, false)?;
    let combined = r.get_combined(&[])?;
    filter_from_combined(&r.file, &combined)
}
