#!/usr/bin/env python3
"""Fill or check the "expect" field of testdata/pyre/*.jsonl with Python's own `re` result.

Each line: {"re": PATTERN, "flags": "ims", "hay": TEXT, "pos": P?, "endpos": E?, "expect": ...}
"expect" is the oracle answer (see tools/pyre-oracle.py): a list of byte spans, null for no
match, or "error". Usage: tools/pyre-cases.py FILE... (rewrites the files in place).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
oracle = __import__("pyre-oracle")

for path in sys.argv[1:]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                out.append(line.rstrip("\n"))
                continue
            case = json.loads(line)
            case.pop("expect", None)
            ans = oracle.answer(case)
            case["expect"] = "error" if "error" in ans else ans["groups"]
            out.append(json.dumps(case, ensure_ascii=False))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
