//! exit: maps errors to exit codes.
