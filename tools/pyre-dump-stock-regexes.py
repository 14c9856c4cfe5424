#!/usr/bin/python3
"""Print every resolved regex of every stock fail2ban filter, as fail2ban itself builds them.

Uses the installed fail2ban's own API (FilterReader for reading and interpolation,
failregex.Regex for tag expansion and the global-to-local flag rewrite). Filters: every
filter.d/*.conf of the config dir that does not end in common.conf, plus the test suite's
zzz-*.conf. Each is read once per mode (the default `mode` plus every mode named by an
`mdre-<mode>` / `mdpr-<mode>` option) and per logtype (file, journal, short, rfc5424).

Output: JSON lines {"filter", "mode", "logtype", "kind" (prefregex|failregex|ignoreregex),
"multiline" (bool, failregex with maxlines > 1), "regex" (the final Python pattern)},
distinct by (kind, multiline, regex); a test-suite zzz filter that fail2ban cannot read
gives {"filter", "unreadable": reason}. Nothing of fail2ban is copied; run it at test time.
Usage: tools/pyre-dump-stock-regexes.py [--only FILTER[:MODE[:LOGTYPE]]] [CONFIG_DIR]
(default /etc/fail2ban). --only prints one filter/mode/logtype, in fail2ban's order, with
duplicates, so the output is that filter's regex list (for benchmarks).
"""
import atexit
import glob
import json
import os
import re
import shutil
import sys
import tempfile

import fail2ban
from fail2ban.client.filterreader import FilterReader
from fail2ban.server.failregex import Regex

LOGTYPES = ["file", "journal", "short", "rfc5424"]


def filters(config_dir):
    out = []
    for path in sorted(glob.glob(os.path.join(config_dir, "filter.d", "*.conf"))):
        name = os.path.basename(path)[:-5]
        if not name.endswith("common"):
            out.append((config_dir, name))
    # The test filters include "../../../../../../../config/filter.d/common.conf", a path of
    # fail2ban's source tree: give them a directory (of symlinks) where it resolves.
    test_dir = os.path.join(os.path.dirname(fail2ban.__file__), "tests", "config")
    tmp = tempfile.mkdtemp(prefix="pyre-stock-")
    atexit.register(shutil.rmtree, tmp)
    os.symlink(os.path.abspath(config_dir), os.path.join(tmp, "config"))
    base = os.path.join(tmp, "1", "2", "3", "4", "5", "6")
    os.makedirs(os.path.join(base, "filter.d"))
    for path in sorted(glob.glob(os.path.join(test_dir, "filter.d", "zzz-*.conf"))):
        os.symlink(path, os.path.join(base, "filter.d", os.path.basename(path)))
        out.append((base, os.path.basename(path)[:-5]))
    return out


def reader(base, name, opts):
    r = FilterReader(name, "pyre", opts, share_config={}, basedir=base)
    if not r.read():
        raise SystemExit("cannot read filter %s in %s" % (name, base))
    r.getOptions({})
    return r


def modes(base, name):
    r = reader(base, name, {})
    found = set()
    for sect in ("Definition", "Init"):
        if not r.has_section(sect):
            continue
        for key in r.options(sect):
            m = re.match(r"^md(?:re|pr)-([^-]+)", key)
            if m:
                found.add(m.group(1))
            if key == "mode":
                found.add(r.get(sect, key))
    return sorted(found) or [None]


def main():
    args = sys.argv[1:]
    only = None
    if args[:1] == ["--only"]:
        only = (args[1].split(":") + [None, None])[:3]
        args = args[2:]
    config_dir = args[0] if args else "/etc/fail2ban"
    seen = set()
    for base, name in filters(config_dir):
        if only and name != only[0]:
            continue
        try:
            found = modes(base, name)
        except Exception as e:  # a test-suite filter fail2ban itself cannot read
            if not name.startswith("zzz-"):
                raise
            print(json.dumps({"filter": name, "unreadable": str(e).splitlines()[0]}))
            continue
        if only and only[1]:
            found = [only[1]]
        for mode in found:
            for logtype in [only[2] or "file"] if only else LOGTYPES:
                opts = {"logtype": logtype}
                if mode is not None:
                    opts["mode"] = mode
                stream = reader(base, name, opts).convert()
                maxlines = 1
                for cmd in stream:
                    if cmd[2] == "maxlines":
                        maxlines = int(cmd[3])
                for cmd in stream:
                    kind = cmd[2]
                    if kind not in ("prefregex", "addfailregex", "addignoreregex"):
                        continue
                    kind = kind.replace("add", "")
                    values = cmd[3] if cmd[0] == "multi-set" else [cmd[3]]
                    multiline = kind == "failregex" and maxlines > 1
                    for value in values:
                        final = Regex(value, multiline=multiline, useDns="warn")._regex
                        key = (kind, multiline, final)
                        if key in seen and not only:
                            continue
                        seen.add(key)
                        print(json.dumps({"filter": name, "mode": mode, "logtype": logtype,
                                          "kind": kind, "multiline": multiline, "regex": final}))


if __name__ == "__main__":
    main()
