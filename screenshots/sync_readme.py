#!/usr/bin/env python3
"""Copies the generated examples in screenshots/ into the README, between the markers
<!-- generated:FILE --> and <!-- /generated:FILE -->, so the README shows real output.
findings.txt is cut after its first notice to keep the README short."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
readme = root / "README.md"
text = readme.read_text()


def excerpt(name: str, body: str) -> str:
    if name != "findings.txt":
        return body
    lines = body.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("NOTICE"):
            return "\n".join(lines[: i + 1] + ["  ..."])
    return body


def replace(match: re.Match) -> str:
    name, lang = match.group(1), match.group(2)
    body = (root / "screenshots" / name).read_text().rstrip("\n")
    body = excerpt(name, body)
    return f"<!-- generated:{name} -->\n```{lang}\n{body}\n```\n<!-- /generated:{name} -->"


new, n = re.subn(
    r"<!-- generated:([\w.-]+) -->\n```(\w*)\n.*?\n```\n<!-- /generated:\1 -->",
    replace,
    text,
    flags=re.S,
)
if n == 0:
    sys.exit("no generated blocks found in README.md")
readme.write_text(new)
print(f"README.md: {n} generated blocks updated")
