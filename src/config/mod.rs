//! config: the native TOML configuration (`fail2zig.toml`), its schema and validation.

mod filter_def;

pub use filter_def::FilterDef;
