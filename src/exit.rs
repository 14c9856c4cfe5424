//! exit: the one place that maps errors to exit codes and prints the error chain.
//!
//! Binaries call [`report`] with whatever error a library entry point returned; it prints
//! `PROGRAM: error: outer: cause: root cause` on stderr and returns the exit code.

use std::error::Error;
use std::fmt::Write as _;
use std::process::ExitCode;

/// Exit code for a usage or configuration error.
pub const CONFIG: u8 = 78;
/// Exit code for any other failure (fail2ban-client uses 255 for command failures).
pub const FAILURE: u8 = 1;

/// The error and every `source()` under it, joined with `: `, skipping repeats.
pub fn chain(err: &dyn Error) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            let _ = write!(out, ": {s}");
        }
        cur = e.source();
    }
    out
}

/// Prints the error chain for `program` and returns `code`.
pub fn report(program: &str, err: &dyn Error, code: u8) -> ExitCode {
    eprintln!("{program}: error: {}", chain(err));
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn walks_the_chain() {
        let e = Outer(std::io::Error::other("inner"));
        assert_eq!(chain(&e), "outer: inner");
    }
}
