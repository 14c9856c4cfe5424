#!/bin/sh
# Benchmark filter::pyre: compile cost of all stock regexes, sshd filter throughput.
# Usage: tools/pyre-bench.sh [LINES]   (default 1000000). Builds tools/pyre_bench.rs in a
# scratch cargo project that depends on this crate (release), prints the numbers, and, for
# scale, times fail2ban-regex on 50,000 of the same lines.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
lines=${1:-1000000}
work=$(mktemp -d /tmp/pyre-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "pyre-bench"
version = "0.0.0"
edition = "2024"
[dependencies]
fail2zig = { path = "$root" }
serde_json = "1"
[profile.release]
lto = "thin"
TOML
cp "$root/tools/pyre_bench.rs" "$work/src/main.rs"
/usr/bin/python3 "$root/tools/pyre-dump-stock-regexes.py" > "$work/all.jsonl"
/usr/bin/python3 "$root/tools/pyre-dump-stock-regexes.py" --only sshd:normal > "$work/sshd.jsonl"
# fail2ban's sshd samples with their syslog date cut off, as fail2ban hands them to prefregex.
grep -v '^#' /usr/lib/python3/dist-packages/fail2ban/tests/files/logs/sshd \
  | sed -n 's/^[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]\{8\} //p' > "$work/lines.txt"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/pyre-bench}" \
  cargo run --quiet --release --manifest-path "$work/Cargo.toml" -- \
  "$work/all.jsonl" "$work/sshd.jsonl" "$work/lines.txt" "$lines"
if command -v fail2ban-regex >/dev/null; then
  grep -v '^#' /usr/lib/python3/dist-packages/fail2ban/tests/files/logs/sshd \
    | grep '^[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]\{8\} ' > "$work/dated.txt"
  n=$(wc -l < "$work/dated.txt")
  : > "$work/f2b.log"
  i=0
  while [ $((i * n)) -lt 50000 ]; do cat "$work/dated.txt" >> "$work/f2b.log"; i=$((i + 1)); done
  total=$(wc -l < "$work/f2b.log")
  start=$(date +%s.%N)
  fail2ban-regex "$work/f2b.log" sshd > /dev/null
  end=$(date +%s.%N)
  echo "fail2ban-regex sshd: $total lines, $(echo "$end - $start" | bc) s, $(echo "$total / ($end - $start)" | bc) lines/s"
fi
