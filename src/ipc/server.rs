//! The daemon's end of the control socket: non-blocking, driven by the daemon's single poll loop.
//!
//! The daemon polls [`Server::poll_fds`] (with [`Server::timeout`]), calls
//! [`Server::on_ready`] when poll returns, runs each complete request it gets back (usually
//! through `ipc::execute`) and hands the answer to [`Server::reply`]. Nothing here blocks except
//! [`Server::flush`], meant for the last answer before the daemon exits.
//!
//! A connection may carry several requests, one at a time. A peer that is not admitted
//! (`PeerPolicy`), sends bytes that are not a frame, announces an oversized frame, takes longer
//! than [`Limits::request_timeout`] to send a started request, stops reading its answer, or
//! vanishes gets an error answer where one can still be written and is disconnected; the
//! server counts it in [`ServerStats`] and carries on. Sends use `MSG_NOSIGNAL`, so a vanished
//! peer never raises `SIGPIPE`.
//!
//! # Compatibility
//! Like fail2ban, the parent directory is created if missing and a socket file left behind by a
//! dead daemon is replaced; a live daemon on the same path is an error. fail2ban's socket is
//! mode 0700 (umask 077); ours is 0600, or 0660 owned by the admitted group.

use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketAddrUnix, SocketFlags, SocketType};
use rustix::process::Gid;

use super::IpcError;
use super::frame::{
    ErrorKind, FrameReader, HEADER_LEN, MAX_REQUEST, RemoteError, Response, decode_request,
    encode_response,
};
use super::peer::PeerPolicy;

/// One client connection, as the daemon refers to it between `on_ready` and `reply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(u64);

/// Limits that protect the poll loop from clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections held at once; more are answered with an error and closed.
    pub max_connections: usize,
    /// Time a client has to complete a request once it has started sending it.
    pub request_timeout: Duration,
    /// Time an idle connection (no request started) is kept.
    pub idle_timeout: Duration,
    /// Time a client has to read its answer.
    pub write_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 16,
            request_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(5),
        }
    }
}

/// What the server has seen, for the daemon's status and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Connections accepted (admitted or not).
    pub accepted: u64,
    /// Connections refused by the credentials check.
    pub refused: u64,
    /// Connections refused because too many were open.
    pub overloaded: u64,
    /// Requests decoded and handed to the daemon.
    pub requests: u64,
    /// Connections closed for a malformed or oversized frame.
    pub malformed: u64,
    /// Connections closed because a deadline passed.
    pub timed_out: u64,
    /// Connections that vanished in the middle of a request or an answer.
    pub vanished: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for (the rest of) a request.
    Reading,
    /// A request was handed to the daemon; waiting for `reply`.
    Busy,
    /// Sending an answer.
    Writing,
}

#[derive(Debug)]
struct Conn {
    id: ConnId,
    fd: OwnedFd,
    reader: FrameReader,
    out: Vec<u8>,
    out_pos: usize,
    state: State,
    deadline: Instant,
    close_after_write: bool,
    closed: bool,
}

/// The listening control socket and its connections.
#[derive(Debug)]
pub struct Server {
    listener: OwnedFd,
    path: PathBuf,
    /// Device and inode of the socket file we created, so `Drop` removes only ours.
    file_id: (u64, u64),
    policy: PeerPolicy,
    limits: Limits,
    conns: Vec<Conn>,
    next_id: u64,
    stats: ServerStats,
}

const READ_CHUNK: usize = 16 * 1024;

impl Server {
    /// Binds the control socket at `path`: root may connect, and members of `group` if given.
    pub fn bind(path: &Path, group: Option<Gid>) -> Result<Server, IpcError> {
        let policy = match group {
            Some(g) => PeerPolicy::with_group(g),
            None => PeerPolicy::root_only(),
        };
        Server::bind_with(path, policy, Limits::default())
    }

    /// Binds with an explicit policy and limits.
    pub fn bind_with(path: &Path, policy: PeerPolicy, limits: Limits) -> Result<Server, IpcError> {
        let group = policy.group();
        prepare_directory(path, group)?;
        remove_stale(path)?;
        let sock_err = |op: &'static str| {
            move |e: Errno| IpcError::Socket {
                op,
                path: path.to_path_buf(),
                source: e.into(),
            }
        };
        let listener = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
            None,
        )
        .map_err(sock_err("socket"))?;
        let addr = SocketAddrUnix::new(path).map_err(sock_err("address"))?;
        rustix::net::bind(&listener, &addr).map_err(sock_err("bind"))?;
        let mode = if group.is_some() { 0o660 } else { 0o600 };
        let io_err = |op: &'static str| {
            move |e: std::io::Error| IpcError::Socket {
                op,
                path: path.to_path_buf(),
                source: e,
            }
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(io_err("chmod"))?;
        if let Some(g) = group {
            std::os::unix::fs::chown(path, None, Some(g.as_raw())).map_err(io_err("chown"))?;
        }
        rustix::net::listen(&listener, 16).map_err(sock_err("listen"))?;
        let meta = std::fs::symlink_metadata(path).map_err(io_err("stat"))?;
        Ok(Server {
            listener,
            path: path.to_path_buf(),
            file_id: (meta.dev(), meta.ino()),
            policy,
            limits,
            conns: Vec::new(),
            next_id: 0,
            stats: ServerStats::default(),
        })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Counters since bind.
    pub fn stats(&self) -> ServerStats {
        self.stats
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// The descriptors to poll and what to wait for on each. Connections waiting for the
    /// daemon's `reply` are left out (nothing to do on them until then).
    pub fn poll_fds(&self) -> Vec<PollFd<'_>> {
        let mut fds = Vec::with_capacity(self.conns.len() + 1);
        fds.push(PollFd::new(&self.listener, PollFlags::IN));
        for c in &self.conns {
            match c.state {
                State::Reading => fds.push(PollFd::new(&c.fd, PollFlags::IN)),
                State::Writing => fds.push(PollFd::new(&c.fd, PollFlags::OUT)),
                State::Busy => {}
            }
        }
        fds
    }

    /// How long the poll may sleep before a connection deadline needs `on_ready`.
    pub fn timeout(&self, now: Instant) -> Option<Duration> {
        // A request already buffered behind the previous one needs no waiting.
        if self
            .conns
            .iter()
            .any(|c| c.state == State::Reading && c.reader.has_frame())
        {
            return Some(Duration::ZERO);
        }
        self.conns
            .iter()
            .filter(|c| c.state != State::Busy)
            .map(|c| c.deadline.saturating_duration_since(now))
            .min()
    }

    /// Does all the socket work that is possible without blocking: accepts, reads, writes and
    /// expires connections. Returns the requests that are complete, for the daemon to run and
    /// answer with [`Server::reply`].
    pub fn on_ready(&mut self, now: Instant) -> Vec<(ConnId, Vec<String>)> {
        let mut requests = Vec::new();
        self.accept_all(now, &mut requests);
        self.service(now, &mut requests);
        requests
    }

    /// Reads, writes and expires every connection (complete requests go to `requests`), then
    /// drops the closed ones.
    fn service(&mut self, now: Instant, requests: &mut Vec<(ConnId, Vec<String>)>) {
        for i in 0..self.conns.len() {
            let conn = &mut self.conns[i];
            match conn.state {
                State::Reading => {
                    if let Some(argv) = read_conn(conn, now, &self.limits, &mut self.stats) {
                        self.stats.requests += 1;
                        requests.push((conn.id, argv));
                    }
                }
                State::Writing => write_conn(conn, now, &self.limits, &mut self.stats),
                State::Busy => {}
            }
            expire(conn, now, &mut self.stats);
        }
        self.conns.retain(|c| !c.closed);
    }

    /// Queues the answer to a request returned by `on_ready` and starts sending it. An unknown
    /// or already closed connection is ignored (the client went away).
    pub fn reply(&mut self, conn: ConnId, response: &Response) {
        let now = Instant::now();
        let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) else {
            return;
        };
        if c.state != State::Busy {
            return;
        }
        queue(c, encode_response(response), false, now, &self.limits);
        write_conn(c, now, &self.limits, &mut self.stats);
        self.conns.retain(|c| !c.closed);
    }

    /// Sends what is queued, waiting at most `timeout`; for the last answers before exit.
    pub fn flush(&mut self, timeout: Duration) {
        let end = Instant::now() + timeout;
        loop {
            let now = Instant::now();
            for c in &mut self.conns {
                if c.state == State::Writing {
                    write_conn(c, now, &self.limits, &mut self.stats);
                }
            }
            self.conns.retain(|c| !c.closed);
            let pending: Vec<PollFd<'_>> = self
                .conns
                .iter()
                .filter(|c| c.state == State::Writing)
                .map(|c| PollFd::new(&c.fd, PollFlags::OUT))
                .collect();
            if pending.is_empty() || now >= end {
                return;
            }
            let mut pending = pending;
            let left = end.saturating_duration_since(now);
            let ts = rustix::time::Timespec {
                tv_sec: left.as_secs() as i64,
                tv_nsec: i64::from(left.subsec_nanos()),
            };
            if rustix::event::poll(&mut pending, Some(&ts)).is_err() {
                return;
            }
        }
    }

    fn accept_all(&mut self, now: Instant, requests: &mut Vec<(ConnId, Vec<String>)>) {
        // Bounded, so a connect flood cannot keep the loop here.
        for _ in 0..64 {
            let fd = match rustix::net::accept_with(
                &self.listener,
                SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
            ) {
                Ok(fd) => fd,
                Err(Errno::AGAIN) => return,
                Err(Errno::INTR | Errno::CONNABORTED) => continue,
                Err(e) => {
                    tracing::warn!(socket = %self.path.display(), error = %e, "control socket: accept failed");
                    return;
                }
            };
            self.stats.accepted += 1;
            self.admit(fd, now, requests);
        }
    }

    /// Admits a new connection, or answers it with a refusal and closes it. At the connection
    /// limit, the others are serviced first: clients that went away since the last poll (a
    /// burst of them, when the loop was slow to run) then no longer count against it.
    fn admit(&mut self, fd: OwnedFd, now: Instant, requests: &mut Vec<(ConnId, Vec<String>)>) {
        let id = ConnId(self.next_id);
        self.next_id += 1;
        let mut conn = Conn {
            id,
            fd,
            reader: FrameReader::default(),
            out: Vec::new(),
            out_pos: 0,
            state: State::Reading,
            deadline: now + self.limits.idle_timeout,
            close_after_write: false,
            closed: false,
        };
        let refusal = match rustix::net::sockopt::socket_peercred(&conn.fd) {
            Ok(cred) if self.policy.allows(cred.uid, cred.gid) => None,
            Ok(cred) => {
                self.stats.refused += 1;
                tracing::warn!(
                    uid = cred.uid.as_raw(),
                    gid = cred.gid.as_raw(),
                    pid = cred.pid.as_raw_nonzero().get(),
                    "control socket: peer refused (not root and not in the admitted group)"
                );
                Some(RemoteError::new(
                    ErrorKind::PermissionDenied,
                    format!(
                        "permission denied for uid {} (not root and not in the admitted group)",
                        cred.uid.as_raw()
                    ),
                ))
            }
            Err(e) => {
                self.stats.refused += 1;
                Some(RemoteError::new(
                    ErrorKind::PermissionDenied,
                    format!("cannot read the peer's credentials: {e}"),
                ))
            }
        };
        if refusal.is_none() && self.conns.len() >= self.limits.max_connections {
            self.service(now, requests);
        }
        let refusal = refusal.or_else(|| {
            (self.conns.len() >= self.limits.max_connections).then(|| {
                self.stats.overloaded += 1;
                tracing::warn!(
                    limit = self.limits.max_connections,
                    "control socket: too many connections, refusing one"
                );
                RemoteError::other("too many connections to the control socket")
            })
        });
        if let Some(err) = refusal {
            // Hard cap on connections held just to deliver a refusal.
            if self.conns.len() >= 2 * self.limits.max_connections {
                return;
            }
            queue(
                &mut conn,
                encode_response(&Response::Err(err)),
                true,
                now,
                &self.limits,
            );
            write_conn(&mut conn, now, &self.limits, &mut self.stats);
        }
        if !conn.closed {
            self.conns.push(conn);
        }
    }
}

impl Drop for Server {
    /// Removes the socket file, if it is still the one this server created.
    fn drop(&mut self) {
        if let Ok(meta) = std::fs::symlink_metadata(&self.path) {
            if (meta.dev(), meta.ino()) == self.file_id {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

fn prepare_directory(path: &Path, group: Option<Gid>) -> Result<(), IpcError> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if dir.exists() {
        return Ok(());
    }
    let err = |e| IpcError::CreateDir {
        path: dir.to_path_buf(),
        source: e,
    };
    let mode = if group.is_some() { 0o750 } else { 0o700 };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .map_err(err)?;
    if let Some(g) = group {
        std::os::unix::fs::chown(dir, None, Some(g.as_raw())).map_err(err)?;
    }
    Ok(())
}

/// Removes a socket file nobody listens on; refuses a live one or a non-socket.
fn remove_stale(path: &Path) -> Result<(), IpcError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(IpcError::Socket {
                op: "stat",
                path: path.to_path_buf(),
                source: e,
            });
        }
    };
    if !meta.file_type().is_socket() {
        return Err(IpcError::NotASocket(path.to_path_buf()));
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(IpcError::AlreadyRunning(path.to_path_buf())),
        Err(e) if e.raw_os_error() == Some(Errno::CONNREFUSED.raw_os_error()) => {
            tracing::info!(socket = %path.display(), "removing a stale control socket");
            std::fs::remove_file(path).map_err(|e| IpcError::Socket {
                op: "remove stale socket",
                path: path.to_path_buf(),
                source: e,
            })
        }
        Err(e) => Err(IpcError::Socket {
            op: "probe existing socket",
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

fn queue(conn: &mut Conn, bytes: Vec<u8>, close_after: bool, now: Instant, limits: &Limits) {
    conn.out = bytes;
    conn.out_pos = 0;
    conn.state = State::Writing;
    conn.close_after_write = close_after;
    conn.deadline = now + limits.write_timeout;
}

/// Reads what is available; returns a complete request, or answers and closes a bad one.
fn read_conn(
    conn: &mut Conn,
    now: Instant,
    limits: &Limits,
    stats: &mut ServerStats,
) -> Option<Vec<String>> {
    let mut buf = [0u8; READ_CHUNK];
    let mut eof = false;
    // Hold at most one maximal frame: a client that pipelines faster than it is served waits
    // in its own socket buffer, not in our memory.
    let mut budget = if conn.reader.has_frame() {
        0
    } else {
        (MAX_REQUEST + HEADER_LEN).saturating_sub(conn.reader.pending())
    };
    while budget > 0 {
        let want = READ_CHUNK.min(budget);
        match rustix::net::recv(&conn.fd, &mut buf[..want], RecvFlags::DONTWAIT) {
            Ok((0, _)) => {
                eof = true;
                break;
            }
            Ok((n, _)) => {
                if conn.reader.pending() == 0 {
                    // A request has started: it must be complete in time.
                    conn.deadline = now + limits.request_timeout;
                }
                conn.reader.push(&buf[..n]);
                budget = budget.saturating_sub(n);
            }
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => break,
            Err(_) => {
                eof = true;
                break;
            }
        }
    }
    match conn.reader.next_payload(MAX_REQUEST) {
        Ok(Some(payload)) => match decode_request(&payload) {
            Ok(argv) => {
                conn.state = State::Busy;
                return Some(argv);
            }
            Err(e) => refuse_frame(conn, &e.to_string(), now, limits, stats),
        },
        Ok(None) => {
            if eof {
                if conn.reader.pending() > 0 {
                    stats.vanished += 1;
                }
                conn.closed = true;
            }
        }
        Err(e) => refuse_frame(conn, &e.to_string(), now, limits, stats),
    }
    None
}

fn refuse_frame(
    conn: &mut Conn,
    why: &str,
    now: Instant,
    limits: &Limits,
    stats: &mut ServerStats,
) {
    stats.malformed += 1;
    tracing::warn!(
        error = why,
        "control socket: bad request, closing the connection"
    );
    let err = RemoteError::new(ErrorKind::Protocol, why);
    queue(
        conn,
        encode_response(&Response::Err(err)),
        true,
        now,
        limits,
    );
    write_conn(conn, now, limits, stats);
}

fn write_conn(conn: &mut Conn, now: Instant, limits: &Limits, stats: &mut ServerStats) {
    while conn.out_pos < conn.out.len() {
        match rustix::net::send(
            &conn.fd,
            &conn.out[conn.out_pos..],
            SendFlags::DONTWAIT | SendFlags::NOSIGNAL,
        ) {
            Ok(n) => conn.out_pos += n,
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => return,
            Err(_) => {
                if !conn.close_after_write {
                    stats.vanished += 1;
                }
                conn.closed = true;
                return;
            }
        }
    }
    conn.out = Vec::new();
    conn.out_pos = 0;
    if conn.close_after_write {
        let _ = rustix::net::shutdown(&conn.fd, rustix::net::Shutdown::Write);
        conn.closed = true;
    } else {
        conn.state = State::Reading;
        conn.deadline = now
            + if conn.reader.pending() > 0 {
                limits.request_timeout
            } else {
                limits.idle_timeout
            };
    }
}

fn expire(conn: &mut Conn, now: Instant, stats: &mut ServerStats) {
    if conn.closed || conn.state == State::Busy || now < conn.deadline {
        return;
    }
    match conn.state {
        State::Reading if conn.reader.pending() == 0 => {}
        State::Reading => {
            stats.timed_out += 1;
            tracing::warn!("control socket: request not completed in time, closing");
            // Best effort: tell the client why, without waiting for it to read.
            let err = RemoteError::new(ErrorKind::Protocol, "request not completed in time");
            let _ = rustix::net::send(
                &conn.fd,
                &encode_response(&Response::Err(err)),
                SendFlags::DONTWAIT | SendFlags::NOSIGNAL,
            );
        }
        State::Writing => {
            stats.timed_out += 1;
            tracing::warn!("control socket: client does not read its answer, closing");
        }
        State::Busy => {}
    }
    conn.closed = true;
}
