//! Netlink socket and framing for `NETLINK_NETFILTER`: only bytes, never meaning.
//!
//! Owns: the `AF_NETLINK` socket (buffers, port id, sequence numbers, receive timeout), the
//! attribute writer (`Writer`: messages, nests, padding, checked lengths), nfnetlink batches
//! (`Batch`: BEGIN … messages … END in one `sendmsg`), the reply parser (`Messages`, `Attrs`)
//! and ACK/error correlation: every reply of a transaction is drained and an error on any
//! message fails the whole operation with that message's operation, sequence number, errno and
//! the kernel's extended-ACK text when the kernel sent one.
//!
//! Does not know what nf_tables messages mean: `nft_wire.rs` builds and parses those, and
//! `nftables.rs` (the backend) decides what to send. Nothing here execs or touches files.
//!
//! Socket options: rustix has typed setters for `SO_RCVBUF(FORCE)`/`SO_SNDBUF(FORCE)`, which we
//! use; `NETLINK_EXT_ACK` (the kernel's error text and attribute offset) and `NETLINK_CAP_ACK`
//! (errors without the echoed request) are set through `crate::sandbox::set_netlink_flag`, the
//! crate's one `unsafe` setsockopt. A kernel refusing them still works: error replies then echo
//! the request (the receive buffer is sized for that, 256 KiB) and carry no text.

use std::collections::HashMap;
use std::fmt;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;
use rustix::net::netlink::SocketAddrNetlink;
use rustix::net::{
    AddressFamily, RecvFlags, SendFlags, SocketAddrAny, SocketFlags, SocketType, netlink, recv,
    sendto, sockopt,
};

use super::uapi::*;

/// Receive buffer: the largest datagram is an error echoing a 64 KiB request (no CAP_ACK).
const RECV_BUF: usize = 256 * 1024;
/// Socket receive buffer we ask for (the kernel doubles it): room for the ACKs of a big batch.
const RCVBUF_BYTES: usize = 32 * 1024 * 1024;
/// Socket send buffer we ask for (the kernel doubles it); one `sendmsg` may use it minus 32.
const SNDBUF_BYTES: usize = 32 * 1024 * 1024;
/// Upper bound for one batch, whatever the send buffer allows, to bound error-echo volume.
const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Default wait for replies; the kernel answers a batch synchronously, so this only fires on
/// a malformed batch that the kernel drops without a word.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything that can go wrong below the meaning of the messages.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("cannot open a NETLINK_NETFILTER socket")]
    Open(#[source] Errno),
    #[error("netlink socket setup: {step}")]
    Setup {
        step: &'static str,
        #[source]
        errno: Errno,
    },
    #[error("netlink attribute {attr:#06x}: payload of {len} bytes exceeds the 65531-byte limit")]
    AttributeTooLong { attr: u16, len: usize },
    #[error("netlink nest {attr:#06x}: {len} bytes exceeds the 65535-byte limit")]
    NestTooLong { attr: u16, len: usize },
    #[error("netlink message of {len} bytes is too long")]
    MessageTooLong { len: usize },
    #[error("netlink string attribute {attr:#06x} contains a NUL byte")]
    NulInString { attr: u16 },
    #[error("netlink framing misuse: {0}")]
    Framing(&'static str),
    #[error("batch of {len} bytes exceeds the socket's limit of {max} bytes per send")]
    BatchTooLarge { len: usize, max: usize },
    #[error("sending {len} bytes to the kernel")]
    Send {
        len: usize,
        #[source]
        errno: Errno,
    },
    #[error("short send: {sent} of {len} bytes")]
    ShortSend { sent: usize, len: usize },
    #[error(
        "receiving netlink replies: kernel state is unknown (replies were lost), resync by dumping"
    )]
    Recv(#[source] Errno),
    #[error(
        "no reply from the kernel within {waited:?} ({pending} replies missing); kernel state is unknown"
    )]
    Timeout { waited: Duration, pending: usize },
    #[error("netlink datagram of {len} bytes was truncated to {cap}")]
    Truncated { len: usize, cap: usize },
    #[error("malformed netlink reply: {0}")]
    Malformed(&'static str),
    #[error("dump was interrupted by a concurrent change")]
    DumpInterrupted,
    #[error("{0}")]
    Kernel(Box<KernelError>),
}

/// The kernel refused a message: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    /// What the refused message was doing (e.g. `add 1 element(s) to set sshd_ipv4`), or
    /// `the whole batch` for an error tied to BATCH_BEGIN (no CAP_NET_ADMIN, commit failure).
    pub operation: String,
    pub seq: u32,
    pub errno: Errno,
    /// The kernel's extended-ACK text (`NLMSGERR_ATTR_MSG`), when it sent one.
    pub message: Option<String>,
    /// Byte offset of the offending attribute in the request (`NLMSGERR_ATTR_OFFS`).
    pub offset: Option<u32>,
    /// Position of the refused message among the batch's data messages (`None` for an error
    /// tied to BATCH_BEGIN or for a request outside a batch).
    pub index: Option<usize>,
    /// How many other messages of the same transaction failed too.
    pub others: usize,
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kernel refused {} (seq {}): {} (errno {})",
            self.operation,
            self.seq,
            self.errno,
            self.errno.raw_os_error()
        )?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        if let Some(o) = self.offset {
            write!(f, " at attribute offset {o}")?;
        }
        if self.others > 0 {
            write!(f, " (and {} more failed messages)", self.others)?;
        }
        Ok(())
    }
}

impl NetlinkError {
    /// The kernel's errno when the kernel refused a message.
    pub fn kernel_errno(&self) -> Option<Errno> {
        match self {
            NetlinkError::Kernel(k) => Some(k.errno),
            _ => None,
        }
    }
}

fn align4(n: usize) -> usize {
    (n + NLA_ALIGNTO - 1) & !(NLA_ALIGNTO - 1)
}

/// A byte position of an open nest, returned by `Writer::begin_nest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Nest {
    start: usize,
    attr: u16,
}

/// Builds netlink messages into one contiguous buffer: headers with patched lengths, attributes
/// padded to 4 bytes, nests with checked lengths. Integers inside nf_tables attributes are
/// big-endian (`put_be32`); netlink headers are host order.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
    msg_start: Option<usize>,
    open_nests: usize,
}

impl Writer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(cap: usize) -> Self {
        Self {
            buf: Vec::with_capacity(cap),
            ..Self::default()
        }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Opens a message: `nlmsghdr` (length patched by `end_message`) and the `nfgenmsg`.
    pub fn begin_message(
        &mut self,
        ty: u16,
        flags: u16,
        seq: u32,
        family: u8,
        res_id: u16,
    ) -> Result<(), NetlinkError> {
        if self.msg_start.is_some() {
            return Err(NetlinkError::Framing("message opened inside a message"));
        }
        self.msg_start = Some(self.buf.len());
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(&flags.to_ne_bytes());
        self.buf.extend_from_slice(&seq.to_ne_bytes());
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.push(family);
        self.buf.push(NFNETLINK_V0);
        self.buf.extend_from_slice(&res_id.to_be_bytes());
        Ok(())
    }

    /// Closes the open message and writes its length.
    pub fn end_message(&mut self) -> Result<(), NetlinkError> {
        let start = self
            .msg_start
            .take()
            .ok_or(NetlinkError::Framing("no open message"))?;
        if self.open_nests != 0 {
            return Err(NetlinkError::Framing("message closed with an open nest"));
        }
        let len = self.buf.len() - start;
        let len32 = u32::try_from(len).map_err(|_| NetlinkError::MessageTooLong { len })?;
        self.buf[start..start + 4].copy_from_slice(&len32.to_ne_bytes());
        Ok(())
    }

    /// Size of the currently open message so far.
    pub fn message_len(&self) -> usize {
        self.msg_start.map_or(0, |s| self.buf.len() - s)
    }

    /// Appends one attribute with its padding.
    pub fn put(&mut self, attr: u16, payload: &[u8]) -> Result<(), NetlinkError> {
        self.put_parts(attr, &[payload])
    }

    fn put_parts(&mut self, attr: u16, parts: &[&[u8]]) -> Result<(), NetlinkError> {
        if self.msg_start.is_none() {
            return Err(NetlinkError::Framing("attribute outside a message"));
        }
        let plen: usize = parts.iter().map(|p| p.len()).sum();
        let len = u16::try_from(NLA_HDRLEN + plen)
            .map_err(|_| NetlinkError::AttributeTooLong { attr, len: plen })?;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&attr.to_ne_bytes());
        for p in parts {
            self.buf.extend_from_slice(p);
        }
        let pad = align4(usize::from(len)) - usize::from(len);
        self.buf.extend_from_slice(&[0u8; 3][..pad]);
        Ok(())
    }

    /// A NUL-terminated string, the NUL counted in the length (as nft sends names).
    pub fn put_str(&mut self, attr: u16, s: &str) -> Result<(), NetlinkError> {
        if s.as_bytes().contains(&0) {
            return Err(NetlinkError::NulInString { attr });
        }
        self.put_parts(attr, &[s.as_bytes(), &[0]])
    }

    pub fn put_u8(&mut self, attr: u16, v: u8) -> Result<(), NetlinkError> {
        self.put(attr, &[v])
    }

    pub fn put_be32(&mut self, attr: u16, v: u32) -> Result<(), NetlinkError> {
        self.put(attr, &v.to_be_bytes())
    }

    pub fn put_be64(&mut self, attr: u16, v: u64) -> Result<(), NetlinkError> {
        self.put(attr, &v.to_be_bytes())
    }

    /// Opens a nest (`NLA_F_NESTED` set, as nft does); close it with `end_nest`.
    pub fn begin_nest(&mut self, attr: u16) -> Result<Nest, NetlinkError> {
        if self.msg_start.is_none() {
            return Err(NetlinkError::Framing("nest outside a message"));
        }
        let start = self.buf.len();
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(attr | NLA_F_NESTED).to_ne_bytes());
        self.open_nests += 1;
        Ok(Nest { start, attr })
    }

    /// Bytes the nest would have if closed now.
    pub fn nest_len(&self, nest: Nest) -> usize {
        self.buf.len() - nest.start
    }

    /// Closes a nest and writes its length (children are already padded).
    pub fn end_nest(&mut self, nest: Nest) -> Result<(), NetlinkError> {
        let len = self.buf.len() - nest.start;
        let len16 = u16::try_from(len).map_err(|_| NetlinkError::NestTooLong {
            attr: nest.attr,
            len,
        })?;
        self.open_nests = self
            .open_nests
            .checked_sub(1)
            .ok_or(NetlinkError::Framing("nest closed twice"))?;
        self.buf[nest.start..nest.start + 2].copy_from_slice(&len16.to_ne_bytes());
        Ok(())
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// What a batch's replies said: the error tied to BATCH_BEGIN, if any, and the failed data
/// messages by index.
type Acks = (Option<ErrorReply>, Vec<(usize, ErrorReply)>);

/// One data message of a batch: its sequence number and what it does, for error reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOp {
    pub seq: u32,
    pub operation: String,
}

/// An nfnetlink transaction: BATCH_BEGIN, data messages (each with `NLM_F_ACK`), BATCH_END,
/// sent in one `sendmsg` and applied atomically by the kernel.
#[derive(Debug, Clone)]
pub struct Batch {
    w: Writer,
    subsys: u16,
    seq_begin: u32,
    next_seq: u32,
    ops: Vec<BatchOp>,
    finished: bool,
}

impl Batch {
    /// Starts a batch for an nfnetlink subsystem; BATCH_BEGIN takes `first_seq`.
    pub fn new(first_seq: u32, subsys: u16) -> Result<Self, NetlinkError> {
        let mut w = Writer::with_capacity(4096);
        w.begin_message(
            NFNL_MSG_BATCH_BEGIN,
            NLM_F_REQUEST,
            first_seq,
            NFPROTO_UNSPEC,
            subsys,
        )?;
        w.end_message()?;
        Ok(Self {
            w,
            subsys,
            seq_begin: first_seq,
            next_seq: first_seq.wrapping_add(1),
            ops: Vec::new(),
            finished: false,
        })
    }

    /// Opens a data message; `NLM_F_REQUEST | NLM_F_ACK` are added to `flags`. Write its
    /// attributes through `writer()`, then call `end()`.
    pub fn begin(
        &mut self,
        ty: u16,
        flags: u16,
        family: u8,
        operation: impl Into<String>,
    ) -> Result<(), NetlinkError> {
        if self.finished {
            return Err(NetlinkError::Framing("message added after BATCH_END"));
        }
        let seq = self.next_seq;
        self.w.begin_message(
            (self.subsys << 8) | ty,
            flags | NLM_F_REQUEST | NLM_F_ACK,
            seq,
            family,
            0,
        )?;
        self.next_seq = seq.wrapping_add(1);
        self.ops.push(BatchOp {
            seq,
            operation: operation.into(),
        });
        Ok(())
    }

    pub fn writer(&mut self) -> &mut Writer {
        &mut self.w
    }

    pub fn end(&mut self) -> Result<(), NetlinkError> {
        self.w.end_message()
    }

    /// Bytes so far (without BATCH_END's 20).
    pub fn len(&self) -> usize {
        self.w.len()
    }

    /// True when the batch has no data message.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn ops(&self) -> &[BatchOp] {
        &self.ops
    }

    /// The sequence number the next batch should start with.
    pub fn next_seq(&self) -> u32 {
        if self.finished {
            self.next_seq
        } else {
            self.next_seq.wrapping_add(1)
        }
    }

    /// Appends BATCH_END and returns the bytes to send.
    pub fn finish(&mut self) -> Result<&[u8], NetlinkError> {
        if !self.finished {
            self.w.begin_message(
                NFNL_MSG_BATCH_END,
                NLM_F_REQUEST,
                self.next_seq,
                NFPROTO_UNSPEC,
                self.subsys,
            )?;
            self.w.end_message()?;
            self.next_seq = self.next_seq.wrapping_add(1);
            self.finished = true;
        }
        Ok(self.w.as_bytes())
    }
}

/// One message of a received datagram.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
    /// Everything after the 16-byte header (for nf_tables: `nfgenmsg` then attributes).
    pub payload: &'a [u8],
}

fn ne_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn ne_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Walks the messages of a datagram, bounds-checked.
#[derive(Debug, Clone)]
pub struct Messages<'a> {
    rest: &'a [u8],
}

impl<'a> Messages<'a> {
    pub fn new(datagram: &'a [u8]) -> Self {
        Self { rest: datagram }
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Message<'a>, NetlinkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let b = self.rest;
        let (Some(len), Some(ty), Some(flags), Some(seq), Some(pid)) = (
            ne_u32(b, 0),
            ne_u16(b, 4),
            ne_u16(b, 6),
            ne_u32(b, 8),
            ne_u32(b, 12),
        ) else {
            self.rest = &[];
            return Some(Err(NetlinkError::Malformed("truncated message header")));
        };
        let len = len as usize;
        if len < NLMSG_HDRLEN || len > b.len() {
            self.rest = &[];
            return Some(Err(NetlinkError::Malformed("message length out of bounds")));
        }
        self.rest = b.get(align4(len)..).unwrap_or(&[]);
        Some(Ok(Message {
            ty,
            flags,
            seq,
            pid,
            payload: &b[NLMSG_HDRLEN..len],
        }))
    }
}

/// Walks attributes, yielding `(type & NLA_TYPE_MASK, payload)`; replies omit `NLA_F_NESTED`, so
/// nesting is decided by the caller's schema. Unknown ids are the caller's to skip.
#[derive(Debug, Clone)]
pub struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Attrs<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<(u16, &'a [u8]), NetlinkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let b = self.rest;
        let (Some(len), Some(ty)) = (ne_u16(b, 0), ne_u16(b, 2)) else {
            self.rest = &[];
            return Some(Err(NetlinkError::Malformed("truncated attribute header")));
        };
        let len = usize::from(len);
        if len < NLA_HDRLEN || len > b.len() {
            self.rest = &[];
            return Some(Err(NetlinkError::Malformed(
                "attribute length out of bounds",
            )));
        }
        self.rest = b.get(align4(len)..).unwrap_or(&[]);
        Some(Ok((ty & NLA_TYPE_MASK, &b[NLA_HDRLEN..len])))
    }
}

/// Reads a big-endian u32 attribute payload.
pub fn be32(p: &[u8]) -> Result<u32, NetlinkError> {
    Ok(u32::from_be_bytes(p.try_into().map_err(|_| {
        NetlinkError::Malformed("u32 attribute of wrong size")
    })?))
}

/// Reads a big-endian u64 attribute payload.
pub fn be64(p: &[u8]) -> Result<u64, NetlinkError> {
    Ok(u64::from_be_bytes(p.try_into().map_err(|_| {
        NetlinkError::Malformed("u64 attribute of wrong size")
    })?))
}

/// The parsed body of an `NLMSG_ERROR` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReply {
    /// 0 for an ACK, otherwise the positive errno.
    pub errno: i32,
    /// `nlmsg_type` of the request this answers (from the echoed header).
    pub request_type: u16,
    pub message: Option<String>,
    pub offset: Option<u32>,
}

/// Parses an `NLMSG_ERROR` payload: the s32 error, the echoed request header, maybe the echoed
/// request payload, then extended-ACK TLVs when `NLM_F_ACK_TLVS` is set.
pub fn parse_error(msg: &Message<'_>) -> Result<ErrorReply, NetlinkError> {
    let p = msg.payload;
    let raw = ne_u32(p, 0).ok_or(NetlinkError::Malformed("short error message"))?;
    let err = i32::from_ne_bytes(raw.to_ne_bytes());
    let echoed_len = ne_u32(p, 4).ok_or(NetlinkError::Malformed("short error message"))? as usize;
    let request_type = ne_u16(p, 8).ok_or(NetlinkError::Malformed("short error message"))?;
    let mut reply = ErrorReply {
        errno: err.checked_neg().unwrap_or(i32::MAX),
        request_type,
        message: None,
        offset: None,
    };
    if msg.flags & NLM_F_ACK_TLVS != 0 {
        let tlv_at = if msg.flags & NLM_F_CAPPED != 0 {
            4 + NLMSG_HDRLEN
        } else {
            4 + align4(echoed_len)
        };
        for a in Attrs::new(p.get(tlv_at..).unwrap_or(&[])) {
            let (ty, v) = a?;
            match ty {
                NLMSGERR_ATTR_MSG => {
                    let text = v.split(|&c| c == 0).next().unwrap_or(&[]);
                    reply.message = Some(String::from_utf8_lossy(text).into_owned());
                }
                NLMSGERR_ATTR_OFFS => reply.offset = ne_u32(v, 0),
                _ => {}
            }
        }
    }
    Ok(reply)
}

/// A `NETLINK_NETFILTER` socket used for one request at a time.
#[derive(Debug)]
pub struct NetlinkSocket {
    fd: OwnedFd,
    port_id: u32,
    seq: u32,
    rx: Vec<u8>,
    timeout: Duration,
    max_send: usize,
}

impl NetlinkSocket {
    /// Opens and binds the socket and sizes its buffers.
    pub fn open_netfilter() -> Result<Self, NetlinkError> {
        let fd = rustix::net::socket_with(
            AddressFamily::NETLINK,
            SocketType::RAW,
            SocketFlags::CLOEXEC,
            Some(netlink::NETFILTER),
        )
        .map_err(NetlinkError::Open)?;
        let setup = |step| move |errno| NetlinkError::Setup { step, errno };
        // FORCE needs CAP_NET_ADMIN, which every request needs anyway; fall back to the
        // sysctl-capped variants so that the probe can still report EPERM clearly.
        if sockopt::set_socket_recv_buffer_size_force(&fd, RCVBUF_BYTES).is_err() {
            sockopt::set_socket_recv_buffer_size(&fd, RCVBUF_BYTES).map_err(setup("SO_RCVBUF"))?;
        }
        if sockopt::set_socket_send_buffer_size_force(&fd, SNDBUF_BYTES).is_err() {
            sockopt::set_socket_send_buffer_size(&fd, SNDBUF_BYTES).map_err(setup("SO_SNDBUF"))?;
        }
        let sndbuf = sockopt::socket_send_buffer_size(&fd).map_err(setup("SO_SNDBUF read"))?;
        for option in [
            crate::sandbox::NETLINK_EXT_ACK,
            crate::sandbox::NETLINK_CAP_ACK,
        ] {
            if let Err(e) = crate::sandbox::set_netlink_flag(fd.as_fd(), option) {
                tracing::debug!("netlink option {option} refused by the kernel: {e}");
            }
        }
        rustix::net::bind(&fd, &SocketAddrNetlink::new(0, 0)).map_err(setup("bind"))?;
        let addr = rustix::net::getsockname(&fd).map_err(setup("getsockname"))?;
        let port_id = port_id_of(addr)?;
        Ok(Self {
            fd,
            port_id,
            seq: initial_seq(),
            rx: vec![0; RECV_BUF],
            timeout: DEFAULT_TIMEOUT,
            max_send: sndbuf.saturating_sub(32).min(MAX_BATCH_BYTES),
        })
    }

    /// The kernel-assigned port id replies are addressed to.
    pub fn port_id(&self) -> u32 {
        self.port_id
    }

    /// The largest batch one `transact` may send.
    pub fn max_batch_bytes(&self) -> usize {
        self.max_send
    }

    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Reserves the next sequence number.
    pub fn next_seq(&mut self) -> u32 {
        let s = self.seq;
        self.seq = self.seq.wrapping_add(1);
        s
    }

    /// A new batch starting at the next sequence number.
    pub fn new_batch(&mut self, subsys: u16) -> Result<Batch, NetlinkError> {
        Batch::new(self.seq, subsys)
    }

    /// Sends a batch in one `sendmsg` and collects one reply per data message. Succeeds only if
    /// none is an error; the first error (in message order) is returned with the count of others.
    pub fn transact(&mut self, batch: &mut Batch) -> Result<(), NetlinkError> {
        let seq_begin = batch.seq_begin;
        let len = batch.finish()?.len();
        self.seq = batch.next_seq();
        if len > self.max_send {
            return Err(NetlinkError::BatchTooLarge {
                len,
                max: self.max_send,
            });
        }
        if batch.ops.is_empty() {
            return Ok(());
        }
        self.drain_stale()?;
        self.send_all(batch.w.as_bytes())?;
        let ops = &batch.ops;
        let (begin_error, mut errors) = self.collect_acks(seq_begin, ops)?;
        if let Some(reply) = begin_error {
            let others = errors.len();
            return Err(kernel_error(
                "the whole batch".into(),
                seq_begin,
                None,
                &reply,
                others,
            ));
        }
        errors.sort_by_key(|e| e.0);
        match errors.first() {
            None => Ok(()),
            Some((i, reply)) => Err(kernel_error(
                ops[*i].operation.clone(),
                ops[*i].seq,
                Some(*i),
                reply,
                errors.len() - 1,
            )),
        }
    }

    /// Reads replies until every data message of the batch has its ACK or error, or an error
    /// tied to BATCH_BEGIN arrives (nothing else follows it). Returns BEGIN's error and the
    /// failed messages by index. Replies for other ports or sequence numbers are stale: skipped.
    fn collect_acks(&mut self, seq_begin: u32, ops: &[BatchOp]) -> Result<Acks, NetlinkError> {
        let mut pending: HashMap<u32, usize> =
            ops.iter().enumerate().map(|(i, o)| (o.seq, i)).collect();
        let mut errors = Vec::new();
        let deadline = Instant::now() + self.timeout;
        while !pending.is_empty() {
            let n = self.recv_datagram(deadline, pending.len())?;
            for m in Messages::new(&self.rx[..n]) {
                let m = m?;
                if m.pid != self.port_id || m.ty != NLMSG_ERROR {
                    continue;
                }
                let reply = parse_error(&m)?;
                if m.seq == seq_begin && reply.errno != 0 {
                    return Ok((Some(reply), errors));
                }
                if let Some(i) = pending.remove(&m.seq)
                    && reply.errno != 0
                {
                    errors.push((i, reply));
                }
            }
        }
        Ok((None, errors))
    }

    /// Sends one request outside a batch (a GET, with or without `NLM_F_DUMP`; see
    /// `build_request`) and hands every data message of the reply to `on_msg` until
    /// `NLMSG_DONE` (dumps) or the ACK (single gets) or an error.
    pub fn request(
        &mut self,
        ty: u16,
        flags: u16,
        family: u8,
        operation: &str,
        attrs: impl FnOnce(&mut Writer) -> Result<(), NetlinkError>,
        mut on_msg: impl FnMut(&Message<'_>) -> Result<(), NetlinkError>,
    ) -> Result<(), NetlinkError> {
        let seq = self.next_seq();
        let bytes = build_request(ty, flags, family, seq, attrs)?;
        self.drain_stale()?;
        self.send_all(&bytes)?;
        let deadline = Instant::now() + self.timeout;
        let mut interrupted = false;
        loop {
            let n = self.recv_datagram(deadline, 1)?;
            for m in Messages::new(&self.rx[..n]) {
                let m = m?;
                if m.pid != self.port_id || m.seq != seq {
                    continue;
                }
                interrupted |= m.flags & NLM_F_DUMP_INTR != 0;
                match m.ty {
                    NLMSG_ERROR => {
                        let reply = parse_error(&m)?;
                        if reply.errno != 0 {
                            return Err(kernel_error(operation.into(), seq, None, &reply, 0));
                        }
                        return if interrupted {
                            Err(NetlinkError::DumpInterrupted)
                        } else {
                            Ok(())
                        };
                    }
                    NLMSG_DONE => {
                        return if interrupted {
                            Err(NetlinkError::DumpInterrupted)
                        } else {
                            Ok(())
                        };
                    }
                    NLMSG_NOOP | NLMSG_OVERRUN => {}
                    _ => on_msg(&m)?,
                }
            }
        }
    }

    fn send_all(&self, bytes: &[u8]) -> Result<(), NetlinkError> {
        let kernel = SocketAddrNetlink::new(0, 0);
        let sent = loop {
            match sendto(&self.fd, bytes, SendFlags::empty(), &kernel) {
                Err(Errno::INTR) => continue,
                r => break r,
            }
        }
        .map_err(|errno| NetlinkError::Send {
            len: bytes.len(),
            errno,
        })?;
        if sent != bytes.len() {
            return Err(NetlinkError::ShortSend {
                sent,
                len: bytes.len(),
            });
        }
        Ok(())
    }

    /// Drops replies left over from an earlier, failed exchange.
    fn drain_stale(&mut self) -> Result<(), NetlinkError> {
        loop {
            match recv(&self.fd, &mut self.rx[..], RecvFlags::DONTWAIT) {
                Ok(_) => continue,
                Err(Errno::AGAIN) => return Ok(()),
                Err(Errno::INTR) => continue,
                // Lost stale replies do not matter: nothing waits for them.
                Err(Errno::NOBUFS) => continue,
                Err(e) => return Err(NetlinkError::Recv(e)),
            }
        }
    }

    /// Waits (bounded by `deadline`) for one datagram and returns its length.
    fn recv_datagram(&mut self, deadline: Instant, pending: usize) -> Result<usize, NetlinkError> {
        loop {
            match recv(
                &self.fd,
                &mut self.rx[..],
                RecvFlags::DONTWAIT | RecvFlags::TRUNC,
            ) {
                Ok((_, full)) if full > self.rx.len() => {
                    return Err(NetlinkError::Truncated {
                        len: full,
                        cap: self.rx.len(),
                    });
                }
                Ok((n, _)) => return Ok(n),
                Err(Errno::AGAIN) | Err(Errno::INTR) => {}
                Err(e) => return Err(NetlinkError::Recv(e)),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(NetlinkError::Timeout {
                    waited: self.timeout,
                    pending,
                });
            }
            let ts = Timespec {
                tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(left.subsec_nanos()),
            };
            let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
            match poll(&mut fds, Some(&ts)) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(e) => return Err(NetlinkError::Recv(e)),
            }
        }
    }
}

/// One request outside a batch: `NLM_F_REQUEST` is added, and `NLM_F_ACK` unless it is a dump,
/// so that every request ends with either `NLMSG_DONE` or an `NLMSG_ERROR` carrying its seq.
pub fn build_request(
    ty: u16,
    flags: u16,
    family: u8,
    seq: u32,
    attrs: impl FnOnce(&mut Writer) -> Result<(), NetlinkError>,
) -> Result<Vec<u8>, NetlinkError> {
    let mut flags = flags | NLM_F_REQUEST;
    if flags & NLM_F_DUMP != NLM_F_DUMP {
        flags |= NLM_F_ACK;
    }
    let mut w = Writer::with_capacity(256);
    w.begin_message(ty, flags, seq, family, 0)?;
    attrs(&mut w)?;
    w.end_message()?;
    Ok(w.into_bytes())
}

fn kernel_error(
    operation: String,
    seq: u32,
    index: Option<usize>,
    reply: &ErrorReply,
    others: usize,
) -> NetlinkError {
    NetlinkError::Kernel(Box::new(KernelError {
        operation,
        seq,
        index,
        errno: Errno::from_raw_os_error(reply.errno),
        message: reply.message.clone(),
        offset: reply.offset,
        others,
    }))
}

fn port_id_of(addr: SocketAddrAny) -> Result<u32, NetlinkError> {
    SocketAddrNetlink::try_from(addr)
        .map(|a| a.pid())
        .map_err(|_| NetlinkError::Malformed("getsockname did not return a netlink address"))
}

/// A starting sequence number that differs between sockets and runs (nft uses the time too);
/// replies are also filtered by port id, so this only makes logs easier to tell apart.
fn initial_seq() -> u32 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    // Truncation intended: any 32 bits of the clock do.
    (now.as_secs() as u32) ^ now.subsec_nanos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_padding_and_lengths() {
        let mut w = Writer::new();
        w.begin_message(0x0a00, NLM_F_REQUEST, 7, NFPROTO_INET, 0)
            .unwrap();
        w.put_str(1, "fail2zig").unwrap();
        let n = w.begin_nest(4).unwrap();
        w.put_be32(1, 1).unwrap();
        w.put_u8(2, 6).unwrap();
        w.end_nest(n).unwrap();
        w.end_message().unwrap();
        let b = w.into_bytes();
        assert_eq!(b.len(), 20 + 16 + 4 + 8 + 8);
        assert_eq!(&b[0..4], &(b.len() as u32).to_ne_bytes());
        assert_eq!(&b[20..24], &[13, 0, 1, 0]);
        assert_eq!(&b[33..36], &[0, 0, 0]);
        assert_eq!(&b[36..40], &[20, 0, 4, 0x80]);
        assert_eq!(&b[48..53], &[5, 0, 2, 0, 6]);
    }

    #[test]
    fn lengths_are_checked() {
        let mut w = Writer::new();
        assert!(matches!(w.put(1, b"x"), Err(NetlinkError::Framing(_))));
        w.begin_message(1, 0, 0, 0, 0).unwrap();
        let big = vec![0u8; 65532];
        assert!(matches!(
            w.put(1, &big),
            Err(NetlinkError::AttributeTooLong { .. })
        ));
        let n = w.begin_nest(3).unwrap();
        w.put(1, &big[..40000]).unwrap();
        w.put(1, &big[..40000]).unwrap();
        assert!(matches!(
            w.end_nest(n),
            Err(NetlinkError::NestTooLong { .. })
        ));
        assert!(matches!(
            w.put_str(1, "a\0b"),
            Err(NetlinkError::NulInString { .. })
        ));
    }

    #[test]
    fn hostile_replies_do_not_panic() {
        for bytes in [
            &[][..],
            &[1, 2, 3][..],
            &[200, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0][..],
            &[3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0][..],
        ] {
            for m in Messages::new(bytes).flatten() {
                let _ = parse_error(&m);
            }
            for a in Attrs::new(bytes) {
                let _ = a;
            }
        }
        // An attribute claiming more than it has.
        let a: Vec<_> = Attrs::new(&[9, 0, 1, 0, 1]).collect();
        assert!(matches!(a[0], Err(NetlinkError::Malformed(_))));
    }

    #[test]
    fn error_reply_with_ext_ack() {
        // Appendix B.4 of the spec: EEXIST, CAP_ACK + EXT_ACK, OFFS 56.
        let hex = "2c000000020000036b000000cdeb2093efffffff540000000c0a05066b000000\
                   0000000008000200 38000000";
        let b = crate::firewall::netlink::tests::unhex(hex);
        let m = Messages::new(&b).next().unwrap().unwrap();
        let r = parse_error(&m).unwrap();
        assert_eq!(r.errno, 17);
        assert_eq!(r.request_type, 0x0a0c);
        assert_eq!(r.offset, Some(56));
    }

    pub(crate) fn unhex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s.bytes().filter(|c| c.is_ascii_hexdigit()).collect();
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }
}
