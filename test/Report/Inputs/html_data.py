#!/usr/bin/env python3
"""Checks the page vram-opt --html writes, without a browser.

Usage: html_data.py REPORT.html REPORT.json

Prints:
  embedded data: K keys of the JSON report, all equal   (or the first that differs)
  timeline steps: N
  external references: none                             (or each one)
"""
import json
import re
import sys


def main():
    page = open(sys.argv[1], encoding="utf-8").read()
    report = json.load(open(sys.argv[2]))
    m = re.search(r'<script type="application/json" id="vram-data">(.*?)</script>',
                  page, re.S)
    data = json.loads(m.group(1))
    differ = [k for k in sorted(report) if data.get(k) != report[k]]
    if differ:
        print("embedded data: %r differs from the JSON report" % differ[0])
    else:
        print("embedded data: %d keys of the JSON report, all equal" % len(report))
    print("timeline steps: %d" % len(data["timeline"]["steps"]))
    # Anything a browser would fetch: URLs (but the SVG namespace, a name),
    # src/href attributes, style sheet imports and url() references.
    refs = set(re.findall(r"[a-z]+://[^\s\"'<>)]+", page))
    refs.discard("http://www.w3.org/2000/svg")
    refs |= set(re.findall(r"\b(?:src|href)\s*=", page))
    refs |= set(re.findall(r"@import|url\(|<link\b|<iframe\b|<img\b", page))
    print("external references: %s" % (", ".join(sorted(refs)) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
