//! The merged view of one logical fail2ban configuration (`jail`, `filter.d/sshd`,
//! `action.d/nftables`, ...): which files are read in which order, `[INCLUDES]`, the merge with
//! its hidden `KNOWN/<section>` store, and `%(name)s` interpolation at lookup time.
//!
//! Does not know what a filter, action or jail is (`reader.rs`, `crate::import`); does not do
//! `<tag>` substitution (`tags.rs`). Called by the readers of this module and by the importer.
//!
//! # Compatibility
//!
//! Mirrors fail2ban 1.0.2 `ConfigReaderUnshared.read` and `SafeConfigParserWithIncludes`
//! (fail2ban-filter.md §1.1–1.4, fail2ban-runtime.md §1.1–1.3): candidates `N.conf`,
//! `N.d/*.conf`, `N.local`, `N.d/*.local` (sorted, only existing ones); each expanded through
//! `before`/`after` recursively with the sibling `.local` of every include; loops skipped by the
//! include chain; missing includes contribute nothing; later files win key by key, the replaced
//! raw values saved in `KNOWN/<section>`; conditional sections `[Name?cond]` merged into `Name`
//! with keys `key?cond`. Interpolation is configparser's `BasicInterpolation` (lookup vars →
//! section → `[DEFAULT]`, `%%`, depth limit 10) plus fail2ban's `%(__name__)s` and
//! `%(section/option)s` / `%(known/option)s` / `%(default/option)s`. Paths are compared as
//! strings, as fail2ban does. Differences: an include that exists but cannot be read is an
//! error instead of being skipped silently.

use std::path::{Path, PathBuf};

use super::Fail2banError;
use super::ini::{self, IniFile, OrderedMap, Origin, Value};

/// configparser's `MAX_INTERPOLATION_DEPTH`.
const MAX_INTERPOLATION_DEPTH: usize = 10;

/// Caller-supplied interpolation variables (configparser `vars`), keys lower-cased.
pub type Vars = OrderedMap<String>;

/// All files of one logical configuration, merged.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    /// Merged `[DEFAULT]`.
    pub defaults: OrderedMap<Value>,
    /// Merged sections, including the hidden `KNOWN/<name>` ones.
    pub sections: OrderedMap<OrderedMap<Value>>,
    /// Files read, in order (a file may appear twice when included twice).
    pub files: Vec<PathBuf>,
}

/// The candidate files for logical name `name` under `base` that exist.
fn candidates(base: &Path, name: &str) -> Vec<PathBuf> {
    let dir = base.to_string_lossy();
    let dir = dir.trim_end_matches('/');
    let basename = format!("{dir}/{name}");
    let mut out = vec![PathBuf::from(format!("{basename}.conf"))];
    out.extend(sorted_glob(&format!("{basename}.d"), ".conf"));
    out.push(PathBuf::from(format!("{basename}.local")));
    out.extend(sorted_glob(&format!("{basename}.d"), ".local"));
    out.into_iter().filter(|p| p.exists()).collect()
}

/// Python `sorted(glob.glob(dir + '/*' + ext))`: hidden files excluded, byte order.
fn sorted_glob(dir: &str, ext: &str) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.') && n.ends_with(ext))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| PathBuf::from(format!("{dir}/{n}")))
        .collect()
}

/// Read and parse one file; `Ok(None)` when it does not exist (or is a directory).
fn read_one(path: &Path) -> Result<Option<IniFile>, Fail2banError> {
    if path.is_dir() {
        return Ok(None);
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Fail2banError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let text = String::from_utf8(bytes).map_err(|e| Fail2banError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    ini::parse(path, &text).map(Some)
}

/// Python `os.path.splitext(f)[0] + '.local'`.
fn local_sibling(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    let file_start = s.rfind('/').map_or(0, |i| i + 1);
    let name = &s[file_start..];
    let stem_len = match name.trim_start_matches('.').rfind('.') {
        Some(i) => i + (name.len() - name.trim_start_matches('.').len()),
        None => name.len(),
    };
    PathBuf::from(format!("{}{}.local", &s[..file_start], &name[..stem_len]))
}

/// Include expansion state: parsed files cached by path.
struct Includer {
    cache: Vec<(PathBuf, Option<IniFile>)>,
    /// Where a missing include is looked up by file name (see [`Merged::read_with_fallback`]).
    fallback: Option<PathBuf>,
}

impl Includer {
    /// `path` itself if it exists, else the file of the same name in the fallback directory if
    /// that exists, else `path` (which then contributes nothing).
    fn fallback_for(&self, path: PathBuf) -> PathBuf {
        if path.exists() {
            return path;
        }
        match (&self.fallback, path.file_name()) {
            (Some(dir), Some(name)) if dir.join(name).is_file() => dir.join(name),
            _ => path,
        }
    }

    fn parsed(&mut self, path: &Path) -> Result<Option<IniFile>, Fail2banError> {
        if let Some((_, f)) = self
            .cache
            .iter()
            .find(|(p, _)| p.as_os_str() == path.as_os_str())
        {
            return Ok(f.clone());
        }
        let f = read_one(path)?;
        self.cache.push((path.to_path_buf(), f.clone()));
        Ok(f)
    }

    /// `_getIncludes`: each file with its `.local` sibling, expanded.
    fn includes(
        &mut self,
        files: &[PathBuf],
        seen: &[PathBuf],
    ) -> Result<Vec<PathBuf>, Fail2banError> {
        let mut expanded = Vec::new();
        for f in files {
            expanded.push(f.clone());
            let local = local_sibling(f);
            if !files.iter().any(|x| x.as_os_str() == local.as_os_str()) && local.is_file() {
                expanded.push(local);
            }
        }
        let mut out = Vec::new();
        for f in &expanded {
            out.extend(self.expand(f, seen)?);
        }
        Ok(out)
    }

    /// `__getIncludesUncached`: before + file + after.
    fn expand(&mut self, resource: &Path, seen: &[PathBuf]) -> Result<Vec<PathBuf>, Fail2banError> {
        let Some(parsed) = self.parsed(resource)? else {
            return Ok(Vec::new());
        };
        let dir = resource.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut lists = [Vec::new(), Vec::new()];
        if let Some(inc) = parsed.sections.get("INCLUDES") {
            let merged = Merged {
                defaults: parsed.defaults.clone(),
                sections: parsed.sections.clone(),
                files: vec![resource.to_path_buf()],
            };
            for (i, opt) in ["before", "after"].into_iter().enumerate() {
                if !inc.contains_key(opt) && !parsed.defaults.contains_key(opt) {
                    continue;
                }
                let value = merged.get("INCLUDES", opt, None)?.unwrap_or_default();
                for name in value.split('\n') {
                    let r = if name.starts_with('/') || dir.as_os_str().is_empty() {
                        PathBuf::from(name)
                    } else {
                        PathBuf::from(format!("{}/{}", dir.display(), name))
                    };
                    if seen.iter().any(|s| s.as_os_str() == r.as_os_str()) {
                        continue;
                    }
                    let mut chain = seen.to_vec();
                    chain.push(resource.to_path_buf());
                    let r = self.fallback_for(r);
                    let got = self.includes(&[r], &chain)?;
                    lists[i].extend(got);
                }
            }
        }
        let [before, after] = lists;
        let mut out = before;
        out.push(resource.to_path_buf());
        out.extend(after);
        Ok(out)
    }
}

/// Python `re.match(r"^(\w+)(\?.+)$", name)`: the base name and the `?cond` suffix.
fn conditional(name: &str) -> Option<(&str, &str)> {
    let q = name.find('?')?;
    let (base, cond) = name.split_at(q);
    let ok = !base.is_empty() && base.chars().all(|c| c.is_alphanumeric() || c == '_');
    (ok && cond.len() > 1).then_some((base, cond))
}

impl Merged {
    /// Read logical configuration `name` (e.g. `filter.d/sshd`) under `base`.
    pub fn read(base: &Path, name: &str) -> Result<Merged, Fail2banError> {
        Self::read_with_fallback(base, name, None)
    }

    /// Like [`Merged::read`], but an `[INCLUDES]` entry that does not exist is replaced by the
    /// file of the same name in `fallback`, if there is one. This is how the sample harness
    /// resolves the test filters' `before = ../../../../../../../config/filter.d/common.conf`,
    /// which points nowhere in Debian's installed layout (fail2ban-filter.md §1.1).
    pub fn read_with_fallback(
        base: &Path,
        name: &str,
        fallback: Option<&Path>,
    ) -> Result<Merged, Fail2banError> {
        if !base.exists() {
            return Err(Fail2banError::NoBaseDir {
                path: base.to_path_buf(),
            });
        }
        let files = candidates(base, name);
        if files.is_empty() {
            return Err(Fail2banError::NotFound {
                name: name.to_string(),
                base: base.to_path_buf(),
            });
        }
        Self::read_files(&files, fallback)
    }

    /// Read an explicit list of files (each expanded through its includes, missing includes
    /// looked up in `fallback`) and merge them.
    pub fn read_files(files: &[PathBuf], fallback: Option<&Path>) -> Result<Merged, Fail2banError> {
        let mut inc = Includer {
            cache: Vec::new(),
            fallback: fallback.map(Path::to_path_buf),
        };
        let full = inc.includes(files, &[])?;
        let mut merged = Merged::default();
        for path in &full {
            if let Some(file) = inc.parsed(path)? {
                merged.merge(&file);
                merged.files.push(path.clone());
            }
        }
        Ok(merged)
    }

    /// Merge one more file: later wins, replaced raw values saved in `KNOWN/<section>`.
    fn merge(&mut self, file: &IniFile) {
        self.defaults.update(&file.defaults);
        for (name, sec) in file.sections.iter() {
            let (name, sec) = match conditional(name) {
                Some((base, cond)) => {
                    let mut renamed = OrderedMap::new();
                    for (k, v) in sec.iter() {
                        renamed.insert(format!("{k}{cond}"), v.clone());
                    }
                    (base.to_string(), renamed)
                }
                None => (name.to_string(), sec.clone()),
            };
            match self.sections.get_mut(&name) {
                Some(existing) => {
                    let mut known = OrderedMap::new();
                    for (k, v) in existing.iter() {
                        if sec.contains_key(k) {
                            known.insert(k.to_string(), v.clone());
                        }
                    }
                    existing.update(&sec);
                    self.merge_section(&format!("KNOWN/{name}"), &known, "");
                }
                None => self.sections.insert(name, sec),
            }
        }
    }

    /// fail2ban `merge_section`: add `options` to `section` (created if missing), each key
    /// prefixed with `prefix` (keys already carrying it and `__name__` are skipped when a prefix
    /// is given).
    pub fn merge_section(&mut self, section: &str, options: &OrderedMap<Value>, prefix: &str) {
        if !self.sections.contains_key(section) {
            self.sections.insert(section.to_string(), OrderedMap::new());
        }
        let Some(sec) = self.sections.get_mut(section) else {
            return;
        };
        for (k, v) in options.iter() {
            if prefix.is_empty() {
                sec.insert(k.to_string(), v.clone());
            } else if !k.starts_with(prefix) && k != "__name__" {
                sec.insert(format!("{prefix}{k}"), v.clone());
            }
        }
    }

    /// Whether a section exists (`DEFAULT` is not a section).
    pub fn has_section(&self, section: &str) -> bool {
        self.sections.contains_key(section)
    }

    /// Section names in order, without the hidden `KNOWN/` ones.
    pub fn section_names(&self) -> Vec<String> {
        self.sections
            .keys()
            .filter(|n| !n.starts_with("KNOWN/"))
            .map(str::to_string)
            .collect()
    }

    /// The option names of `section` (own only, or with `[DEFAULT]` ones).
    pub fn options(&self, section: &str, with_default: bool) -> Vec<String> {
        let mut out: Vec<String> = self
            .sections
            .get(section)
            .map(|s| s.keys().map(str::to_string).collect())
            .unwrap_or_default();
        if with_default {
            for k in self.defaults.keys() {
                if !out.iter().any(|o| o == k) {
                    out.push(k.to_string());
                }
            }
        }
        out
    }

    /// The raw value of `option` in `section` (then `[DEFAULT]`), with vars first.
    fn lookup<'a>(
        &'a self,
        section: &str,
        option: &str,
        vars: Option<&'a Vars>,
    ) -> Option<(String, Origin)> {
        if let Some(v) = vars.and_then(|v| v.get(option)) {
            return Some((v.clone(), Origin::Passed));
        }
        let sec = self.sections.get(section);
        sec.and_then(|s| s.get(option))
            .or_else(|| self.defaults.get(option))
            .map(|v| (v.text.clone(), v.origin.clone()))
    }

    /// configparser `get(section, option, vars=vars)`: `None` when the section (other than
    /// `DEFAULT`) or the option does not exist. The value is interpolated.
    pub fn get(
        &self,
        section: &str,
        option: &str,
        vars: Option<&Vars>,
    ) -> Result<Option<String>, Fail2banError> {
        Ok(self.get_with_origin(section, option, vars)?.map(|(v, _)| v))
    }

    /// Like [`Merged::get`], also returning where the raw value was written.
    pub fn get_with_origin(
        &self,
        section: &str,
        option: &str,
        vars: Option<&Vars>,
    ) -> Result<Option<(String, Origin)>, Fail2banError> {
        if section != "DEFAULT" && !self.has_section(section) {
            return Ok(None);
        }
        let option = option.to_lowercase();
        let Some((raw, origin)) = self.lookup(section, &option, vars) else {
            return Ok(None);
        };
        let scope = Scope {
            merged: self,
            section,
            vars,
            local: Vec::new(),
            option: &option,
            origin: &origin,
            raw: &raw,
        };
        let mut out = String::new();
        scope.interpolate(&mut out, &raw, 1)?;
        Ok(Some((out, origin)))
    }

    /// The raw (not interpolated) value, `None` when missing.
    pub fn get_raw(&self, section: &str, option: &str) -> Option<&Value> {
        let option = option.to_lowercase();
        if section != "DEFAULT" && !self.has_section(section) {
            return None;
        }
        self.sections
            .get(section)
            .and_then(|s| s.get(&option))
            .or_else(|| self.defaults.get(&option))
    }

    /// fail2ban `get_ex`: like `get`, but `sec/opt` names read option `opt` of section `sec`
    /// (`known/opt`: `KNOWN/<section>` then `section`; `default/opt`: `[DEFAULT]`) first.
    pub fn get_ex(
        &self,
        section: &str,
        option: &str,
        vars: Option<&Vars>,
    ) -> Result<Option<String>, Fail2banError> {
        if let Some((sec, opt)) = section_option(option) {
            let candidates: Vec<String> = match sec.to_lowercase().as_str() {
                "known" => vec![format!("KNOWN/{section}"), section.to_string()],
                "default" => vec!["DEFAULT".to_string()],
                _ => vec![sec.to_string()],
            };
            for c in candidates {
                if let Some(v) = self.get(&c, opt, None)? {
                    return Ok(Some(v));
                }
            }
        }
        self.get(section, option, vars)
    }
}

/// fail2ban `SECTION_OPTNAME_CRE` `^([\w\-]+)/([^\s>]+)$`.
fn section_option(name: &str) -> Option<(&str, &str)> {
    let (sec, opt) = name.split_once('/')?;
    let sec_ok = !sec.is_empty()
        && sec
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    let opt_ok = !opt.is_empty() && opt.chars().all(|c| !c.is_whitespace() && c != '>');
    (sec_ok && opt_ok).then_some((sec, opt))
}

/// One interpolation in progress: configparser's ChainMap (local additions → vars → section →
/// `[DEFAULT]`) and what to name in errors.
struct Scope<'a> {
    merged: &'a Merged,
    section: &'a str,
    vars: Option<&'a Vars>,
    /// fail2ban's additions to the first map: `__name__` and mapped `sec/opt` values.
    local: Vec<(String, String)>,
    option: &'a str,
    origin: &'a Origin,
    raw: &'a str,
}

impl Scope<'_> {
    fn find(&self, key: &str) -> Option<String> {
        if let Some((_, v)) = self.local.iter().rev().find(|(k, _)| k == key) {
            return Some(v.clone());
        }
        self.merged
            .lookup(self.section, key, self.vars)
            .map(|(v, _)| v)
    }

    /// fail2ban `_map_section_options`: make `%(sec/opt)s` names in `rest` resolvable.
    fn map_section_options(&mut self, rest: &str) {
        if !rest.contains('/') || !rest.contains("%(") {
            return;
        }
        for sopt in section_refs(rest) {
            if self.find(&sopt).is_some() {
                continue;
            }
            let Some((sec, opt)) = sopt.split_once('/') else {
                continue;
            };
            let m = self.merged;
            let from_section = match sec.to_lowercase().as_str() {
                "default" => None,
                "known" => m
                    .sections
                    .get(&format!("KNOWN/{}", self.section))
                    .and_then(|s| s.get(opt)),
                _ => match m.sections.get(sec) {
                    None => continue,
                    Some(s) => s.get(opt),
                },
            };
            let Some(v) = from_section.or_else(|| m.defaults.get(opt)) else {
                continue;
            };
            self.local.push((sopt.clone(), v.text.clone()));
        }
    }

    /// configparser `_interpolate_some`, with fail2ban's `__name__` and section mapping.
    fn interpolate(&self, out: &mut String, rest: &str, depth: usize) -> Result<(), Fail2banError> {
        let mut scope = Scope {
            merged: self.merged,
            section: self.section,
            vars: self.vars,
            local: self.local.clone(),
            option: self.option,
            origin: self.origin,
            raw: self.raw,
        };
        scope
            .local
            .push(("__name__".to_string(), self.section.to_string()));
        scope.map_section_options(rest);
        if depth > MAX_INTERPOLATION_DEPTH {
            return Err(self.error("interpolation nested deeper than 10 levels".to_string()));
        }
        let mut rest = rest;
        while let Some(p) = rest.find('%') {
            out.push_str(&rest[..p]);
            rest = &rest[p..];
            match rest.as_bytes().get(1) {
                Some(b'%') => {
                    out.push('%');
                    rest = &rest[2..];
                }
                Some(b'(') => {
                    let Some(close) = rest
                        .find(")s")
                        .filter(|&c| c > 2 && !rest[2..c].contains(')'))
                    else {
                        return Err(
                            self.error(format!("bad interpolation variable reference {rest:?}"))
                        );
                    };
                    let var = rest[2..close].to_lowercase();
                    rest = &rest[close + 2..];
                    let Some(v) = scope.find(&var) else {
                        return Err(Fail2banError::MissingInterpolation {
                            origin: self.origin.clone(),
                            section: self.section.to_string(),
                            key: self.option.to_string(),
                            name: var,
                            raw: self.raw.to_string(),
                        });
                    };
                    if v.contains('%') {
                        scope.interpolate(out, &v, depth + 1)?;
                    } else {
                        out.push_str(&v);
                    }
                }
                _ => {
                    return Err(self.error(format!(
                        "'%' must be followed by '%' or '(', found: {rest:?}"
                    )));
                }
            }
        }
        out.push_str(rest);
        Ok(())
    }

    fn error(&self, message: String) -> Fail2banError {
        Fail2banError::Interpolation {
            origin: self.origin.clone(),
            section: self.section.to_string(),
            key: self.option.to_string(),
            message,
        }
    }
}

/// fail2ban `SECTION_OPTSUBST_CRE` `%\(([\w\-]+/([^\)]+))\)s`: the `sec/opt` names referenced.
fn section_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(i) = text[pos..].find("%(") {
        let start = pos + i + 2;
        pos = start;
        let sec_len = text[start..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(text.len() - start);
        if sec_len == 0 || !text[start + sec_len..].starts_with('/') {
            continue;
        }
        let opt_start = start + sec_len + 1;
        let Some(close) = text[opt_start..].find(')') else {
            continue;
        };
        if close == 0 || !text[opt_start + close..].starts_with(")s") {
            continue;
        }
        out.push(text[start..opt_start + close].to_string());
        pos = opt_start + close + 2;
    }
    out
}

/// Build vars from plain strings (keys lower-cased, as configparser does).
pub fn vars_from<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vars {
    let mut v = Vars::new();
    for (k, val) in items {
        v.insert(k.to_lowercase(), val.to_string());
    }
    v
}

/// A value passed in by the caller.
pub fn passed(text: &str) -> Value {
    Value {
        text: text.to_string(),
        origin: Origin::Passed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(files: &[(&str, &str)]) -> Merged {
        let mut m = Merged::default();
        for (name, text) in files {
            m.merge(&ini::parse(Path::new(name), text).expect("parses"));
        }
        m
    }

    #[test]
    fn interpolation_forms() {
        let m = merged(&[
            (
                "a.conf",
                "[DEFAULT]\nd = dv\n[s]\nx = %(d)s-%(__name__)s-%%\ny = %(t/z)s\nk = 1\n[t]\nz = <%(k)s>\n",
            ),
            ("a.local", "[s]\nk = %(known/k)s,2\n"),
        ]);
        assert_eq!(m.get("s", "x", None).unwrap().unwrap(), "dv-s-%");
        assert_eq!(m.get("s", "y", None).unwrap().unwrap(), "<1,2>");
        assert_eq!(m.get("s", "k", None).unwrap().unwrap(), "1,2");
        let vars = vars_from([("D", "vv")]);
        assert_eq!(m.get("s", "x", Some(&vars)).unwrap().unwrap(), "vv-s-%");
    }

    #[test]
    fn interpolation_errors() {
        let m = merged(&[(
            "a.conf",
            "[s]\nx = %(nope)s\ny = 5%\nz = %(z1)s\nz1=%(z2)s\nz2=%(z3)s\nz3=%(z4)s\nz4=%(z5)s\nz5=%(z6)s\nz6=%(z7)s\nz7=%(z8)s\nz8=%(z9)s\nz9=%(z10)s\nz10=%(z11)s\nz11=end\n",
        )]);
        let e = m.get("s", "x", None).unwrap_err().to_string();
        assert!(e.starts_with("a.conf:2: "), "{e}");
        assert!(e.contains("'nope'"), "{e}");
        let e = m.get("s", "y", None).unwrap_err().to_string();
        assert!(e.starts_with("a.conf:3: "), "{e}");
        let e = m.get("s", "z", None).unwrap_err().to_string();
        assert!(e.contains("deeper"), "{e}");
        assert_eq!(m.get("s", "z2", None).unwrap().unwrap(), "end");
    }

    #[test]
    fn local_sibling_like_splitext() {
        assert_eq!(
            local_sibling(Path::new("/a/b.conf")),
            PathBuf::from("/a/b.local")
        );
        assert_eq!(
            local_sibling(Path::new("/a.d/b")),
            PathBuf::from("/a.d/b.local")
        );
        assert_eq!(
            local_sibling(Path::new("/a/.x")),
            PathBuf::from("/a/.x.local")
        );
    }
}
