#!/bin/sh
# Peak RSS and failures/s of one jail under 1,000,000 unique attacking addresses (release build).
# Options are passed on: --addresses N, --max-tracked N, --maxretry N.
set -e
cd "$(dirname "$0")/.."
exec cargo run --quiet --release --example bench_memory -- "$@"
