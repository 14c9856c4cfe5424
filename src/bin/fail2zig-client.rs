//! `fail2zig-client`: fail2ban-client compatible control client (also installable as
//! `fail2ban-client`). All the work is `fail2zig::client::run`; this maps it to the process.

fn main() -> std::process::ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let code = fail2zig::client::run(args, &mut std::io::stdout(), &mut std::io::stderr());
    std::process::ExitCode::from(code)
}
