#!/usr/bin/python3
"""Reference side of the jail reader test: every jail of BASEDIR read by the installed fail2ban.

Usage: reference_jails.py BASEDIR

Prints one JSON object per jail section, in order: {"jail", "filter", "options", "actions"} in
a canonical form of the command stream JailReader.convert() produces (every jail forced enabled,
log files not required), or {"jail", "error"}.
"""
import json
import sys

from fail2ban.client.jailreader import JailReader
from fail2ban.client.configreader import ConfigReader

FILTER_CMDS = {"prefregex", "maxlines", "addfailregex", "addignoreregex", "datepattern",
               "addjournalmatch", "usedns"}


def canonical(stream):
    flt = {"prefregex": None, "maxlines": None, "failregex": [], "ignoreregex": [],
           "datepattern": None, "journalmatch": [], "usedns": None}
    options = {}
    actions = []
    for cmd in stream:
        if cmd[0] == "add":
            continue
        kind, opt, args = cmd[0], cmd[2], cmd[3:]
        if opt in ("addfailregex", "addignoreregex"):
            flt[opt[3:]] += args[0] if kind == "multi-set" else [args[0]]
        elif opt == "addjournalmatch":
            flt["journalmatch"].append(list(args))
        elif opt in FILTER_CMDS:
            flt[opt] = args[0]
        elif opt == "addlogpath":
            continue
        elif opt == "addaction":
            if len(args) > 1:
                actions.append({"actname": args[0], "python": True, "props": {}})
            else:
                actions.append({"actname": args[0], "python": False, "props": {}})
        elif opt == "action":
            props = args[1] if kind == "multi-set" else [args[1:]]
            actions[-1]["props"] = {k: v for k, v in props}
        elif opt == "addignoreip":
            options["ignoreip"] = list(args)
        else:
            options[opt] = args[0]
    return flt, options, actions


def main():
    base = sys.argv[1]
    share = {}
    names = ConfigReader(share_config=share, basedir=base)
    names.read("jail")
    for name in names.sections():
        if name == "INCLUDES":
            continue
        try:
            r = JailReader(name, force_enable=True, share_config=share, basedir=base)
            r.read()
            if not r.getOptions():
                print(json.dumps({"jail": name, "error": r.options.get("config-error", "?")}))
                continue
            flt, options, actions = canonical(r.convert(allow_no_files=True))
            print(json.dumps({"jail": name, "filter": flt, "options": options, "actions": actions}))
        except Exception as e:
            print(json.dumps({"jail": name, "error": "%s: %s" % (type(e).__name__, e)}))


main()
