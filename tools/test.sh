#!/bin/sh
# The whole test suite, as CI runs it: setup, formatting, lints, every test (unit, data-driven,
# the fail2ban conformance corpus, firewall tests in network namespaces). Run as root.
set -eu
cd "$(dirname "$0")/.."
tools/setup.sh
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets
