#!/usr/bin/python3
"""Fill in the expected results of a fail2zig date case file from the installed fail2ban 1.0.2.

Usage: tools/date-cases.py testdata/date/NAME.cases   (rewrites the file in place)

A case file starts with `#` header lines:
  # datepattern: LINE     (repeatable; none = fail2ban's default templates)
  # timezone: TZ          (logtimezone / --timezone; optional)
  # tz: VALUE             (the process TZ: zoneinfo name or POSIX string)
  # now: EPOCH            (the engine clock)
then one case per line, tab-separated:  TIME <TAB> DATE TEXT <TAB> TEMPLATE <TAB> LOG LINE
TIME is Python's repr of the time, or `invalid` (ValueError: cut, no date), `abort` (the line is
aborted), `empty` (empty date span) or `none` (no template matched). A draft line may hold only
the log line; this tool computes the other columns with fail2ban's own DateDetector, which the
Rust test then checks against fail2zig without running Python.
"""
import os
import re
import subprocess
import sys

path = sys.argv[1]
header, cases = [], []
with open(path, encoding="utf-8") as fh:
    for raw in fh:
        raw = raw.rstrip("\n")
        if raw.startswith("#"):
            header.append(raw)
        elif raw:
            cases.append(raw.split("\t")[-1])

opts = {"datepattern": [], "timezone": None, "tz": "CET-01CEST-02,M3.5.0,M10.5.0", "now": 1124013600}
for h in header:
    m = re.match(r"^# (datepattern|timezone|tz|now): (.*)$", h)
    if m:
        k, v = m.groups()
        if k == "datepattern":
            opts[k].append(v)
        else:
            opts[k] = v
job = {
    "datepattern": "\n".join(opts["datepattern"]) if opts["datepattern"] else None,
    "timezone": opts["timezone"],
    "now": float(opts["now"]),
    "lines": cases,
}
import json
ref = os.path.join(os.path.dirname(os.path.abspath(__file__)), "date-reference.py")
out = subprocess.run(["/usr/bin/python3", ref], input=json.dumps(job) + "\n", capture_output=True,
                     text=True, env=dict(os.environ, TZ=opts["tz"]), check=True).stdout
res = json.loads(out)["results"]
with open(path, "w", encoding="utf-8") as fh:
    for h in header:
        fh.write(h + "\n")
    for line, r in zip(cases, res):
        if r["template"] is None:
            fh.write("none\t\t\t%s\n" % line)
            continue
        s, e = r["span"]
        text = line.encode()[s:e].decode()
        t = r["time"] or r["error"] or ("empty" if s == e else "?")
        if r["error"] == "value":
            t = "invalid"
        fh.write("%s\t%s\t%s\t%s\n" % (t, text, r["template"], line))
