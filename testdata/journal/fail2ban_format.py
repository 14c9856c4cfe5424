# Renders `journalctl -o json` lines with the installed fail2ban 1.0.2's own
# FilterSystemd.formatJournalEntry (python-systemd is not installed: a stub module stands in for
# it and the values are converted as its Reader converts them). Output per entry: JSON
# [date text, line, time]. Used by tests/journal_fail2ban.rs; run with /usr/bin/python3.
import sys, types, json, datetime
journal = types.ModuleType("systemd.journal")
journal.LOCAL_ONLY = 1; journal.RUNTIME_ONLY = 2; journal.SYSTEM_ONLY = 4; journal.CURRENT_USER = 8
journal.Reader = object; journal.__version__ = "252"
sd = types.ModuleType("systemd"); sd.journal = journal
sys.modules["systemd"] = sd; sys.modules["systemd.journal"] = journal
from fail2ban.server.filtersystemd import FilterSystemd
class Dummy:
    jailName = "t"
    def getLogEncoding(self): return "UTF-8"
    def getJrnEntTime(self, e): return FilterSystemd.getJrnEntTime(self, e)
def conv(k, v):
    if isinstance(v, list) and v and isinstance(v[0], int): v = bytes(v)
    if isinstance(v, bytes):
        try: v = v.decode()
        except UnicodeDecodeError: return v
    try:
        if k in ("_PID", "SYSLOG_PID"): return int(v)
        if k in ("__REALTIME_TIMESTAMP", "_SOURCE_REALTIME_TIMESTAMP"): return datetime.datetime.fromtimestamp(int(v) / 1e6)
        if k == "_SOURCE_MONOTONIC_TIMESTAMP": return datetime.timedelta(microseconds=int(v))
        if k == "__MONOTONIC_TIMESTAMP": return (datetime.timedelta(microseconds=int(v)), None)
    except ValueError:
        pass
    return v
for line in sys.stdin:
    raw = json.loads(line)
    e = {}
    for k, v in raw.items():
        if isinstance(v, list) and v and not isinstance(v[0], int):
            e[k] = [conv(k, x) for x in v]
        else:
            e[k] = conv(k, v)
    (p, d, text), t = FilterSystemd.formatJournalEntry(Dummy(), e)
    print(json.dumps([d, text, t]))
