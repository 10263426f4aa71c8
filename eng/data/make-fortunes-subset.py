#!/usr/bin/env python3
"""Writes data/fortunes/fortunes.tsv: the short quotations of a few clearly distinct, inoffensive categories of
Debian's `fortunes` package, one per line as `Category<TAB>Text`, whitespace (newlines, tabs, runs of spaces)
collapsed to single spaces, in file order. Short = at most 200 characters after collapsing.

Usage: python3 eng/data/make-fortunes-subset.py "$(eng/data/fetch-fortunes.sh)" data/fortunes/fortunes.tsv
"""
import os
import re
import sys

CATEGORIES = ["computers", "science", "politics", "law", "food", "education", "sports", "love", "work", "wisdom", "medicine", "art"]
MAX_CHARS = 200


def quotations(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for block in re.split(r"^%\n", text, flags=re.M):
        collapsed = re.sub(r"\s+", " ", block).strip()
        if collapsed:
            yield collapsed


def main(source, target):
    rows = []
    for category in CATEGORIES:
        for quote in quotations(os.path.join(source, category + ".u8")):
            if len(quote) <= MAX_CHARS:
                rows.append((category, quote))
    with open(target, "w", encoding="utf-8", newline="\n") as f:
        f.write("Category\tText\n")
        for category, quote in rows:
            f.write(f"{category}\t{quote}\n")
    print(f"{len(rows)} quotations written to {target}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
