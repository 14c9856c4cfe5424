//! sandbox: the few process-level operations rustix only offers as `unsafe`, kept in one place.
//!
//! Today: entering a private network namespace (for `fail2zig demo` and the firewall tests'
//! helpers). Hardening (no_new_privs, Landlock, seccomp) will live here too.
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
