#!/bin/sh
# Journal reading throughput: fail2zig's journal backend (sshd journalmatch, lines rendered as
# fail2ban does) against `journalctl --directory D -o cat` on the same journal of N entries
# (default 1,000,000) written by systemd-journal-remote. Prints both rates and the ratio
# (acceptance: ratio >= 1). CHUNK=entries per file (default 25000).
# Usage: tools/bench-journal.sh [ENTRIES]
set -eu
N=${1:-1000000}
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
D="$TMP/journal"
mkdir "$D"

echo "generating $N entries with systemd-journal-remote..." >&2
# journal-remote rotates (and on a nearly full disk stops) when a file reaches its size limit,
# so the entries are written in chunks of $CHUNK, one journal file each, like a rotated
# /var/log/journal/<machine-id>/; both readers get the directory.
CHUNK=${CHUNK:-25000}
i=0
while [ "$i" -lt "$N" ]; do
    n=$((N - i)); [ "$n" -gt "$CHUNK" ] && n=$CHUNK
    python3 - "$i" "$n" <<'PY' | /lib/systemd/systemd-journal-remote --split-mode=none --output="$D/system@$i.journal" - 2>/dev/null
import sys
first, n = int(sys.argv[1]), int(sys.argv[2]); t0 = 1700000000000000
out = sys.stdout
for i in range(first, first + n):
    r = i % 3
    if r == 0:
        out.write("__REALTIME_TIMESTAMP=%d\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=web1\n"
                  "SYSLOG_IDENTIFIER=sshd\n_COMM=sshd\n_PID=%d\n_SYSTEMD_UNIT=sshd.service\n"
                  "MESSAGE=Failed password for root from 192.0.%d.%d port %d ssh2\n\n"
                  % (t0 + i, 1000 + i % 5000, i % 250, i % 200, 1024 + i % 60000))
    elif r == 1:
        out.write("__REALTIME_TIMESTAMP=%d\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=web1\n"
                  "SYSLOG_IDENTIFIER=CRON\n_COMM=cron\n_PID=%d\n_SYSTEMD_UNIT=cron.service\n"
                  "MESSAGE=(root) CMD (run-parts /etc/cron.hourly) #%d\n\n" % (t0 + i, 2000 + i % 100, i))
    else:
        out.write("__REALTIME_TIMESTAMP=%d\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=web1\n"
                  "SYSLOG_IDENTIFIER=nginx\n_COMM=nginx\n_PID=77\n_SYSTEMD_UNIT=nginx.service\n"
                  "MESSAGE=GET /index.html 200 request %d\n\n" % (t0 + i, i))
PY
    i=$((i + n))
done
echo "$(ls "$D" | wc -l) files, $(du -sh "$D" | cut -f1)" >&2

cargo build --release --example bench_journal >&2
BIN=target/release/examples/bench_journal

now() { date +%s.%N; }
s=$(now); JN=$(journalctl --directory="$D" -o cat | wc -l); e=$(now)
JC=$(echo "$JN / ($e - $s)" | bc -l)
OURS=$(/usr/bin/time -f "max_rss_kib=%M" "$BIN" -m "_SYSTEMD_UNIT=sshd.service + _COMM=sshd" "$D" 2>&1)
echo "fail2zig: $(echo "$OURS" | tr '\n' ' ')"
RATE=$(echo "$OURS" | sed -n 's/.*entries_per_s=\([0-9]*\).*/\1/p')
printf 'journalctl -o cat: entries=%s seconds=%.3f entries_per_s=%.0f\n' "$JN" "$(echo "$e - $s" | bc -l)" "$JC"
printf 'ratio fail2zig/journalctl: %.2f\n' "$(echo "$RATE / $JC" | bc -l)"
