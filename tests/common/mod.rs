//! Test support shared by the client and ipc tests: a parser for Python literals (how the
//! test data writes fail2ban's reply values), output normalisation, and a canned server.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fail2zig::ipc::{PeerPolicy, Response, Server, Value};

/// Parses a Python literal (`None`, `True`, `3`, `2.5`, `'x'`, `[..]`, `(..)`, `{k: v}`).
pub fn py(text: &str) -> Value {
    let mut p = Py {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value();
    p.ws();
    assert_eq!(p.i, p.s.len(), "trailing text in Python literal {text:?}");
    v
}

struct Py<'a> {
    s: &'a [u8],
    i: usize,
}

impl Py<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn seq(&mut self, close: u8) -> (Vec<Value>, bool) {
        let mut items = Vec::new();
        let mut trailing_comma = false;
        loop {
            if self.eat(close) {
                return (items, trailing_comma);
            }
            items.push(self.value());
            trailing_comma = self.eat(b',');
            if !trailing_comma {
                assert!(self.eat(close), "expected {}", close as char);
                return (items, false);
            }
        }
    }

    fn value(&mut self) -> Value {
        self.ws();
        let rest = &self.s[self.i..];
        for (word, v) in [
            ("None", Value::None),
            ("True", Value::Bool(true)),
            ("False", Value::Bool(false)),
        ] {
            if rest.starts_with(word.as_bytes()) {
                self.i += word.len();
                return v;
            }
        }
        match rest.first() {
            Some(b'[') => {
                self.i += 1;
                Value::List(self.seq(b']').0)
            }
            Some(b'(') => {
                self.i += 1;
                Value::Tuple(self.seq(b')').0)
            }
            Some(b'{') => {
                self.i += 1;
                let mut pairs = Vec::new();
                loop {
                    if self.eat(b'}') {
                        break;
                    }
                    let k = self.value();
                    assert!(self.eat(b':'), "expected :");
                    let v = self.value();
                    pairs.push((k, v));
                    if !self.eat(b',') {
                        assert!(self.eat(b'}'), "expected }}");
                        break;
                    }
                }
                Value::Dict(pairs)
            }
            Some(q @ (b'\'' | b'"')) => {
                let q = *q;
                self.i += 1;
                let mut out = Vec::new();
                while self.s[self.i] != q {
                    if self.s[self.i] == b'\\' {
                        self.i += 1;
                        match self.s[self.i] {
                            b'n' => out.push(b'\n'),
                            b't' => out.push(b'\t'),
                            b'r' => out.push(b'\r'),
                            b'x' => {
                                let h =
                                    std::str::from_utf8(&self.s[self.i + 1..self.i + 3]).unwrap();
                                let c =
                                    char::from_u32(u32::from_str_radix(h, 16).unwrap()).unwrap();
                                out.extend_from_slice(c.to_string().as_bytes());
                                self.i += 2;
                            }
                            c => out.push(c),
                        }
                    } else {
                        out.push(self.s[self.i]);
                    }
                    self.i += 1;
                }
                self.i += 1;
                Value::Str(String::from_utf8(out).unwrap())
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric() || b"+-.".contains(&self.s[self.i]))
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                if t.contains(['.', 'e', 'n']) {
                    Value::Float(t.parse().unwrap_or_else(|_| panic!("bad number {t:?}")))
                } else {
                    Value::Int(t.parse().unwrap_or_else(|_| panic!("bad number {t:?}")))
                }
            }
        }
    }
}

/// Replaces the time stamp and pid of fail2ban-style log lines with fixed text.
pub fn normalize_log(text: &str) -> String {
    text.lines()
        .map(|line| {
            let b = line.as_bytes();
            let stamped = b.len() > 24
                && b[4] == b'-'
                && b[7] == b'-'
                && b[10] == b' '
                && b[13] == b':'
                && b[19] == b','
                && b[..23]
                    .iter()
                    .enumerate()
                    .all(|(i, c)| matches!(i, 4 | 7 | 10 | 13 | 16 | 19) || c.is_ascii_digit());
            let mut line = if stamped {
                format!("<TIME>{}", &line[23..])
            } else {
                line.to_string()
            };
            if let (Some(open), Some(close)) = (line.find('['), line.find("]: ")) {
                if open < close && line[open + 1..close].bytes().all(|c| c.is_ascii_digit()) {
                    line.replace_range(open + 1..close, "<PID>");
                }
            }
            line + "\n"
        })
        .collect()
}

/// A control socket in a temporary directory answered from a script of canned replies.
pub struct CannedServer {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    stop: mpsc::Sender<()>,
    handle: Option<JoinHandle<Vec<Vec<String>>>>,
}

impl CannedServer {
    /// Serves `script` in order: each request gets the next reply; what was received is
    /// returned by `finish`.
    pub fn start(script: Vec<Response>) -> CannedServer {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run").join("fail2zig.sock");
        let mut server = Server::bind_with(&path, PeerPolicy::root_only(), Default::default())
            .expect("bind control socket");
        let (stop, stopped) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            let mut script = script.into_iter();
            let mut received = Vec::new();
            loop {
                if stopped.try_recv().is_ok() {
                    server.flush(Duration::from_secs(1));
                    return received;
                }
                poll_once(&mut server, Duration::from_millis(20));
                for (conn, argv) in server.on_ready(Instant::now()) {
                    received.push(argv);
                    let reply = script
                        .next()
                        .unwrap_or_else(|| Response::Ok(Value::str("unexpected request")));
                    server.reply(conn, &reply);
                }
            }
        });
        CannedServer {
            dir,
            path,
            stop,
            handle: Some(handle),
        }
    }

    /// Stops the server and returns the requests it received.
    pub fn finish(mut self) -> Vec<Vec<String>> {
        let _ = self.stop.send(());
        self.handle.take().unwrap().join().unwrap()
    }
}

/// One poll of a server's descriptors, at most `max`.
pub fn poll_once(server: &mut Server, max: Duration) {
    let wait = server.timeout(Instant::now()).map_or(max, |t| t.min(max));
    let ts = rustix::time::Timespec {
        tv_sec: wait.as_secs() as i64,
        tv_nsec: i64::from(wait.subsec_nanos()),
    };
    let mut fds = server.poll_fds();
    let _ = rustix::event::poll(&mut fds, Some(&ts));
}

/// The client binary, reachable under `name` (e.g. `fail2ban-client`) via a symlink in `dir`.
pub fn client_as(dir: &Path, name: &str) -> PathBuf {
    let link = dir.join(name);
    if !link.exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_fail2zig-client"), &link).unwrap();
    }
    link
}
