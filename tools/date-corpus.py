#!/usr/bin/python3
"""Dump the date side of fail2ban's sample corpus for fail2zig's date test.

Walks fail2ban's own sample logs (fail2ban/tests/files/logs) the way its failJSON harness does
(fileOptions, filterOptions, addFILE, test.condition, constraint) and prints one JSON record per
evaluated line, in order:
  {"engine": key, "datepattern": str|null, "journal": bool, "line": str, "want": float|null}
"want" is the failJSON "time" of a matching sample, converted like the harness does (local naive
time, mktime under the caller's TZ, plus the fraction). The datepattern comes from fail2ban's own
FilterReader. Nothing of fail2ban is copied; it is imported and driven at test time.
"""
import datetime
import json
import os
import re
import sys
import time

import fail2ban
from fail2ban.client.filterreader import FilterReader

PKG = os.path.dirname(fail2ban.__file__)
LOGS = os.path.join(PKG, "tests", "files", "logs")
TEST_CONFIG = os.path.join(PKG, "tests", "config")
CONFIG = os.environ.get("FAIL2BAN_CONFIG_DIR") or "/etc/fail2ban"


def datepattern(name, basedir, opts):
    reader = FilterReader(name, "jail", dict(opts), basedir=basedir)
    try:
        reader.read()
        reader.getOptions({})
    except Exception:
        # The test filters include common.conf by a source-tree path that an installed package
        # lacks: read their (interpolation-free) datepattern directly.
        import configparser
        raw = configparser.RawConfigParser(inline_comment_prefixes=(";",))
        raw.read(os.path.join(basedir, "filter.d", name + ".conf"))
        dp = raw.get("Definition", "datepattern", fallback=None)
        return dp.replace("%%", "%") if dp is not None else None
    dp = None
    for opt in reader.convert():
        if opt[0] == "set" and opt[2] == "datepattern":
            dp = opt[3]
    return dp


def want_time(s):
    if s is None:
        return None
    frac = 0.0
    if "." in s:
        s, f = s.split(".")
        frac = float("0." + f)
    t = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S")
    return time.mktime(t.timetuple()) + frac


def tests():
    out = []
    for f in sorted(os.listdir(os.path.join(CONFIG, "filter.d"))):
        if f.endswith(".conf") and not f.endswith("common.conf"):
            out.append((f[:-5], CONFIG))
    for f in sorted(os.listdir(os.path.join(TEST_CONFIG, "filter.d"))):
        if f.startswith("zzz-") and f.endswith(".conf"):
            out.append((f[:-5], TEST_CONFIG))
    return out


def walk(name, basedir):
    if not os.path.isfile(os.path.join(LOGS, name)):
        return
    files = [name]
    common = {}
    engines = {}
    current = []
    ignore = False
    i = 0

    def engine(opts):
        fopts = {k: v for k, v in opts.items() if not k.startswith("test.")}
        key = opts.get("test.filter-name") or (str(fopts) if fopts else "")
        key = name + key
        if key not in engines:
            engines[key] = datepattern(name, basedir, fopts)
        return key

    while i < len(files):
        with open(os.path.join(LOGS, files[i]), encoding="utf-8", errors="replace") as fh:
            lines = [l.rstrip("\r\n") for l in fh]
        i += 1
        it = iter(lines)
        for line in it:
            m = re.match(r"^#+ ?(failJSON|(?:file|filter)Options|addFILE):(.+)$", line)
            data = {}
            if m:
                data = json.loads(m.group(2))
                kind = m.group(1)
                if kind == "fileOptions":
                    common = data
                    continue
                if kind == "filterOptions":
                    current = []
                    ignore = False
                    for d in data if isinstance(data, list) else [data]:
                        opts = dict(common)
                        opts.update(d)
                        if opts.get("test.condition"):
                            ignore = not eval(opts["test.condition"], {"name": name})
                        if not ignore:
                            current.append((engine(opts), opts))
                    continue
                if kind == "addFILE":
                    files.append(data)
                    continue
                line = next(it, None)
                if line is None:
                    break
            elif ignore or line.startswith("#") or not line.strip():
                continue
            if ignore:
                continue
            if not current:
                current = [(engine({}), {})]
            for key, opts in current:
                c = data.get("constraint")
                if c and not eval(c, {"name": name, "opts": opts}):
                    continue
                journal = opts.get("logtype") == "journal"
                text = (opts.get("test.prefix-line") or "") + line if journal else line
                want = want_time(data.get("time")) if data.get("match") else None
                print(json.dumps({"test": name, "engine": "%s|%s" % (name, key),
                                  "datepattern": engines[key], "journal": journal,
                                  "line": text, "want": want}))


for name, basedir in tests():
    walk(name, basedir)
