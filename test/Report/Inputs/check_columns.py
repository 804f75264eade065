#!/usr/bin/env python3
"""Checks that the columns of one table of a text report are aligned.

Usage: check_columns.py TITLE COLUMN:ALIGN ... < report

TITLE is the line that precedes the table (e.g. "Layers"); the next line is
the heading, and the rows follow up to the first empty line. Each COLUMN is a
heading word, ALIGN L (left-aligned: every non-empty cell starts where the
heading starts) or R (right-aligned: every cell ends where the heading
ends). Lines indented deeper than the heading's first column (notes under a
row) are skipped. Prints "TITLE: N rows aligned, widest W" or the first
misaligned row, and exits 1 on it.
"""
import sys


def main():
    title, specs = sys.argv[1], [a.split(":") for a in sys.argv[2:]]
    lines = sys.stdin.read().split("\n")
    try:
        start = lines.index(title) + 1
    except ValueError:
        print("%s: table not found" % title)
        return 1
    heading = lines[start]
    # Each column's start and end in the heading.
    cols, pos = [], 0
    for name, align in specs:
        begin = heading.find(name, pos)
        if begin < 0:
            print("%s: no column %r in %r" % (title, name, heading))
            return 1
        cols.append((name, align, begin, begin + len(name)))
        pos = begin + len(name)
    indent = cols[0][2]
    rows, widest = 0, len(heading)
    for line in lines[start + 1:]:
        if not line:
            break
        widest = max(widest, len(line))
        if len(line) - len(line.lstrip(" ")) > indent:
            continue  # a note under a row
        rows += 1
        padded = line.ljust(max(len(line), len(heading)) + 1)
        for name, align, begin, end in cols:
            blank = padded[begin:end].strip() == ""
            if align == "L":
                ok = (begin == indent or padded[begin - 1] == " ") and \
                     (padded[begin] != " " or blank)
            else:
                ok = padded[end] == " " and (padded[end - 1] != " " or blank)
            if not ok:
                print("%s: column %r misaligned in row %r" % (title, name, line))
                return 1
    print("%s: %d rows aligned, widest %d" % (title, rows, widest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
