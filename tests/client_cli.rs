//! fail2zig-client's own additions, run as a process against a canned server: `--json`,
//! interactive mode (`-i`), and its name in the usage text.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use fail2zig::ipc::{RemoteError, Response, Value};

fn client() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fail2zig-client"))
}

#[test]
fn json_answers() {
    let status = common::py(
        "[('Filter', [('Currently failed', 0), ('Total failed', 3), ('File list', ['/var/log/auth.log'])]), \
         ('Actions', [('Currently banned', 1), ('Total banned', 1), ('Banned IP list', ['192.0.2.1'])])]",
    );
    let server = common::CannedServer::start(vec![
        Response::Ok(status),
        Response::Err(RemoteError::unknown_jail("nosuchjail")),
    ]);
    let ok = client()
        .arg("-s")
        .arg(&server.path)
        .args(["--json", "status", "sshd"])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(v[0][0], "Filter");
    assert_eq!(v[1][1][2][1][0], "192.0.2.1");
    let bad = client()
        .arg("-s")
        .arg(&server.path)
        .args(["--json", "status", "nosuchjail"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(255));
    let v: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"error": "nosuchjail", "kind": "unknown_jail"})
    );
    assert_eq!(server.finish().len(), 2);

    // No server: still JSON on stdout, fail2ban's message in the log.
    let dir = tempfile::tempdir().unwrap();
    let gone = client()
        .arg("-s")
        .arg(dir.path().join("none.sock"))
        .args(["--json", "ping"])
        .output()
        .unwrap();
    assert_eq!(gone.status.code(), Some(255));
    let v: serde_json::Value = serde_json::from_slice(&gone.stdout).unwrap();
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("Failed to access socket path")
    );
}

#[test]
fn interactive_mode() {
    let server = common::CannedServer::start(vec![
        Response::Ok(Value::str("pong")),
        Response::Ok(Value::str_list(["a b", "c"])),
    ]);
    let mut child = client()
        .arg("-s")
        .arg(&server.path)
        .arg("-i")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"ping\n\necho 'a b' c\nexit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Fail2Ban v1.0.2 reads log file that contains password failure report\n\
         and bans the corresponding IP addresses using firewall rules.\n\n\
         fail2ban> Server replied: pong\n\
         fail2ban> fail2ban> a b c\n\
         fail2ban> "
    );
    assert_eq!(
        server.finish(),
        vec![
            vec!["ping".to_string()],
            vec!["echo".to_string(), "a b".to_string(), "c".to_string()]
        ]
    );
}

#[test]
fn usage_names_the_program_as_called() {
    let out = client().output().unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("Usage: fail2zig-client [OPTIONS] <COMMAND>\n")
    );
    let help = client().arg("-h").output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert_eq!(help.stdout, out.stdout);
}

#[test]
fn socket_from_the_native_configuration() {
    let server = common::CannedServer::start(vec![Response::Ok(Value::str("pong"))]);
    let conf = server.dir.path().join("fail2zig.toml");
    std::fs::write(
        &conf,
        format!("[global]\nsocket = {:?}\n", server.path.to_str().unwrap()),
    )
    .unwrap();
    let out = client().arg("-c").arg(&conf).arg("ping").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Server replied: pong\n"
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.finish(), vec![vec!["ping".to_string()]]);
}
