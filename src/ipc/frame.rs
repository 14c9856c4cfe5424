//! The wire format: versioned, length-prefixed frames carrying one request (the command words)
//! or one response (a value or an error).
//!
//! A frame is the 3 bytes `F2Z`, one protocol version byte ([`PROTOCOL_VERSION`]), a big-endian
//! `u32` payload length, then the payload: UTF-8 JSON. A request payload is
//! `{"argv": ["status", "sshd"]}`; a response payload is the serde form of [`Response`]. Sizes
//! are capped ([`MAX_REQUEST`], [`MAX_RESPONSE`]) before anything is allocated.
//!
//! This module only encodes and decodes bytes; sockets are in `server` and `client`.
//!
//! # Compatibility
//! fail2ban pickles Python objects and ends them with `<F2B_END_COMMAND>` (runtime spec §6.6);
//! nothing outside Python can speak that safely, and fail2ban's own scripts use the CLI, so this
//! protocol is ours. What is kept is the model: a command is a list of strings, the answer is a
//! Python-like value or an exception (`RemoteError`: its kind, its `args` tuple and its `str()`).

use serde::{Deserialize, Serialize};

use super::value::Value;

/// The frame magic.
pub const MAGIC: [u8; 3] = *b"F2Z";
/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u8 = 1;
/// Header length: magic, version, `u32` length.
pub const HEADER_LEN: usize = 8;
/// Largest request payload the server accepts (a long `addfailregex` fits many times).
pub const MAX_REQUEST: usize = 256 * 1024;
/// Largest response payload the client accepts (ban lists of ~1M addresses fit).
pub const MAX_RESPONSE: usize = 64 * 1024 * 1024;
/// Most words in one request.
pub const MAX_ARGS: usize = 4096;

/// What a request or response frame failed on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The first bytes are not `F2Z`.
    #[error("not a fail2zig frame (bad magic)")]
    BadMagic,
    /// The peer speaks another protocol version.
    #[error("unsupported protocol version {0} (this side speaks {PROTOCOL_VERSION})")]
    Version(u8),
    /// The announced payload is larger than allowed.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    /// The payload is not the JSON we expect.
    #[error("malformed payload: {0}")]
    Payload(String),
    /// Too many command words.
    #[error("request has {0} words, more than the limit of {MAX_ARGS}")]
    TooManyArgs(usize),
}

/// Which Python exception class an error stands for; decides how the client shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// `UnknownJailException`: "Sorry but the jail 'x' does not exist".
    UnknownJail,
    /// `DuplicateJailException`: "The jail 'x' already exists".
    DuplicateJail,
    /// `IndexError` (a missing command word): "Sorry but the command is invalid".
    Index,
    /// Any other exception: its text is shown as it is.
    Other,
    /// The configuration could not be read for a reload: logged as
    /// `Failed during configuration: <text>`, nothing on stdout.
    Config,
    /// The server refused the peer (credentials): logged like fail2ban's permission error.
    PermissionDenied,
    /// The server could not read the request (malformed, oversized, too slow).
    Protocol,
}

/// An error answer: fail2ban's exception object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteError {
    /// The exception class.
    pub kind: ErrorKind,
    /// The exception's `args` tuple (the client logs `NOK: <repr(args)>`).
    pub args: Vec<Value>,
    /// The exception's `str()`.
    pub message: String,
}

impl RemoteError {
    /// An exception with one string argument whose text is that argument.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> RemoteError {
        let message = message.into();
        RemoteError {
            kind,
            args: vec![Value::Str(message.clone())],
            message,
        }
    }

    /// A plain `Exception(message)`.
    pub fn other(message: impl Into<String>) -> RemoteError {
        RemoteError::new(ErrorKind::Other, message)
    }

    /// `UnknownJailException(name)`.
    pub fn unknown_jail(name: &str) -> RemoteError {
        RemoteError::new(ErrorKind::UnknownJail, name)
    }

    /// `IndexError('list index out of range')`: a command word is missing.
    pub fn missing_word() -> RemoteError {
        RemoteError::new(ErrorKind::Index, "list index out of range")
    }

    /// The `args` tuple as Python prints it.
    pub fn args_repr(&self) -> String {
        Value::Tuple(self.args.clone()).repr()
    }
}

impl std::fmt::Display for RemoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A command's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// The command ran; its result.
    Ok(Value),
    /// The command failed.
    Err(RemoteError),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestPayload {
    argv: Vec<String>,
}

fn frame(payload: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.push(PROTOCOL_VERSION);
    // Lengths above u32::MAX are refused by the caps long before; saturate defensively.
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Encodes a request frame.
pub fn encode_request(argv: &[String]) -> Result<Vec<u8>, FrameError> {
    if argv.len() > MAX_ARGS {
        return Err(FrameError::TooManyArgs(argv.len()));
    }
    let payload = serde_json::to_vec(&RequestPayload {
        argv: argv.to_vec(),
    })
    .map_err(|e| FrameError::Payload(e.to_string()))?;
    if payload.len() > MAX_REQUEST {
        return Err(FrameError::TooLarge {
            len: payload.len(),
            max: MAX_REQUEST,
        });
    }
    Ok(frame(payload))
}

/// Encodes a response frame. A response over the cap is replaced by an error saying so.
pub fn encode_response(response: &Response) -> Vec<u8> {
    let payload = match serde_json::to_vec(response) {
        Ok(p) if p.len() <= MAX_RESPONSE => p,
        Ok(p) => too_large_payload(p.len()),
        Err(e) => serde_json::to_vec(&Response::Err(RemoteError::other(format!(
            "cannot encode the answer: {e}"
        ))))
        .unwrap_or_default(),
    };
    frame(payload)
}

fn too_large_payload(len: usize) -> Vec<u8> {
    let err = Response::Err(RemoteError::other(format!(
        "answer of {len} bytes exceeds the limit of {MAX_RESPONSE} bytes"
    )));
    serde_json::to_vec(&err).unwrap_or_default()
}

/// Checks a header and returns the payload length it announces.
pub fn parse_header(header: &[u8; HEADER_LEN], max: usize) -> Result<usize, FrameError> {
    if header[..3] != MAGIC {
        return Err(FrameError::BadMagic);
    }
    if header[3] != PROTOCOL_VERSION {
        return Err(FrameError::Version(header[3]));
    }
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    Ok(len)
}

/// Decodes a request payload.
pub fn decode_request(payload: &[u8]) -> Result<Vec<String>, FrameError> {
    let req: RequestPayload =
        serde_json::from_slice(payload).map_err(|e| FrameError::Payload(e.to_string()))?;
    if req.argv.len() > MAX_ARGS {
        return Err(FrameError::TooManyArgs(req.argv.len()));
    }
    Ok(req.argv)
}

/// Decodes a response payload.
pub fn decode_response(payload: &[u8]) -> Result<Response, FrameError> {
    serde_json::from_slice(payload).map_err(|e| FrameError::Payload(e.to_string()))
}

/// Splits complete frames off the front of a byte buffer, checking each header as soon as it
/// is complete (so an oversized frame is refused before its payload arrives).
#[derive(Debug, Default)]
pub struct FrameReader {
    buf: Vec<u8>,
}

impl FrameReader {
    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held that do not yet form a complete frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Whether a whole frame (header and payload) is buffered.
    pub fn has_frame(&self) -> bool {
        if self.buf.len() < HEADER_LEN {
            return false;
        }
        let len = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]);
        self.buf.len() - HEADER_LEN >= len as usize
    }

    /// The next complete payload, `Ok(None)` if more bytes are needed.
    pub fn next_payload(&mut self, max: usize) -> Result<Option<Vec<u8>>, FrameError> {
        if self.buf.len() < HEADER_LEN {
            // Refuse garbage early: the magic is checkable from the first byte on.
            let n = self.buf.len().min(MAGIC.len());
            if self.buf[..n] != MAGIC[..n] {
                return Err(FrameError::BadMagic);
            }
            return Ok(None);
        }
        let mut header = [0u8; HEADER_LEN];
        header.copy_from_slice(&self.buf[..HEADER_LEN]);
        let len = parse_header(&header, max)?;
        if self.buf.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let payload = self.buf[HEADER_LEN..HEADER_LEN + len].to_vec();
        self.buf.drain(..HEADER_LEN + len);
        Ok(Some(payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trip() {
        let argv = vec!["status".to_string(), "sshd".to_string()];
        let bytes = encode_request(&argv).unwrap();
        let mut r = FrameReader::default();
        r.push(&bytes[..5]);
        assert_eq!(r.next_payload(MAX_REQUEST).unwrap(), None);
        r.push(&bytes[5..]);
        let payload = r.next_payload(MAX_REQUEST).unwrap().unwrap();
        assert_eq!(decode_request(&payload).unwrap(), argv);
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn response_round_trip() {
        for resp in [
            Response::Ok(Value::List(vec![Value::pair(
                "Number of jail",
                Value::Int(1),
            )])),
            Response::Err(RemoteError::unknown_jail("nosuchjail")),
            Response::Ok(Value::Float(2629800.0)),
        ] {
            let bytes = encode_response(&resp);
            let mut r = FrameReader::default();
            r.push(&bytes);
            let payload = r.next_payload(MAX_RESPONSE).unwrap().unwrap();
            assert_eq!(decode_response(&payload).unwrap(), resp);
        }
    }

    #[test]
    fn refuses_bad_frames_early() {
        let mut r = FrameReader::default();
        r.push(b"GET");
        assert_eq!(r.next_payload(MAX_REQUEST), Err(FrameError::BadMagic));

        let mut r = FrameReader::default();
        r.push(&[b'F', b'2', b'Z', 9, 0, 0, 0, 1]);
        assert_eq!(r.next_payload(MAX_REQUEST), Err(FrameError::Version(9)));

        let mut r = FrameReader::default();
        r.push(&[b'F', b'2', b'Z', PROTOCOL_VERSION, 0xff, 0xff, 0xff, 0xff]);
        assert!(matches!(
            r.next_payload(MAX_REQUEST),
            Err(FrameError::TooLarge { .. })
        ));

        assert!(decode_request(b"{\"argv\": [1]}").is_err());
        assert!(decode_request(b"{\"argv\": [], \"x\": 1}").is_err());
    }
}
