//! The command executor: one command (its words) in, one [`Response`] out.
//!
//! Parses the words the way fail2ban's server does (server/transmitter.py), calls the daemon
//! through [`Control`], and builds fail2ban's result values and exceptions from what it gets.
//! It owns no state and does no I/O; the daemon calls it for each request the control socket
//! delivers, tests call it with a mock.
//!
//! # Compatibility
//! Identical to fail2ban 1.0.2 for the commands of runtime spec §6.3: a missing word is an
//! `IndexError` (checked before the jail exists, as fail2ban evaluates the words first), an
//! unknown jail is `UnknownJailException`, integers are parsed with Python `int()` rules and
//! its error text, `banned`/`unban`/`banip` return fail2ban's counts and shapes, `status` the
//! same nested pairs. Differences, each on purpose:
//! * `add` of an existing jail answers `The jail 'x' already exists` (the intended message; 1.0.2
//!   has a bug that prints `name 'noduplicates' is not defined`).
//! * `reload` carries no configuration stream: the daemon reads its own configuration; the
//!   request is `["reload", JAIL|"--all", OPTION...]`. `multi-set`, `server-stream`, `sleep`,
//!   `config-error` and `set JAIL thread` (fail2ban internals) are invalid commands.
//! * `status JAIL cymru` lists `error` for ASN, country and RIR, as fail2ban does without
//!   dnspython: the daemon makes no DNS queries.
//! * `get JAIL banip --with-time` prints times in UTC when the local zone is not known.

use super::control::{
    BanEntry, Control, ControlError, JailOption, ReloadRequest, ServerOption, Setting,
};
use super::frame::{ErrorKind, RemoteError, Response};
use super::value::Value;

/// The fail2ban version fail2zig answers `version` with (the protocol it is compatible with).
pub const FAIL2BAN_VERSION: &str = "1.0.2";

type Res = Result<Value, RemoteError>;

/// Runs one command against the daemon.
pub fn execute(ctl: &mut dyn Control, argv: &[String]) -> Response {
    match command(ctl, argv) {
        Ok(v) => Response::Ok(v),
        Err(e) => Response::Err(e),
    }
}

/// The words of a command; a missing one is Python's `IndexError`.
struct Words<'a>(&'a [String]);

impl<'a> Words<'a> {
    fn at(&self, i: usize) -> Result<&'a str, RemoteError> {
        self.0
            .get(i)
            .map(String::as_str)
            .ok_or_else(RemoteError::missing_word)
    }

    fn from(&self, i: usize) -> &'a [String] {
        self.0.get(i..).unwrap_or(&[])
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Converts a daemon failure into the exception fail2ban raises in that situation.
pub fn remote_error(e: ControlError) -> RemoteError {
    match e {
        ControlError::UnknownJail(name) => RemoteError::unknown_jail(&name),
        ControlError::DuplicateJail(name) => RemoteError::new(ErrorKind::DuplicateJail, name),
        // KeyError: str() is the repr of the key.
        ControlError::UnknownAction(name) => RemoteError {
            kind: ErrorKind::Other,
            message: Value::str(name.clone()).repr(),
            args: vec![Value::Str(name)],
        },
        ControlError::NotInList => RemoteError::other("list.remove(x): x not in list"),
        ControlError::File { errno, path } => {
            let text = strerror(errno);
            RemoteError {
                kind: ErrorKind::Other,
                message: format!("[Errno {errno}] {text}: {}", Value::str(path).repr()),
                args: vec![Value::Int(i64::from(errno)), Value::Str(text)],
            }
        }
        ControlError::Config(text) => RemoteError::new(ErrorKind::Config, text),
        ControlError::Refused(text) => RemoteError::other(text),
        ControlError::Unsupported(what) => {
            RemoteError::other(format!("{what} is not supported by fail2zig"))
        }
    }
}

/// The C library's text for an errno, as Python shows it.
pub fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn command(ctl: &mut dyn Control, argv: &[String]) -> Res {
    let w = Words(argv);
    match w.at(0)? {
        "ping" => Ok(Value::str("pong")),
        "version" => Ok(Value::str(FAIL2BAN_VERSION)),
        "echo" => Ok(Value::str_list(w.from(1).iter().cloned())),
        "server-status" => Ok(Value::str("Server ready")),
        "add" => add(ctl, &w),
        "start" => {
            let jail = w.at(1)?;
            need_jail(ctl, jail)?;
            ctl.start_jail(jail).map_err(remote_error)?;
            Ok(Value::None)
        }
        "stop" => stop(ctl, &w),
        "restart" => {
            ctl.restart().map_err(remote_error)?;
            Ok(Value::None)
        }
        "reload" => reload(ctl, &w),
        "unban" if w.len() >= 2 => unban(ctl, w.from(1)),
        "banned" => banned_all(ctl, w.from(1)),
        "flushlogs" => Ok(Value::Str(ctl.flush_logs().map_err(remote_error)?)),
        "set" => set(ctl, &Words(w.from(1))),
        "get" => get(ctl, &Words(w.from(1))),
        "status" => status(ctl, w.from(1)),
        _ => Err(RemoteError::other("Invalid command")),
    }
}

fn need_jail(ctl: &dyn Control, jail: &str) -> Result<(), RemoteError> {
    if ctl.jails().iter().any(|j| j == jail) {
        Ok(())
    } else {
        Err(RemoteError::unknown_jail(jail))
    }
}

fn add(ctl: &mut dyn Control, w: &Words<'_>) -> Res {
    let jail = w.at(1)?;
    if jail == "--all" {
        return Err(RemoteError::other(format!(
            "Reserved name {}",
            Value::str(jail).repr()
        )));
    }
    let backend = w.at(2).unwrap_or("auto");
    if ctl.jails().iter().any(|j| j == jail) {
        return Err(RemoteError::new(ErrorKind::DuplicateJail, jail));
    }
    ctl.add_jail(jail, backend).map_err(remote_error)?;
    Ok(Value::str(jail))
}

fn stop(ctl: &mut dyn Control, w: &Words<'_>) -> Res {
    if w.len() == 1 {
        ctl.shutdown();
    } else if w.at(1)? == "--all" {
        for jail in ctl.jails() {
            ctl.stop_jail(&jail).map_err(remote_error)?;
        }
    } else {
        let jail = w.at(1)?;
        need_jail(ctl, jail)?;
        ctl.stop_jail(jail).map_err(remote_error)?;
    }
    Ok(Value::None)
}

fn reload(ctl: &mut dyn Control, w: &Words<'_>) -> Res {
    let target = w.at(1).unwrap_or("--all");
    let mut req = ReloadRequest {
        jail: (target != "--all").then(|| target.to_string()),
        ..ReloadRequest::default()
    };
    for opt in w.from(2) {
        match opt.as_str() {
            "--restart" => req.restart = true,
            "--unban" => req.unban = true,
            "--if-exists" => req.if_exists = true,
            _ => {
                return Err(RemoteError::other(format!(
                    "Unexpected argument(s) for reload: {}",
                    Value::str_list(w.from(2).iter().cloned()).repr()
                )));
            }
        }
    }
    // fail2ban reads the configuration first (a jail missing there is a configuration error),
    // then the server checks the jail runs; both are the daemon's to check, in that order.
    ctl.reload(&req).map_err(remote_error)?;
    Ok(Value::str("OK"))
}

fn unban(ctl: &mut dyn Control, ips: &[String]) -> Res {
    let mut count = 0u64;
    if ips.len() == 1 && ips[0] == "--all" {
        for jail in ctl.jails() {
            count += ctl.unban_all(&jail).map_err(remote_error)?;
        }
    } else {
        for jail in ctl.jails() {
            count += ctl.unban(&jail, ips).map_err(remote_error)?.unbanned;
        }
    }
    Ok(int(count))
}

fn int(n: u64) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn ban_ips(ctl: &dyn Control, jail: &str) -> Result<Vec<String>, RemoteError> {
    Ok(ctl
        .bans(jail)
        .map_err(remote_error)?
        .into_iter()
        .map(|b| b.ip)
        .collect())
}

fn banned_all(ctl: &mut dyn Control, ids: &[String]) -> Res {
    let jails = ctl.jails();
    let mut lists = Vec::with_capacity(jails.len());
    for jail in &jails {
        lists.push(ban_ips(ctl, jail)?);
    }
    if ids.is_empty() {
        return Ok(Value::List(
            jails
                .iter()
                .zip(lists)
                .map(|(j, ips)| Value::Dict(vec![(Value::str(j.clone()), Value::str_list(ips))]))
                .collect(),
        ));
    }
    Ok(Value::List(
        ids.iter()
            .map(|ip| {
                Value::str_list(
                    jails
                        .iter()
                        .zip(&lists)
                        .filter(|(_, ips)| ips.contains(ip))
                        .map(|(j, _)| j.clone()),
                )
            })
            .collect(),
    ))
}

fn banned_in(ctl: &dyn Control, jail: &str, ids: &[String]) -> Res {
    need_jail(ctl, jail)?;
    let ips = ban_ips(ctl, jail)?;
    let is = |ip: &String| Value::Int(i64::from(ips.contains(ip)));
    Ok(match ids {
        [] => Value::str_list(ips),
        [one] => is(one),
        many => Value::List(many.iter().map(is).collect()),
    })
}

/// Python `int(text)` for base 10, with its error text.
pub fn py_int(text: &str) -> Result<i64, RemoteError> {
    let err = || {
        RemoteError::other(format!(
            "invalid literal for int() with base 10: {}",
            Value::str(text).repr()
        ))
    };
    let t = text.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let ok_underscores = !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && !digits.is_empty();
    if !ok_underscores || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return Err(err());
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    let v: i64 = clean.parse().map_err(|_| err())?;
    Ok(if neg { -v } else { v })
}

/// fail2ban's `_as_bool` for strings.
fn py_bool_word(text: &str) -> bool {
    matches!(
        text.to_ascii_lowercase().as_str(),
        "1" | "on" | "true" | "yes"
    )
}

fn server_option(name: &str) -> Option<ServerOption> {
    Some(match name {
        "loglevel" => ServerOption::LogLevel,
        "logtarget" => ServerOption::LogTarget,
        "syslogsocket" => ServerOption::SyslogSocket,
        "dbfile" => ServerOption::DbFile,
        "dbmaxmatches" => ServerOption::DbMaxMatches,
        "dbpurgeage" => ServerOption::DbPurgeAge,
        "allowipv6" => ServerOption::AllowIpv6,
        _ => return None,
    })
}

fn set_server(ctl: &mut dyn Control, opt: ServerOption, w: &Words<'_>) -> Res {
    let value = w.at(1)?;
    match opt {
        ServerOption::AllowIpv6 => {
            ctl.set_server(opt, value).map_err(remote_error)?;
            return Ok(Value::str(value));
        }
        ServerOption::DbMaxMatches | ServerOption::DbPurgeAge => {
            // Without a database fail2ban ignores these and answers None.
            if ctl.get_server(ServerOption::DbFile).map_err(remote_error)? == Value::None {
                return Ok(Value::None);
            }
            if opt == ServerOption::DbMaxMatches {
                py_int(value)?;
            }
        }
        _ => {}
    }
    ctl.set_server(opt, value).map_err(remote_error)?;
    ctl.get_server(opt).map_err(remote_error)
}

/// The jail options `get` and `set` both know, with their `get` counterpart.
fn readable_option(name: &str) -> Option<JailOption> {
    Some(match name {
        "bantime" => JailOption::BanTime,
        "findtime" => JailOption::FindTime,
        "maxretry" => JailOption::MaxRetry,
        "maxlines" => JailOption::MaxLines,
        "maxmatches" => JailOption::MaxMatches,
        "ignoreself" => JailOption::IgnoreSelf,
        "ignoreip" => JailOption::IgnoreIp,
        "ignorecommand" => JailOption::IgnoreCommand,
        "ignorecache" => JailOption::IgnoreCache,
        "logpath" => JailOption::LogPath,
        "logencoding" => JailOption::LogEncoding,
        "journalmatch" => JailOption::JournalMatch,
        "failregex" => JailOption::FailRegex,
        "ignoreregex" => JailOption::IgnoreRegex,
        "prefregex" => JailOption::PrefRegex,
        "datepattern" => JailOption::DatePattern,
        "usedns" => JailOption::UseDns,
        "logtimezone" => JailOption::LogTimeZone,
        "actions" => JailOption::Actions,
        other => JailOption::BanTimeExtra(other.strip_prefix("bantime.")?.to_string()),
    })
}

/// `set ...`. Long on purpose: one arm per fail2ban option, in transmitter.py's order, each
/// naming its words, its `Setting` and the option read back as the answer.
fn set(ctl: &mut dyn Control, w: &Words<'_>) -> Res {
    let name = w.at(0)?;
    if let Some(opt) = server_option(name) {
        return set_server(ctl, opt, w);
    }
    let key = w.at(1)?;
    let (setting, read_back) = match key {
        "banip" => {
            let ips = w.from(2);
            need_jail(ctl, name)?;
            return Ok(int(ctl.ban(name, ips).map_err(remote_error)?));
        }
        "unbanip" => return unbanip(ctl, name, w),
        "attempt" => {
            let ip = w.at(2).map_err(|_| {
                RemoteError::other("addAttempt() missing 1 required positional argument: 'ip'")
            })?;
            need_jail(ctl, name)?;
            let n = ctl.attempt(name, ip, w.from(3)).map_err(remote_error)?;
            return Ok(int(n));
        }
        "addaction" => {
            let action = w.at(2)?;
            if w.len() > 3 {
                return Err(remote_error(ControlError::Unsupported("python actions")));
            }
            need_jail(ctl, name)?;
            ctl.add_action(name, action).map_err(remote_error)?;
            return Ok(Value::str(action));
        }
        "delaction" => {
            let action = w.at(2)?;
            need_jail(ctl, name)?;
            ctl.del_action(name, action).map_err(remote_error)?;
            return Ok(Value::None);
        }
        "action" => {
            let action = w.at(2)?;
            need_jail(ctl, name)?;
            let property = w.at(3)?;
            let value = w.at(4)?;
            return ctl
                .set_action_property(name, action, property, value)
                .map_err(remote_error);
        }
        "idle" => {
            let on = match w.at(2)? {
                "on" => true,
                "off" => false,
                _ => {
                    return Err(RemoteError::other(
                        "Invalid idle option, must be 'on' or 'off'",
                    ));
                }
            };
            (Setting::Idle(on), JailOption::Idle)
        }
        "ignoreself" => (
            Setting::IgnoreSelf(py_bool_word(w.at(2)?)),
            JailOption::IgnoreSelf,
        ),
        "addignoreip" => (Setting::AddIgnoreIp(w.from(2)), JailOption::IgnoreIp),
        "delignoreip" => (Setting::DelIgnoreIp(w.at(2)?), JailOption::IgnoreIp),
        "ignorecommand" => (Setting::IgnoreCommand(w.at(2)?), JailOption::IgnoreCommand),
        "ignorecache" => (Setting::IgnoreCache(w.at(2)?), JailOption::IgnoreCache),
        "addlogpath" => (add_log_path(w)?, JailOption::LogPath),
        "dellogpath" => (Setting::DelLogPath(w.at(2)?), JailOption::LogPath),
        "logencoding" => (Setting::LogEncoding(w.at(2)?), JailOption::LogEncoding),
        "addjournalmatch" => (
            Setting::AddJournalMatch(w.from(2)),
            JailOption::JournalMatch,
        ),
        "deljournalmatch" => (
            Setting::DelJournalMatch(w.from(2)),
            JailOption::JournalMatch,
        ),
        "prefregex" => (Setting::PrefRegex(w.at(2)?), JailOption::PrefRegex),
        "addfailregex" => (Setting::AddFailRegex(w.at(2)?), JailOption::FailRegex),
        "delfailregex" => (
            Setting::DelFailRegex(py_int(w.at(2)?)?),
            JailOption::FailRegex,
        ),
        "addignoreregex" => (Setting::AddIgnoreRegex(w.at(2)?), JailOption::IgnoreRegex),
        "delignoreregex" => (
            Setting::DelIgnoreRegex(py_int(w.at(2)?)?),
            JailOption::IgnoreRegex,
        ),
        "usedns" => (Setting::UseDns(w.at(2)?), JailOption::UseDns),
        "findtime" => (Setting::FindTime(w.at(2)?), JailOption::FindTime),
        "datepattern" => (Setting::DatePattern(w.at(2)?), JailOption::DatePattern),
        "logtimezone" => (Setting::LogTimeZone(w.at(2)?), JailOption::LogTimeZone),
        "maxmatches" => (
            Setting::MaxMatches(py_int(w.at(2)?)?),
            JailOption::MaxMatches,
        ),
        "maxretry" => (Setting::MaxRetry(py_int(w.at(2)?)?), JailOption::MaxRetry),
        "maxlines" => (Setting::MaxLines(py_int(w.at(2)?)?), JailOption::MaxLines),
        "bantime" => (Setting::BanTime(w.at(2)?), JailOption::BanTime),
        k if k.starts_with("bantime.") => {
            let extra = &k["bantime.".len()..];
            (
                Setting::BanTimeExtra {
                    name: extra,
                    value: w.at(2)?,
                },
                JailOption::BanTimeExtra(extra.to_string()),
            )
        }
        other => {
            return Err(RemoteError::other(format!(
                "Invalid command {} (no set action or not yet implemented)",
                Value::str(other).repr()
            )));
        }
    };
    need_jail(ctl, name)?;
    ctl.set(name, setting).map_err(remote_error)?;
    ctl.get(name, &read_back).map_err(remote_error)
}

fn add_log_path<'a>(w: &Words<'a>) -> Result<Setting<'a>, RemoteError> {
    let path = w.at(2)?;
    let tail = match w.len() {
        4 => match w.at(3)?.to_lowercase().as_str() {
            "tail" => true,
            "head" => false,
            _ => {
                return Err(RemoteError::other("File option must be 'head' or 'tail'"));
            }
        },
        n if n > 4 => {
            return Err(RemoteError::other("Only one file can be added at a time"));
        }
        _ => false,
    };
    Ok(Setting::AddLogPath { path, tail })
}

fn unbanip(ctl: &mut dyn Control, jail: &str, w: &Words<'_>) -> Res {
    let report_absent = w.at(2)? == "--report-absent";
    let ips = if report_absent { w.from(3) } else { w.from(2) };
    need_jail(ctl, jail)?;
    let out = ctl.unban(jail, ips).map_err(remote_error)?;
    if report_absent && !out.absent.is_empty() {
        return Err(RemoteError::other(format!(
            "not banned: {}",
            Value::str_list(out.absent).repr()
        )));
    }
    Ok(int(out.unbanned))
}

fn get(ctl: &mut dyn Control, w: &Words<'_>) -> Res {
    let name = w.at(0)?;
    if let Some(opt) = server_option(name).filter(|o| *o != ServerOption::AllowIpv6) {
        return ctl.get_server(opt).map_err(remote_error);
    }
    let key = w.at(1)?;
    match key {
        "banned" => return banned_in(ctl, name, w.from(2)),
        "banip" => {
            need_jail(ctl, name)?;
            let with_time = w.at(2).ok() == Some("--with-time");
            return Ok(ban_list(ctl.bans(name).map_err(remote_error)?, with_time));
        }
        "action" => {
            let action = w.at(2)?;
            let property = w.at(3)?;
            need_jail(ctl, name)?;
            return ctl
                .action_property(name, action, property)
                .map_err(remote_error);
        }
        "actionproperties" | "actionmethods" => {
            let action = w.at(2)?;
            need_jail(ctl, name)?;
            let list = if key == "actionproperties" {
                ctl.action_properties(name, action)
            } else {
                ctl.action_methods(name, action)
            };
            return Ok(Value::str_list(list.map_err(remote_error)?));
        }
        _ => {}
    }
    let Some(opt) = readable_option(key) else {
        return Err(RemoteError::other(
            "Invalid command (no get action or not yet implemented)",
        ));
    };
    need_jail(ctl, name)?;
    ctl.get(name, &opt).map_err(remote_error)
}

/// The end of a ban, Unix seconds; `None` for a permanent ban.
fn ban_end(b: &BanEntry) -> Option<i64> {
    (b.bantime != -1).then(|| b.start.saturating_add(b.bantime))
}

/// `get JAIL banip`: the addresses ordered by end of ban (stable), optionally with times.
fn ban_list(mut bans: Vec<BanEntry>, with_time: bool) -> Value {
    bans.sort_by_key(|b| ban_end(b).unwrap_or(i64::MAX));
    Value::List(
        bans.into_iter()
            .map(|b| {
                if with_time {
                    let end = ban_end(&b).map_or_else(
                        || "9999-12-31 23:59:59".to_string(),
                        super::time::format_local,
                    );
                    Value::Str(format!(
                        "{} \t{} + {} = {}",
                        b.ip,
                        super::time::format_local(b.start),
                        b.bantime,
                        end
                    ))
                } else {
                    Value::Str(b.ip)
                }
            })
            .collect(),
    )
}

fn status(ctl: &mut dyn Control, words: &[String]) -> Res {
    match words {
        [] => {
            let mut jails = ctl.jails();
            let n = jails.len();
            jails.sort();
            Ok(Value::List(vec![
                Value::pair("Number of jail", int(n as u64)),
                Value::pair("Jail list", Value::Str(jails.join(", "))),
            ]))
        }
        [jail] => jail_status(ctl, jail, "basic"),
        [jail, flavor] => jail_status(ctl, jail, flavor),
        _ => Err(RemoteError::other("Invalid command (no status)")),
    }
}

fn jail_status(ctl: &mut dyn Control, jail: &str, flavor: &str) -> Res {
    need_jail(ctl, jail)?;
    let st = ctl.jail_status(jail).map_err(remote_error)?;
    let ips = ban_ips(ctl, jail)?;
    if !matches!(flavor, "short" | "basic" | "cymru") {
        let shown = super::value::str_repr(flavor);
        tracing::warn!(
            "Unsupported extended jail status flavor {shown}. Supported: ['short', 'basic', 'cymru']"
        );
    }
    let filter = Value::List(vec![
        Value::pair("Currently failed", int(st.currently_failed)),
        Value::pair("Total failed", int(st.total_failed)),
        Value::pair("File list", Value::str_list(st.files)),
    ]);
    let mut actions = vec![
        Value::pair("Currently banned", int(ips.len() as u64)),
        Value::pair("Total banned", int(st.total_banned)),
    ];
    if flavor != "short" {
        actions.push(Value::pair("Banned IP list", Value::str_list(ips)));
    }
    if flavor == "cymru" {
        for name in ["Banned ASN list", "Banned Country list", "Banned RIR list"] {
            actions.push(Value::pair(name, Value::str_list(["error"])));
        }
    }
    Ok(Value::List(vec![
        Value::pair("Filter", filter),
        Value::pair("Actions", Value::List(actions)),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int() {
        assert_eq!(py_int(" 42 ").unwrap(), 42);
        assert_eq!(py_int("-1").unwrap(), -1);
        assert_eq!(py_int("1_000").unwrap(), 1000);
        assert_eq!(
            py_int("abc").unwrap_err().message,
            "invalid literal for int() with base 10: 'abc'"
        );
        assert!(py_int("1__0").is_err());
        assert!(py_int("").is_err());
        assert!(py_int("1.5").is_err());
    }

    #[test]
    fn errno_text() {
        assert_eq!(strerror(2), "No such file or directory");
        assert_eq!(strerror(111), "Connection refused");
        let e = remote_error(ControlError::File {
            errno: 2,
            path: "/nonexistent/file".into(),
        });
        assert_eq!(
            e.message,
            "[Errno 2] No such file or directory: '/nonexistent/file'"
        );
        assert_eq!(e.args_repr(), "(2, 'No such file or directory')");
    }
}
