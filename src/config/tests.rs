//! Data-driven: every file in testdata/config/ starts with `# expect: ok` or
//! `# expect: <text the error message contains>`.

use std::path::{Path, PathBuf};

use super::*;

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/config");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    assert!(
        v.len() >= 8,
        "expected the config cases in {}",
        dir.display()
    );
    v
}

fn load(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path).unwrap();
    let name = PathBuf::from(path.file_name().unwrap());
    let cfg = Config::parse(&text, &name)?;
    cfg.resolve(ConfigSource::File(name), &text, &|_| None)
}

#[test]
fn config_cases() {
    for path in cases() {
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text
            .lines()
            .next()
            .unwrap()
            .strip_prefix("# expect: ")
            .unwrap();
        match (load(&path), expect) {
            (Ok(_), "ok") => {}
            (Ok(_), want) => panic!("{}: loaded, expected error {want:?}", path.display()),
            (Err(e), "ok") => panic!("{}: {e}", path.display()),
            (Err(e), want) => assert!(
                e.to_string().contains(want),
                "{}: error {:?} does not contain {want:?}",
                path.display(),
                e.to_string()
            ),
        }
    }
}

#[test]
fn resolution_applies_defaults_and_keeps_order() {
    let s = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/config/valid-basic.toml"))
        .unwrap();
    let names: Vec<&str> = s.jails.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["web", "ssh2"]);
    let web = &s.jails[0];
    assert_eq!(web.bantime, TimeSpan(5400));
    assert_eq!(web.maxretry, 3);
    assert_eq!(web.maxmatches, 3);
    assert_eq!(web.ports, vec![(80, 80), (443, 443)]);
    assert_eq!(
        web.filter_options.get("mode").map(String::as_str),
        Some("aggressive")
    );
    assert!(web.increment.enabled);
    assert_eq!(web.increment.maxtime, Some(TimeSpan(604800)));
    assert_eq!(web.logpath.len(), 2);
    assert_eq!(s.jails[1].bantime, TimeSpan::PERMANENT);
    assert_eq!(s.jails[1].logpath, vec!["/var/log/secure".to_string()]);
    assert_eq!(s.backend, BackendKind::Log);
}

#[test]
fn round_trips_through_toml() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/config/valid-basic.toml"),
    )
    .unwrap();
    let cfg = Config::parse(&text, Path::new("x")).unwrap();
    let again = Config::parse(&cfg.to_toml(), Path::new("y")).unwrap();
    assert_eq!(cfg, again);
}

#[test]
fn filter_specs() {
    let (n, o) = parse_filter_spec(r#"sshd[mode=aggressive, x="a, b"][y='z']"#).unwrap();
    assert_eq!(n, "sshd");
    assert_eq!(o.get("mode").unwrap(), "aggressive");
    assert_eq!(o.get("x").unwrap(), "a, b");
    assert_eq!(o.get("y").unwrap(), "z");
    assert!(parse_filter_spec("sshd[mode").is_err());
}

#[test]
fn embedded_default_parses() {
    let cfg = Config::parse(EMBEDDED_DEFAULT, Path::new("<embedded>")).unwrap();
    assert_eq!(cfg.jails.len(), 1);
}
