//! `fail2zig import` output handling through the library entry point the CLI calls: `-o` writes
//! the file, never overwrites it without `--force`, and a missing directory is a clear error.

use std::path::PathBuf;

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
