#!/usr/bin/env python3
"""Find numbers typed by hand into the prose of the book's MyST Markdown chapters.

Every result in the book (a loss, a count, a probability, a hyperparameter, a timing) is pasted
from execution with myst-nb glue, so that the text can never drift from what the code printed.
A value typed into code on purpose (a configuration, a lecture's number) is glued too, through
`makemore.publish.setting` / `quoted`, which label it on the page as *set* or *quoted*. This
script reads each `.md` file and lists every number that looks typed:

- in prose: a decimal (`2.45`), an integer of three or more digits (`32033`, `32,033`) that is
  not part of a name (`SHA-256`), scientific notation (`1e-3`), a number with a multiplier
  (`200k`, `1.5M`, `3x`, `3×`);
- a number of any size with a unit (`65s`, `120ms`, `5 min`, `2GB`, `17 steps/s`): time,
  data size, rate. Units that are also words (`us`, `h`, `B`) count only when attached;
- a percentage of any size (`5%`, `62.4 %`, `5 percent`);
- a year used as a count (`2000 steps`): a four-digit number from 1900 to 2099 passes only in a
  citation-like position: `(2015)`, `Bengio et al. 2003`, `Ioffe & Szegedy, 2015`, `in 2022`,
  `© 2022`, `March 2015` (not followed by a lowercase word, except after `et al.` or `(`);
- in math (`$...$`, `$$...$$`, `{math}` roles and directives, amsmath environments): the same
  shapes as prose but for multipliers (`2x` is algebra there), `32{,}033` and `32\\,033` read
  as thousands, and percentages (`5\\%`);
- in any role other than glue (`{sup}`, `{abbr}`, a reference's title, ...), the shapes of
  prose; `{math}` the shapes of math. Not checked: a reference role's target (`{ref}`sec-200``)
  and code-like roles (`{code}`, `{kbd}`, `{file}`, ...), which are code like inline code;
- substitutions: a `{{ name }}` whose definition (the page's front matter `substitutions` or
  `myst: substitutions`, or `parse: myst_substitutions` in the book's `_config.yml`) is a number
  of any size or holds a typed number, reported at the definition and at each use.

The page is read by the parser the build uses (myst-parser's markdown-it with the extensions of
`_config.yml`; tools/book/myst.py), so prose is what the build reads as text: paragraphs,
headings, lists, tables, definition lists, and the bodies of directives such as admonitions
(`{note}`, `{warning}`) and figure captions (`{glue:figure}`). Skipped: the front matter (but for
substitutions), code cells and code blocks, inline code, glue roles such as
{glue:text}`key:.4f`, directive options (`:width: 80%`), link targets, URLs, HTML tags and
comments, MyST comments (`% ...`), labels (`(label)=`) and cell breaks (`+++`).

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
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tools.book
from tools.book import myst  # the page as the build parses it

# -----------------------------------------------------------------------------
# what a number looks like

SUBSTITUTION_DEFINITION = re.compile(r"\s*([A-Za-z_][\w.-]*)\s*:")  # a line of front matter
_AMOUNT = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"  # 32,033.5 or 32033 or 2.45
_NOT_AFTER = r"(?<![\w.])(?<![A-Za-z]-)"  # not inside a word or a name such as SHA-256
NUMBER = re.compile(
    _NOT_AFTER + r"("
    r"\d+(?:\.\d+)?[eE][-+]?\d+"  # scientific notation: 1e-3, 2.5E4
    r"|" + _AMOUNT + r"(?:[kKMGB]|x|×)"  # a multiplier: 200k, 1.5M, 3x, 3×
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?"  # thousands separators: 32,033
    r"|\d+\.\d+"  # a decimal: 2.45
    r"|\d{3,}"  # three or more digits: 200
    r")(?![\w.]*\w)"
)
# units after a number: with or without a space, but for words that are also units
UNITS_SPACED = (
    r"ms|µs|μs|ns|s|secs?|seconds?|mins?|minutes?|hrs?|hours?|days?|"
    r"[kKMGTP]i?B|bytes?|[kMG]?Hz|[kMGTP]?FLOPS?|it/s|steps?/s|words?/s|names?/s|tokens?/s"
)
UNITS_ATTACHED = r"us|h|B"  # `3 us`, `2 h`, `8 B` read as words; `3us`, `2h`, `8B` as units
UNIT = re.compile(
    _NOT_AFTER + r"(" + _AMOUNT + r")"
    r"(?:\s?(?:" + UNITS_SPACED + r")|(?:" + UNITS_ATTACHED + r"))(?![\w/])"
)
PERCENT = re.compile(_NOT_AFTER + r"(" + _AMOUNT + r")\s?(?:%|percent\b|per\s+cent\b)")
YEAR = re.compile(r"(19|20)\d\d")
MATH_NUMBER = re.compile(
    r"(?<![\w.])("
    r"\d+(?:\.\d+)?[eE][-+]?\d+"
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?"
    r"|\d+\.\d+"
    r"|\d{3,}"
    r")(?![\d.]*\d)"
)
MATH_PERCENT = re.compile(r"(?<![\w.])(" + _AMOUNT + r")\s*\\%")

# where a year is a year (a citation, a date), not a count
_NAME = r"[A-Z][\w'’-]*"
YEAR_BEFORE_STRONG = re.compile(
    r"(?:\(\s*|\bet al\.?,?\s*\(?"  # (2015), et al. 2003, et al. (2003)
    r"|" + _NAME + r"\s+(?:&|and)\s+" + _NAME + r",\s*"  # Ioffe & Szegedy, 2015
    r"|\b(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?\s+"  # March 2015
    r"|©\s*|\([cC]\)\s*|\b[Cc]opyright\s+)$"  # © 2022
)
YEAR_BEFORE_WEAK = re.compile(  # then not followed by a lowercase word: "in 2000 steps"
    _NAME + r",\s*$"  # Karpathy, 2022
    r"|\b(?:in|In|since|Since|from|From|until|till|by|circa|around|year|of)\s+$"
)
YEAR_AFTER_PAREN = re.compile(r"[a-z]?\s*[),;]")
LOWERCASE_WORD_NEXT = re.compile(r"\s+[a-z]")


class Finding(NamedTuple):
    lineno: int
    token: str
    line: str
    why: str


# -----------------------------------------------------------------------------
# finding numbers in a piece of prose or math


def _year_is_cited(text: str, start: int, end: int) -> bool:
    """A four-digit year in a citation-like position, not a count (`2000 steps`)."""
    before, after = text[:start], text[end:]
    if YEAR_BEFORE_STRONG.search(before):
        return not before.rstrip().endswith("(") or bool(YEAR_AFTER_PAREN.match(after))
    if YEAR_BEFORE_WEAK.search(before):
        return not LOWERCASE_WORD_NEXT.match(after)
    return False


def scan_prose(text: str) -> list[tuple[int, str, str]]:
    """(start, token, why) for every typed number in a piece of prose."""
    hits: list[tuple[int, int, str, str]] = []
    for m in NUMBER.finditer(text):
        token = m.group(1)
        if YEAR.fullmatch(token):
            if _year_is_cited(text, m.start(1), m.end(1)):
                continue
            hits.append((m.start(1), m.end(1), token, "a year-like number used as a count"))
        else:
            hits.append((m.start(1), m.end(1), token, "a number"))
    for m in UNIT.finditer(text):
        token = m.group(0)
        if YEAR.fullmatch(m.group(1)) and token.endswith("s") and token[4:] == "s":
            continue  # a decade: the 1990s
        hits.append((m.start(), m.end(), token, "a number with a unit"))
    for m in PERCENT.finditer(text):
        hits.append((m.start(), m.end(), m.group(0), "a percentage"))
    return _no_overlaps(hits)


def scan_math(text: str) -> list[tuple[int, str, str]]:
    """(start, token, why) for every typed number in a piece of LaTeX math."""
    text = text.replace("{,}", ",")
    text = re.sub(r"(\d)\\[,!;: ](\d{3})\b", r"\1,\2", text)  # 32\,033
    hits = [(m.start(1), m.end(1), m.group(1), "a number in math")
            for m in MATH_NUMBER.finditer(text)]
    hits += [(m.start(), m.end(), m.group(0), "a percentage in math")
             for m in MATH_PERCENT.finditer(text)]
    return _no_overlaps(hits)


def _no_overlaps(hits: list[tuple[int, int, str, str]]) -> list[tuple[int, str, str]]:
    """One hit per stretch of text: the longest token where two overlap."""
    kept: list[tuple[int, int, str, str]] = []
    for hit in sorted(hits, key=lambda h: (h[0], -(h[1] - h[0]))):
        if kept and hit[0] < kept[-1][1]:
            continue
        kept.append(hit)
    return [(start, token, why) for start, _, token, why in kept]


# -----------------------------------------------------------------------------
# substitutions


def _yaml(text: str) -> dict:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def substitutions_of(text: str) -> dict[str, object]:
    """The substitutions a page defines in its front matter (`substitutions`, or under
    `myst:`), name -> value."""
    meta, _ = myst.front_matter(text)
    subs = dict(meta.get("substitutions") or {})
    if isinstance(meta.get("myst"), dict):
        subs.update(meta["myst"].get("substitutions") or {})
    return subs


def book_substitutions(path: Path) -> dict[str, object]:
    """Substitutions the book defines for every page: `parse: myst_substitutions` in the
    `_config.yml` of the nearest folder above `path` that has one."""
    for folder in path.resolve().parents:
        config = folder / "_config.yml"
        if config.is_file():
            parse = _yaml(config.read_text(encoding="utf-8")).get("parse") or {}
            subs = parse.get("myst_substitutions") if isinstance(parse, dict) else None
            return dict(subs) if isinstance(subs, dict) else {}
    return {}


def _typed_value(value: object) -> str | None:
    """Why a substitution's value is a typed number, or None when it is not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return f"a substitution defined as the number {value!r}"
    if isinstance(value, str):
        if re.fullmatch(r"\s*[-+]?" + _AMOUNT + r"\s*", value):
            return f"a substitution defined as the number {value.strip()!r}"
        if scan_prose(value):
            return f"a substitution defined with a typed number: {value.strip()!r}"
    return None


# -----------------------------------------------------------------------------
# a page


def scan(piece: myst.Piece, typed: dict[str, str]) -> list[tuple[int, str, str]]:
    """(start, token, why) for every typed number in a piece of the page's prose."""
    if piece.kind == "substitution":
        return [(0, piece.text, typed[piece.name])] if piece.name in typed else []
    if piece.kind == "math":
        where = " ({math} role)" if piece.name == "math" else ""
        return [(s, t, w + where) for s, t, w in scan_math(piece.text)]
    where = f" (in a {{{piece.name}}} role)" if piece.name else ""
    return [(s, t, w + where) for s, t, w in scan_prose(piece.text)]


def find(text: str, substitutions: dict[str, object] | None = None) -> Iterator[Finding]:
    """Yield a Finding (line_number, token, line, why) for every hand-typed number in `text`.

    `substitutions` adds to the ones the page's front matter defines (the book's own)."""
    subs = dict(substitutions or {})
    defined = substitutions_of(text)
    subs.update(defined)
    typed = {name: why for name, value in subs.items() if (why := _typed_value(value))}
    lines = text.splitlines()
    _, end = myst.front_matter(text)
    for lineno, line in enumerate(lines[:end], start=1):
        m = SUBSTITUTION_DEFINITION.match(line)
        if m and m.group(1) in typed and m.group(1) in defined:
            yield Finding(lineno, m.group(1), line.strip(), typed[m.group(1)])
    found = [(piece.line, piece.column + start, token, why)
             for piece in myst.prose(text) for start, token, why in scan(piece, typed)]
    for lineno, _, token, why in sorted(found):
        yield Finding(lineno, token, lines[lineno - 1].strip(), why)


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
        for lineno, token, line, why in find(f.read_text(encoding="utf-8"), book_substitutions(f)):
            found += 1
            print(f"{f}:{lineno}: {token}    ({why}) | {line[:120]}")
    print(f"{found} hand-typed number(s) in the prose of {len(files)} file(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
