//! `fail2zig import` output handling through the library entry point the CLI calls: `-o` writes
//! the file, never overwrites it without `--force`, and a missing directory is a clear error.

use std::path::{Path, PathBuf};

use fail2zig::cli::import::ImportArgs;
use fail2zig::import::{ImportError, check_toml, run};

fn args(dir: &str, output: Option<PathBuf>, force: bool) -> ImportArgs {
    ImportArgs {
        dir: PathBuf::from(dir),
        output,
        force,
        strict: false,
    }
}

#[test]
fn output_file_is_written_once_unless_forced() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("fail2zig.toml");
    run(&args("/etc/fail2ban", Some(out.clone()), false)).expect("first import");
    let text = std::fs::read_to_string(&out).expect("written");
    check_toml(&text, &out).expect("written file loads");
    assert!(text.contains("[jails.sshd]"), "{text}");

    std::fs::write(&out, "# mine\n").expect("overwrite by hand");
    let err =
        run(&args("/etc/fail2ban", Some(out.clone()), false)).expect_err("must not overwrite");
    assert!(matches!(err, ImportError::Exists { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(&out).expect("kept"), "# mine\n");

    run(&args("/etc/fail2ban", Some(out.clone()), true)).expect("forced import");
    assert!(
        std::fs::read_to_string(&out)
            .expect("rewritten")
            .contains("[jails.sshd]")
    );
}

#[test]
fn missing_directory_is_an_error() {
    let err = run(&args("/nonexistent/fail2ban", None, false)).expect_err("no such dir");
    let mut text = err.to_string();
    let mut src = std::error::Error::source(&err);
    while let Some(s) = src {
        text.push_str(": ");
        text.push_str(&s.to_string());
        src = s.source();
    }
    assert_eq!(
        text,
        "cannot read the fail2ban configuration in /nonexistent/fail2ban: base configuration directory /nonexistent/fail2ban does not exist"
    );
}

fn fail2zig(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_fail2zig"))
        .args(args)
        .output()
        .expect("run fail2zig")
}

#[test]
fn binary_import_then_check() {
    let out = fail2zig(&["import"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert!(stdout.contains("[jails.sshd]"), "{stdout}");
    assert!(
        stderr
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("summary: ")),
        "{stderr}"
    );

    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("fail2zig.toml");
    let path = file.to_str().expect("utf-8 path");
    let out = fail2zig(&["import", "/etc/fail2ban", "-o", path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&file).expect("written"), stdout);
    let check = fail2zig(&["check", "-c", path]);
    assert!(
        check.status.success(),
        "fail2zig check: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let again = fail2zig(&["import", "/etc/fail2ban", "-o", path]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("use --force"));
}

#[test]
fn binary_reports_broken_file_with_line() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/import/broken-duplicate/tree");
    let out = fail2zig(&["import", dir.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("fail2zig import: error: ")
            && stderr.contains("jail.conf:7: option 'maxretry' in section [sshd] already exists"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

/// The daemon on the fail2ban directory and the daemon on its imported TOML run the same jails
/// with the same settings (issue 8's acceptance).
#[test]
fn daemon_on_dir_equals_daemon_on_import() {
    use fail2zig::config::{Config, ConfigSource};
    let dir = std::path::Path::new("/etc/fail2ban");
    assert!(
        dir.join("jail.conf").is_file(),
        "the fail2ban package must be installed"
    );
    let direct = fail2zig::daemon::load_source(ConfigSource::Fail2ban(dir.to_path_buf())).unwrap();
    let (cfg, _) = fail2zig::import::import_dir(dir, false).unwrap();
    let text = cfg.to_toml();
    let reread = Config::parse(&text, std::path::Path::new("imported.toml")).unwrap();
    let imported = reread
        .resolve(
            ConfigSource::File("imported.toml".into()),
            &text,
            &fail2zig::daemon::builtin_filter,
        )
        .unwrap();
    assert_eq!(direct.jails.len(), imported.jails.len());
    for (a, b) in direct.jails.iter().zip(&imported.jails) {
        assert_eq!(
            a, b,
            "jail {} differs between the directory and its import",
            a.name
        );
    }
    for jail in imported.enabled_jails() {
        fail2zig::daemon::compile(&imported, jail).unwrap();
    }
}
