#!/usr/bin/env python3
"""Python `re` as a test oracle for fail2zig's pyre module.

Reads JSON lines from stdin, one request each:
  {"re": PATTERN, "flags": "ims" (any of i, m, s), "hay": TEXT, "pos": P, "endpos": E}
(pos/endpos optional, byte offsets). Writes one JSON line per request:
  {"groups": [[start, end] | null, ...]}   byte offsets of group 0..n of pattern.search
  {"groups": null}                         no match
  {"error": "message"}                     re.compile failed
Compiled patterns are cached. Used by tests/pyre_python.rs and tools/pyre-cases.py.

With --bulk, stdin is one JSON object {"regexes": [[PATTERN, FLAGS], ...], "lines": [TEXT, ...]}
and every pattern is searched in every text; output is one JSON line per match,
[regex_index, line_index, groups], and [regex_index, "error", message] per pattern that
does not compile.
"""
import json
import re
import sys

FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}
cache = {}


def char_index(hay, byte_off):
    return len(hay.encode("utf-8")[:byte_off].decode("utf-8", "ignore"))


def answer(req):
    key = (req["re"], req.get("flags", ""))
    if key not in cache:
        flags = 0
        for f in key[1]:
            flags |= FLAGS[f]
        try:
            cache[key] = re.compile(key[0], flags)
        except (re.error, OverflowError, RecursionError, ValueError) as e:
            cache[key] = str(e)
    pat = cache[key]
    if isinstance(pat, str):
        return {"error": pat}
    hay = req["hay"]
    blen = len(hay.encode("utf-8"))
    pos = char_index(hay, req.get("pos", 0))
    endpos = char_index(hay, req.get("endpos", blen))
    m = pat.search(hay, pos, endpos)
    if m is None:
        return {"groups": None}
    groups = []
    for i in range(pat.groups + 1):
        s, e = m.span(i)
        if s < 0:
            groups.append(None)
        else:
            groups.append([len(hay[:s].encode("utf-8")), len(hay[:e].encode("utf-8"))])
    return {"groups": groups}


def bulk():
    req = json.load(sys.stdin)
    out = sys.stdout
    lines = req["lines"]
    for ri, (pattern, flags) in enumerate(req["regexes"]):
        for li, hay in enumerate(lines):
            ans = answer({"re": pattern, "flags": flags, "hay": hay})
            if "error" in ans:
                out.write(json.dumps([ri, "error", ans["error"]]) + "\n")
                break
            if ans["groups"] is not None:
                out.write(json.dumps([ri, li, ans["groups"]]) + "\n")
    out.flush()


def main():
    if sys.argv[1:] == ["--bulk"]:
        bulk()
        return
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        out.write(json.dumps(answer(json.loads(line))) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
