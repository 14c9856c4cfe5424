#!/bin/sh
# Benchmarks the netlink nftables backend against nft (one ban p50/p99; 100,000 bans against
# `nft -f` and `nft add element` per address) in a throw-away network namespace.
# Needs root (CAP_SYS_ADMIN for unshare, CAP_NET_ADMIN inside), nft and a release build.
# usage: tools/bench-nft.sh [--single N] [--bulk N] [--nft-single N] [--nft-per-address N]
set -eu
cd "$(dirname "$0")/.."
cargo build --quiet --release --example bench_nft
exec unshare -n target/release/examples/bench_nft "$@"
