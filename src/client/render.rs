//! Rendering answers for people: fail2ban's "beautifier".
//!
//! Given the command words that were sent and the value (or error) that came back, produce the
//! exact text `fail2ban-client` prints on stdout. Pure functions; `client` does the printing.
//!
//! # Compatibility
//! Identical to fail2ban 1.0.2's `Beautifier.beautify` / `beautifyError` (runtime spec §6.3,
//! §6.5): the `status` trees with `|-`, `` `- `` and one TAB after each `name:`, the
//! `Current ...` headings, lists joined by spaces or `, `, `get JAIL banip` joined by the given
//! separator (a newline for `--with-time`), everything else as Python's `print(value)`.

use std::path::Path;

use crate::ipc::{ErrorKind, RemoteError, Response, Value};

/// The answer's shape did not fit the command (fail2ban's "Beautifier error").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("answer {answer} does not fit the command {command}")]
pub struct ShapeError {
    pub command: String,
    pub answer: String,
}

fn strs(v: &Value) -> Option<Vec<String>> {
    v.as_seq()?
        .iter()
        .map(|x| x.as_str().map(str::to_string))
        .collect()
}

fn tree(heading: &str, items: &[String]) -> String {
    let mut msg = String::from(heading);
    for (i, item) in items.iter().enumerate() {
        msg.push_str(if i + 1 == items.len() { "`- " } else { "|- " });
        msg.push_str(item);
        if i + 1 < items.len() {
            msg.push('\n');
        }
    }
    msg
}

/// `" ".join(map(str, v))` for lists, `str(v)` otherwise.
fn status_value(v: &Value) -> String {
    match v {
        Value::List(items) => items
            .iter()
            .map(Value::to_py_str)
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_py_str(),
    }
}

fn pair(v: &Value) -> Option<(&str, &Value)> {
    match v.as_seq()? {
        [name, value] => Some((name.as_str()?, value)),
        _ => None,
    }
}

fn status_tree(cmd: &[String], v: &Value) -> Option<String> {
    let sections = v.as_seq()?;
    let mut lines = Vec::new();
    if cmd.len() > 1 {
        lines.push(format!("Status for the jail: {}", cmd[1]));
        for (n, section) in sections.iter().enumerate() {
            let last = n + 1 == sections.len();
            let (name, entries) = pair(section)?;
            lines.push(format!("{} {name}", if last { "`-" } else { "|-" }));
            let indent = if last { "   " } else { "|  " };
            let entries = entries.as_seq()?;
            for (m, entry) in entries.iter().enumerate() {
                let mark = if m + 1 == entries.len() { "`-" } else { "|-" };
                let (key, value) = pair(entry)?;
                lines.push(format!("{indent}{mark} {key}:\t{}", status_value(value)));
            }
        }
    } else {
        lines.push("Status".to_string());
        for (n, entry) in sections.iter().enumerate() {
            let mark = if n + 1 == sections.len() { "`-" } else { "|-" };
            let (key, value) = pair(entry)?;
            lines.push(format!("{mark} {key}:\t{}", status_value(value)));
        }
    }
    Some(lines.join("\n"))
}

/// What `fail2ban-client` prints for a successful answer to `cmd`.
pub fn beautify(cmd: &[String], v: &Value) -> Result<String, ShapeError> {
    beautify_opt(cmd, v).ok_or_else(|| ShapeError {
        command: Value::str_list(cmd.iter().cloned()).repr(),
        answer: v.repr(),
    })
}

fn beautify_opt(cmd: &[String], v: &Value) -> Option<String> {
    let c0 = cmd.first().map(String::as_str).unwrap_or("");
    let plain = || Some(v.to_py_str());
    match c0 {
        "ping" => return Some(format!("Server replied: {}", v.as_str()?)),
        "version" => return plain(),
        "start" => return Some("Jail started".into()),
        "stop" => {
            return match v {
                Value::None if cmd.len() == 1 => Some("Shutdown successful".into()),
                Value::None => Some("Jail stopped".into()),
                _ => plain(),
            };
        }
        // fail2zig's in-place restart, shown as fail2ban-client's stop + start.
        "restart" if cmd.len() == 1 && *v == Value::None => {
            return Some("Shutdown successful\nServer ready".into());
        }
        "add" => return Some(format!("Added jail {}", v.as_str()?)),
        "flushlogs" => return Some(format!("logs: {}", v.as_str()?)),
        "echo" => {
            let words: Vec<String> = v.as_seq()?.iter().map(Value::to_py_str).collect();
            return Some(words.join(" "));
        }
        "status" => return status_tree(cmd, v),
        _ => {}
    }
    let Some(c1) = cmd.get(1).map(String::as_str) else {
        return plain();
    };
    match c1 {
        "syslogsocket" => return Some(format!("Current syslog socket is:\n`- {}", v.as_str()?)),
        "logtarget" => return Some(format!("Current logging target is:\n`- {}", v.as_str()?)),
        "loglevel" => {
            let level = match v {
                Value::Int(n) => Value::str(level_name(*n)),
                other => other.clone(),
            };
            return Some(format!("Current logging level is {}", level.repr()));
        }
        "dbfile" => {
            return Some(match v {
                Value::None => "Database currently disabled".into(),
                other => format!("Current database file is:\n`- {}", other.as_str()?),
            });
        }
        "dbpurgeage" => {
            return Some(match v {
                Value::None => "Database currently disabled".into(),
                Value::Int(n) => format!("Current database purge age is:\n`- {n}seconds"),
                Value::Float(f) => {
                    format!("Current database purge age is:\n`- {}seconds", f.trunc())
                }
                _ => return None,
            });
        }
        _ => {}
    }
    let Some(c2) = cmd.get(2).map(String::as_str) else {
        return plain();
    };
    beautify_jail(cmd, c0, c2, v)
}

fn beautify_jail(cmd: &[String], c0: &str, c2: &str, v: &Value) -> Option<String> {
    let jail = &cmd[1];
    Some(match c2 {
        "logpath" | "addlogpath" | "dellogpath" => {
            let files = strs(v)?;
            if files.is_empty() {
                "No file is currently monitored".into()
            } else {
                tree("Current monitored log file(s):\n", &files)
            }
        }
        "logencoding" => format!("Current log encoding is set to:\n{}", v.as_str()?),
        "journalmatch" | "addjournalmatch" | "deljournalmatch" => {
            let groups = v.as_seq()?;
            if groups.is_empty() {
                "No journal match filter set".into()
            } else {
                let parts: Option<Vec<String>> = groups
                    .iter()
                    .map(|g| strs(g).map(|w| w.join(" ")))
                    .collect();
                format!("Current match filter:\n{}", parts?.join(" + "))
            }
        }
        "datepattern" => match v {
            Value::None => "Current date pattern set to: Not set/required".into(),
            _ => match v.as_seq()? {
                [Value::None, name] => format!("Current date pattern set to: {}", name.to_py_str()),
                [pattern, name] => format!(
                    "Current date pattern set to: {} ({})",
                    pattern.to_py_str(),
                    name.to_py_str()
                ),
                _ => return None,
            },
        },
        "ignoreip" | "addignoreip" | "delignoreip" => {
            let ips = strs(v)?;
            if ips.is_empty() {
                "No IP address/network is ignored".into()
            } else {
                tree("These IP addresses/networks are ignored:\n", &ips)
            }
        }
        "failregex" | "addfailregex" | "delfailregex" | "ignoreregex" | "addignoreregex"
        | "delignoreregex" => {
            let res = strs(v)?;
            if res.is_empty() {
                "No regular expression is defined".into()
            } else {
                let numbered: Vec<String> = res
                    .iter()
                    .enumerate()
                    .map(|(i, r)| format!("[{i}]: {r}"))
                    .collect();
                tree("The following regular expression are defined:\n", &numbered)
            }
        }
        "actions" => {
            let names = strs(v)?;
            if names.is_empty() {
                format!("No actions for jail {jail}")
            } else {
                format!(
                    "The jail {jail} has the following actions:\n{}",
                    names.join(", ")
                )
            }
        }
        "actionproperties" | "actionmethods" => {
            let what = &c2["action".len()..];
            let action = cmd.get(3)?;
            let names = strs(v)?;
            if names.is_empty() {
                format!("No {what} for jail {jail} action {action}")
            } else {
                format!(
                    "The jail {jail} action {action} has the following {what}:\n{}",
                    names.join(", ")
                )
            }
        }
        "banip" if c0 == "get" => match v {
            Value::List(_) => {
                let ips = strs(v)?;
                let sep = match cmd.get(3).map(String::as_str) {
                    None => " ",
                    Some("--with-time") => "\n",
                    Some(s) => s,
                };
                ips.join(sep)
            }
            other => other.to_py_str(),
        },
        _ => v.to_py_str(),
    })
}

/// Python's `logging.getLevelName` for fail2ban's levels.
fn level_name(n: i64) -> String {
    match n {
        50 => "CRITICAL".into(),
        40 => "ERROR".into(),
        30 => "WARNING".into(),
        25 => "NOTICE".into(),
        20 => "INFO".into(),
        18 => "MSG".into(),
        10 => "DEBUG".into(),
        7 => "TRACE".into(),
        5 => "HEAVY".into(),
        0 => "NOTSET".into(),
        n => format!("Level {n}"),
    }
}

/// What `fail2ban-client` prints on stdout for an error answer.
pub fn beautify_error(e: &RemoteError) -> String {
    let first = || e.args.first().map(Value::to_py_str).unwrap_or_default();
    match e.kind {
        ErrorKind::UnknownJail => format!("Sorry but the jail '{}' does not exist", first()),
        ErrorKind::Index => "Sorry but the command is invalid".into(),
        ErrorKind::DuplicateJail => format!("The jail '{}' already exists", first()),
        _ => e.message.clone(),
    }
}

/// How the client reacts to one answer: what it prints on stdout, what it logs, whether the
/// command succeeded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    /// The text for stdout (printed with a newline), if any.
    pub stdout: Option<String>,
    /// Messages logged at WARNING.
    pub warnings: Vec<String>,
    /// Messages logged at ERROR.
    pub errors: Vec<String>,
    /// Exit status 0 (true) or 255.
    pub ok: bool,
}

/// fail2ban-client's handling of the answer to `cmd` sent to the socket at `socket`.
pub fn show(cmd: &[String], response: &Response, socket: &Path) -> Shown {
    match response {
        Response::Ok(v) => match beautify(cmd, v) {
            Ok(text) => Shown {
                stdout: Some(text),
                ok: true,
                ..Shown::default()
            },
            Err(e) => Shown {
                stdout: Some(v.to_py_str()),
                warnings: vec!["Beautifier error. Please report the error".into()],
                errors: vec![format!("Beautify failed: {e}")],
                ok: true,
            },
        },
        Response::Err(e) => {
            let (stdout, error) = match e.kind {
                ErrorKind::Config => (None, format!("Failed during configuration: {}", e.message)),
                ErrorKind::PermissionDenied => (
                    None,
                    format!(
                        "Permission denied to socket: {}, (you must be root)",
                        socket.display()
                    ),
                ),
                ErrorKind::Protocol => (None, e.message.clone()),
                _ => (Some(beautify_error(e)), format!("NOK: {}", e.args_repr())),
            };
            Shown {
                stdout,
                errors: vec![error],
                ok: false,
                ..Shown::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn status_trees() {
        let v = Value::List(vec![
            Value::pair("Number of jail", Value::Int(2)),
            Value::pair("Jail list", Value::str("recidive, sshd")),
        ]);
        assert_eq!(
            beautify(&words("status"), &v).unwrap(),
            "Status\n|- Number of jail:\t2\n`- Jail list:\trecidive, sshd"
        );
    }

    #[test]
    fn shape_mismatch_is_reported() {
        assert!(beautify(&words("status sshd"), &Value::Int(1)).is_err());
        assert!(beautify(&words("ping"), &Value::Int(1)).is_err());
    }
}
