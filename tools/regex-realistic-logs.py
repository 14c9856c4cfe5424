#!/usr/bin/python3
"""Write the realistic logs of tests/regex_diff.rs (testdata/regex/realistic-*.log).

Usage: tools/regex-realistic-logs.py [OUTDIR]   (default: testdata/regex)

The logs are made up here, not taken from fail2ban's samples: interleaved sshd sessions that
share and reuse pids (fail2ban's mlfid cache), postfix smtpd/postscreen/submission rejections,
dovecot login and auth-worker failures, nginx error and access logs. Every attack or failure
shape the stock filters match in any mode is mixed with benign lines, other daemons' lines and
hostile shapes (IP-like or `from`-containing user names, very long lines, non-ASCII and invalid
UTF-8 bytes), IPv4 and IPv6, in several date formats. The output is deterministic (fixed seed);
the generated files are committed as data, so rerun this only to change them.
"""

import datetime as dt
import os
import random
import sys

R = random.Random(20240311)

V4 = ["192.0.2.%d" % i for i in (1, 7, 23, 44, 50, 77, 101, 199, 254)] + [
    "198.51.100.%d" % i for i in (3, 12, 66, 130, 200)
] + ["203.0.113.%d" % i for i in (5, 9, 88, 150, 222)]
V6 = [
    "2001:db8::1",
    "2001:db8:0:1::25",
    "2001:db8:85a3::8a2e:370:7334",
    "2001:db8:ffff:1:2:3:4:5",
    "2001:DB8::DEAD:BEEF",
    "::ffff:203.0.113.77",
]
IPS = V4 * 2 + V6


PICKS = {}


def pick(options):
    """Like random.choice, but each call site goes through all its options (in a shuffled
    order) before repeating one, so every shape appears in the log."""
    key = (sys._getframe(1).f_lineno, len(options))
    if not PICKS.get(key):
        PICKS[key] = list(range(len(options)))
        R.shuffle(PICKS[key])
    return options[PICKS[key].pop()]


def ip():
    return pick(IPS)


def port():
    return R.randint(1024, 65535)


class Clock:
    """Advances a few seconds per line; `fmt` renders the current time in one date format."""

    def __init__(self, start):
        self.t = start

    def tick(self, most=9):
        self.t += dt.timedelta(seconds=R.randint(0, most), microseconds=R.randint(0, 999999))
        return self.t


def syslog(t):
    return t.strftime("%b ") + ("%2d" % t.day) + t.strftime(" %H:%M:%S")


def rfc3339_precise(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f+01:00")


def short_iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S+0100")


def short_iso_precise(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f+02:00")


def short_precise(t):
    return t.strftime("%b %d %H:%M:%S.%f")


def iso_utc(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def plain(t):
    return t.strftime("%Y-%m-%d %H:%M:%S")


def write(path, lines):
    """One line per item; an item ending in CR gets CR LF; a last item of None leaves the line
    before it without its newline (a line still being written)."""
    with open(path, "wb") as f:
        for i, line in enumerate(lines):
            if line is None:
                continue
            f.write(line if isinstance(line, bytes) else line.encode("utf-8"))
            if i + 1 < len(lines) and lines[i + 1] is None:
                break
            f.write(b"\n")


# ---------------------------------------------------------------------------------------------
# sshd

USERS = ["root", "admin", "test", "oracle", "ubuntu", "git", "postgres", "pi", "user1", "ftpuser",
         "deploy", "support", "guest", "nagios", "hadoop", "www-data", "jenkins", "ansible"]
HOSTILE_USERS = [
    "10.9.8.7", "192.0.2.200", "2001:db8::bad", "from", "from 198.51.100.99", "a from 10.1.1.1",
    "x:y", "root from 203.0.113.250 port 22", "", " ", "user name", "müller",
    "пользователь",
    "管理员", "admin\u00a0", "$(id)", "'; DROP TABLE users;--", "a" * 300, "ssh2", "port",
    "invalid user root", "[preauth]", "Accepted",
]
KEY = "SHA256:Qm9iJ3Mga2V5IGlzIG5vdCBhIHJlYWwga2V5IGF0IGFsbC4"


def ssh_brute_invalid(a, p):
    u = pick(USERS + HOSTILE_USERS)
    out = ["Invalid user %s from %s port %d" % (u, a, p),
           "pam_unix(sshd:auth): check pass; user unknown",
           "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
           "rhost=%s" % a]
    for _ in range(R.randint(1, 3)):
        meth = pick(["password", "password", "none", "keyboard-interactive/pam"])
        out.append("Failed %s for invalid user %s from %s port %d ssh2" % (meth, u, a, p))
    out.append(pick([
        "Received disconnect from %s port %d:11: Bye Bye [preauth]" % (a, p),
        "Connection closed by invalid user %s %s port %d [preauth]" % (u, a, p),
        "Disconnected from invalid user %s %s port %d [preauth]" % (u, a, p),
        "Connection reset by invalid user %s %s port %d [preauth]" % (u, a, p),
    ]))
    if R.random() < 0.5:
        out.append("Disconnected from invalid user %s %s port %d [preauth]" % (u, a, p))
    return out


def ssh_brute_valid(a, p):
    u = pick(["root", "root", "bob", "alice", "10.0.0.1", "from"])
    out = ["pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
           "rhost=%s  user=%s" % (a, u)]
    n = R.randint(1, 6)
    for _ in range(n):
        out.append("Failed password for %s from %s port %d ssh2" % (u, a, p))
    if n == 6:
        out.append("error: maximum authentication attempts exceeded for %s from %s port %d ssh2 "
                   "[preauth]" % (u, a, p))
        out.append(pick([
            "Disconnecting authenticating user %s %s port %d: Too many authentication failures "
            "[preauth]" % (u, a, p),
            "Disconnecting: Too many authentication failures for %s [preauth]" % u,
            "Disconnecting: Too many authentication failures [preauth]",
        ]))
        out.append("PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= "
                   "rhost=%s  user=%s" % (a, u))
    else:
        out.append(pick([
            "Connection closed by authenticating user %s %s port %d [preauth]" % (u, a, p),
            "Received disconnect from %s port %d:11:  [preauth]" % (a, p),
            "Disconnected from authenticating user %s %s port %d [preauth]" % (u, a, p),
        ]))
        if n > 1:
            out.append("PAM %d more authentication failures; logname= uid=0 euid=0 tty=ssh "
                       "ruser= rhost=%s  user=%s" % (n - 1, a, u))
    return out


def ssh_pubkey_login(a, p):
    u = pick(["bob", "alice", "deploy", "git"])
    out = ['Connection from %s port %d on 10.0.0.5 port 22 rdomain ""' % (a, p)]
    if R.random() < 0.6:
        out.append("Failed publickey for %s from %s port %d ssh2: ED25519 %s" % (u, a, p, KEY))
    out += ["Accepted publickey for %s from %s port %d ssh2: RSA %s" % (u, a, p, KEY),
            "pam_unix(sshd:session): session opened for user %s(uid=1000) by (uid=0)" % u,
            "Starting session: shell on pts/0 for %s from %s port %d id 0" % (u, a, p),
            "Received disconnect from %s port %d:11: disconnected by user" % (a, p),
            "Disconnected from user %s %s port %d" % (u, a, p),
            "pam_unix(sshd:session): session closed for user %s" % u]
    return out


def ssh_password_login(a, p):
    u = pick(["bob", "alice"])
    out = []
    if R.random() < 0.5:
        out.append("Failed password for %s from %s port %d ssh2" % (u, a, p))
    out += ["Accepted %s for %s from %s port %d ssh2"
            % (pick(["password", "keyboard-interactive/pam"]), u, a, p),
            "pam_unix(sshd:session): session opened for user %s(uid=1001) by (uid=0)" % u,
            "Connection closed by %s port %d" % (a, p),
            "pam_unix(sshd:session): session closed for user %s" % u]
    return out


def ssh_scanner(a, p):
    out = ['Connection from %s port %d on 10.0.0.5 port 22 rdomain ""' % (a, p)]
    out.append(pick([
        "error: kex_exchange_identification: Connection closed by remote host",
        "error: kex_exchange_identification: read: Connection reset by peer",
        "error: kex_exchange_identification: client sent invalid protocol identifier "
        '"GET / HTTP/1.1"',
        "error: kex_exchange_identification: banner line contains invalid characters",
        "banner exchange: Connection from %s port %d: invalid format" % (a, p),
        "Did not receive identification string from %s port %d" % (a, p),
        "Bad protocol version identification '\\026\\003\\001' from %s port %d" % (a, p),
        "Read from socket failed: Connection reset by peer [preauth]",
        "ssh_dispatch_run_fatal: Connection from %s port %d: message authentication code "
        "incorrect [preauth]" % (a, p),
        "SSH: Server;Ltype: Version;Remote: %s-%d;Protocol: 2.0;Client: libssh2_1.9.0" % (a, p),
    ]))
    out.append(pick([
        "Connection closed by %s port %d" % (a, p),
        "Connection closed by %s port %d [preauth]" % (a, p),
        "Connection reset by %s port %d" % (a, p),
        "Connection reset by %s port %d [preauth]" % (a, p),
    ]))
    return out


def ssh_negotiate(a, p):
    return [pick([
        "Unable to negotiate with %s port %d: no matching key exchange method found. Their offer: "
        "diffie-hellman-group14-sha1,diffie-hellman-group1-sha1 [preauth]" % (a, p),
        "Unable to negotiate with %s port %d: no matching host key type found. Their offer: "
        "ssh-rsa,ssh-dss [preauth]" % (a, p),
        "Unable to negotiate with %s port %d: no matching cipher found. Their offer: "
        "aes128-cbc,3des-cbc [preauth]" % (a, p),
        "Unable to negotiate with %s port %d: no matching MAC found. Their offer: hmac-md5 "
        "[preauth]" % (a, p),
        "fatal: Unable to negotiate a key exchange method [preauth]",
        "error: no matching cipher found: client aes128-cbc server aes256-gcm@openssh.com "
        "[preauth]",
        "Received disconnect from %s port %d:14: No supported authentication methods available "
        "[preauth]" % (a, p),
        "Received disconnect from %s port %d:14: No authentication methods available" % (a, p),
        "Received disconnect from %s port %d:3: com.jcraft.jsch.JSchException: Auth fail "
        "[preauth]" % (a, p),
        "error: Received disconnect from %s port %d:3: com.jcraft.jsch.JSchException: Auth fail "
        "[preauth]" % (a, p),
    ])]


def ssh_not_allowed(a, p):
    u = pick(USERS + ["10.9.8.7", "from"])
    return [pick([
        "User %s from %s not allowed because not listed in AllowUsers" % (u, a),
        "User %s from %s not allowed because listed in DenyUsers" % (u, a),
        "User %s from %s not allowed because not in any group" % (u, a),
        "User %s from %s not allowed because a group is listed in DenyGroups" % (u, a),
        "User %s from %s not allowed because none of user's groups are listed in AllowGroups"
        % (u, a),
        "User %s not allowed because account is locked" % u,
        "ROOT LOGIN REFUSED FROM %s" % a,
        "ROOT LOGIN REFUSED FROM %s port %d" % (a, p),
        "refused connect from scanner.example.net (%s)" % a,
        "User not known to the underlying authentication module for %s from %s" % (u, a),
        "error: PAM: User not known to the underlying authentication module for illegal user %s "
        "from %s" % (u, a),
        "error: PAM: Authentication failure for %s from %s" % (u, a),
        "error: PAM: Authentication failure for illegal user %s from %s" % (u, a),
        "Authentication failure for %s from %s via 10.0.0.5" % (u, a),
        "Illegal user %s from %s" % (u, a),
        "Failed publickey for invalid user %s from %s port %d ssh2: RSA %s" % (u, a, p, KEY),
        "Failed publickey for %s from %s port %d ssh2: ECDSA %s" % (u, a, p, KEY),
        "Postponed keyboard-interactive for invalid user %s from %s port %d ssh2 [preauth]"
        % (u, a, p),
        "Disconnecting invalid user %s %s port %d: Change of username or service not allowed: "
        "(%s,ssh-connection) -> (root,ssh-connection) [preauth]" % (u, a, p, u),
        "Disconnecting authenticating user %s %s port %d: Change of username or service not "
        "allowed: (%s,ssh-connection) -> (admin,ssh-connection) [preauth]" % (u, a, p, u),
    ])]


SSH_SCENARIOS = [ssh_brute_invalid] * 5 + [ssh_brute_valid] * 4 + [ssh_pubkey_login] * 2 + [
    ssh_password_login, ssh_scanner, ssh_scanner, ssh_scanner, ssh_negotiate, ssh_negotiate,
    ssh_not_allowed, ssh_not_allowed, ssh_not_allowed, ssh_not_allowed, ssh_not_allowed,
    ssh_not_allowed]


SSH_OTHER = [
    "CRON[{pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
    "CRON[{pid}]: (root) CMD (   test -x /etc/cron.daily/popularity-contest && "
    "/etc/cron.daily/popularity-contest --crond)",
    "systemd-logind[512]: New session 42 of user bob.",
    "systemd-logind[512]: Session 42 logged out. Waiting for processes to exit.",
    "systemd[1]: Started session-42.scope - Session 42 of User bob.",
    "sudo[{pid}]:      bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/grep "
    "'Failed password for root from {ip}' /var/log/auth.log",
    "sudo[{pid}]: pam_unix(sudo:auth): authentication failure; logname=bob uid=1000 euid=0 "
    "tty=/dev/pts/0 ruser=bob rhost=  user=bob",
    "su[{pid}]: FAILED SU (to root) bob on pts/1",
    "kernel: [12345.678901] [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:aa:bb:cc SRC={ip} "
    "DST=10.0.0.5 LEN=44 TOS=0x00 PREC=0x00 TTL=242 ID=54321 PROTO=TCP SPT=51234 DPT=22 "
    "WINDOW=1024 RES=0x00 SYN URGP=0",
    "sshd[{pid}]: Server listening on 0.0.0.0 port 22.",
    "sshd[{pid}]: Server listening on :: port 22.",
    "sshd[{pid}]: Received SIGHUP; restarting.",
    "sshd[{pid}]: Received signal 15; terminating.",
    "sshd[{pid}]: pam_unix(sshd:session): session opened for user git(uid=998) by (uid=0)",
    "sshd[{pid}]: Timeout before authentication for {ip} port 40000",
    "sshd[{pid}]: drop connection #10 from [{ip}]:40001 on [10.0.0.5]:22 past MaxStartups",
    "sshd[{pid}]: exited MaxStartups throttling after 00:01:04, 7 connections dropped",
    "sshd[{pid}]: srclimit_penalise: ipv4: new 192.0.2.0/24 deferred penalty of 5 seconds for "
    "reason: penalty: failed authentication",
    "sshd-session[{pid}]: Failed password for root from {ip} port 40002 ssh2",
    "sshd-session[{pid}]: Invalid user admin from {ip} port 40003",
    "sshd-auth[{pid}]: Connection closed by invalid user admin {ip} port 40004 [preauth]",
    "sshd[{pid}]: message repeated 3 times: [ Failed password for root from {ip} port 40005 "
    "ssh2]",
    "fail2ban.actions[900]: NOTICE  [sshd] Ban {ip}",
    "postfix/smtpd[{pid}]: warning: unknown[{ip}]: SASL LOGIN authentication failed: "
    "UGFzc3dvcmQ6",
    "dropbear[{pid}]: Bad password attempt for 'root' from {ip}:40006",
]


def ssh_hostile(a):
    """Standalone hostile sshd messages (str or bytes)."""
    long_user = "x" * 4000
    return pick([
        "Failed password for invalid user 10.9.8.7 from %s port 22 ssh2" % a,
        "Invalid user 10.9.8.7 from %s port 22" % a,
        "Failed password for invalid user from 198.51.100.1 port 22 from %s port 4444 ssh2" % a,
        "Failed password for invalid user root from %s port 22 ssh2 from %s port 22 ssh2"
        % ("198.51.100.2", a),
        "Failed password for invalid user  from %s port 22 ssh2" % a,
        "Invalid user  from %s port 22" % a,
        "Invalid user from from %s port 22" % a,
        "Failed none for invalid user %s from %s port 22 ssh2" % (long_user, a),
        "Bad protocol version identification '%s' from %s port 22" % ("\\x16\\x03" * 900, a),
        "Failed password for invalid user admin from %s port 22 ssh2 [preauth] trailing" % a,
        "Failed password for root from %s port 22 ssh2: RSA %s" % (a, KEY),
        "Failed password for root from %s" % a,
        "Invalid user admin from %s" % a,
        "Invalid user admin from %s port 22 on 10.0.0.5 port 22 [preauth] [preauth]" % a,
        b"Invalid user m\xfcller from " + a.encode() + b" port 22",
        b"Failed password for invalid user \xff\xfe\xfd from " + a.encode() + b" port 22 ssh2",
        b"Failed password for invalid user \xe2\x82 from " + a.encode() + b" port 22 ssh2",
        "Failed password for invalid user ロボット from %s port 22 ssh2" % a,
        "Failed password for invalid user 😈 from %s port 22 ssh2" % a,
        "Invalid user admin from fe80::1%%eth0 port 22",
        "Invalid user admin from 010.001.002.003 port 22",
        "Invalid user admin from 300.1.2.3 port 22",
        "Invalid user admin from [%s] port 22" % a,
        "Invalid user admin from %s:22" % a,
        "Connection closed by %s port 22 [preauth] " % a,
        "Disconnected from %s port 22" % a,
        "Received disconnect from %s port 22:11: Normal Shutdown, Thank you for playing "
        "[preauth]" % a,
        "Received disconnect from %s:11: Bye Bye" % a,
        "Did not receive identification string from %s" % a,
        "reverse mapping checking getaddrinfo for 1.2.3.4.example.net [%s] failed." % a,
        "Address %s maps to scanner.example.net, but this does not map back to the address." % a,
        "error: connect_to 10.0.0.9 port 80: failed.",
        "\tFailed password for root from %s port 22 ssh2" % a,
    ])


def ssh_prefix(t, fmt, host, pid, style):
    d = fmt(t)
    if style == "bsd":
        return "%s <auth.info> %s sshd[%d]: " % (d, host, pid)
    if style == "solaris":
        return "%s %s sshd[%d]: [ID 800047 auth.info] " % (d, host, pid)
    if style == "nohost":
        return "%s sshd[%d]: " % (d, pid)
    return "%s %s sshd[%d]: " % (d, host, pid)


def line(prefix, msg):
    return prefix.encode() + (msg if isinstance(msg, bytes) else msg.encode())


def sshd_section(out, fmt, start, sessions, style="plain"):
    """Interleaved sessions: up to four at a time, pids drawn from a small pool (reused)."""
    clock = Clock(start)
    active, started = [], 0
    pids = [R.randint(1000, 30000) for _ in range(12)]
    while started < sessions or active:
        if started < sessions and (len(active) < R.randint(1, 4) or not active):
            free = [p for p in pids if p not in [s[0] for s in active]]
            a, p = ip(), port()
            active.append([pick(free), pick(["gw", "gw", "bastion"]),
                           pick(SSH_SCENARIOS)(a, p)])
            started += 1
        s = pick(active)
        t = clock.tick()
        out.append(line(ssh_prefix(t, fmt, s[1], s[0], style), s[2].pop(0)))
        if not s[2]:
            active.remove(s)
        r = R.random()
        if r < 0.10:
            other = pick(SSH_OTHER).format(pid=R.randint(100, 30000), ip=ip())
            out.append(line("%s gw " % fmt(clock.tick()), other))
        elif r < 0.17:
            out.append(line(ssh_prefix(clock.tick(), fmt, "gw", pick(pids), style),
                            ssh_hostile(ip())))


def sshd_log():
    out = []
    sshd_section(out, syslog, dt.datetime(2000, 3, 9, 23, 50, 0), 30)
    sshd_section(out, rfc3339_precise, dt.datetime(2025, 3, 10, 8, 0, 0), 20)
    sshd_section(out, short_iso, dt.datetime(2025, 10, 26, 1, 55, 0), 15)
    sshd_section(out, short_iso_precise, dt.datetime(2025, 11, 2, 12, 0, 0), 8)
    sshd_section(out, short_precise, dt.datetime(2000, 11, 30, 23, 58, 0), 12)
    sshd_section(out, plain, dt.datetime(2025, 12, 31, 23, 57, 0), 10)
    sshd_section(out, syslog, dt.datetime(2000, 12, 28, 6, 0, 0), 8, style="bsd")
    sshd_section(out, syslog, dt.datetime(2000, 1, 2, 3, 4, 5), 5, style="solaris")
    sshd_section(out, iso_utc, dt.datetime(2026, 1, 15, 9, 0, 0), 6, style="nohost")
    # The same pid on two hosts, and a session whose closing line has no address of its own.
    t = dt.datetime(2000, 4, 1, 12, 0, 0)
    for host, a in (("gw", "203.0.113.5"), ("bastion", "2001:db8::1")):
        out.append(line(ssh_prefix(t, syslog, host, 4242, "plain"),
                        "Connection from %s port 50000 on 10.0.0.5 port 22" % a))
    for host in ("gw", "bastion"):
        out.append(line(ssh_prefix(t, syslog, host, 4242, "plain"),
                        "error: kex_exchange_identification: Connection closed by remote host"))
        out.append(line(ssh_prefix(t, syslog, host, 4242, "plain"),
                        "Disconnecting: Too many authentication failures for root [preauth]"))
    sshd_rfc5424(out, dt.datetime(2025, 5, 1, 6, 0, 0))
    sshd_quirks(out)
    return out


def sshd_rfc5424(out, start):
    """rsyslog's RFC 5424 output (for `sshd[logtype=rfc5424]`), structured data included."""
    clock = Clock(start)
    for _ in range(25):
        a, p, pid = ip(), port(), pick([3101, 3102, 3103])
        sd = pick(["-", '[meta sequenceId="%d"]' % R.randint(1, 999),
                       '[origin ip="10.0.0.5"][x a="b]c"]'])
        for msg in pick(SSH_SCENARIOS)(a, p)[:3]:
            out.append(line("<38>1 %s gw sshd %d - %s "
                            % (rfc3339_precise(clock.tick()), pid, sd), msg))


def sshd_quirks(out):
    """Byte-level oddities: sshd's own escaping of non-printable user names (strnvis octal),
    CR LF endings, a NUL, form feeds, a 70 kB line, dates sshd never writes but a clock-less
    box or journalctl does, blank lines, an undated line, and a last line without newline."""
    p = "Mar 11 07:00:00 gw sshd[5150]: "
    for msg in (
        "Invalid user m\\303\\274ller from 192.0.2.7 port 2201",
        "Failed password for invalid user \\033[31mred from 192.0.2.7 port 2201 ssh2",
        "Failed password for invalid user a\\nb from 192.0.2.7 port 2201 ssh2",
        "Failed password for root from 192.0.2.7 port 2202 ssh2\r",
        "Invalid user crlf from 2001:db8::1 port 2203\r",
        b"Failed password for ro\x00ot from 192.0.2.7 port 2204 ssh2",
        b"Invalid user a\x0cb from 192.0.2.7 port 2205",
        b"Invalid user a\x1cb from 192.0.2.7 port 2206",
        b"Invalid user ab from 192.0.2.7 port 2207\x1c",
        b"Invalid user ab from 192.0.2.7 port 2208\xe2\x80\xa8",
        "Invalid user %s from 192.0.2.7 port 2209" % ("y" * 70000),
    ):
        out.append(line(p, msg))
    for d in ("1970-01-01T00:00:42+0000", "1970-01-01T00:00:43.000001+00:00",
              "Thu 1970-01-01 00:00:44 UTC", "Mon 2025-03-10 08:00:00 CET", "1741593600.123456",
              "1741593601", "Mar 10 2025 08:00:02", "Mon Mar 10 08:00:03 2025", "Mar 9 08:00:04",
              "2025-03-10 08:00:05,123", "2025-03-10T08:00:06", "2025-03-10T08:00:07Z",
              "2025-03-10 08:00:08 +05:30", "2025-03-10 08:00:09 -0930",
              "2024-02-29T10:00:00+0000", "2025-03-10T08:00:10.123456789+01:00"):
        out.append("%s gw sshd[5151]: Failed password for root from 198.51.100.66 port 2210 ssh2"
                   % d)
    out += ["", "   ", "\t", "gw sshd[4243]: Failed password for root from 192.0.2.99 port 22 ssh2",
            "Mar 11 07:00:01 gw sshd[5152]: Invalid user tail from 192.0.2.8 port 2211", None]


# ---------------------------------------------------------------------------------------------
# postfix

def qid():
    return "".join(pick("0123456789ABCDEF") for _ in range(pick([10, 11])))


def longqid():
    return "4" + "".join(pick("BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789")
                         for _ in range(11))


def client(a):
    name = pick(["unknown", "unknown", "mail.example.org", "host-%s.dyn.example.net"
                     % a.replace(":", "-").replace(".", "-"), "localhost"])
    return "%s[%s]" % (name, a)


def postfix_reject(a):
    c = client(a)
    env = "from=<%s> to=<%s> proto=ESMTP helo=<%s>" % (
        pick(["spam@example.net", "", "info@bank.example", "<>"]),
        pick(["postmaster@example.com", "nobody@example.com", "x@relay.example"]),
        pick(["localhost", "User", "[%s]" % a, "mx.example.net"]))
    stage = pick(["RCPT", "RCPT", "MAIL", "DATA", "END-OF-MESSAGE", "CONNECT", "EHLO"])
    q = pick(["NOQUEUE", qid()])
    return pick([
        "%s: reject: %s from %s: 554 5.7.1 <x@relay.example>: Relay access denied; %s"
        % (q, stage, c, env),
        "%s: reject: %s from %s: 550 5.1.1 <nobody@example.com>: Recipient address rejected: "
        "User unknown in virtual mailbox table; %s" % (q, stage, c, env),
        "%s: reject: %s from %s: 550 5.1.1 <nobody@example.com>: Recipient address rejected: "
        "undeliverable address: host mx.example.com[10.0.0.7] said: 550 5.1.1 unknown user "
        "(in reply to RCPT TO command); %s" % (q, stage, c, env),
        "%s: reject: %s from %s: 450 4.7.1 Client host rejected: cannot find your hostname, "
        "[%s]; %s" % (q, stage, c, a, env),
        "%s: reject: %s from %s: 450 4.7.25 Client host rejected: cannot find your hostname, "
        "[%s]; %s" % (q, stage, c, a, env),
        "%s: reject: %s from %s: 554 5.7.1 Service unavailable; Client host [%s] blocked using "
        "zen.spamhaus.org; https://www.spamhaus.org/query/ip/%s; %s" % (q, stage, c, a, a, env),
        "%s: reject: %s from %s: 554 5.7.1 Service unavailable; Client host [%s] blocked using "
        "bl.spamcop.net; %s" % (q, stage, c, a, env),
        "%s: reject: %s from %s: 450 4.1.8 <spam@nonexist.example>: Sender address rejected: "
        "Domain not found; %s" % (q, stage, c, env),
        "%s: reject: %s from %s: 450 4.1.2 <x@nonexist.example>: Recipient address rejected: "
        "Domain not found; %s" % (q, stage, c, env),
        "%s: reject: %s from %s: 504 5.5.2 <User>: Helo command rejected: need fully-qualified "
        "hostname; %s" % (q, stage, c, env),
        "%s: reject: %s from %s: 450 4.7.1 <spam.example>: Helo command rejected: Host not "
        "found; %s" % (q, stage, c, env),
        "%s: reject: %s from %s: 550 5.5.1 Protocol error; %s" % (q, stage, c, env),
        "%s: reject: %s from %s: 503 5.5.1 Error: authentication not enabled; %s"
        % (q, stage, c, env),
        "%s: reject: %s from %s: 554 5.5.1 Error: no valid recipients; %s" % (q, stage, c, env),
        "%s: reject: %s from %s: 550 5.7.1 Command rejected; %s" % (q, stage, c, env),
        "%s: reject: %s from %s: 550 5.7.1 Data command rejected: Multi-recipient bounce; %s"
        % (q, stage, c, env),
        "%s: reject: %s from %s: 550 5.7.1 <x@example.com>: Recipient address rejected: Access "
        "denied; %s" % (q, stage, c, env),
        "%s: reject: %s from %s: 550 5.1.1 <x@example.com>: Recipient address rejected: "
        "undeliverable address: mailbox full; %s" % (q, stage, c, env),
        "%s: milter-reject: END-OF-MESSAGE from %s: 5.7.1 Spam message rejected; %s"
        % (q, c, env),
        "%s: milter-reject: END-OF-MESSAGE from %s: 554 5.7.1 Spam message rejected; %s"
        % (q, c, env),
        "%s: reject: RCPT from %s: 550 5.7.1 <x@example.com>... User unknown; %s" % (q, c, env),
        "NOQUEUE: reject_warning: RCPT from %s: 450 4.7.1 Client host rejected: cannot find "
        "your hostname, [%s]; %s" % (c, a, env),
        "improper command pipelining after %s from %s: \\r\\n" % (
            pick(["CONNECT", "EHLO", "HELO", "AUTH"]), c),
        "improper command pipelining after CONNECT from %s: GET / HTTP/1.1\\r\\nHost: "
        "mx.example.com\\r\\n" % c,
        "too many errors after %s from %s" % (pick(["RCPT", "DATA", "AUTH", "UNKNOWN"]), c),
    ])


def postfix_auth(a):
    c = client(a)
    return "warning: " + pick([
        "%s: SASL LOGIN authentication failed: UGFzc3dvcmQ6" % c,
        "%s: SASL LOGIN authentication failed: authentication failure" % c,
        "%s: SASL login authentication failed: UGFzc3dvcmQ6" % c,
        "%s: SASL PLAIN authentication failed: " % c,
        "%s: SASL PLAIN authentication failed:" % c,
        "%s: SASL CRAM-MD5 authentication failed: PDEyMzQ1Njc4OTAuMTIzNDVAZXhhbXBsZS5jb20+" % c,
        "%s: SASL DIGEST-MD5 authentication failed: authentication failure" % c,
        "%s: SASL LOGIN authentication failed: Connection lost to authentication server" % c,
        "%s: SASL PLAIN authentication failed: Invalid authentication mechanism" % c,
        "%s: SASL XOAUTH2 authentication failed: bad token" % c,
        "%s: SASL Login authentication failed: UGFzc3dvcmQ6" % c,
        "hostname %s does not resolve to address %s: Name or service not known"
        % ("host.example.net", a),
        "hostname mail.example.org does not resolve to address %s" % a,
        "non-SMTP command from %s: GET / HTTP/1.1" % c,
        "TLS library problem: error:0A000126:SSL routines::unexpected eof while reading",
        "%s: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=admin@example.com"
        % c,
    ])


def postfix_ddos(a):
    c = client(a)
    port_ = port()
    return pick([
        ("smtpd", "lost connection after %s from %s" % (
            pick(["AUTH", "EHLO", "CONNECT", "RCPT", "STARTTLS", "UNKNOWN"]), c)),
        ("smtpd", "lost connection after DATA from %s" % c),
        ("smtpd", "lost connection after DATA (0 bytes) from %s" % c),
        ("smtpd", "disconnect from %s ehlo=1 auth=0/1 quit=1 commands=2/3" % c),
        ("smtpd", "disconnect from %s ehlo=1 auth=0/12 rset=1 commands=2/14" % c),
        ("smtpd", "disconnect from %s ehlo=2 starttls=1 auth=0/1 commands=3/4" % c),
        ("smtpd", "disconnect from %s ehlo=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6" % c),
        ("smtpd", "disconnect from %s ehlo=1 auth=0/0 quit=1 commands=2" % c),
        ("smtpd", "disconnect from %s commands=0/0" % c),
        ("postscreen", "PREGREET 11 after 0.1 from [%s]:%d: EHLO User\\r\\n" % (a, port_)),
        ("postscreen", "PREGREET 21 after 0 from [%s]:%d: GET / HTTP/1.1\\r\\n" % (a, port_)),
        ("postscreen", "HANGUP after 0.52 from [%s]:%d in tests after SMTP handshake"
         % (a, port_)),
        ("postscreen", "HANGUP after 1.8 from [%s]:%d in tests before SMTP handshake"
         % (a, port_)),
        ("postscreen", "COMMAND TIME LIMIT from [%s]:%d after RCPT" % (a, port_)),
        ("postscreen", "COMMAND COUNT LIMIT from [%s]:%d after RSET" % (a, port_)),
        ("postscreen", "COMMAND LENGTH LIMIT from [%s]:%d after DATA" % (a, port_)),
        ("postscreen", "DNSBL rank 3 for [%s]:%d" % (a, port_)),
        ("postscreen", "CONNECT from [%s]:%d to [10.0.0.5]:25" % (a, port_)),
        ("postscreen", "PASS NEW [%s]:%d" % (a, port_)),
        ("postscreen", "DISCONNECT [%s]:%d" % (a, port_)),
        ("postscreen", "NOQUEUE: reject: RCPT from [%s]:%d: 550 5.7.1 Service unavailable; "
         "client [%s] blocked using zen.spamhaus.org; from=<x@example.net>, to=<y@example.com>, "
         "proto=ESMTP, helo=<User>" % (a, port_, a)),
        ("postscreen", "NOQUEUE: reject: RCPT from [%s]:%d: 450 4.3.2 Service currently "
         "unavailable; from=<x@example.net>, to=<y@example.com>, proto=ESMTP, helo=<User>"
         % (a, port_)),
    ])


POSTFIX_BENIGN = [
    ("smtpd", "connect from {c}"),
    ("smtpd", "{q}: client={c}"),
    ("smtpd", "{q}: client={c}, sasl_method=PLAIN, sasl_username=bob@example.com"),
    ("smtpd", "Anonymous TLS connection established from {c}: TLSv1.3 with cipher "
     "TLS_AES_256_GCM_SHA384 (256/256 bits)"),
    ("smtpd", "disconnect from {c} ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"),
    ("cleanup", "{q}: message-id=<20250303100001.{q}@example.com>"),
    ("qmgr", "{q}: from=<bob@example.com>, size=1834, nrcpt=1 (queue active)"),
    ("qmgr", "{q}: removed"),
    ("smtp", "{q}: to=<carol@example.org>, relay=mx.example.org[198.51.100.25]:25, "
     "delay=0.51, delays=0.05/0.01/0.2/0.25, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as "
     "ABCDEF0123)"),
    ("smtp", "{q}: to=<x@nonexist.example>, relay=none, delay=0.1, delays=0.01/0/0.09/0, "
     "dsn=5.4.4, status=bounced (Host or domain name not found. Name service error for "
     "name=nonexist.example type=AAAA: Host not found)"),
    ("local", "{q}: to=<bob@example.com>, relay=local, delay=0.2, status=sent (delivered to "
     "mailbox)"),
    ("bounce", "{q}: sender non-delivery notification: {q2}"),
    ("anvil", "statistics: max connection rate 3/60s for (smtp:{a}) at Mar  3 10:00:01"),
    ("pickup", "{q}: uid=1000 from=<bob>"),
    ("master", "daemon started -- version 3.7.11, configuration /etc/postfix"),
    ("smtpd", "warning: {c}: SASL LOGIN authentication failed: UGFzc3dvcmQ6 from [10.0.0.1]"),
]

POSTFIX_DAEMONS = ["postfix/smtpd", "postfix/smtpd", "postfix/smtpd", "postfix/submission/smtpd",
                   "postfix/smtps/smtpd", "postfix-out/smtpd", "postfix/postscreen"]
OTHER_MAIL = [
    "amavis[{pid}]: ({pid}-01) Blocked SPAM {{RejectedInbound}}, [{a}]:40000 [{a}] "
    "<spam@example.net> -> <bob@example.com>, Queue-ID: ABCDEF, Hits: 12.3",
    "opendkim[{pid}]: ABCDEF0123: bad signature data",
    "spamd[{pid}]: spamd: connection from localhost [127.0.0.1]:44444 to port 783, fd 5",
    "postgrey[{pid}]: action=greylist, reason=new, client_name=unknown, client_address={a}, "
    "sender=x@example.net, recipient=y@example.com",
    "dovecot: lmtp({pid}): Connect from local",
]


def postfix_prefix(t, fmt, daemon, pid):
    if daemon is None:
        return "%s mx " % fmt(t)
    return "%s mx %s[%d]: " % (fmt(t), daemon, pid)


def postfix_section(out, fmt, start, count):
    clock = Clock(start)
    for _ in range(count):
        a, pid = ip(), R.randint(1000, 40000)
        r = R.random()
        if r < 0.35:
            d, msg = pick(POSTFIX_DAEMONS[:-1]), postfix_reject(a)
        elif r < 0.55:
            d, msg = pick(POSTFIX_DAEMONS[:-1]), postfix_auth(a)
        elif r < 0.75:
            d, msg = postfix_ddos(a)
            d = "postfix/" + d
        elif r < 0.93:
            d, msg = pick(POSTFIX_BENIGN)
            d = "postfix/" + d
            msg = msg.format(c=client(a), q=qid(), q2=longqid(), a=a)
        else:
            d, msg = None, pick(OTHER_MAIL).format(pid=pid, a=a)
        out.append(line(postfix_prefix(clock.tick(), fmt, d, pid), msg))


def postfix_log():
    out = []
    postfix_section(out, syslog, dt.datetime(2000, 3, 3, 10, 0, 0), 150)
    postfix_section(out, rfc3339_precise, dt.datetime(2025, 3, 30, 1, 50, 0), 80)
    postfix_section(out, short_iso, dt.datetime(2025, 7, 14, 14, 0, 0), 50)
    postfix_section(out, syslog, dt.datetime(2000, 12, 30, 23, 55, 0), 30)
    a = "203.0.113.9"
    for msg in (
        "NOQUEUE: reject: RCPT from unknown[%s]: 554 5.7.1 <%s>: Relay access denied; "
        "from=<x@[10.0.0.1]> to=<y@example.com> proto=ESMTP helo=<[10.0.0.1]>" % (a, "a" * 3000),
        "NOQUEUE: reject: RCPT from weird[host][%s]: 550 5.1.1 <x@example.com>: Recipient "
        "address rejected: User unknown; proto=ESMTP" % a,
        "NOQUEUE: reject: RCPT from unknown[%s]:2525: 550 5.1.1 <x@example.com>: Recipient "
        "address rejected: User unknown; proto=ESMTP" % a,
        "NOQUEUE: reject: RCPT from unknown[IPv6:2001:db8::77]: 550 5.1.1 <x@example.com>: "
        "Recipient address rejected: User unknown; proto=ESMTP",
        "NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 <müller@example.com>: Recipient "
        "address rejected: User unknown in local recipient table; from=<ö@example.net>" % a,
        b"NOQUEUE: reject: RCPT from unknown[198.51.100.3]: 550 5.1.1 <m\xfcller@example.com>: "
        b"Recipient address rejected: User unknown; from=<\xff@example.net>",
        "warning: unknown[%s]: SASL LOGIN authentication failed: %s" % (a, "QUFB" * 1500),
        "warning: unknown[10.9.8.7][%s]: SASL PLAIN authentication failed: " % a,
        "too many errors after RCPT from unknown[%s]" % a,
        "too many errors after RCPT from unknown[%s]: trailing" % a,
        "NOQUEUE: reject: RCPT from unknown[not-an-ip]: 554 5.7.1 Relay access denied; x",
    ):
        out.append(line(postfix_prefix(dt.datetime(2000, 5, 5, 5, 5, 5), syslog,
                                       "postfix/smtpd", 777), msg))
    out.append("postfix/smtpd[778]: too many errors after AUTH from unknown[192.0.2.44]")
    return out


# ---------------------------------------------------------------------------------------------
# dovecot

def session():
    return "".join(pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                   for _ in range(16))


def dovecot_login(a):
    svc = pick(["imap-login", "imap-login", "pop3-login", "managesieve-login",
                    "submission-login"])
    u = pick(["bob@example.com", "alice", "admin", "info@example.com", "", "10.9.8.7",
                  "rip=192.0.2.250", "müller@example.com", "a b", "x>y"])
    n, secs = R.randint(1, 5), R.randint(0, 200)
    verb = pick(["Aborted login", "Disconnected", "Remote closed connection",
                     "Client has quit the connection", "Disconnected: Inactivity",
                     "Disconnected: Connection closed", "Login aborted: Connection closed"])
    reason = pick([
        "auth failed, %d attempts in %d secs" % (n, secs),
        "auth failed, %d attempts" % n,
        "tried to use disabled plaintext auth",
        "tried to use disallowed plaintext auth",
        "proxy dest auth failed",
        "no auth attempts in %d secs" % secs,
        "no auth attempts",
        "disconnected before auth was ready, waited %d secs" % secs,
        "client didn't finish SASL auth, waited %d secs" % secs,
        "client didn't finish SASL auth",
        "auth failed, %d attempts in %d secs) (auth_failed" % (n, secs),
    ])
    who = pick(["user=<%s>, " % u, "user=<%s>, method=PLAIN, " % u,
                    "user=<%s>, method=CRAM-MD5, " % u, ""])
    tail = pick(["lip=10.0.0.5", "lip=10.0.0.5, TLS", "lip=10.0.0.5, session=<%s>"
                     % session(), "lip=10.0.0.5, TLS, session=<%s>" % session(),
                     "lip=10.0.0.5, TLS: Connection closed, session=<%s>" % session(),
                     "lip=2001:db8::25, TLS handshaking: SSL_accept() failed"])
    return "%s: %s%s (%s): %srip=%s, %s" % (svc, pick(["", "Info: "]), verb, reason, who,
                                             a, tail)


def dovecot_auth(a):
    u = pick(["bob", "alice@example.com", "root", "", "10.9.8.7", "a,b"])
    s = "<%s>" % session()
    w = pick(["auth", "auth-worker(%d)" % R.randint(100, 9999), "dovecot: auth",
                  "auth: Info", "auth-worker(%d): Info" % R.randint(100, 9999)])
    return pick([
        "%s: pam(%s,%s,%s): pam_authenticate() failed: Authentication failure (password "
        "mismatch?)" % (w, u, a, s),
        "%s: pam(%s,%s): pam_authenticate() failed: Authentication failure (Password "
        "mismatch?)" % (w, u, a),
        "%s: pam(%s,%s,%s): pam_authenticate() failed: User not known to the underlying "
        "authentication module: 2 Time(s)" % (w, u, a, s),
        "%s: pam(%s,%s,%s): pam_authenticate() failed: Permission denied" % (w, u, a, s),
        "%s: pam(%s,%s,%s): pam_authenticate() failed: Authentication token is no longer valid"
        % (w, u, a, s),
        "%s: passwd-file(%s,%s,%s): unknown user" % (w, u, a, s),
        "%s: passwd-file(%s,%s,%s): Password mismatch" % (w, u, a, s),
        "%s: sql(%s,%s,%s): unknown user (SHA1 of given password: 0123ab)" % (w, u, a, s),
        "%s: sql(%s,%s): Password mismatch (given password: hunter2)" % (w, u, a),
        "%s: ldap(%s,%s,%s): invalid credentials" % (w, u, a, s),
        "%s: ldap(%s,%s,%s): Invalid credentials" % (w, u, a, s),
        "%s: shadow(%s,%s,%s): unknown user" % (w, u, a, s),
        "%s: Error: ldap(%s,%s): LDAP search() failed: Can't contact LDAP server" % (w, u, a),
        "%s: checkpassword(%s,%s,%s): Login failed (status=1)" % (w, u, a, s),
        "%s: conn unix:auth-worker (pid=%d,uid=97): auth-worker<%d>: sql(%s,%s,%s): "
        "Password mismatch" % (w, R.randint(100, 9999), R.randint(1, 99), u, a, s),
        "auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 "
        "tty=dovecot ruser=%s rhost=%s  user=%s" % (u, a, u),
        "auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 "
        "tty=dovecot ruser=%s rhost=%s" % (u, a),
        "auth-worker(%d): pam_unix(dovecot:auth): check pass; user unknown" % R.randint(1, 999),
        "auth-worker(%d): pam_unix(dovecot:auth): authentication failure; logname= uid=0 "
        "euid=0 tty=dovecot ruser=%s rhost=%s" % (R.randint(1, 999), u, a),
    ])


DOVECOT_BENIGN = [
    "imap-login: Login: user=<bob@example.com>, method=PLAIN, rip={a}, lip=10.0.0.5, "
    "mpid=12345, TLS, session=<{s}>",
    "pop3-login: Login: user=<alice>, method=PLAIN, rip={a}, lip=10.0.0.5, mpid=12346, "
    "secured, session=<{s}>",
    "imap(bob@example.com)<12345><{s}>: Logged out in=120 out=4096 deleted=0 expunged=0 "
    "trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
    "imap(bob@example.com): Disconnected: Logged out in=120 out=4096",
    "lmtp(12347): Connect from local",
    "lmtp(bob@example.com)<12347><{s}>: msgid=<x@example.com>: saved mail to INBOX",
    "master: Dovecot v2.3.19.1 (9b53102964) starting up for imap, pop3, lmtp, sieve",
    "auth: Warning: Event 0x55d0 leaked (parent=(nil)): auth-client-connection.c:338",
    "imap-login: Disconnected (no auth attempts in 0 secs): user=<>, rip=127.0.0.1, "
    "lip=127.0.0.1, secured, session=<{s}>",
    "anvil: Warning: Growing pool 'anvil connection' with: 2048",
]


def dovecot_prefix(t, kind):
    if kind == "syslog":
        return "%s mail dovecot: " % syslog(t)
    if kind == "journal":
        return "%s mail dovecot[%d]: " % (short_iso(t), R.randint(800, 900))
    if kind == "own":
        return "%s " % t.strftime("%b %d %H:%M:%S")
    if kind == "own-iso":
        return "%s " % plain(t)
    # daemontools multilog: TAI64N label
    secs = int(t.replace(tzinfo=dt.timezone.utc).timestamp())
    return "@%016x%08x " % (0x400000000000000A + secs, t.microsecond * 1000)


def dovecot_section(out, kind, start, count):
    clock = Clock(start)
    for _ in range(count):
        a, r = ip(), R.random()
        if r < 0.45:
            msg = dovecot_login(a)
        elif r < 0.75:
            msg = dovecot_auth(a)
        elif r < 0.95:
            msg = pick(DOVECOT_BENIGN).format(a=a, s=session())
        else:
            msg = "postfix/smtpd[%d]: connect from unknown[%s]" % (R.randint(1, 9999), a)
        out.append(line(dovecot_prefix(clock.tick(), kind), msg))


def dovecot_log():
    out = []
    dovecot_section(out, "syslog", dt.datetime(2000, 3, 5, 7, 0, 0), 120)
    dovecot_section(out, "journal", dt.datetime(2025, 6, 1, 0, 0, 0), 70)
    dovecot_section(out, "own", dt.datetime(2000, 8, 9, 18, 0, 0), 50)
    dovecot_section(out, "own-iso", dt.datetime(2025, 8, 10, 18, 0, 0), 40)
    dovecot_section(out, "tai64n", dt.datetime(2019, 2, 2, 2, 2, 2), 25)
    t = dovecot_prefix(dt.datetime(2000, 9, 9, 9, 9, 9), "syslog")
    for msg in (
        "imap-login: Aborted login (auth failed, 1 attempts in 2 secs): user=<%s>, "
        "method=PLAIN, rip=192.0.2.7, lip=10.0.0.5" % ("q" * 5000),
        b"imap-login: Aborted login (auth failed, 1 attempts): user=<m\xfcller>, rip=192.0.2.7, "
        b"lip=10.0.0.5",
        "imap-login: Aborted login (auth failed, 1 attempts): user=<x>, rip=192.0.2.7, "
        "lip=10.0.0.5, rip=203.0.113.5",
        "imap-login: Aborted login (auth failed, 1 attempts): user=<rip=203.0.113.5>, "
        "rip=192.0.2.7, lip=10.0.0.5",
        "imap-login: Aborted login: Connection closed: reason (with) parens: more (auth failed, "
        "2 attempts in 4 secs): user=<x>, rip=192.0.2.7, lip=10.0.0.5",
        "auth: passwd-file(x,fe80::1%eth0): unknown user",
        "auth: passwd-file(x,not-an-ip,<abc>): unknown user",
    ):
        out.append(line(t, msg))
    return out


# ---------------------------------------------------------------------------------------------
# nginx

BOT_PATHS = ["/wp-login.php", "//wp-login.php", "/wp-admin.php", "/wordpress/wp-login.php",
             "/wp-signup.php", "/phpMyAdmin/", "/phpmyadmin/index.php", "/pma/", "/admin/pma/",
             "/xampp/phpmyadmin/", "/typo3/phpMyAdmin/", "/myadmin/", "/MyAdmin/scripts/setup.php",
             "/roundcube/", "/webmail/", "/v-webmail/", "/horde/imp/", "/extmail/", "/mail/",
             "/cgi-bin/luci", "/cgi-bin/test.cgi", "/mysqladmin/", "/wp-login.php?redirect_to=x",
             "/blog/wp-login.php", "/.env", "/.git/config", "/xmlrpc.php", "/vendor/phpunit/",
             "/actuator/health", "/boaform/admin/formLogin", "/owa/auth/logon.aspx"]
OK_PATHS = ["/", "/index.html", "/favicon.ico", "/robots.txt", "/assets/app.js",
            "/api/v1/items?page=2", "/img/logo.png", "/admin/"]
UAS = ['"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"',
       '"curl/8.5.0"', '"-"', '"python-requests/2.31.0"',
       '"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"',
       '"zgrab/0.x"']


def nginx_request(path):
    return "%s %s %s" % (pick(["GET", "GET", "POST", "HEAD"]), path,
                         pick(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0"]))


def nginx_err_msg(a):
    conn, host = R.randint(1, 99999), pick(["example.com", "www.example.com:8443",
                                                "[2001:db8::25]", "10.0.0.5"])
    server = pick(["example.com", "_", "", "www.example.com"])
    req = nginx_request(pick(["/private/", "/admin/", "/status", "/files/report.pdf"]))
    ref = pick(["", ', referrer: "https://example.com/"', ', referrer: "-"'])
    ctx = 'client: %s, server: %s, request: "%s", host: "%s"%s' % (a, server, req, host, ref)
    u = pick(["admin", "root", "bob", "", "müller", "client: 10.9.8.7", 'a"b', "x y"])
    zone = pick(["one", "lr_zone", "api zone", "per_ip"])
    lvl = pick(["error", "error", "warn", "notice", "info"])
    return pick([
        '[error] %d#%d: *%d user "%s": password mismatch, %s' % (R.randint(1, 9999), 0, conn,
                                                                   u, ctx),
        '[error] %d#%d: *%d user "%s" was not found in "/etc/nginx/.htpasswd", %s'
        % (R.randint(1, 9999), 0, conn, u, ctx),
        '[error] %d#%d: *%d no user/password was provided for basic authentication, %s'
        % (R.randint(1, 9999), 0, conn, ctx),
        '[%s] %d#%d: *%d limiting requests, excess: %d.%03d by zone "%s", %s'
        % (lvl, R.randint(1, 9999), 0, conn, R.randint(0, 50), R.randint(0, 999), zone, ctx),
        '[warn] %d#%d: *%d delaying request, excess: 0.%03d, by zone "%s", %s'
        % (R.randint(1, 9999), 0, conn, R.randint(0, 999), zone, ctx),
        '[error] %d#%d: *%d limiting connections by zone "addr", %s'
        % (R.randint(1, 9999), 0, conn, ctx),
        "[crit] %d#%d: *%d SSL_do_handshake() failed (SSL: error:1408F092:SSL "
        "routines:ssl3_get_record:data length too long) while SSL handshaking, client: %s, "
        "server: 0.0.0.0:443" % (R.randint(1, 9999), 0, conn, a),
        "[crit] %d#%d: *%d SSL_do_handshake() failed (SSL: error:14094085:SSL "
        "routines:ssl3_read_bytes:ccs received early) while SSL handshaking, client: %s, "
        "server: 0.0.0.0:443" % (R.randint(1, 9999), 0, conn, a),
        "[crit] %d#%d: *%d SSL_do_handshake() failed (SSL: error:1408A0C1:SSL "
        "routines:ssl3_get_client_hello:packet length too short) while SSL handshaking, "
        "client: %s, server: [::]:443" % (R.randint(1, 9999), 0, conn, a),
        "[info] %d#%d: *%d SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key "
        "share) while SSL handshaking, client: %s, server: 0.0.0.0:443"
        % (R.randint(1, 9999), 0, conn, a),
        '[error] %d#%d: *%d open() "/var/www/html%s" failed (2: No such file or directory), %s'
        % (R.randint(1, 9999), 0, conn, pick(BOT_PATHS[:24]).split("?")[0],
           'client: %s, server: %s, request: "%s", host: "%s"' % (
               a, server, nginx_request(pick(BOT_PATHS)), host)),
        '[error] %d#%d: *%d "/var/www/html/phpmyadmin/index.html" is not found (2: No such file '
        'or directory), client: %s, server: %s, request: "GET /phpmyadmin/ HTTP/1.1", host: '
        '"%s"' % (R.randint(1, 9999), 0, conn, a, server, host),
        '[error] %d#%d: *%d FastCGI sent in stderr: "Primary script unknown" while reading '
        'response header from upstream, %s, upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:"'
        % (R.randint(1, 9999), 0, conn, ctx),
        "[error] %d#%d: *%d connect() failed (111: Connection refused) while connecting to "
        'upstream, %s, upstream: "http://127.0.0.1:8080/"' % (R.randint(1, 9999), 0, conn, ctx),
        "[notice] %d#%d: signal process started" % (R.randint(1, 9999), 0),
        "[emerg] %d#%d: bind() to 0.0.0.0:80 failed (98: Address already in use)"
        % (R.randint(1, 9999), 0),
    ])


def nginx_error_section(out, fmt, start, count):
    clock = Clock(start)
    for _ in range(count):
        out.append(line("%s " % fmt(clock.tick()), nginx_err_msg(ip())))


def nginx_error_log():
    out = []
    nginx_error_section(out, lambda t: t.strftime("%Y/%m/%d %H:%M:%S"),
                        dt.datetime(2025, 3, 3, 10, 0, 0), 230)
    nginx_error_section(out, lambda t: short_iso(t) + " web nginx[1234]:",
                        dt.datetime(2025, 4, 4, 4, 0, 0), 50)
    t = "2025/05/05 05:05:05 "
    ctx = 'server: example.com, request: "GET / HTTP/1.1", host: "example.com"'
    for msg in (
        '[error] 7#7: *1 user "%s": password mismatch, client: 192.0.2.7, %s' % ("u" * 4000, ctx),
        '[error] 7#7: *2 user "admin": password mismatch, client: 192.0.2.7, %s, referrer: '
        '"https://example.com/%s"' % (ctx, "p" * 3000),
        '[error] 7#7: *3 user "a", client: 10.9.8.7, server: x": password mismatch, client: '
        '192.0.2.7, %s' % ctx,
        '[error] 7#7: *4 limiting requests, excess: 5.000 by zone "one", client: '
        '192.0.2.7, %s' % ctx,
        '[error] 7#7: *5 limiting requests, excess: 5.000 by zone "", client: 192.0.2.7, %s' % ctx,
        '[error] 7#7: *6 limiting requests, excess: 5.000 by zone "one", client: unix:, %s' % ctx,
        '[error] 7#7: *7 user "admin": password mismatch, client: 192.0.2.7, server: '
        'example.com, request: "GET /a b HTTP/1.1", host: "example.com"',
        '[error] 7#7: *8 user "admin": password mismatch, client: 192.0.2.7, server: '
        'example.com, request: "GET / HTTP/3", host: "example.com"',
        b'[error] 7#7: *9 user "m\xfcller": password mismatch, client: 192.0.2.7, server: '
        b'example.com, request: "GET / HTTP/1.1", host: "example.com"',
        '  [error] 7#7: *10 user "admin": password mismatch, client: 192.0.2.7, %s' % ctx,
        '[error] 7#7: *11 open() "/var/www/html/wp-login.php" failed (2: No such file or '
        'directory), client: 192.0.2.7, server: example.com, request: "GET /wp-login.php '
        'HTTP/1.1", host: "example.com", referrer: "%s"' % ("r" * 3000),
        # The Host header and the decoded path reach the error log raw: separators that are
        # white space to Python's \s but not to Unicode's (U+001C..U+001F), and ones to both.
        '[error] 7#7: *12 user "admin": password mismatch, client: 192.0.2.8, server: '
        'example.com, request: "GET / HTTP/1.1", host: "ex\x1cample.com"',
        '[error] 7#7: *13 user "admin": password mismatch, client: 192.0.2.9, server: '
        'example.com, request: "GET / HTTP/1.1", host: "ex\u0085ample.com"',
        '[error] 7#7: *14 user "admin": password mismatch, client: 192.0.2.10, server: '
        'example.com, request: "GET / HTTP/1.1", host: "ex\u00a0ample.com"',
        '[error] 7#7: *15 user "admin": password mismatch, client: 192.0.2.11, server: '
        'example.com, request: "GET / HTTP/1.1", host: "example.com"\x1e',
        '[error] 7#7: *16 open() "/var/www/html/wp-login.php\x1f" failed (2: No such file or '
        'directory), client: 192.0.2.12, server: example.com, request: "GET /wp-login.php%1F '
        'HTTP/1.1", host: "example.com"',
        '[error] 7#7: *17 open() "/var/www/html/wp-login.php\u2028x" failed (2: No such file '
        'or directory), client: 192.0.2.13, server: example.com, request: "GET '
        '/wp-login.php%E2%80%A8x HTTP/1.1", host: "example.com"',
        '[error] 7#7: *18 user "admin": password mismatch, client: 192.0.2.14, server: '
        'example.com, request: "GET / HTTP/\u0661.\u0661", host: "example.com"',
        '[error] 7#7: *19 user "admin": password mismatch, client: 192.0.2.15, server: '
        'example.com, request: "GET / HTTP/1.1", host: "example.com"\r',
    ):
        out.append(line(t, msg))
    return out


def access_line(a, path, status):
    user = pick(["-", "-", "-", "bob", "[x]", "-"])
    return "%s - %s [{DATE}] \"%s\" %d %d \"-\" %s" % (
        a, user, nginx_request(path), status, R.randint(0, 20000), pick(UAS))


def nginx_access_section(out, fmt, start, count):
    clock = Clock(start)
    for _ in range(count):
        a, r = ip(), R.random()
        if r < 0.45:
            msg = access_line(a, pick(BOT_PATHS), pick([404, 404, 404, 200, 301, 403]))
        elif r < 0.85:
            msg = access_line(a, pick(OK_PATHS), pick([200, 200, 304, 404, 401]))
        elif r < 0.92:
            msg = '%s - - [{DATE}] "\\x16\\x03\\x01\\x00\\xF1\\x01" 400 157 "-" "-"' % a
        else:
            msg = '%s - - [{DATE}] "%s" 404 0 "-" %s' % (
                a, pick(["GET /wp-login.php", "GET /a b HTTP/1.1", "PROPFIND / HTTP/1.1",
                             "GET http://example.net/wp-login.php HTTP/1.1",
                             "-", "GET /%s HTTP/1.1" % ("A" * 3000)]), pick(UAS))
        out.append(msg.replace("{DATE}", fmt(clock.tick(3))).encode())


def nginx_access_log():
    out = []
    nginx_access_section(out, lambda t: t.strftime("%d/%b/%Y:%H:%M:%S +0100"),
                         dt.datetime(2025, 3, 3, 10, 0, 0), 250)
    nginx_access_section(out, lambda t: t.strftime("%Y-%m-%dT%H:%M:%S+02:00"),
                         dt.datetime(2025, 7, 7, 7, 0, 0), 60)
    nginx_access_section(out, lambda t: t.strftime("%d/%b/%Y:%H:%M:%S.") + "%03d -0500"
                         % (t.microsecond // 1000), dt.datetime(2025, 9, 9, 9, 0, 0), 30)
    out.append('198.51.100.3 - - [03/Mar/2025:10:00:01 +0100] "GET /wp-login.php HTTP/1.1" 404 '
               '162 "-" "Mozilla/5.0 (Windows NT 10.0) %s"' % ("Z" * 4000))
    out.append(b'198.51.100.3 - m\xfcller [03/Mar/2025:10:00:02 +0100] "GET /phpmyadmin/ '
               b'HTTP/1.1" 404 162 "-" "-"')
    out.append('2001:db8::1 - - [03/Mar/2025:10:00:03 +0100] "HEAD /roundcube/ HTTP/1.1" 404 0 '
               '"-" "-"')
    out.append('example.com:443 203.0.113.5 - - [03/Mar/2025:10:00:04 +0100] "GET '
               '/wp-login.php HTTP/1.1" 404 162 "-" "-"')
    out.append('203.0.113.5 - - [03/Mar/2025:10:00:05 +0100] "GET /wp-login.php HTTP/1.1" 404 '
               '162 "https://example.com/[10/Oct/2020:10:10:10 +0000]" "-"')
    out.append('10.9.8.7 - 192.0.2.1 [03/Mar/2025:10:00:06 +0100] "POST /wp-login.php '
               'HTTP/1.1" 404 162 "-" "-"')
    out.append('203.0.113.5 - - "GET /wp-login.php HTTP/1.1" 404 162 "-" "-"')
    return out


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "testdata/regex"
    os.makedirs(outdir, exist_ok=True)
    for name, make in (("sshd", sshd_log), ("postfix", postfix_log), ("dovecot", dovecot_log),
                       ("nginx-error", nginx_error_log), ("nginx-access", nginx_access_log)):
        write(os.path.join(outdir, "realistic-%s.log" % name), make())


if __name__ == "__main__":
    main()
