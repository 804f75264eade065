#!/usr/bin/env python3
"""Checks the page a headless browser rendered from vram-opt --html.

Usage: check_html.py REPORT.json DOM.html BROWSER.log [SORTED_DOM.html]

REPORT.json is the JSON report of the same run, DOM.html the page after its
script ran (chromium --dump-dom), BROWSER.log the browser's stderr with
--enable-logging=stderr (console messages are its "CONSOLE" lines),
SORTED_DOM.html the page opened with #sort=bytes:desc. Prints:
  status: ok                        (the body's data-status set by the script)
  console messages: N
  peak: page P B, JSON J B: same    (or "differ")
  peak label: peak 1.50 MiB         (the chart's mark)
  node rows: page R, JSON nodes with bytes K: same
  sorted by bytes, descending: yes  (with SORTED_DOM.html)
"""
import html.parser
import json
import re
import sys


class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.status = None
        self.peak_bytes = None
        self.peak_label = ""
        self.in_label = False
        self.in_nodes = False
        self.node_rows = 0
        self.bytes_col = []  # data-key of the 5th cell of each node row
        self.cell = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.status = a.get("data-status")
        if a.get("id") == "peak-bytes":
            self.peak_bytes = a.get("data-bytes")
        if a.get("id") == "peak-label":
            self.in_label = True
        if tag == "table" and a.get("id") == "nodes":
            self.in_nodes = True
        if self.in_nodes and tag == "tr":
            self.cell = 0
        if self.in_nodes and tag == "td":
            self.cell += 1
            if self.cell == 1:
                self.node_rows += 1
            if self.cell == 5:
                self.bytes_col.append(int(a.get("data-key")))

    def handle_endtag(self, tag):
        if tag == "text":
            self.in_label = False
        if tag == "table":
            self.in_nodes = False

    def handle_data(self, data):
        if self.in_label:
            self.peak_label += data


def parse(path):
    d = Dom()
    with open(path, encoding="utf-8") as f:
        d.feed(f.read())
    return d


def main():
    report = json.load(open(sys.argv[1]))
    dom = parse(sys.argv[2])
    log = open(sys.argv[3], encoding="utf-8", errors="replace").read()
    print("status: %s" % dom.status)
    print("console messages: %d" % len(re.findall(r":CONSOLE[:(]", log)))
    page, want = dom.peak_bytes, report["peak"]["bytes"]
    print("peak: page %s B, JSON %d B: %s" %
          (page, want, "same" if page == str(want) else "differ"))
    print("peak label: %s" % dom.peak_label.strip())
    with_bytes = sum(1 for n in report["nodes"] if n["saved_bytes"])
    print("node rows: page %d, JSON nodes with bytes %d: %s" %
          (dom.node_rows, with_bytes,
           "same" if dom.node_rows == with_bytes else "differ"))
    if len(sys.argv) > 4:
        keys = parse(sys.argv[4]).bytes_col
        ok = keys == sorted(keys, reverse=True) and len(keys) == with_bytes
        print("sorted by bytes, descending: %s" % ("yes" if ok else "no"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
