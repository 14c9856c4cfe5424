#!/bin/sh
# Installs what fail2zig's build, demo and tests need on a fresh Debian 12 machine. Idempotent.
# Run as root. fail2ban is installed only for its filter.d and test corpus (the conformance
# reference); it is never left running.
set -eu
need=""
for pkg in nftables iproute2 fail2ban python3 util-linux libcap2-bin strace systemd-journal-remote; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need="$need $pkg"
done
if [ -n "$need" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # policy-rc.d keeps the fail2ban package from starting its server.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get install -y -q --no-install-recommends $need
    rm -f /usr/sbin/policy-rc.d
fi
# Never run the reference server in the background of our tests.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now fail2ban >/dev/null 2>&1 || true; fi
pkill -f fail2ban-server >/dev/null 2>&1 || true
if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo is missing: install Rust (rustup) first" >&2
    exit 1
fi
if command -v rustup >/dev/null 2>&1; then
    rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi
