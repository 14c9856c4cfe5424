//! Differential test of the jail reader: every jail of the installed /etc/fail2ban, and of every
//! importer case laid over it, read by us and by the installed fail2ban's `JailReader` (forced
//! enabled), must give the same filter, jail options and action properties.

mod fail2ban_common;

use std::path::Path;
use std::process::Command;

use fail2ban_common::{PYTHON, canonical};
use fail2zig::fail2ban::jail::{
    JAIL_OPTS, OptType, RawJail, as_bool, jail_names, python_int, read_jail, read_jail_config,
};
use fail2zig::fail2ban::reader::{ACTION_OPTS, FILTER_OPTS};
use serde_json::{Map, Value, json};

fn reference(dir: &Path) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/import/reference_jails.py");
    let out = Command::new(PYTHON)
        .arg(script)
        .arg(dir)
        .output()
        .expect("run the fail2ban reference");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

fn ours(raw: &RawJail) -> Value {
    let filter = raw.filter.as_ref().map_or_else(
        || canonical(&Default::default(), None),
        |f| canonical(&f.def, f.usedns.as_deref()),
    );
    let mut options = Map::new();
    for (k, o) in raw.options.iter() {
        if matches!(k, "enabled" | "backend" | "filter" | "action" | "logpath")
            || FILTER_OPTS.contains(&k)
        {
            continue;
        }
        let ty = JAIL_OPTS
            .iter()
            .find(|(n, _)| *n == k)
            .map_or(OptType::Str, |(_, t)| *t);
        let v = match (k, ty) {
            ("ignoreip", _) => json!(
                o.value
                    .split([' ', ',', '\n'])
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
            ),
            (_, OptType::Int) => python_int(&o.value).map_or(Value::Null, |i| json!(i)),
            (_, OptType::Bool) => json!(as_bool(&o.value)),
            _ => json!(o.value),
        };
        let key = if k == "ignoreip" { "ignoreip" } else { k };
        options.insert(key.to_string(), v);
    }
    let actions: Vec<Value> = raw
        .actions
        .iter()
        .map(|a| {
            let python = a.file.ends_with(".py");
            let mut props = Map::new();
            if !python {
                for (k, v) in a.props.iter() {
                    if ACTION_OPTS.contains(&k) && !k.starts_with("known/") {
                        let v = if matches!(
                            k,
                            "actionstart_on_demand" | "actionrepair_on_unban" | "norestored"
                        ) {
                            json!(as_bool(v))
                        } else {
                            json!(v)
                        };
                        props.insert(k.to_string(), v);
                    }
                }
                for (k, v) in a.init.iter() {
                    if !ACTION_OPTS.contains(&k) && !k.starts_with("known/") {
                        props.insert(k.to_string(), json!(v));
                    }
                }
            }
            json!({"actname": a.actname, "python": python, "props": props})
        })
        .collect();
    json!({"jail": raw.name, "filter": filter, "options": options, "actions": actions})
}

/// fail2ban ships `None` for every command of an action file without `[Definition]`; we ship
/// nothing. Both mean "no command".
fn without_null_props(r: &Value) -> Value {
    let mut r = r.clone();
    if let Some(actions) = r["actions"].as_array_mut() {
        for a in actions {
            if let Some(props) = a["props"].as_object_mut() {
                props.retain(|_, v| !v.is_null());
            }
        }
    }
    r
}

fn compare(dir: &Path, label: &str, failures: &mut Vec<String>) -> usize {
    let refs = reference(dir);
    let mut cfg = read_jail_config(dir).expect("jail config");
    let names = jail_names(&cfg);
    let ref_names: Vec<&str> = refs.iter().filter_map(|r| r["jail"].as_str()).collect();
    assert_eq!(names, ref_names, "{label}: jail order");
    let mut compared = 0;
    for (name, r) in names.iter().zip(&refs) {
        let got = read_jail(&mut cfg, dir, name);
        match (got, r.get("error")) {
            (Ok(raw), None) => {
                let mine = ours(&raw);
                let r = &without_null_props(r);
                for part in ["filter", "options", "actions"] {
                    if mine[part] != r[part] {
                        failures.push(format!(
                            "{label} {name} {part}:\n  ours {}\n  ref  {}",
                            mine[part], r[part]
                        ));
                    }
                }
                compared += 1;
            }
            (Ok(_), Some(e)) => {
                failures.push(format!("{label} {name}: fail2ban fails ({e}), we read it"))
            }
            (Err(e), None) => failures.push(format!("{label} {name}: {e}")),
            (Err(_), Some(_)) => {}
        }
    }
    compared
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

#[test]
fn jails_match_fail2ban() {
    let mut failures = Vec::new();
    let mut compared = compare(Path::new("/etc/fail2ban"), "stock", &mut failures);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/import");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("testdata/import")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("stock").exists() && !p.join("expected.error").exists())
        .collect();
    cases.sort();
    for case in &cases {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("fail2ban");
        copy_tree(Path::new("/etc/fail2ban"), &dir);
        copy_tree(&case.join("tree"), &dir);
        let label = case
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        compared += compare(&dir, &label, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared > 500, "only {compared} jails compared");
}
