//! sandbox: the few system calls that need `unsafe`, kept in one place, each with its SAFETY.
//!
//! Entering a private network namespace (`fail2zig demo`: rustix offers `unshare` only as
//! `unsafe`), and the `SOL_NETLINK` socket options rustix has no setter for (through `libc`,
//! already in the dependency tree via signal-hook). Hardening (no_new_privs, Landlock, seccomp)
//! belongs here too.
#![allow(unsafe_code)]

use rustix::thread::UnshareFlags;

/// Moves the calling thread (and the threads it creates later) into a new, empty network
/// namespace: its own loopback, its own nf_tables state. The host's firewall is never touched.
pub fn unshare_network() -> std::io::Result<()> {
    // SAFETY: `unshare_unsafe` is unsafe only because `UnshareFlags::FILES` can leave threads
    // with diverging file descriptor tables; we pass `NEWNET` alone, which changes no file
    // descriptor table.
    unsafe { rustix::thread::unshare_unsafe(UnshareFlags::NEWNET) }.map_err(std::io::Error::from)
}

/// `SOL_NETLINK` (linux/socket.h).
const SOL_NETLINK: libc::c_int = 270;
/// `NETLINK_CAP_ACK` (linux/netlink.h): error replies carry only the failed message's header.
pub const NETLINK_CAP_ACK: libc::c_int = 10;
/// `NETLINK_EXT_ACK` (linux/netlink.h): error replies carry the kernel's message and offset.
pub const NETLINK_EXT_ACK: libc::c_int = 11;

/// Turns a boolean `SOL_NETLINK` socket option on (rustix has no setter for these).
pub fn set_netlink_flag(
    fd: std::os::fd::BorrowedFd<'_>,
    option: libc::c_int,
) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: `fd` is an open descriptor for the whole call (it is borrowed); the value pointer
    // refers to a live `c_int` and the length passed is exactly its size, so the kernel reads
    // only memory we own. setsockopt does not retain the pointer.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            SOL_NETLINK,
            option,
            (&on as *const libc::c_int).cast::<libc::c_void>(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
