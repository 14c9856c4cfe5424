//! compat: fail2ban's failJSON sample harness (`tests/samplestestcase.py`), replayed on our engine.
//!
//! Owns reading the annotated sample logs of the installed fail2ban package, building one engine
//! per (test, filter options) pair with the harness's settings, evaluating every annotated line,
//! and the per-test checks (greedy catch-all, every regex has a sample). It reads filters through
//! `crate::fail2ban` (stock `filter.d`) or `super::builtin` (our own filters), and is driven by
//! `tests/compat.rs` and `fail2zig`-independent tooling. Nothing of fail2ban is copied: the logs and
//! filters are read where the package installed them.
//!
//! # Compatibility
//! The loop is the harness's (spec §5): fixed now = 1124013600, `TZ=CET-01CEST-02,M3.5.0,M10.5.0`
//! (the caller must run the process in that zone; [`HARNESS_TZ`]), `fileOptions` / `filterOptions`
//! / `addFILE` / `failJSON` directives, `test.condition` inheritance, engines reused per option key
//! with their state, journal samples fed with a given date, exact time equality, ids compared with
//! IP semantics. `constraint`/`test.condition` expressions are evaluated by a small evaluator that
//! knows the forms the corpus uses (`name == '…'`, `opts.get('k') != '…'`); any other expression
//! fails the evaluation instead of being guessed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::engine::{Filter, FilterSettings, Finding, TupleLine, UseDns};
use super::ip::{FailId, IdKind};
use super::tags;
use crate::config::FilterDef;

/// The harness's fixed clock: 2005-08-14 10:00:00 UTC.
pub const TEST_NOW: f64 = 1124013600.0;
/// The harness's process time zone.
pub const HARNESS_TZ: &str = "CET-01CEST-02,M3.5.0,M10.5.0";
/// `TEST_NOW` as the harness's journal date text (UTC ISO).
const TEST_NOW_STR: &str = "2005-08-14T10:00:00";

/// Where the corpus and the filters are.
#[derive(Debug, Clone)]
pub struct CorpusPaths {
    /// The stock fail2ban configuration (`/etc/fail2ban`).
    pub stock: PathBuf,
    /// The package's test directory (`…/fail2ban/tests`), holding `files/logs` and `config`.
    pub tests: PathBuf,
}

impl Default for CorpusPaths {
    fn default() -> CorpusPaths {
        CorpusPaths {
            stock: PathBuf::from("/etc/fail2ban"),
            tests: PathBuf::from("/usr/lib/python3/dist-packages/fail2ban/tests"),
        }
    }
}

/// Which filter definitions are tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The stock `filter.d` files, read by `crate::fail2ban`.
    Stock,
    /// Our built-in filters, against the sample log of the same name.
    Builtin,
}

/// The result of one harness test (one filter).
#[derive(Debug, Clone, Default)]
pub struct TestReport {
    /// The test (filter) name.
    pub name: String,
    /// Line × option-set evaluations performed.
    pub evaluations: usize,
    /// Evaluations that passed.
    pub passed: usize,
    /// Every failed check, one line each (`file:line [options]: what`).
    pub failures: Vec<String>,
}

impl TestReport {
    /// One summary line.
    pub fn summary(&self) -> String {
        let status = if self.failures.is_empty() {
            "ok"
        } else {
            "FAIL"
        };
        format!(
            "{:<32} {status:>4}  {}/{} evaluations",
            self.name, self.passed, self.evaluations
        )
    }
}

/// The names of the harness's tests: stock `filter.d/*.conf` minus `*common.conf`, plus the
/// `zzz-*` filters of the test config. Sorted.
pub fn test_names(paths: &CorpusPaths) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let list = |dir: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    for f in list(&paths.stock.join("filter.d")) {
        if let Some(n) = f.strip_suffix(".conf") {
            if !f.ends_with("common.conf") && !n.starts_with('.') {
                out.push((n.to_string(), false));
            }
        }
    }
    for f in list(&paths.tests.join("config/filter.d")) {
        if let Some(n) = f.strip_suffix(".conf") {
            if n.starts_with("zzz-") {
                out.push((n.to_string(), true));
            }
        }
    }
    out
}

/// A JSON object with its key order (Python dicts keep insertion order; the engine key depends
/// on it).
#[derive(Debug, Clone, Default)]
struct Obj(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Obj {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Obj, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Obj;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Obj, A::Error> {
                let mut v = Vec::new();
                while let Some((k, val)) = m.next_entry::<String, Value>()? {
                    match v.iter_mut().find(|(x, _): &&mut (String, Value)| *x == k) {
                        Some(e) => e.1 = val,
                        None => v.push((k, val)),
                    }
                }
                Ok(Obj(v))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(Obj),
    Many(Vec<Obj>),
}

impl Obj {
    fn get(&self, k: &str) -> Option<&Value> {
        self.0.iter().find(|(x, _)| x == k).map(|(_, v)| v)
    }
    fn get_str(&self, k: &str) -> Option<String> {
        self.get(k).map(py_str)
    }
    fn overlay(&self, o: &Obj) -> Obj {
        let mut r = self.clone();
        for (k, v) in &o.0 {
            match r.0.iter_mut().find(|(x, _)| x == k) {
                Some(e) => e.1 = v.clone(),
                None => r.0.push((k.clone(), v.clone())),
            }
        }
        r
    }
    /// Python's `repr(dict)` of string values.
    fn repr(&self) -> String {
        let items: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{}: {}", py_repr_str(k), py_repr_value(v)))
            .collect();
        format!("{{{}}}", items.join(", "))
    }
}

fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

fn py_repr_str(s: &str) -> String {
    crate::fail2ban::python::str_repr(s)
}

fn py_repr_value(v: &Value) -> String {
    match v {
        Value::String(s) => py_repr_str(s),
        other => py_str(other),
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Bool(true)) => true,
    }
}

/// Evaluates the corpus's Python expressions: `name == 'x'`, `name != 'x'`,
/// `opts.get('k') == 'x'`, `opts.get('k') != 'x'`. Unknown forms are an error.
fn eval_condition(expr: &str, name: &str, opts: &Obj) -> Result<bool, String> {
    let (lhs, rhs, eq) = if let Some((l, r)) = expr.split_once("==") {
        (l.trim(), r.trim(), true)
    } else if let Some((l, r)) = expr.split_once("!=") {
        (l.trim(), r.trim(), false)
    } else {
        return Err(format!("unsupported expression {expr:?}"));
    };
    let lit = |s: &str| -> Option<String> {
        let s = s.trim();
        let q = s.chars().next()?;
        if (q == '\'' || q == '"') && s.len() >= 2 && s.ends_with(q) {
            Some(s[1..s.len() - 1].to_string())
        } else {
            None
        }
    };
    let value = |s: &str| -> Result<Option<String>, String> {
        if s == "name" {
            return Ok(Some(name.to_string()));
        }
        if let Some(inner) = s
            .strip_prefix("opts.get(")
            .and_then(|x| x.strip_suffix(')'))
        {
            let k = lit(inner).ok_or_else(|| format!("unsupported expression {expr:?}"))?;
            return Ok(opts.get(&k).map(py_str));
        }
        lit(s)
            .map(Some)
            .ok_or_else(|| format!("unsupported expression {expr:?}"))
    };
    let (l, r) = (value(lhs)?, value(rhs)?);
    Ok((l == r) == eq)
}

/// Reads a log as fail2ban's `FileContainer` does: split at `\n`, UTF-8 with replacement,
/// trailing `\r`/`\n` stripped. With `wait_for_line_end` (fail2ban-regex), a last line without
/// its `\n` is not read; the sample harness reads it.
pub fn read_log_lines(path: &Path, wait_for_line_end: bool) -> std::io::Result<Vec<String>> {
    let bytes = std::fs::read(path)?;
    let mut out = Vec::new();
    let mut parts: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if parts.last().is_some_and(|l| l.is_empty()) || wait_for_line_end {
        parts.pop();
    }
    for p in parts {
        let s = String::from_utf8_lossy(p);
        out.push(s.trim_end_matches(['\r', '\n']).to_string());
    }
    Ok(out)
}

/// `^#+ ?(failJSON|fileOptions|filterOptions|addFILE):(.+)$` → (keyword, json text).
fn directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start_matches('#');
    if rest.len() == line.len() {
        return None;
    }
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    for kw in ["failJSON", "fileOptions", "filterOptions", "addFILE"] {
        if let Some(r) = rest.strip_prefix(kw).and_then(|r| r.strip_prefix(':')) {
            if !r.is_empty() {
                return Some((kw, r));
            }
        }
    }
    None
}

/// One engine of a test, with the regex indices it has used.
struct Engine {
    filter: Filter,
    used: BTreeSet<usize>,
}

/// Runs one harness test.
pub fn run_test(paths: &CorpusPaths, name: &str, zzz: bool, source: Source) -> TestReport {
    let mut rep = TestReport {
        name: name.to_string(),
        ..TestReport::default()
    };
    let logs = paths.tests.join("files/logs");
    if !logs.join(name).is_file() {
        rep.failures
            .push(format!("no sample log file available for '{name}' filter"));
        return rep;
    }
    let confdir = match zzz_confdir(paths, name, zzz) {
        Ok(d) => d,
        Err(e) => {
            rep.failures.push(e);
            return rep;
        }
    };
    let mut engines: Vec<(String, Engine)> = Vec::new();
    let mut used_re: BTreeSet<String> = BTreeSet::new();
    let mut files = vec![name.to_string()];
    let mut fi = 0;
    let mut common = Obj::default();
    let mut tests: Option<Vec<(usize, Obj)>> = None;
    while fi < files.len() {
        let file = files[fi].clone();
        fi += 1;
        let lines = match read_log_lines(&logs.join(&file), false) {
            Ok(l) => l,
            Err(e) => {
                rep.failures.push(format!("{file}: cannot read: {e}"));
                continue;
            }
        };
        let mut ignore_block = false;
        let mut i = 0;
        while i < lines.len() {
            let lnnum = i + 1;
            let mut line = lines[i].clone();
            i += 1;
            let expect: Obj;
            if let Some((kw, json)) = directive(&line) {
                let ctx = format!("{file}:{lnnum}");
                match kw {
                    "fileOptions" => {
                        match serde_json::from_str::<Obj>(json) {
                            Ok(o) => common = o,
                            Err(e) => rep.failures.push(format!("{ctx}: bad json: {e}")),
                        }
                        continue;
                    }
                    "filterOptions" => {
                        let list = match serde_json::from_str::<OneOrMany>(json) {
                            Ok(OneOrMany::One(o)) => vec![o],
                            Ok(OneOrMany::Many(v)) => v,
                            Err(e) => {
                                rep.failures.push(format!("{ctx}: bad json: {e}"));
                                continue;
                            }
                        };
                        let mut t = Vec::new();
                        ignore_block = false;
                        for d in list {
                            let opts = common.overlay(&d);
                            if truthy(opts.get("test.condition")) {
                                let cond = opts.get_str("test.condition").unwrap_or_default();
                                match eval_condition(&cond, name, &opts) {
                                    Ok(b) => ignore_block = !b,
                                    Err(e) => {
                                        rep.failures.push(format!("{ctx}: {e}"));
                                        ignore_block = true;
                                    }
                                }
                            }
                            if !ignore_block {
                                match engine_for(&mut engines, &confdir, name, &opts, source) {
                                    Ok(idx) => t.push((idx, opts)),
                                    Err(e) => rep.failures.push(format!("{ctx}: {e}")),
                                }
                            }
                        }
                        tests = Some(t);
                        continue;
                    }
                    "addFILE" => {
                        match serde_json::from_str::<String>(json.trim()) {
                            Ok(f) => files.push(f),
                            Err(e) => rep.failures.push(format!("{ctx}: bad json: {e}")),
                        }
                        continue;
                    }
                    _ => {
                        expect = match serde_json::from_str::<Obj>(json) {
                            Ok(o) => o,
                            Err(e) => {
                                rep.failures.push(format!("{ctx}: bad json: {e}"));
                                Obj::default()
                            }
                        };
                        match lines.get(i) {
                            Some(l) => {
                                line = l.clone();
                                i += 1;
                            }
                            None => break,
                        }
                    }
                }
            } else if ignore_block || line.starts_with('#') || line.trim().is_empty() {
                continue;
            } else {
                expect = Obj::default();
            }
            if ignore_block {
                continue;
            }
            if tests.as_ref().is_none_or(|t| t.is_empty()) {
                match engine_for(&mut engines, &confdir, name, &Obj::default(), source) {
                    Ok(idx) => tests = Some(vec![(idx, Obj::default())]),
                    Err(e) => {
                        rep.failures.push(format!("{file}:{}: {e}", i));
                        return rep;
                    }
                }
            }
            let lnnum = i;
            for (idx, opts) in tests.as_deref().unwrap_or(&[]) {
                if truthy(expect.get("constraint")) {
                    let c = expect.get_str("constraint").unwrap_or_default();
                    match eval_condition(&c, name, opts) {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(e) => {
                            rep.evaluations += 1;
                            rep.failures.push(format!("{file}:{lnnum}: {e}"));
                            continue;
                        }
                    }
                }
                rep.evaluations += 1;
                let (key, eng) = &mut engines[*idx];
                match evaluate(eng, opts, &line, &expect, &mut used_re) {
                    Ok(()) => rep.passed += 1,
                    Err(e) => rep.failures.push(format!(
                        "{file}:{lnnum} {key}: {e}\n    line: {line}\n    expected: {}",
                        expect.repr()
                    )),
                }
            }
        }
    }
    for (key, eng) in &engines {
        for (i, r) in eng.filter.failregexes().iter().enumerate() {
            if !eng.used.contains(&i) && !used_re.contains(&r.expanded) {
                rep.failures.push(format!(
                    "{key}: regex has no samples: {i}: {:?}",
                    r.expanded
                ));
            }
        }
    }
    rep
}

/// For the `zzz-*` tests: a temporary config dir whose filter includes the stock `common.conf`
/// (Debian's include path does not resolve in the installed layout, spec §1.1).
fn zzz_confdir(paths: &CorpusPaths, name: &str, zzz: bool) -> Result<PathBuf, String> {
    if !zzz {
        return Ok(paths.stock.clone());
    }
    let dir = std::env::temp_dir().join(format!("fail2zig-compat-{}-{name}", std::process::id()));
    let fd = dir.join("filter.d");
    std::fs::create_dir_all(&fd).map_err(|e| format!("cannot create {}: {e}", fd.display()))?;
    let src = paths
        .tests
        .join("config/filter.d")
        .join(format!("{name}.conf"));
    let text =
        std::fs::read_to_string(&src).map_err(|e| format!("cannot read {}: {e}", src.display()))?;
    let fixed: Vec<String> = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("before") && l.contains("config/filter.d/common.conf") {
                "before = common.conf".to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    let write = |p: PathBuf, t: &str| {
        std::fs::write(&p, t).map_err(|e| format!("cannot write {}: {e}", p.display()))
    };
    write(fd.join(format!("{name}.conf")), &(fixed.join("\n") + "\n"))?;
    for f in ["common.conf", "common.local"] {
        let p = paths.stock.join("filter.d").join(f);
        if let Ok(t) = std::fs::read_to_string(&p) {
            write(fd.join(f), &t)?;
        }
    }
    Ok(dir)
}

/// The harness's `_readFilter`: the engine for this option set, created on first use.
fn engine_for(
    engines: &mut Vec<(String, Engine)>,
    confdir: &Path,
    name: &str,
    opts: &Obj,
    source: Source,
) -> Result<usize, String> {
    let flt = Obj(opts
        .0
        .iter()
        .filter(|(k, _)| !k.starts_with("test."))
        .cloned()
        .collect());
    let key = match opts.get_str("test.filter-name").filter(|s| !s.is_empty()) {
        Some(n) => format!("{name}{n}"),
        None if flt.0.is_empty() => name.to_string(),
        None => format!("{name}{}", flt.repr()),
    };
    if let Some(i) = engines.iter().position(|(k, _)| *k == key) {
        return Ok(i);
    }
    let options: BTreeMap<String, String> =
        flt.0.iter().map(|(k, v)| (k.clone(), py_str(v))).collect();
    let filter =
        harness_filter(confdir, name, &options, source).map_err(|e| format!("{key}: {e}"))?;
    greedy_check(&filter).map_err(|e| format!("{key}: {e}"))?;
    engines.push((
        key,
        Engine {
            filter,
            used: BTreeSet::new(),
        },
    ));
    Ok(engines.len() - 1)
}

/// The harness's engine settings: usedns warn, raw hosts, checkAll, no time policing.
pub fn harness_settings() -> FilterSettings {
    FilterSettings {
        usedns: UseDns::Warn,
        logtimezone: None,
        datepattern: None,
        maxlines: None,
        check_all: true,
        raw_host: true,
        ignore_pending: false,
        undated_is_now: false,
        compile_threads: false,
    }
}

/// Loads a filter for the harness from the stock configuration or from our built-ins.
pub fn harness_filter(
    confdir: &Path,
    name: &str,
    options: &BTreeMap<String, String>,
    source: Source,
) -> Result<Filter, String> {
    let chain = |e: &dyn std::error::Error| {
        let mut s = e.to_string();
        let mut src = e.source();
        while let Some(x) = src {
            let _ = write!(s, ": {x}");
            src = x.source();
        }
        s
    };
    match source {
        Source::Stock => {
            let def: FilterDef =
                crate::fail2ban::read_filter_with(confdir, name, options).map_err(|e| chain(&e))?;
            Filter::new(&def, &BTreeMap::new(), &harness_settings()).map_err(|e| chain(&e))
        }
        Source::Builtin => {
            let def = super::builtin::builtin_filter(name)
                .ok_or_else(|| format!("no built-in filter {name}"))?;
            Filter::new(&def, options, &harness_settings()).map_err(|e| chain(&e))
        }
    }
}

/// The harness's `RE_WRONG_GREED` check on every expanded failregex.
fn greedy_check(filter: &Filter) -> Result<(), String> {
    let host = tags::host_expansion(false);
    let pat = format!(
        r"\.[+*](?!\?)[^$^]*{}.*(?:\.[+*].*|[^$])$",
        fancy_regex::escape(&host)
    );
    let re = fancy_regex::Regex::new(&pat).map_err(|e| format!("greedy check: {e}"))?;
    for r in filter.failregexes() {
        if re.is_match(&r.expanded).unwrap_or(false) {
            return Err(format!(
                "regex contains greedy catch-all before <HOST>: {}",
                r.expanded.replace(&host, "<HOST>")
            ));
        }
    }
    Ok(())
}

/// One evaluation of one line against one engine.
fn evaluate(
    eng: &mut Engine,
    opts: &Obj,
    line: &str,
    expect: &Obj,
    used_re: &mut BTreeSet<String>,
) -> Result<(), String> {
    let out = if opts.get_str("logtype").as_deref() == Some("journal") {
        let mut text = String::new();
        if let Some(p) = opts.get_str("test.prefix-line").filter(|p| !p.is_empty()) {
            text.push_str(&p);
        }
        text.push_str(line);
        let t = TupleLine::new("", TEST_NOW_STR, &text);
        eng.filter.process_dated(t, TEST_NOW, TEST_NOW)
    } else {
        eng.filter.process(line, TEST_NOW)
    };
    if out.aborted {
        return Err("line aborted (unknown time zone abbreviation)".into());
    }
    let mut found: Vec<&Finding> = Vec::new();
    for f in &out.findings {
        if !f.is_failure() {
            eng.used.insert(f.regex);
            used_re.insert(eng.filter.failregexes()[f.regex].expanded.clone());
            continue;
        }
        found.push(f);
    }
    let want = truthy(expect.get("match"));
    if found.is_empty() {
        if want {
            return Err("line not matched when should have".into());
        }
        return Ok(());
    }
    if !want {
        return Err(format!(
            "line matched when shouldn't have (regex {}, id {})",
            found[0].regex,
            found[0]
                .id
                .as_ref()
                .map(|i| i.to_string())
                .unwrap_or_default()
        ));
    }
    if found.len() != 1 {
        return Err(format!(
            "multiple regexs matched {:?}",
            found.iter().map(|f| f.regex).collect::<Vec<_>>()
        ));
    }
    let f = found[0];
    for (k, v) in &expect.0 {
        if matches!(k.as_str(), "time" | "match" | "desc" | "constraint") {
            continue;
        }
        check_field(f, k, v)?;
    }
    if let Some(t) = expect.get("time").filter(|t| !t.is_null()) {
        let want = harness_time(&py_str(t)).ok_or_else(|| format!("bad time {t}"))?;
        if f.time != Some(want) {
            return Err(format!("time mismatch: got {:?}, want {want}", f.time));
        }
    }
    eng.used.insert(f.regex);
    used_re.insert(eng.filter.failregexes()[f.regex].expanded.clone());
    Ok(())
}

/// The harness's field comparison.
fn check_field(f: &Finding, k: &str, v: &Value) -> Result<(), String> {
    let mismatch = |got: String| Err(format!("{k}: got {got}, want {v}"));
    match k {
        "users" => {
            let users = f.data.users.iter().flatten();
            let mut got: Vec<String> = users.map(|u| u.to_string()).collect();
            got.sort();
            let mut want: Vec<String> = match v {
                Value::Array(a) => a.iter().map(py_str).collect(),
                _ => return mismatch(format!("{got:?}")),
            };
            want.sort();
            if got == want {
                Ok(())
            } else {
                mismatch(format!("{got:?}"))
            }
        }
        "attempts" => {
            let n = f.data.match_lines().len();
            if v.as_u64() == Some(n as u64) {
                Ok(())
            } else {
                mismatch(n.to_string())
            }
        }
        "host" if f.data.get("host").is_none() => {
            let id = f.id.as_ref();
            let ok = match (id, v) {
                (Some(id), Value::String(s)) => id_equals(id, s),
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                mismatch(id.map(|i| i.to_string()).unwrap_or_else(|| "None".into()))
            }
        }
        _ => {
            let got = if k == "ip" {
                f.data.ip.as_ref().map(|i| i.to_string())
            } else {
                f.data.get(k).map(str::to_string)
            };
            match (got, v) {
                (None, Value::Null) => Ok(()),
                (Some(g), Value::String(s)) if g == *s => Ok(()),
                (g, _) => mismatch(g.unwrap_or_else(|| "None".into())),
            }
        }
    }
}

/// `IPAddr.__eq__(str)`: raw ids by text, others by parsing the string.
fn id_equals(id: &FailId, s: &str) -> bool {
    match id {
        FailId::Raw {
            text,
            parsed: false,
        } => text == s,
        _ => *id == FailId::new(s, IdKind::Unspec),
    }
}

/// The harness's expected time: a local naive `YYYY-MM-DDTHH:MM:SS[.ffffff]` in the harness
/// zone (CET/CEST with DST from the last Sunday of March 01:00 UTC to the last Sunday of October
/// 01:00 UTC — `M3.5.0,M10.5.0` at 02:00 local), plus the fraction.
pub fn harness_time(t: &str) -> Option<f64> {
    let (date, time) = t.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>());
    let (y, mo, da) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let (hms, frac) = match time.split_once('.') {
        Some((a, b)) => (a, format!("0.{b}").parse::<f64>().ok()?),
        None => (time, 0.0),
    };
    let mut h = hms.split(':').map(|x| x.parse::<i64>());
    let (hh, mi, ss) = (h.next()?.ok()?, h.next()?.ok()?, h.next()?.ok()?);
    let naive = crate::date::civil::days_from_civil(y, mo, da) * 86400 + hh * 3600 + mi * 60 + ss;
    let dst_start = crate::date::civil::days_from_civil(y, 3, last_sunday(y, 3)) * 86400 + 2 * 3600;
    let dst_end = crate::date::civil::days_from_civil(y, 10, last_sunday(y, 10)) * 86400 + 3 * 3600;
    let offset = if naive >= dst_start && naive < dst_end {
        7200
    } else {
        3600
    };
    let secs = (naive - offset) as f64;
    Some(if frac == 0.0 { secs } else { secs + frac })
}

fn last_sunday(y: i64, m: i64) -> i64 {
    let dim = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][(m - 1) as usize];
    let last = crate::date::civil::days_from_civil(y, m, dim);
    // 1970-01-01 was a Thursday (weekday 4, Sunday = 0).
    let wd = (last + 4).rem_euclid(7);
    dim - wd
}

/// The known divergences: `test: reason` lines of `compat/divergences.txt` (`#` comments).
pub fn read_divergences(path: &Path) -> HashMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
        .collect()
}

/// Runs every test and prints one line per filter and the final `N passed, M failed` line
/// (counting evaluations). Returns (reports, passed, failed).
pub fn run_all(
    paths: &CorpusPaths,
    source: Source,
    only: Option<&[&str]>,
    out: &mut dyn std::io::Write,
) -> (Vec<TestReport>, usize, usize) {
    let mut reports = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    for (name, zzz) in test_names(paths) {
        if let Some(o) = only {
            if !o.contains(&name.as_str()) {
                continue;
            }
        }
        let rep = run_test(paths, &name, zzz, source);
        passed += rep.passed;
        failed += rep.failures.len();
        let _ = writeln!(out, "{}", rep.summary());
        for f in &rep.failures {
            let _ = writeln!(out, "    {f}");
        }
        reports.push(rep);
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    (reports, passed, failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harness_times_are_local_cest() {
        assert_eq!(harness_time("2005-08-14T12:00:00"), Some(TEST_NOW));
        assert_eq!(harness_time("2005-01-14T12:00:00"), Some(1105700400.0));
        assert_eq!(harness_time("2005-08-14T12:00:00.5"), Some(TEST_NOW + 0.5));
    }

    #[test]
    fn conditions_evaluate() {
        let o = Obj(vec![("mode".into(), Value::String("aggressive".into()))]);
        assert_eq!(eval_condition("name=='sshd'", "sshd", &o), Ok(true));
        assert_eq!(eval_condition("name == 'sshd'", "x", &o), Ok(false));
        assert_eq!(
            eval_condition("opts.get('mode') != 'aggressive'", "x", &o),
            Ok(false)
        );
        assert!(eval_condition("len(x) > 2", "x", &o).is_err());
    }

    #[test]
    fn directives_parse() {
        assert_eq!(
            directive("# failJSON: { \"match\": false }"),
            Some(("failJSON", " { \"match\": false }"))
        );
        assert_eq!(directive("# normal mode # filterOptions: {}"), None);
        assert_eq!(directive("##addFILE: \"x\""), Some(("addFILE", " \"x\"")));
    }
}
