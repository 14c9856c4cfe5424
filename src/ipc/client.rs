//! The client's end of the control socket: connect, send one request, wait for its answer.
//!
//! Blocking, with an optional timeout for each send and receive. Used by `client` (the
//! `fail2zig-client` program) and by tests; the daemon never uses it.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::IpcError;
use super::frame::{
    HEADER_LEN, MAX_RESPONSE, Response, decode_response, encode_request, parse_header,
};

/// An open connection to the daemon.
#[derive(Debug)]
pub struct Connection {
    stream: UnixStream,
    path: PathBuf,
}

impl Connection {
    /// Connects to the socket at `path`; `timeout` bounds every later send and receive.
    pub fn connect(path: &Path, timeout: Option<Duration>) -> Result<Connection, IpcError> {
        let connect_err = |e| IpcError::Connect {
            path: path.to_path_buf(),
            source: e,
        };
        let stream = UnixStream::connect(path).map_err(connect_err)?;
        let timeout = timeout.filter(|t| !t.is_zero());
        stream.set_read_timeout(timeout).map_err(connect_err)?;
        stream.set_write_timeout(timeout).map_err(connect_err)?;
        Ok(Connection {
            stream,
            path: path.to_path_buf(),
        })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sends one command and waits for its answer.
    pub fn call(&mut self, argv: &[String]) -> Result<Response, IpcError> {
        let frame = encode_request(argv)?;
        if let Err(e) = self.stream.write_all(&frame) {
            // A server that refuses us answers first and closes: read why, if it said so.
            return match self.receive() {
                Ok(Response::Err(refusal)) => Ok(Response::Err(refusal)),
                _ => Err(IpcError::Transfer {
                    op: "send",
                    source: e,
                }),
            };
        }
        self.receive()
    }

    fn receive(&mut self) -> Result<Response, IpcError> {
        let mut header = [0u8; HEADER_LEN];
        self.read_exact(&mut header)?;
        let len = parse_header(&header, MAX_RESPONSE)?;
        let mut payload = vec![0u8; len];
        self.read_exact(&mut payload)?;
        Ok(decode_response(&payload)?)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), IpcError> {
        self.stream.read_exact(buf).map_err(|e| IpcError::Transfer {
            op: "receive",
            source: e,
        })
    }
}
