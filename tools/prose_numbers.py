#!/usr/bin/env python3
"""Find numbers typed by hand into the prose of the book's MyST Markdown chapters.

Every result in the book (a loss, a count, a probability, a hyperparameter, a timing) is pasted
from execution with myst-nb glue, so that the text can never drift from what the code printed.
This script reads the prose of each `.md` file and lists every number that looks typed: a
decimal (`2.45`), an integer of three or more digits (`32033`, `32,033`) that is not a year
nor part of a name (`SHA-256`), scientific notation (`1e-3`), and a number with a multiplier
(`200k`, `1.5M`, `3x`, `3×`).

Prose is everything a reader reads as text, including the bodies of directives such as
admonitions (`{note}`, `{warning}`) and figure captions (`{glue:figure}`). Skipped: the front
matter, code cells and code blocks, math (`$...$`, `$$...$$`, `{math}`), inline code, roles
such as {glue:text}`key:.4f`, directive options (`:width: 80%`), link targets, URLs, HTML tags
and comments, MyST comments (`% ...`), labels (`(label)=`) and cell breaks (`+++`).

It is the CI gate of the rule "no number in prose is typed by hand" (see .ci/run); run it on a
chapter before committing: `.venv/bin/python tools/prose_numbers.py book/02_mlp.md`.

Usage: prose_numbers.py [FILE_OR_DIR ...]   (default: book/)
Exit status: 0 when nothing is found, 1 when something is, 2 on bad usage (a missing path, or
no Markdown file at all: a gate that checked nothing must not pass).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# -----------------------------------------------------------------------------
# what a number looks like, and what is not prose

FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\s*(\{([\w:.-]+)\})?")
# directives whose body is code, math or data for the machine, not text for the reader
CODE_DIRECTIVES = {
    "code-cell", "code", "code-block", "sourcecode", "literalinclude", "math", "raw", "include",
    "glue", "glue:any", "glue:math", "mermaid", "graphviz", "toctree", "tableofcontents",
    "bibliography", "eval-rst",
}
OPTION = re.compile(r"^\s*:[\w-]+:(\s|$)")
ROLE = re.compile(r"\{[\w:.-]+\}`[^`]*`")
INLINE_CODE = re.compile(r"`+[^`]*`+")
INLINE_MATH = re.compile(r"\$[^$]+\$")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
URL = re.compile(r"<?\b(?:https?|ftp|file)://[^\s>)]+>?|\bdoi:\S+|\barXiv:\S+", re.IGNORECASE)
HTML_COMMENT = re.compile(r"<!--.*?-->")
HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
LABEL = re.compile(r"^\s*\([\w:.-]+\)=\s*$")
NUMBER = re.compile(
    r"(?<![\w.])(?<![A-Za-z]-)("  # not inside a word or a name such as SHA-256
    r"\d+(?:\.\d+)?[eE][-+]?\d+"  # scientific notation: 1e-3, 2.5E4
    r"|(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[kKMGB]|x|×)"  # a multiplier: 200k, 1.5M, 3x, 3×
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?"  # thousands separators: 32,033
    r"|\d+\.\d+"  # a decimal: 2.45
    r"|\d{3,}"  # three or more digits: 200
    r")(?![\w.]*\w)"
)
YEAR = re.compile(r"(19|20)\d\d")


@dataclass
class _Fence:
    char: str  # "`", "~" or ":"
    length: int
    code: bool  # the body is code (skipped) rather than prose (checked)
    options: bool = True  # still in the directive's leading `:key: value` options


def _closes(stripped: str, fence: _Fence) -> bool:
    return (
        len(stripped) >= fence.length
        and stripped[0] == fence.char
        and stripped.strip(fence.char) == ""
    )


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield (line_number, line) for every line of `text` that a reader reads as prose."""
    lines = text.splitlines()
    i = 0
    if lines and lines[0].strip() == "---":  # YAML front matter
        i = 1
        while i < len(lines) and lines[i].strip() != "---":
            i += 1
        i += 1
    stack: list[_Fence] = []  # open fences, innermost last
    in_math = in_comment = in_yaml_options = False
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        i += 1
        top = stack[-1] if stack else None
        if top is not None and _closes(stripped, top):
            stack.pop()
            continue
        if top is not None and top.code:
            continue
        if top is not None and top.options:  # the head of a prose directive's body
            if in_yaml_options:
                in_yaml_options = stripped != "---"
                continue
            if stripped == "---":
                in_yaml_options = True
                continue
            if OPTION.match(line):
                continue
            top.options = False
        m = FENCE.match(line)
        if m and not in_math and not in_comment:
            marker, name = m.group(1), m.group(3)
            code = name is None or name in CODE_DIRECTIVES
            if marker[0] == ":" and name is None:
                code = False  # a bare ::: block is a div of prose
            stack.append(_Fence(marker[0], len(marker), code, options=name is not None))
            continue
        if in_math:
            in_math = not stripped.endswith("$$")
        elif stripped.startswith("$$"):
            in_math = not (stripped.endswith("$$") and len(stripped) >= 4)
        elif in_comment:
            in_comment = "-->" not in stripped
        elif stripped.startswith("<!--") and "-->" not in stripped:
            in_comment = True
        elif stripped.startswith("%") or stripped.startswith("+++") or LABEL.match(line):
            pass
        else:
            yield i, line


def find(text: str) -> Iterator[tuple[int, str, str]]:
    """Yield (line_number, number, line) for every hand-typed number in the prose of `text`."""
    for lineno, line in prose_lines(text):
        clean = HTML_COMMENT.sub(" ", line)
        for pattern in (ROLE, INLINE_CODE, INLINE_MATH, LINK_TARGET, URL, HTML_TAG):
            clean = pattern.sub(" ", clean)
        for m in NUMBER.finditer(clean):
            token = m.group(1)
            if YEAR.fullmatch(token):
                continue  # a year, as in a citation
            yield lineno, token, line.strip()


# -----------------------------------------------------------------------------
# command line


def main(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    targets = [Path(a) for a in argv] or [Path("book")]
    files: list[Path] = []
    for t in targets:
        if t.is_dir():
            files += sorted(p for p in t.rglob("*.md") if "_build" not in p.parts)
        elif t.is_file():
            files.append(t)
        else:
            print(f"prose_numbers: no such file or folder: {t}", file=sys.stderr)
            return 2
    if not files:
        print(f"prose_numbers: no Markdown file in {' '.join(map(str, targets))}", file=sys.stderr)
        return 2
    found = 0
    for f in files:
        for lineno, token, line in find(f.read_text(encoding="utf-8")):
            found += 1
            print(f"{f}:{lineno}: {token}    | {line[:120]}")
    print(f"{found} hand-typed number(s) in the prose of {len(files)} file(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
