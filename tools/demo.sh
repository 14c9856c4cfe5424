#!/bin/sh
# Builds fail2zig and runs `fail2zig demo`: the real daemon bans an attacker in the kernel
# firewall of a private network namespace. Run as root.
set -eu
cd "$(dirname "$0")/.."
tools/setup.sh
cargo build --release --quiet
exec target/release/fail2zig demo "$@"
