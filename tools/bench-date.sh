#!/bin/sh
# Date detection benchmark: prints ns/line for the common log forms (targets: < 100 ns/line for
# every form; syslog with the default templates as low as possible, <= 40 ns/line).
# Usage: tools/bench-date.sh [LINES] [LABEL]   (LABEL: run only the forms whose label contains it)
set -e
cd "$(dirname "$0")/.."
exec cargo run --quiet --release --example bench_date -- "$@"
