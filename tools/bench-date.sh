#!/bin/sh
# Date detection benchmark: prints ns/line for the common log forms (target < 100 ns/line).
# Usage: tools/bench-date.sh [LINES]
set -e
cd "$(dirname "$0")/.."
exec cargo run --quiet --release --example bench_date -- "$@"
