#!/usr/bin/env python3
"""Writes data/fortunes-topics/fortunes-topics.tsv for multiclass topic classification: from four clearly distinct,
inoffensive categories of Debian's `fortunes` package (computers, food, law, sports), the first 100 quotations of
each category of at most 300 characters after collapsing white space, one per line as `Topic<TAB>Text`, in file order.

Source: Debian 12 `fortunes` 1:1.99.1-7.3 (BSD), fetched with `apt-get download fortunes` and unpacked with
`dpkg-deb -x`; the category files are /usr/share/games/fortunes/<category>.u8.
Usage: make-fortunes-topics.py FORTUNES_DIR OUTPUT.tsv
Standard library only; deterministic."""
import os
import re
import sys

TOPICS = ["computers", "food", "law", "sports"]
PER_TOPIC = 100
MAX_CHARS = 300


def main(source, target):
    rows = []
    for topic in TOPICS:
        with open(os.path.join(source, topic + ".u8"), encoding="utf-8") as f:
            blocks = re.split(r"^%\n", f.read(), flags=re.M)
        quotes = [re.sub(r"\s+", " ", b).strip() for b in blocks]
        quotes = [q for q in quotes if q and len(q) <= MAX_CHARS][:PER_TOPIC]
        rows.extend((topic, q) for q in quotes)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w", encoding="utf-8", newline="\n") as f:
        for topic, quote in rows:
            f.write(f"{topic}\t{quote}\n")
    print(f"{len(rows)} quotations -> {target}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
