//! Reading one jail of a fail2ban configuration the way fail2ban's `JailReader` does: the
//! two-pass option read, its filter (with the jail's variables and `known/` merge-back) and its
//! actions (each `action.d/<name>` resolved with the jail's variables).
//!
//! Produces strings ([`RawJail`]); deciding what they mean natively (durations, ports, which
//! actions can be kept) is `crate::import`'s job. Called by the importer.
//!
//! # Compatibility
//!
//! Mirrors fail2ban 1.0.2 `JailReader.getOptions` (fail2ban-runtime.md §1.4): pass 1 reads
//! `enabled`, `backend`, `filter`; the filter is read with the `[...]` options, `logtype` set from
//! the backend, and its combined options merged into the jail as `known/<opt>`; pass 2 reads every
//! jail option (so `%(known/failregex)s` works); the filter is re-read with all jail options as
//! variables; jail-level `failregex`, `prefregex`, ... replace the filter's; each action spec is
//! read with `name` defaulting to the jail and `actname` to the file name (suffixed when `name`
//! differs). Differences: all jails are evaluated, not only enabled ones (the importer carries
//! disabled jails over); option values that fail fail2ban's int/bool conversion are reported by
//! the caller instead of silently replaced by defaults.

use std::path::{Path, PathBuf};

use super::Fail2banError;
use super::ini::{OrderedMap, Origin};
use super::merged::{Merged, passed};
use super::options::{extract_options, split_with_options};
use super::reader::{
    ACTION_OPTS, DefinitionReader, FILTER_OPTS, ResolvedFilter, filter_from_combined,
};

/// The fail2ban version reported to configurations as `%(fail2ban_version)s`.
pub const FAIL2BAN_VERSION: &str = "1.0.2";

/// Jail options fail2ban reads in pass 2 (`JailReader._configOpts`), with their type.
pub const JAIL_OPTS: &[(&str, OptType)] = &[
    ("enabled", OptType::Bool),
    ("backend", OptType::Str),
    ("maxretry", OptType::Int),
    ("maxmatches", OptType::Int),
    ("findtime", OptType::Str),
    ("bantime", OptType::Str),
    ("bantime.increment", OptType::Bool),
    ("bantime.factor", OptType::Str),
    ("bantime.formula", OptType::Str),
    ("bantime.multipliers", OptType::Str),
    ("bantime.maxtime", OptType::Str),
    ("bantime.rndtime", OptType::Str),
    ("bantime.overalljails", OptType::Bool),
    ("ignorecommand", OptType::Str),
    ("ignoreself", OptType::Bool),
    ("ignoreip", OptType::Str),
    ("ignorecache", OptType::Str),
    ("filter", OptType::Str),
    ("logtimezone", OptType::Str),
    ("logencoding", OptType::Str),
    ("logpath", OptType::Str),
    ("action", OptType::Str),
    ("usedns", OptType::Str),
    ("prefregex", OptType::Str),
    ("ignoreregex", OptType::Str),
    ("failregex", OptType::Str),
    ("maxlines", OptType::Int),
    ("datepattern", OptType::Str),
    ("journalmatch", OptType::Str),
];

/// How fail2ban converts a jail option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptType {
    Str,
    Int,
    Bool,
}

/// fail2ban's `_as_bool`.
pub fn as_bool(v: &str) -> bool {
    matches!(v.to_lowercase().as_str(), "1" | "on" | "true" | "yes")
}

/// Python `int()` of a string (decimal, optional sign, surrounding whitespace, `_` separators).
pub fn python_int(v: &str) -> Option<i64> {
    let t = v.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    t.replace('_', "").parse().ok()
}

/// One jail option as read in pass 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawOption {
    /// The interpolated text.
    pub value: String,
    /// Where its raw value was written.
    pub origin: Origin,
}

/// One action of a jail, resolved.
#[derive(Debug, Clone)]
pub struct RawAction {
    /// The spec as written in `action` (`nftables[port="ssh"]`).
    pub spec: String,
    /// The action file name (`nftables`) or Python file (`smtp.py`).
    pub file: String,
    /// fail2ban's action name within the jail.
    pub actname: String,
    /// The options given in brackets (plus `name`/`actname` defaults).
    pub args: OrderedMap<String>,
    /// fail2ban's `_initOpts` after reading: the args, then `[Init]` values and `known/<k>`
    /// (not substituted; shipped to fail2ban's server as action properties).
    pub init: OrderedMap<String>,
    /// Combined, tag-substituted properties as fail2ban ships them to its server (`actionban`,
    /// `port`, `blocktype`, ...); empty for Python actions.
    pub props: OrderedMap<String>,
    /// Every `[Definition]` and `[Init]` option, combined and tag-substituted (what the action
    /// means: `type`, `chain_hook`, `rule_match-custom`, ...); empty for Python actions.
    pub params: OrderedMap<String>,
    /// The files read for the action, in order.
    pub files: Vec<PathBuf>,
}

/// One jail, read.
#[derive(Debug, Clone)]
pub struct RawJail {
    /// The section name.
    pub name: String,
    /// `enabled`.
    pub enabled: bool,
    /// Pass-2 options that are set (the [`JAIL_OPTS`] names), interpolated.
    pub options: OrderedMap<RawOption>,
    /// The filter's name and options as written (`sshd`, `{mode: normal}`), if any.
    pub filter_name: Option<String>,
    /// The filter as the jail runs it (jail-level overrides applied).
    pub filter: Option<ResolvedFilter>,
    /// The actions, in order.
    pub actions: Vec<RawAction>,
}

/// Why a jail could not be read.
#[derive(Debug, thiserror::Error)]
pub enum JailReadError {
    /// fail2ban skips the jail (`config-error`): missing filter/action, bad option list.
    #[error("{0}")]
    Skip(String),
    /// fail2ban refuses the whole configuration (parse or interpolation error).
    #[error(transparent)]
    Fatal(#[from] Fail2banError),
}

fn skip_or_fatal(e: Fail2banError, what: &str) -> JailReadError {
    match e {
        Fail2banError::NotFound { .. } | Fail2banError::NoDefinition { .. } => {
            JailReadError::Skip(format!("unable to read the {what}: {e}"))
        }
        Fail2banError::OptionList { .. } => {
            JailReadError::Skip(format!("invalid {what} definition: {e}"))
        }
        other => JailReadError::Fatal(other),
    }
}

/// The merged `jail` configuration of `base`, with fail2ban's injected defaults.
pub fn read_jail_config(base: &Path) -> Result<Merged, Fail2banError> {
    let mut cfg = Merged::read(base, "jail")?;
    let confpath = base.to_string_lossy().trim_end_matches('/').to_string();
    cfg.defaults
        .insert("fail2ban_version".into(), passed(FAIL2BAN_VERSION));
    cfg.defaults
        .insert("fail2ban_confpath".into(), passed(&confpath));
    Ok(cfg)
}

/// The jail sections of a merged `jail` configuration, in order.
pub fn jail_names(cfg: &Merged) -> Vec<String> {
    cfg.section_names()
        .into_iter()
        .filter(|n| n != "INCLUDES")
        .collect()
}

/// Fetch one option of section `name` (no vars), with its origin.
fn get(cfg: &Merged, name: &str, opt: &str) -> Result<Option<RawOption>, Fail2banError> {
    Ok(cfg
        .get_with_origin(name, opt, None)?
        .map(|(value, origin)| RawOption { value, origin }))
}

/// The value fail2ban passes on as a variable after converting it (`True`, `5`, ...).
fn converted(value: &str, ty: OptType) -> Option<String> {
    match ty {
        OptType::Str => Some(value.to_string()),
        OptType::Bool => Some(if as_bool(value) { "True" } else { "False" }.to_string()),
        OptType::Int => python_int(value).map(|i| i.to_string()),
    }
}

/// Read jail `name` of `cfg` (the merged `jail` configuration of `base`).
///
/// `cfg` is modified: the filter's options are merged into the jail section as `known/<opt>`.
pub fn read_jail(cfg: &mut Merged, base: &Path, name: &str) -> Result<RawJail, JailReadError> {
    // Pass 1: what is needed to read the filter.
    let enabled = get(cfg, name, "enabled")?.is_some_and(|o| as_bool(&o.value));
    let backend = get(cfg, name, "backend")?.map_or_else(|| "auto".to_string(), |o| o.value);
    let filter_spec = get(cfg, name, "filter")?
        .map(|o| o.value)
        .unwrap_or_default();
    let mut pass1 = OrderedMap::new();
    pass1.insert(
        "enabled".to_string(),
        if enabled { "True" } else { "False" }.to_string(),
    );
    pass1.insert("backend".to_string(), backend.clone());
    pass1.insert("filter".to_string(), filter_spec.clone());
    let filter = if filter_spec.is_empty() {
        None
    } else {
        Some(open_filter(
            cfg,
            base,
            name,
            &filter_spec,
            &backend,
            &pass1,
        )?)
    };

    // Pass 2: every option, now able to use `known/...`.
    let (options, vars) = read_options(cfg, name)?;
    let (filter_name, filter) = match filter {
        Some((fname, mut reader)) => {
            reader.get_options(&vars, false)?;
            let combined = reader.get_combined(&[])?;
            let mut resolved = filter_from_combined(&reader.file, &combined)?;
            apply_jail_overrides(&mut resolved, &options, name)?;
            (Some(fname), Some(resolved))
        }
        None => (None, None),
    };

    let action_value = options
        .get("action")
        .map(|o| o.value.clone())
        .unwrap_or_default();
    let mut actions = Vec::new();
    for spec in split_with_options(&action_value)? {
        let spec = spec.trim();
        if !spec.is_empty() {
            actions.push(read_action(base, name, spec, &vars)?);
        }
    }
    Ok(RawJail {
        name: name.to_string(),
        enabled,
        options,
        filter_name,
        filter,
        actions,
    })
}

/// Read the jail's filter with the pass-1 options and merge its combined options into the jail
/// section as `known/<opt>`.
fn open_filter(
    cfg: &mut Merged,
    base: &Path,
    jail: &str,
    spec: &str,
    backend: &str,
    pass1: &OrderedMap<String>,
) -> Result<(String, DefinitionReader), JailReadError> {
    let (fname, fopts) = extract_options(spec).map_err(|e| skip_or_fatal(e, "filter"))?;
    let mut reader = DefinitionReader::read(base, "filter.d", &fname, fopts, FILTER_OPTS)
        .map_err(|e| skip_or_fatal(e, &format!("filter {fname:?}")))?;
    let defines_logtype = reader
        .cfg
        .options("Definition", false)
        .iter()
        .any(|o| o == "logtype");
    if reader.init_opts.get("logtype").is_none_or(|v| v.is_empty()) && !defines_logtype {
        let logtype = if backend.starts_with("systemd") {
            "journal"
        } else {
            "file"
        };
        reader.init_opts.insert("logtype".into(), logtype.into());
    }
    reader.get_options(pass1, true)?;
    let combined = reader.get_combined(&[])?;
    let mut known = OrderedMap::new();
    for (k, v) in combined.iter() {
        known.insert(k.to_string(), passed(v));
    }
    cfg.merge_section(jail, &known, "known/");
    Ok((fname, reader))
}

/// Pass 2: every [`JAIL_OPTS`] option that is set (`enabled`, `backend`, `filter`, `action`
/// with fail2ban's defaults), and the converted values fail2ban passes on as variables.
fn read_options(
    cfg: &Merged,
    name: &str,
) -> Result<(OrderedMap<RawOption>, OrderedMap<String>), Fail2banError> {
    let mut options = OrderedMap::new();
    let mut vars = OrderedMap::new();
    for &(opt, ty) in JAIL_OPTS {
        let value = match get(cfg, name, opt)? {
            Some(v) => v,
            None => {
                let default = match opt {
                    "enabled" => "false",
                    "backend" => "auto",
                    "filter" | "action" => "",
                    _ => continue,
                };
                RawOption {
                    value: default.to_string(),
                    origin: Origin::Passed,
                }
            }
        };
        if let Some(v) = converted(&value.value, ty) {
            vars.insert(opt.to_string(), v);
        }
        options.insert(opt.to_string(), value);
    }
    Ok((options, vars))
}

/// Jail-level `failregex`, `prefregex`, ... replace the filter's (`FilterReader._fillStream` on
/// the jail's options).
fn apply_jail_overrides(
    f: &mut ResolvedFilter,
    options: &OrderedMap<RawOption>,
    jail: &str,
) -> Result<(), Fail2banError> {
    let lines = |v: &str| -> Vec<String> {
        v.split('\n')
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    for (key, o) in options.iter() {
        let v = &o.value;
        match key {
            "failregex" => f.def.failregex = lines(v),
            "ignoreregex" => f.def.ignoreregex = lines(v),
            "journalmatch" => f.def.journalmatch = lines(v),
            "prefregex" => f.def.prefregex = Some(v.clone()),
            "datepattern" => f.def.datepattern = Some(v.clone()),
            "usedns" => f.usedns = Some(v.clone()),
            "maxlines" => {
                let n = python_int(v).ok_or_else(|| Fail2banError::InvalidValue {
                    name: format!("jail {jail} ({})", o.origin),
                    key: "maxlines".into(),
                    value: v.clone(),
                })?;
                f.def.maxlines = Some(n.clamp(1, i64::from(u32::MAX)) as u32);
            }
            _ => {}
        }
    }
    Ok(())
}

/// CommandAction's escaped tags plus `timeout` and `bantime`: never substituted statically.
const ACTION_IGNORED_TAGS: &[&str] = &[
    "matches",
    "ipmatches",
    "ipjailmatches",
    "timeout",
    "bantime",
];

/// Read one action spec of jail `jail` (`ActionReader` + `convert`).
fn read_action(
    base: &Path,
    jail: &str,
    spec: &str,
    vars: &OrderedMap<String>,
) -> Result<RawAction, JailReadError> {
    let (file, mut args) = extract_options(spec).map_err(|e| skip_or_fatal(e, "action"))?;
    if file.ends_with(".py") {
        let actname = args
            .get("actname")
            .cloned()
            .unwrap_or_else(|| file.trim_end_matches(".py").to_string());
        return Ok(RawAction {
            spec: spec.to_string(),
            file,
            actname,
            args,
            init: OrderedMap::new(),
            props: OrderedMap::new(),
            params: OrderedMap::new(),
            files: Vec::new(),
        });
    }
    let name = match args.get("name") {
        Some(n) => n.clone(),
        None => {
            args.insert("name".into(), jail.to_string());
            jail.to_string()
        }
    };
    let actname = match args.get("actname") {
        Some(a) => a.clone(),
        None => {
            let mut a = file.clone();
            if name != jail {
                match name.strip_prefix(jail) {
                    Some(suffix) => a.push_str(suffix),
                    None => {
                        a.push('-');
                        a.push_str(&name);
                    }
                }
            }
            args.insert("actname".into(), a.clone());
            a
        }
    };
    let mut reader = DefinitionReader::read(base, "action.d", &file, args.clone(), ACTION_OPTS)
        .map_err(|e| skip_or_fatal(e, &format!("action {file:?}")))?;
    let mut full = reader.clone();
    reader.get_options(vars, false)?;
    let props = reader.get_combined(ACTION_IGNORED_TAGS)?;
    full.get_options(vars, true)?;
    let params = full.get_combined(ACTION_IGNORED_TAGS)?;
    Ok(RawAction {
        spec: spec.to_string(),
        file,
        actname,
        args,
        init: reader.init_opts.clone(),
        props,
        params,
        files: reader.cfg.files.clone(),
    })
}
