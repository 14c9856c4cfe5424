#!/usr/bin/python3
"""Reference dates from the installed fail2ban 1.0.2 (its own DateDetector), for fail2zig tests.

Reads one JSON object per stdin line:
  {"datepattern": str|null, "timezone": str|null, "now": float, "lines": [str, ...]}
and prints, per object, one JSON array with one entry per line:
  {"template": name|null, "span": [start, end] (UTF-8 byte offsets), "time": repr|null,
   "error": null|"value"|"abort"}
The caller sets TZ. Nothing of fail2ban is copied: it is imported and driven at test time.
"""
import json
import re
import sys

from fail2ban.server.datedetector import DateDetector
from fail2ban.server.mytime import MyTime


def run(job):
    MyTime.setTime(job["now"])
    dd = DateDetector()
    dd.default_tz = job.get("timezone")
    dp = job.get("datepattern")
    if dp is not None:
        for p in filter(bool, map(str.strip, re.split("\n+", dp))):
            dd.appendTemplate(p)
    out = []
    for line in job["lines"]:
        rec = {"template": None, "span": None, "time": None, "error": None}
        try:
            m, tpl = dd.matchTime(line)
        except Exception as e:  # pragma: no cover - reported, compared
            rec["error"] = "crash:%s" % type(e).__name__
            out.append(rec)
            continue
        if m:
            s, e = m.start(1), m.end(1)
            rec["template"] = tpl.name
            rec["span"] = [len(line[:s].encode()), len(line[:e].encode())]
            if line[s:e]:
                try:
                    d = dd.getTime(line[s:e], (m, tpl))
                    if d is None:
                        rec["error"] = "value"
                    else:
                        rec["time"] = repr(d[0])
                except Exception:
                    rec["error"] = "abort"
        out.append(rec)
    stats = [[t.name, t.hits, t.template.regex, t.template.weight] for t in dd.templates]
    return {"results": out, "stats": stats}


for raw in sys.stdin:
    if raw.strip():
        print(json.dumps(run(json.loads(raw))), flush=True)
