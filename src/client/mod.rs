//! client: `fail2zig-client`, a drop-in `fail2ban-client`: its options, its commands and their
//! exact output, over the control socket.
//!
//! [`run`] takes the program's arguments and its two output streams and returns the exit
//! status; `src/bin/fail2zig-client.rs` only wires it to the process. Rendering lives in
//! [`render`], time expressions in [`str2sec`], the usage text in `usage.txt`. The socket and
//! the server-side meaning of commands are `ipc`'s.
//!
//! # Compatibility
//! Identical stdout, stderr (up to the time stamp and pid in log lines) and exit status (0 or
//! 255) to fail2ban-client 1.0.2 for the commands of runtime spec §6.3, including the errors
//! when no server runs, whatever name the program is called by (`fail2ban-client` included;
//! the usage text names the program as called). Differences, on purpose:
//! * `start` (no jail) does not start a server: fail2zig's daemon is started by systemd or
//!   `fail2zig run`; if it is running the answer is fail2ban's `Server already running`,
//!   otherwise an error that says how to start it. `restart` (no jail) asks the running daemon
//!   to restart all its jails in place.
//! * `-d`, `--dp` and `-t` are refused with a pointer to `fail2zig check`; `-p`, `-x`, `-b`,
//!   `-f`, `--async`, `--pname`, `--loglevel`, `--logtarget`, `--syslogsocket` are accepted
//!   and ignored. The socket is `-s`, else `global.socket` of the native configuration (`-c
//!   FILE`, or /etc/fail2zig/fail2zig.toml), else /run/fail2zig/fail2zig.sock; a fail2ban
//!   directory given with `-c` does not change it (fail2zig does not use fail2ban's socket).
//! * every command waits at most `--timeout` (default 30 s) for the answer; fail2ban waits
//!   forever outside `start`.
//! * `-vv` and more keep the default log line format.
//! * `--json` (ours) prints each answer as JSON: the value, or `{"error": ..., "kind": ...}`.

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

use crate::cli::client::ClientArgs;
use crate::config::{Config, ConfigSource};
use crate::ipc::{self, Connection, IpcError, Response, Value};

pub mod render;
pub mod str2sec;

/// The exit status of every failure.
pub const FAILURE: u8 = 255;

const USAGE_BODY: &str = include_str!("usage.txt");
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The usage text, headed by the program name as called.
pub fn usage(caller: &str) -> String {
    format!("Usage: {caller} [OPTIONS] <COMMAND>\n{USAGE_BODY}")
}

/// Log levels of the client's stderr lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Debug = 10,
    Info = 20,
    Warning = 30,
    Error = 40,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
        }
    }
}

struct Client<'a> {
    socket: PathBuf,
    timeout: Duration,
    verbose: i32,
    json: bool,
    caller: String,
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
}

/// Runs `fail2zig-client` with `args` (the first is the program name) and returns the exit
/// status.
pub fn run(args: Vec<OsString>, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let caller = args
        .first()
        .map(|a| {
            Path::new(a)
                .file_name()
                .unwrap_or(a.as_os_str())
                .to_string_lossy()
                .into_owned()
        })
        .unwrap_or_else(|| "fail2zig-client".into());
    // An unknown option lands in the command words (they may start with `-` after the first);
    // getopt refuses it, and so do we.
    let parsed = ClientArgs::try_parse_from(&args).ok().filter(|p| {
        p.command
            .first()
            .is_none_or(|w| !w.starts_with('-') || w == "-")
    });
    let parsed = match parsed {
        Some(p) => p,
        None => {
            let _ = out.write_all(usage(&caller).as_bytes());
            let _ = writeln!(err, "Init of command line failed");
            return FAILURE;
        }
    };
    let ok = Client::new(&parsed, caller, out, err).main(parsed);
    let _ = out.flush();
    if ok { 0 } else { FAILURE }
}

impl<'a> Client<'a> {
    fn new(
        args: &ClientArgs,
        caller: String,
        out: &'a mut dyn Write,
        err: &'a mut dyn Write,
    ) -> Client<'a> {
        Client {
            socket: PathBuf::from(ipc::DEFAULT_SOCKET),
            timeout: DEFAULT_TIMEOUT,
            verbose: 1 + i32::from(args.verbose) - i32::from(args.quiet),
            json: args.json,
            caller,
            out,
            err,
        }
    }

    fn output(&mut self, text: &str) {
        // A closed stdout (`| head`) is not an error worth reporting, as in fail2ban.
        let _ = writeln!(self.out, "{text}");
    }

    fn log(&mut self, level: Level, msg: &str) {
        let threshold = match self.verbose {
            i32::MIN..=0 => Level::Error,
            1 => Level::Warning,
            2 => Level::Info,
            _ => Level::Debug,
        };
        if level < threshold {
            return;
        }
        let _ = writeln!(
            self.err,
            "{} {:<24}[{}]: {:<7} {}",
            ipc::time::now_for_log(),
            "fail2ban",
            rustix::process::getpid().as_raw_nonzero(),
            level.name(),
            msg
        );
    }

    fn fail(&mut self, msg: &str) -> bool {
        self.log(Level::Error, msg);
        if self.json {
            let j = serde_json::json!({ "error": msg });
            self.output(&j.to_string());
        }
        false
    }

    /// The socket when `-s` is not given: the native configuration's `global.socket` (the file
    /// of `-c`, else /etc/fail2zig/fail2zig.toml when present), else the default. A fail2ban
    /// configuration directory has no say: fail2zig's daemon does not use fail2ban's socket.
    fn configured_socket(&mut self, conf: Option<&Path>) -> PathBuf {
        let default = PathBuf::from(ipc::DEFAULT_SOCKET);
        let ConfigSource::File(path) = ConfigSource::discover(conf) else {
            return default;
        };
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| Config::parse(&text, &path).map_err(|e| error_chain(&e)));
        match parsed {
            Ok(c) => c.global.socket.unwrap_or(default),
            Err(e) => {
                let msg = format!(
                    "cannot read the socket path from {}: {e}; using {}",
                    path.display(),
                    default.display()
                );
                self.log(Level::Warning, &msg);
                default
            }
        }
    }

    /// fail2ban's failure while reading its options: the reason on stdout, a bare line on
    /// stderr (its log handler is not set up yet).
    fn init_failed(&mut self, e: &str2sec::Str2SecError) -> bool {
        self.output(&format!("ERROR: {e}"));
        let _ = writeln!(self.err, "Init of command line failed");
        false
    }

    fn main(&mut self, args: ClientArgs) -> bool {
        if args.help {
            let u = usage(&self.caller);
            let _ = self.out.write_all(u.as_bytes());
            return true;
        }
        if args.short_version {
            self.output(ipc::FAIL2BAN_VERSION);
            return true;
        }
        if args.version {
            self.output(&format!("Fail2Ban v{}", ipc::FAIL2BAN_VERSION));
            return true;
        }
        if let Some(t) = &args.timeout {
            match str2sec::seconds_f64(t) {
                Ok(s) if s.is_finite() && s > 0.0 => self.timeout = Duration::from_secs_f64(s),
                Ok(_) => {}
                Err(e) => return self.init_failed(&e),
            }
        }
        if let Some(expr) = &args.str2sec {
            return match str2sec::str2seconds(expr) {
                Ok(v) => {
                    self.output(&v.to_py_str());
                    true
                }
                Err(e) => self.init_failed(&e),
            };
        }
        if args.dump || args.dump_pretty || args.test {
            return self.fail(
                "fail2zig-client does not read the configuration: use `fail2zig check -c PATH`",
            );
        }
        self.socket = match &args.socket {
            Some(s) => s.clone(),
            None => self.configured_socket(args.conf.as_deref()),
        };
        self.log(
            Level::Info,
            &format!("Using socket file {}", self.socket.display()),
        );
        if args.interactive {
            return self.interactive(args.command);
        }
        if args.command.is_empty() {
            let u = usage(&self.caller);
            let _ = self.out.write_all(u.as_bytes());
            return false;
        }
        self.command(args.command)
    }

    fn interactive(&mut self, first: Vec<String>) -> bool {
        if !first.is_empty() && !self.command(first) {
            return false;
        }
        self.output(&format!(
            "Fail2Ban v{} reads log file that contains password failure report",
            ipc::FAIL2BAN_VERSION
        ));
        self.output("and bans the corresponding IP addresses using firewall rules.");
        self.output("");
        let stdin = std::io::stdin();
        let mut lines = stdin.lock();
        loop {
            let _ = write!(self.out, "fail2ban> ");
            let _ = self.out.flush();
            let mut line = String::new();
            match lines.read_line(&mut line) {
                Ok(0) | Err(_) => {
                    self.output("");
                    return true;
                }
                Ok(_) => {}
            }
            let line = line.trim_end_matches(['\n', '\r']);
            match line {
                "exit" | "quit" => return true,
                "help" => {
                    let u = usage(&self.caller);
                    let _ = self.out.write_all(u.as_bytes());
                }
                "" => {}
                _ => match split_words(line) {
                    Some(words) if !words.is_empty() => {
                        self.command(words);
                    }
                    Some(_) => {}
                    None => {
                        self.log(Level::Error, "No closing quotation");
                    }
                },
            }
        }
    }

    /// fail2ban's `__processCommand`: the commands the client handles itself, then the rest.
    fn command(&mut self, mut cmd: Vec<String>) -> bool {
        match cmd[0].as_str() {
            "start" if cmd.len() == 1 => self.start(),
            "restart" if cmd.len() > 1 => {
                cmd.splice(0..1, ["reload".to_string(), "--restart".to_string()]);
                self.command(cmd)
            }
            "restart" => self.restart(),
            "reload" => self.reload(cmd),
            "ping" if cmd.len() > 1 => match cmd[1].trim().parse::<f64>() {
                Ok(t) if t.is_finite() && t > 0.0 => {
                    let t = Duration::from_secs_f64(t);
                    self.send(&cmd, true, t)
                }
                Ok(_) => self.send(&cmd, true, self.timeout),
                Err(_) => self.fail(&format!(
                    "could not convert string to float: {}",
                    Value::str(cmd[1].clone()).repr()
                )),
            },
            _ => self.send(&cmd, true, self.timeout),
        }
    }

    fn ping(&mut self, timeout: Duration) -> bool {
        self.send(&["ping".to_string()], false, timeout)
    }

    fn start(&mut self) -> bool {
        if self.ping(Duration::from_millis(100)) {
            return self.fail("Server already running");
        }
        self.fail(
            "fail2zig-client does not start the server: start the daemon with \
             `systemctl start fail2zig` (or `fail2zig run`)",
        )
    }

    /// `restart` (no jail): the daemon restarts its jails in place; printed as fail2ban prints
    /// its stop-then-start.
    fn restart(&mut self) -> bool {
        self.send(&["restart".to_string()], true, self.timeout)
    }

    fn reload(&mut self, mut cmd: Vec<String>) -> bool {
        let mut opts = Vec::new();
        while cmd.len() >= 2 {
            if matches!(cmd[1].as_str(), "--restart" | "--unban" | "--if-exists") {
                opts.push(cmd.remove(1));
            } else {
                if cmd.len() > 2 {
                    let rest = Value::str_list(cmd[1..].iter().cloned()).repr();
                    return self.fail(&format!("Unexpected argument(s) for reload: {rest}"));
                }
                break;
            }
        }
        if !self.ping(self.timeout) {
            return self.fail("Could not find server");
        }
        let target = cmd.get(1).cloned().unwrap_or_else(|| "--all".into());
        let mut request = vec!["reload".to_string(), target];
        request.extend(opts);
        self.send(&request, true, self.timeout)
    }

    fn exchange(&mut self, cmd: &[String], timeout: Duration) -> Result<Response, IpcError> {
        let mut conn = Connection::connect(&self.socket, Some(timeout))?;
        conn.call(cmd)
    }

    /// fail2ban's `__processCmd` for one command: send, print the rendered answer.
    fn send(&mut self, cmd: &[String], show: bool, timeout: Duration) -> bool {
        let response = match self.exchange(cmd, timeout) {
            Ok(r) => r,
            Err(e) => {
                // As fail2ban: a failed ping probe (show = false) is silent.
                if show || (self.verbose > 1 && cmd[0] != "ping") {
                    self.socket_failure(&e, cmd[0] == "ping");
                }
                return false;
            }
        };
        let shown = render::show(cmd, &response, &self.socket);
        for w in &shown.warnings {
            self.log(Level::Warning, w);
        }
        for e in &shown.errors {
            self.log(Level::Error, e);
        }
        if show || cmd[0] == "echo" {
            if self.json {
                self.output(&json_answer(&response));
            } else if let Some(text) = &shown.stdout {
                self.output(text);
            }
        }
        shown.ok
    }

    /// fail2ban's `__logSocketError`.
    fn socket_failure(&mut self, e: &IpcError, error_only: bool) {
        let text = socket_error_text(e);
        let path = self.socket.clone();
        let msg = if path.exists() {
            if rustix::fs::access(&path, rustix::fs::Access::WRITE_OK).is_ok() {
                if error_only {
                    text
                } else {
                    format!("[{text}] Unable to contact server. Is it running?")
                }
            } else {
                format!(
                    "Permission denied to socket: {}, (you must be root)",
                    path.display()
                )
            }
        } else {
            format!(
                "Failed to access socket path: {}. Is fail2ban running?",
                path.display()
            )
        };
        self.fail(&msg);
    }
}

/// An error and its sources, `: `-separated.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The `--json` form of an answer: the value, or `{"error": message, "kind": kind}`.
fn json_answer(response: &Response) -> String {
    match response {
        Response::Ok(v) => v.to_json().to_string(),
        Response::Err(e) => {
            let kind = serde_json::to_value(e.kind).unwrap_or_default();
            serde_json::json!({ "error": e.message, "kind": kind }).to_string()
        }
    }
}

/// Python's `str()` of the socket error.
fn socket_error_text(e: &IpcError) -> String {
    let io = match e {
        IpcError::Connect { source, .. } | IpcError::Transfer { source, .. } => source,
        other => return other.to_string(),
    };
    match io.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => "timed out".into(),
        std::io::ErrorKind::UnexpectedEof => "[Errno 104] Connection reset by peer".into(),
        _ => match io.raw_os_error() {
            Some(n) => format!("[Errno {n}] {}", ipc::strerror(n)),
            None => io.to_string(),
        },
    }
}

/// Splits an interactive line into words like Python's `shlex.split`.
pub use crate::fail2ban::python::shlex_split as split_words;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shlex_like() {
        assert_eq!(
            split_words(r#"set sshd addfailregex "a b\" c" 'x y'"#).unwrap(),
            vec!["set", "sshd", "addfailregex", "a b\" c", "x y"]
        );
        assert_eq!(split_words("  status  ").unwrap(), vec!["status"]);
        assert_eq!(split_words("'open"), None);
    }

    #[test]
    fn usage_names_the_caller() {
        assert!(
            usage("fail2ban-client").starts_with("Usage: fail2ban-client [OPTIONS] <COMMAND>\n\n")
        );
    }
}
