//! The shell completions committed under packaging/completions/ are what clap_complete
//! generates from `ClientArgs` now. After changing the client's options, regenerate them with
//! `FAIL2ZIG_BLESS=1 cargo test --test client_completions` and commit the result.

use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;
use fail2zig::cli::client::ClientArgs;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/completions");

fn generate(shell: Shell) -> String {
    let mut cmd = ClientArgs::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "fail2zig-client", &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn completions_are_current() {
    let bless = std::env::var_os("FAIL2ZIG_BLESS").is_some();
    let mut stale = Vec::new();
    for (shell, file) in [
        (Shell::Bash, "fail2zig-client.bash"),
        (Shell::Zsh, "_fail2zig-client"),
        (Shell::Fish, "fail2zig-client.fish"),
    ] {
        let path = Path::new(DIR).join(file);
        let want = generate(shell);
        if bless {
            std::fs::create_dir_all(DIR).unwrap();
            std::fs::write(&path, &want).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "stale completions {stale:?}: run FAIL2ZIG_BLESS=1 cargo test --test client_completions"
    );
    // The generated scripts know the client's options.
    assert!(generate(Shell::Bash).contains("--str2sec"));
}
