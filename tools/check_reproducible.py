#!/usr/bin/env python3
"""Execute a chapter again and check that it glues exactly the values the built book shows.

Every number on the book's pages is glued from execution (myst-nb `glue`), and every chapter is
seeded, so executing a chapter twice must paste the same text. This script executes a chapter
(a MyST Markdown notebook) top to bottom with jupytext + nbclient, the way the build does (same
kernel, the chapter's folder as working directory), collects its glued values, and compares them
with those of the built book: `_build/jupyter_execute/<chapter>.glue.json`, which myst-nb writes
next to the executed notebook (or the executed `.ipynb` itself when there is no `.glue.json`).

A glued value is compared through every representation the build stored: its text (what
{glue:text} pastes), Markdown/HTML (glued tables) and images (glued figures, by checksum).
Wall-clock measurements cannot repeat: keys named as the book names timings (TIMINGS below:
`*_ms`, `*_seconds`, `t_*`, ...) are left out, and listed, and `--ignore PATTERN` leaves out
more (`--strict` compares everything).

Usage:
    check_reproducible.py book/01_bigram.md                 # against the built book
    check_reproducible.py book/01_bigram.md --twice         # no build: execute twice, compare
    check_reproducible.py CHAPTER --ignore 'time_*' --reference path/to/x.glue.json

Exit status: 0 when every glued value matches, 1 when one differs (a diff is printed) or the
chapter fails to execute, 2 on bad usage (no such chapter, no built book to compare against).
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT_LIMIT = 300  # characters of a differing value to print
# The book's naming convention for glued wall-clock measurements, which differ on every run.
TIMINGS = ["*_ms", "*_us", "*_s", "*_seconds", "*_per_s", "*speedup*", "t_*", "time_*",
           "fig_time*"]

# -----------------------------------------------------------------------------
# glued values: {key: {mime type: representation}}


def glue_of_outputs(cells: list[dict]) -> dict[str, dict[str, str]]:
    """The glued values among the outputs of executed cells (myst-nb marks them `scrapbook`)."""
    glued: dict[str, dict[str, str]] = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {}).get("scrapbook")
            if meta is None:
                continue
            prefix = len(meta.get("mime_prefix", ""))
            glued[meta["name"]] = {k[prefix:]: v for k, v in output.get("data", {}).items()}
    return glued


def load_reference(path: Path) -> dict[str, dict[str, str]]:
    """Glued values stored by a build: a myst-nb `.glue.json` or an executed `.ipynb`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if path.name.endswith(".glue.json"):
        return {key: output.get("data", {}) for key, output in data.items()}
    return glue_of_outputs(data.get("cells", []))


def default_reference(chapter: Path) -> Path:
    """Where the build put the chapter's executed notebook and glue data."""
    relative = chapter.resolve().relative_to(ROOT).with_suffix("")
    base = ROOT / "_build" / "jupyter_execute" / relative
    glue_json = base.parent / f"{base.name}.glue.json"
    return glue_json if glue_json.exists() else base.with_suffix(".ipynb")


def execute(chapter: Path, timeout: int) -> dict[str, dict[str, str]]:
    """Execute the chapter top to bottom in a fresh kernel; return its glued values."""
    import jupytext
    from nbclient import NotebookClient

    nb = jupytext.read(chapter)
    kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
    client = NotebookClient(
        nb, timeout=timeout, kernel_name=kernel,
        resources={"metadata": {"path": str(chapter.resolve().parent)}},
    )
    client.execute()
    return glue_of_outputs(nb.cells)


# -----------------------------------------------------------------------------
# comparing


def _show(mime: str, value) -> str:
    text = "".join(value) if isinstance(value, list) else str(value)
    if mime.startswith("image/"):
        return f"<{mime}, sha256 {hashlib.sha256(text.encode()).hexdigest()[:16]}>"
    text = text.replace("\n", "\\n")
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + "…"


def compare(
    reference: dict[str, dict[str, str]], again: dict[str, dict[str, str]], ignore: list[str]
) -> list[str]:
    """One line per difference between two sets of glued values (empty when they agree)."""
    diffs = []
    keys = sorted(set(reference) | set(again))
    for key in keys:
        if any(fnmatch.fnmatchcase(key, pattern) for pattern in ignore):
            continue
        if key not in again:
            diffs.append(f"{key}: glued by the build, not by this run")
            continue
        if key not in reference:
            diffs.append(f"{key}: glued by this run, not by the build")
            continue
        a, b = reference[key], again[key]
        for mime in sorted(set(a) | set(b)):
            if mime not in a or mime not in b:
                diffs.append(f"{key} [{mime}]: present in only one run")
            elif a[mime] != b[mime]:
                diffs.append(
                    f"{key} [{mime}]:\n    build: {_show(mime, a[mime])}\n"
                    f"    again: {_show(mime, b[mime])}"
                )
    return diffs


# -----------------------------------------------------------------------------
# command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="check_reproducible.py",
        description="Execute a chapter and compare its glued values with the built book's.",
    )
    parser.add_argument("chapter", type=Path, help="the chapter, e.g. book/01_bigram.md")
    parser.add_argument(
        "--reference", type=Path, default=None,
        help="the build's .glue.json or executed .ipynb (default: under _build/jupyter_execute)",
    )
    parser.add_argument(
        "--twice", action="store_true",
        help="execute the chapter twice and compare the runs (no built book needed)",
    )
    parser.add_argument(
        "--ignore", action="append", default=[], metavar="PATTERN",
        help="leave out glue keys matching this shell pattern (timings); repeatable",
    )
    parser.add_argument(
        "--strict", action="store_true",
        help=f"compare timings too (default: leave out keys matching {' '.join(TIMINGS)})",
    )
    parser.add_argument(
        "--timeout", type=int, default=900, help="seconds allowed per cell (default: 900)"
    )
    args = parser.parse_args(argv)
    ignore = args.ignore + ([] if args.strict else TIMINGS)

    chapter: Path = args.chapter
    if not chapter.is_file():
        print(f"check_reproducible: no such chapter: {chapter}", file=sys.stderr)
        return 2
    if args.twice:
        reference_name = "a first execution"
    else:
        ref_path = args.reference or default_reference(chapter)
        if not ref_path.is_file():
            print(f"check_reproducible: no built notebook at {ref_path}: build the book first "
                  "(make book) or use --twice", file=sys.stderr)
            return 2
        reference_name = str(ref_path)

    try:
        reference = execute(chapter, args.timeout) if args.twice else load_reference(ref_path)
        again = execute(chapter, args.timeout)
    except Exception as err:  # a cell failed, or the kernel died: say which, in one line
        first = str(err).strip().splitlines()[-1:] or [type(err).__name__]
        print(f"check_reproducible: {chapter} failed to execute: {first[0]}", file=sys.stderr)
        return 1

    if not reference:
        print(f"check_reproducible: {reference_name} holds no glued value", file=sys.stderr)
        return 1
    diffs = compare(reference, again, ignore)
    left_out = sorted(k for k in set(reference) | set(again)
                      if any(fnmatch.fnmatchcase(k, p) for p in ignore))
    if left_out:
        print(f"left out (timings or --ignore): {', '.join(left_out)}")
    if diffs:
        print(f"NOT REPRODUCIBLE: {chapter} glued {len(diffs)} value(s) differently from "
              f"{reference_name}:")
        for d in diffs:
            print(f"  {d}")
        return 1
    compared = len(set(reference) - set(left_out))
    print(f"reproducible: {chapter} glued the same {compared} value(s) as {reference_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
