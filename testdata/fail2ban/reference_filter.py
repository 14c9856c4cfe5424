#!/usr/bin/python3
"""Reference side of the fail2ban reader tests: resolve filters with the installed fail2ban.

Usage:
  reference_filter.py BASEDIR              every filter.d/*.conf in every option set it offers
  reference_filter.py BASEDIR SPEC...      the given specs ("name" or "name[k=v, ...]")

Prints one JSON object per line: {"name", "options", "result"} where result is the canonical
form of the set-command stream FilterReader.convert() produces, or {"error": text}.
"""
import glob
import json
import os
import re
import shlex
import sys

from fail2ban.client.filterreader import FilterReader
from fail2ban.helpers import extractOptions


def canonical(stream):
    out = {"prefregex": None, "maxlines": None, "failregex": [], "ignoreregex": [],
           "datepattern": None, "journalmatch": [], "usedns": None}
    for cmd in stream:
        kind, _jail, opt = cmd[0], cmd[1], cmd[2]
        args = cmd[3:]
        if opt in ("addfailregex", "addignoreregex"):
            key = opt[3:]
            out[key] += args[0] if kind == "multi-set" else [args[0]]
        elif opt == "addjournalmatch":
            out["journalmatch"].append(list(args))
        else:
            out[opt] = args[0]
    return out


def resolve(base, name, opts):
    try:
        r = FilterReader(name, "j", dict(opts), basedir=base)
        if not r.read():
            return {"error": "not found"}
        if not r.has_section("Definition"):
            return {"error": "no [Definition]"}
        r.getOptions({})
        return canonical(r.convert())
    except Exception as e:  # the reference failing is a result too
        return {"error": "%s: %s" % (type(e).__name__, e)}


def option_sets(base, name):
    """{} plus every single value of mode/logging/logtype/publickey the filter defines."""
    r = FilterReader(name, "j", {}, basedir=base)
    if not r.read() or not r.has_section("Definition"):
        return [{}]
    cfg = r._cfg
    names = set(cfg.get_defaults())
    for sec in cfg.sections():
        names.update(cfg.get_sections()[sec])
    found = {"mode": set(), "logging": set(), "logtype": set(), "publickey": set()}
    for n in names:
        for key, pat in (("mode", r"^md(?:re|pr)-([a-z0-9]+)$"),
                         ("logging", r"^apache-prefix-([a-z]+)$"),
                         ("publickey", r"^cmnfailre-failed-pub-(\w+)$")):
            m = re.match(pat, n)
            if m:
                found[key].add(m.group(1))
    for sec in cfg.sections():
        m = re.match(r"^L_(\w+)$", sec)
        if m:
            found["logging"].add(m.group(1))
        m = re.match(r"^lt_(\w+)$", sec)
        if m:
            found["logtype"].add(m.group(1))
    sets = [{}]
    for key in sorted(found):
        for v in sorted(found[key]):
            sets.append({key: v})
    return sets


def main():
    base = sys.argv[1]
    if len(sys.argv) > 2:
        for spec in sys.argv[2:]:
            try:
                name, opts = extractOptions(spec)
            except ValueError as e:
                print(json.dumps({"name": spec, "options": {}, "result": {"error": str(e)}}))
                continue
            print(json.dumps({"name": name, "options": opts, "result": resolve(base, name, opts)}))
        return
    for path in sorted(glob.glob(os.path.join(base, "filter.d", "*.conf"))):
        name = os.path.basename(path)[:-5]
        for opts in option_sets(base, name):
            print(json.dumps({"name": name, "options": opts, "result": resolve(base, name, opts)}))


main()
