//! The control socket with real sockets in a temporary directory: requests and answers, the
//! peer-credential check, stale and live sockets, and hostile clients (garbage, truncated,
//! oversized, slow and vanishing) against a server driven by a small poll loop, which must
//! keep answering well-behaved clients throughout.

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use fail2zig::ipc::frame::{
    FrameReader, HEADER_LEN, MAX_REQUEST, MAX_RESPONSE, PROTOCOL_VERSION, decode_response,
    encode_request,
};
use fail2zig::ipc::{Connection, ErrorKind, IpcError, Limits, PeerPolicy, Response, Server, Value};

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn bind(dir: &Path, limits: Limits) -> Server {
    Server::bind_with(&dir.join("sock"), PeerPolicy::root_only(), limits).unwrap()
}

/// Drives `server` until `done` says stop (or 10 s pass): `ping` gets `'pong'`, anything else
/// its own words back.
fn drive(server: &mut Server, mut done: impl FnMut(&Server) -> bool) {
    let end = Instant::now() + Duration::from_secs(10);
    while !done(server) && Instant::now() < end {
        common::poll_once(server, Duration::from_millis(10));
        for (conn, argv) in server.on_ready(Instant::now()) {
            let answer = if argv == ["ping"] {
                Value::str("pong")
            } else {
                Value::str_list(argv)
            };
            server.reply(conn, &Response::Ok(answer));
        }
    }
}

/// Runs the server loop in a thread while `client` runs; returns the server afterwards.
fn with_server<T: Send>(mut server: Server, client: impl FnOnce() -> T + Send) -> (Server, T) {
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let h = s.spawn(|| {
            drive(&mut server, |_| {
                stop.load(std::sync::atomic::Ordering::SeqCst)
            });
            server
        });
        let t = client();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        (h.join().unwrap(), t)
    })
}

fn read_response(stream: &mut UnixStream) -> Option<Response> {
    let mut buf = Vec::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stream.read_to_end(&mut buf);
    let mut r = FrameReader::default();
    r.push(&buf);
    r.next_payload(MAX_RESPONSE)
        .ok()
        .flatten()
        .map(|p| decode_response(&p).unwrap())
}

#[test]
fn requests_and_answers_on_one_connection() {
    let dir = tempfile::tempdir().unwrap();
    let server = bind(dir.path(), Limits::default());
    let path = server.path().to_path_buf();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let (server, answers) = with_server(server, || {
        let mut c = Connection::connect(&path, Some(Duration::from_secs(5))).unwrap();
        let a = c.call(&words("status sshd")).unwrap();
        let b = c.call(&words("ping")).unwrap();
        // A word with every kind of byte a shell can pass.
        let odd = vec!["echo".to_string(), "a\tb\n'\"\\ é\u{1}".to_string()];
        let c3 = c.call(&odd).unwrap();
        (a, b, c3, odd)
    });
    assert_eq!(
        answers.0,
        Response::Ok(Value::str_list(words("status sshd")))
    );
    assert_eq!(answers.1, Response::Ok(Value::str("pong")));
    assert_eq!(answers.2, Response::Ok(Value::str_list(answers.3)));
    assert_eq!(server.stats().requests, 3);
    drop(server);
    assert!(!path.exists(), "socket removed when the server is dropped");
}

#[test]
fn pipelined_requests_are_all_answered() {
    let dir = tempfile::tempdir().unwrap();
    let server = bind(dir.path(), Limits::default());
    let path = server.path().to_path_buf();
    let (_server, got) = with_server(server, || {
        let mut s = UnixStream::connect(&path).unwrap();
        let mut bytes = encode_request(&words("one")).unwrap();
        bytes.extend(encode_request(&words("two")).unwrap());
        s.write_all(&bytes).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut r = FrameReader::default();
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while out.len() < 2 {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "server closed early");
            r.push(&buf[..n]);
            while let Some(p) = r.next_payload(MAX_RESPONSE).unwrap() {
                out.push(decode_response(&p).unwrap());
            }
        }
        out
    });
    assert_eq!(
        got,
        vec![
            Response::Ok(Value::str_list(["one"])),
            Response::Ok(Value::str_list(["two"]))
        ]
    );
}

#[test]
fn creates_directory_replaces_stale_socket_refuses_live_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/sock");
    // Missing directories are created, mode 0700 without a group.
    let server = Server::bind(&path, None).unwrap();
    let dmode = std::fs::metadata(dir.path().join("a/b"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dmode & 0o777, 0o700);
    // A second daemon on a live socket is refused.
    match Server::bind(&path, None) {
        Err(IpcError::AlreadyRunning(p)) => assert_eq!(p, path),
        other => panic!("expected AlreadyRunning, got {other:?}"),
    }
    // A socket file left by a dead daemon (kill -9: nobody listens, the file stays) is replaced.
    drop(server);
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let again = Server::bind(&path, None);
    assert!(again.is_ok(), "{again:?}");
    // Something that is not a socket is never removed.
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(
        Server::bind(&file, None),
        Err(IpcError::NotASocket(_))
    ));
    assert!(file.exists());
}

#[test]
fn group_socket_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run/sock");
    let gid = rustix::process::getgid();
    let server = Server::bind(&path, Some(gid)).unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    assert_eq!(std::os::unix::fs::MetadataExt::gid(&meta), gid.as_raw());
    drop(server);
}

/// Runs the built client as uid/gid 65534 (nobody) through `setpriv`.
fn client_as_nobody(socket: &Path, cmd: &[&str]) -> std::process::Output {
    std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_fail2zig-client"))
        .arg("-s")
        .arg(socket)
        .args(cmd)
        .output()
        .expect("setpriv runs (util-linux)")
}

/// The credential check itself: the socket file is opened to everyone, so only SO_PEERCRED
/// stands between an unprivileged user and the daemon.
#[test]
fn peer_check_refuses_others_and_admits_the_group() {
    assert!(
        rustix::process::geteuid().is_root(),
        "this test switches users and must run as root"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let root_only = bind(dir.path(), Limits::default());
    let path = root_only.path().to_path_buf();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (server, (nobody, root)) = with_server(root_only, || {
        let nobody = client_as_nobody(&path, &["ping"]);
        let root = Connection::connect(&path, Some(Duration::from_secs(5)))
            .unwrap()
            .call(&words("ping"))
            .unwrap();
        (nobody, root)
    });
    assert_eq!(root, Response::Ok(Value::str("pong")));
    assert_eq!(nobody.status.code(), Some(255));
    assert!(nobody.stdout.is_empty());
    let err = String::from_utf8_lossy(&nobody.stderr);
    assert!(
        err.contains(&format!(
            "ERROR   Permission denied to socket: {}, (you must be root)",
            path.display()
        )),
        "{err}"
    );
    assert_eq!(server.stats().refused, 1);
    assert_eq!(server.stats().requests, 1);
    drop(server);

    // Group 65534 admitted: nobody's process runs with that gid.
    let dir2 = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir2.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let policy = PeerPolicy::from_database(rustix::process::Gid::from_raw(65534), "", "");
    let server = Server::bind_with(&dir2.path().join("sock"), policy, Limits::default()).unwrap();
    let path = server.path().to_path_buf();
    let (server, out) = with_server(server, || client_as_nobody(&path, &["ping"]));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Server replied: pong\n"
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.stats().refused, 0);
    assert_eq!(server.stats().requests, 1);
}

#[test]
fn hostile_clients_do_not_disturb_the_loop() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_connections: 8,
        request_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(600),
        write_timeout: Duration::from_millis(300),
    };
    let server = bind(dir.path(), limits);
    let path = server.path().to_path_buf();
    let (server, ()) = with_server(server, || {
        // Garbage: answered with a protocol error, then closed.
        let mut g = UnixStream::connect(&path).unwrap();
        g.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        match read_response(&mut g) {
            Some(Response::Err(e)) => assert_eq!(e.kind, ErrorKind::Protocol),
            other => panic!("garbage: {other:?}"),
        }
        // Wrong version.
        let mut v = UnixStream::connect(&path).unwrap();
        v.write_all(&[
            b'F',
            b'2',
            b'Z',
            PROTOCOL_VERSION + 1,
            0,
            0,
            0,
            2,
            b'{',
            b'}',
        ])
        .unwrap();
        match read_response(&mut v) {
            Some(Response::Err(e)) => assert!(e.message.contains("version"), "{e:?}"),
            other => panic!("version: {other:?}"),
        }
        // Oversized: refused from the header alone.
        let mut o = UnixStream::connect(&path).unwrap();
        let len = u32::try_from(MAX_REQUEST + 1).unwrap().to_be_bytes();
        o.write_all(&[b'F', b'2', b'Z', PROTOCOL_VERSION]).unwrap();
        o.write_all(&len).unwrap();
        match read_response(&mut o) {
            Some(Response::Err(e)) => assert!(e.message.contains("exceeds"), "{e:?}"),
            other => panic!("oversized: {other:?}"),
        }
        // Valid frame, invalid JSON inside.
        let mut j = UnixStream::connect(&path).unwrap();
        j.write_all(&[b'F', b'2', b'Z', PROTOCOL_VERSION, 0, 0, 0, 3])
            .unwrap();
        j.write_all(b"[1]").unwrap();
        assert!(matches!(read_response(&mut j), Some(Response::Err(_))));
        // Truncated then vanished, and truncated then silent (slow).
        let whole = encode_request(&words("status sshd")).unwrap();
        {
            let mut t = UnixStream::connect(&path).unwrap();
            t.write_all(&whole[..HEADER_LEN + 3]).unwrap();
        }
        let mut slow = UnixStream::connect(&path).unwrap();
        slow.write_all(&whole[..HEADER_LEN + 3]).unwrap();
        // Vanishes before reading its answer.
        {
            let mut gone = UnixStream::connect(&path).unwrap();
            gone.write_all(&whole).unwrap();
        }
        // Random bytes from a fixed seed, in many small writes.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for round in 0..20 {
            let mut r = UnixStream::connect(&path).unwrap();
            let mut bytes: Vec<u8> = (0..64 + round * 7)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect();
            if round % 2 == 0 {
                // Valid magic and version, random length and payload.
                bytes[..4].copy_from_slice(&[b'F', b'2', b'Z', PROTOCOL_VERSION]);
            }
            for chunk in bytes.chunks(5) {
                if r.write_all(chunk).is_err() {
                    break;
                }
            }
        }
        // Meanwhile a well-behaved client is served promptly.
        let t0 = Instant::now();
        let mut ok = Connection::connect(&path, Some(Duration::from_secs(5))).unwrap();
        assert_eq!(
            ok.call(&words("ping")).unwrap(),
            Response::Ok(Value::str("pong"))
        );
        assert!(t0.elapsed() < Duration::from_secs(2));
        // The slow client is cut off after the request timeout with an error.
        match read_response(&mut slow) {
            Some(Response::Err(e)) => assert!(e.message.contains("in time"), "{e:?}"),
            other => panic!("slow: {other:?}"),
        }
        // Too many connections: the extra ones are told so.
        let held: Vec<UnixStream> = (0..8)
            .map(|_| UnixStream::connect(&path).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(100));
        let mut extra = UnixStream::connect(&path).unwrap();
        match read_response(&mut extra) {
            Some(Response::Err(e)) => assert!(e.message.contains("too many"), "{e:?}"),
            other => panic!("overload: {other:?}"),
        }
        drop(held);
    });
    let st = server.stats();
    assert!(st.malformed >= 4, "{st:?}");
    assert!(st.timed_out >= 1, "{st:?}");
    assert!(st.overloaded >= 1, "{st:?}");
    assert!(st.requests >= 2, "{st:?}");
}

/// Clients that connected and went away while the loop was not running (a slow loop meets
/// a burst) are all in the accept queue with the next client: they do not count against the
/// connection limit when it is admitted.
#[test]
fn a_burst_of_vanished_clients_does_not_crowd_out_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_connections: 4,
        ..Limits::default()
    };
    let mut server = bind(dir.path(), limits);
    let path = server.path().to_path_buf();
    for round in 0..12u8 {
        let mut c = UnixStream::connect(&path).unwrap();
        if round % 2 == 0 {
            // A request cut short.
            c.write_all(&[b'F', b'2', b'Z', PROTOCOL_VERSION, 0, 0])
                .unwrap();
        }
    }
    let mut ok = UnixStream::connect(&path).unwrap();
    ok.write_all(&encode_request(&words("ping")).unwrap())
        .unwrap();
    // One turn of the loop sees all of them at once.
    drive(&mut server, |s| {
        s.stats().requests > 0 || s.stats().overloaded > 0
    });
    let st = server.stats();
    assert_eq!((st.overloaded, st.requests), (0, 1), "{st:?}");
    // The answer is sent; the server closing its end lets the client read it to the end.
    drop(server);
    match read_response(&mut ok) {
        Some(Response::Ok(v)) => assert_eq!(v, Value::str("pong")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn client_times_out_on_a_silent_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = bind(dir.path(), Limits::default());
    // Nobody drives this server: the connection is queued but never answered.
    let mut c = Connection::connect(server.path(), Some(Duration::from_millis(200))).unwrap();
    let t0 = Instant::now();
    match c.call(&words("ping")) {
        Err(IpcError::Transfer { source, .. }) => assert!(matches!(
            source.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )),
        other => panic!("{other:?}"),
    }
    assert!(t0.elapsed() < Duration::from_secs(2));
}

/// A client that pipelines far more requests than are served at once gets every answer, in
/// order, while the server holds at most one maximal frame of it.
#[test]
fn heavy_pipelining_is_served_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = bind(dir.path(), Limits::default());
    let path = server.path().to_path_buf();
    let n = 3000;
    let (_server, answers) = with_server(server, || {
        let mut s = UnixStream::connect(&path).unwrap();
        let writer = s.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            let mut w = writer;
            for i in 0..n {
                let req = encode_request(&[format!("r{i}")]).unwrap();
                w.write_all(&req).unwrap();
            }
        });
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut r = FrameReader::default();
        let mut got = Vec::new();
        let mut buf = [0u8; 8192];
        while got.len() < n {
            let k = s.read(&mut buf).unwrap();
            assert!(k > 0, "closed after {} answers", got.len());
            r.push(&buf[..k]);
            while let Some(p) = r.next_payload(MAX_RESPONSE).unwrap() {
                got.push(decode_response(&p).unwrap());
            }
        }
        sender.join().unwrap();
        got
    });
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a, &Response::Ok(Value::str_list([format!("r{i}")])));
    }
}
