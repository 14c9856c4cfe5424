#!/bin/sh
# Filter benchmarks: throughput of `fail2zig regex` against `fail2ban-regex` on a deterministic,
# generated 1,000,000-line auth.log with the sshd filter, and the hostile-input run (1 MB lines,
# ReDoS shapes) over every stock filter.
# usage: tools/bench-filter.sh [LINES] [FAIL2BAN_SLICE]   (defaults 1000000 and 100000)
# (fail2ban-regex's start-up, ~0.2 s, is part of its time: a slice of 100000 lines keeps it
# under 10% of the run; smaller slices flatter the ratio.)
# BENCH_LINES=FILE also prints the per-line cost of each line of FILE (e.g.
# testdata/filter/gate-lines.log) with the sshd filter.
# Builds tools/bench_filter.rs in a scratch cargo project that depends on this crate (release,
# LTO and one codegen unit, as the release profile). fail2ban-regex runs on the first
# FAIL2BAN_SLICE lines and is scaled.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
lines=${1:-1000000}
slice=${2:-100000}
work=$(mktemp -d /tmp/fail2zig-bench-filter.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "bench-filter"
version = "0.0.0"
edition = "2024"
[dependencies]
fail2zig = { path = "$root" }
clap = { version = "4", features = ["derive"] }
[profile.release]
lto = true
codegen-units = 1
TOML
cp "$root/tools/bench_filter.rs" "$work/src/main.rs"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/bench-filter}"
cargo build --quiet --release --manifest-path "$work/Cargo.toml"
bin="$CARGO_TARGET_DIR/release/bench-filter"
log="$work/auth.log"
out=$("$bin" throughput "$log" "$lines")
echo "$out"
head -n "$slice" "$log" > "$work/slice.log"
start=$(date +%s.%N)
fail2ban-regex -o ip "$work/slice.log" sshd > "$work/f2b.out"
end=$(date +%s.%N)
theirs=$(echo "$slice $start $end" | awk '{printf "%.0f", $1 / ($3 - $2)}')
echo "fail2ban-regex -o ip (first $slice lines) sshd: $(wc -l < "$work/f2b.out") failures, $theirs lines/s"
echo "$out" | sed -n 's/.*(\(.*\)): .*, \([0-9]*\) lines\/s$/\1 \2/p' | while read -r a b c; do
  echo "ratio ($a $b): $(echo "$c $theirs" | awk '{printf "%.1f", $1 / $2}')x"
done
if [ -n "${BENCH_LINES:-}" ]; then
  "$bin" lines sshd "$BENCH_LINES"
fi
if [ "${SKIP_HOSTILE:-0}" != 1 ]; then
  "$bin" hostile
fi
