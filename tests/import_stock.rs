//! Acceptance: importing Debian's stock /etc/fail2ban (read at test time from the installed
//! package) succeeds, and the TOML loads as `fail2zig check` loads it.

use std::path::Path;

use fail2zig::import::{check_toml, import_dir, render_toml};

#[test]
fn stock_debian_imports_and_loads() {
    let dir = Path::new("/etc/fail2ban");
    let (config, report) = import_dir(dir, false).expect("stock import");
    let text = render_toml(&config, &report);
    if std::env::var_os("IMPORT_SHOW").is_some() {
        println!("{text}\n----\n{report}");
    }
    check_toml(&text, Path::new("stock.toml")).expect("output loads");
    assert!(report.jails.len() > 50, "{}", report.summary());
    let sshd = report
        .jails
        .iter()
        .find(|j| j.jail == "sshd")
        .expect("sshd");
    assert!(sshd.enabled && sshd.enabled_in_fail2ban, "{sshd:?}");
    // Nothing fail2ban runs on a stock system is lost, so --strict accepts it too.
    import_dir(dir, true).expect("stock import with --strict");
}
