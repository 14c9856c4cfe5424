//! The `fail2zig` binary's command-line contract: `check` on good and broken configurations
//! (the cases in testdata/config/, each headed by `# expect: ...`), the embedded default, and the
//! subcommands named in the contract.

use std::path::Path;
use std::process::Command;

fn fail2zig(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_fail2zig"))
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn check_reports_file_line_and_key() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/config");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text
            .lines()
            .next()
            .unwrap()
            .strip_prefix("# expect: ")
            .unwrap();
        let p = path.to_str().unwrap();
        let (out, err, rc) = fail2zig(&["check", "-c", p]);
        if expect == "ok" {
            // valid-basic.toml references a filter it defines itself.
            assert_eq!(rc, 0, "{p}: {err}");
            assert!(out.ends_with("OK\n"), "{out}");
        } else {
            assert_ne!(rc, 0, "{p} passed check");
            let want = expect.replacen(path.file_name().unwrap().to_str().unwrap(), p, 1);
            assert!(err.contains(&want), "{p}: {err:?} lacks {want:?}");
        }
        n += 1;
    }
    assert!(n >= 8);
}

#[test]
fn embedded_default_validates() {
    // What `fail2zig check` does on a machine with neither /etc/fail2zig nor /etc/fail2ban.
    let source = fail2zig::config::ConfigSource::discover_in(
        None,
        Path::new("/nonexistent/f.toml"),
        Path::new("/nonexistent"),
    );
    assert_eq!(source, fail2zig::config::ConfigSource::Embedded);
    let settings = fail2zig::daemon::load_source(source).unwrap();
    let sshd = settings.enabled_jails().next().unwrap();
    assert_eq!(sshd.name, "sshd");
    fail2zig::daemon::compile(&settings, sshd).unwrap();
    assert!(fail2zig::daemon::summary(&settings).contains("embedded default"));
}

#[test]
fn example_configuration_validates() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/fail2zig.toml.example");
    let (out, err, rc) = fail2zig(&["check", "-c", p.to_str().unwrap()]);
    assert_eq!(rc, 0, "{err}");
    assert!(out.contains("sshd"), "{out}");
}

#[test]
fn help_names_every_subcommand() {
    let (out, _, rc) = fail2zig(&["--help"]);
    assert_eq!(rc, 0);
    for sub in ["run", "check", "import", "regex", "demo"] {
        assert!(out.contains(sub), "{sub} missing from --help:\n{out}");
    }
    let (out, _, rc) = fail2zig(&["run", "--help"]);
    assert_eq!(rc, 0);
    for flag in ["--config", "--socket", "--backend"] {
        assert!(out.contains(flag), "{flag} missing from run --help");
    }
}
