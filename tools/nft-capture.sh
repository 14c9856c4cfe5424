#!/bin/sh
# Prints, as offset + hex lines, each netlink datagram (batch or request) that `nft` sends for one command, run in a
# throw-away network namespace after an optional setup script. Used to derive and check the
# golden files in testdata/netlink/: nft sends no NLM_F_ACK and its own sequence numbers (and
# sometimes rule userdata), so compare everything but those.
#
# usage: tools/nft-capture.sh 'setup script for nft -f (may be empty)' nft-args...
#   e.g. tools/nft-capture.sh 'add table inet fail2zig' add set inet fail2zig s '{ type ipv4_addr; }'
set -eu
setup=$1
shift
exec unshare -n sh -c '
  setup=$1; shift
  if [ -n "$setup" ]; then printf "%s\n" "$setup" | nft -f -; fi
  trace=$(mktemp)
  # fd 3 is nft'\''s netlink socket; -e write dumps what each sendmsg/sendto carried.
  strace -f -e trace=sendmsg,sendto -e write=3 -s 1000000 -o "$trace" nft "$@"
  python3 - "$trace" <<"PY"
import re, sys
out = []
for line in open(sys.argv[1]):
    m = re.match(r" \| ([0-9a-f]{5})  ((?:[0-9a-f]{2} ?){1,8}(?: (?:[0-9a-f]{2} ?){1,8})?)", line)
    if m:
        if int(m.group(1), 16) == 0 and out:
            out.append("")
        out.append("%04x  %s" % (int(m.group(1), 16), " ".join(m.group(2).split())))
print("\n".join(out))
PY
  rm -f "$trace"
' sh "$setup" "$@"
