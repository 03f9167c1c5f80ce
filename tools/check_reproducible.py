#!/usr/bin/env python3
"""Execute the book's pages again and check that they show exactly what the built book shows.

Every number on the book's pages is glued from execution (myst-nb `glue`), every chapter is
seeded, so executing a page again must paste the same values and print the same lines. This
script executes pages (MyST Markdown notebooks) top to bottom with nbclient, the way the build
does (read as myst-nb reads them, the same kernel, the page's folder as working directory), and
compares each with what the build kept: `_build/jupyter_execute/<page>.ipynb` and
`<page>.glue.json`.

What is compared:

- every glued value, through every representation the build stored: its text (what
  {glue:text} pastes), Markdown/HTML (glued tables) and images (glued figures, by checksum);
- every code cell's printed output, as the page shows it: the text of its stdout and stderr
  streams (sampled names, printed losses) and the `text/plain` of its results, glue left out.
  Streams are compared up to whitespace: where the kernel splits a stream into chunks depends
  on timing, and myst-nb starts a new line at each split (`print(a, b)` may show on two).
  A difference is printed as a short diff naming the cell and its line in the page. A page the
  build replayed from its jupyter-cache is saved without outputs (myst-nb writes the notebook
  it read); its printed outputs are then read from the cache, `_build/.jupyter_cache`.

Wall-clock measurements cannot repeat. The chapters glue them through
`makemore.publish.timing`, which declares each one by name (it also glues `timing_keys.K`,
whose value is K); exactly the keys the reference declares are left out, and listed (their
declarations are compared: a run must declare the same timings). `--ignore KEY` leaves out
more keys by name; `--strict` compares the timings too. A printed timing cannot be left out:
print none (glue it with `timing` instead).

Records. A chapter glues the records of its models (`makemore.results.record`), and a page that
reads records (the results page, `results.load`) reads them from the executed chapters in the
jupyter-cache `$MAKEMORE_RESULTS` names. Here that is a temporary cache holding the pages this
run executed, never the build's: so the pages run in that order, the chapters that write
records first, and checking such a page alone executes (and checks) those chapters first.
Which pages read and write records is tools/book/layout.py's rule.

Usage:
    check_reproducible.py book                 # the pages _toc.yml lists: chapters, then results
    check_reproducible.py book/02_mlp.md           # one chapter, against the built book
    check_reproducible.py book/results.md          # the recording chapters first, then the page
    check_reproducible.py book/01_bigram.md --twice        # no build: execute twice, compare
    check_reproducible.py book/01_bigram.md --reference path/to/01_bigram.ipynb

Exit status: 0 when every page matches, 1 when one differs (a diff is printed) or fails to
execute, 2 on bad usage (no such page, no built book to compare against).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tools.book
from tools.book import layout, myst

ROOT = layout.ROOT
TEXT_LIMIT = 300  # characters of a differing value to print
DIFF_LINES = 12  # lines of a printed-output diff to show per cell

# -----------------------------------------------------------------------------
# glued values: {key: {mime type: representation}} (layout.glue_of)


load_reference = layout.read_glue  # glued values stored by a build (.glue.json or .ipynb)


def load_build(path: Path) -> tuple[dict[str, dict[str, str]], list[dict] | None]:
    """(glued values, executed cells) the build kept for a page, from its executed `.ipynb` or
    its `.glue.json`, whichever `path` names, and the other beside it: myst-nb takes the glue
    out of the cells of the notebook it saves and keeps it in the `.glue.json`."""
    stem = path.name.removesuffix(".glue.json").removesuffix(".ipynb")
    glue_json, notebook = path.with_name(stem + ".glue.json"), path.with_name(stem + ".ipynb")
    cells = None
    if notebook.is_file():
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    if glue_json.is_file():
        glued = load_reference(glue_json)
    else:
        glued = layout.glue_of(cells or [])
    return glued, cells


def cached_cells(page: Path, build: Path) -> list[dict] | None:
    """The executed cells the build's jupyter-cache holds for the page as it is now, or None.

    With `execute_notebooks: cache`, a page the build replayed from the cache is saved under
    `jupyter_execute` without its outputs (myst-nb writes the notebook it read, not the one the
    cache merged outputs into); the cache itself holds them, as the kernel sent them."""
    folder = build / layout.CACHE.name
    if not folder.is_dir():
        return None
    from jupyter_cache import get_cache

    nb = layout.executed_notebook(page, get_cache(str(folder)))
    return None if nb is None else json.loads(json.dumps(nb))["cells"]


# -----------------------------------------------------------------------------
# printed outputs: what each code cell shows besides glue


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _chunks(texts: list[str]) -> str:
    return "".join(t.rstrip() + "\n" for t in texts if t.rstrip())


def stream_text(texts: list[str], saved_by_build: bool = False) -> str:
    """One stream of a cell as the page shows it, from the chunks the notebook stored.

    The kernel sends a stream in chunks (where they split depends on timing). myst-nb's
    `nb_merge_streams` shows them as one block, and the notebook the build saves keeps the
    chunks with the whole block written into the first one (`saved_by_build`); a fresh
    execution has the bare chunks. Both are read back as the same block.
    """
    if saved_by_build and len(texts) > 1:
        tail = _chunks(texts[1:])
        if tail and _chunks(texts[:1]).endswith(tail) and len(texts[0]) > len(tail):
            texts = texts[:1]  # the first chunk already holds the merged stream
    return _chunks(texts)


def printed(cell: dict, saved_by_build: bool = False) -> dict[str, str]:
    """{"stdout"/"stderr": the stream's text, "result": the text/plain of results}, glue left
    out (only what the cell printed). `saved_by_build`: the cell comes from a notebook the build
    saved (see `stream_text`)."""
    outputs = cell.get("outputs", [])
    shown: dict[str, str] = {}
    for name in ("stdout", "stderr"):
        texts = [_text(o.get("text", "")) for o in outputs
                 if o.get("output_type") == "stream" and o.get("name") == name]
        if texts and _chunks(texts):
            shown[name] = stream_text(texts, saved_by_build)
    results = [_text(o["data"]["text/plain"]) for o in outputs
               if o.get("output_type") in ("execute_result", "display_data")
               and not layout.is_glue(o) and "text/plain" in o.get("data", {})]
    if results:
        shown["result"] = "\n".join(results) + "\n"
    return shown


def _same_printed(a: dict[str, str], b: dict[str, str]) -> bool:
    """The same printed output: streams equal up to whitespace (see `compare_printed`)."""
    if set(a) != set(b):
        return False
    return all(" ".join(a[k].split()) == " ".join(b[k].split()) if k != "result" else a[k] == b[k]
               for k in a)


def code_cells(cells: list[dict]) -> list[dict]:
    return [c for c in cells if c.get("cell_type") == "code"]


def code_cell_lines(page: Path) -> list[int]:
    """The line of each code cell's fence in a MyST Markdown page (1-based), in order."""
    try:
        text = page.read_text(encoding="utf-8")
    except OSError:
        return []
    return [cell.start for cell in myst.code_cells(text)]


def compare_printed(
    reference: list[dict], again: list[dict], page: Path | None = None, built: bool = True
) -> list[str]:
    """One entry per code cell whose printed output differs: a short diff naming the cell.
    `built`: the reference is a notebook the build saved (else a fresh execution)."""
    ref_cells, new_cells = code_cells(reference), code_cells(again)
    if len(ref_cells) != len(new_cells):
        return [f"printed outputs: the build has {len(ref_cells)} code cells, this run "
                f"{len(new_cells)} (was the page edited after the build?)"]
    lines = code_cell_lines(page) if page is not None else []
    diffs = []
    for i, (a, b) in enumerate(zip(ref_cells, new_cells, strict=True)):
        before, after = printed(a, built), printed(b)
        if _same_printed(before, after):
            continue
        where = f"{page}:{lines[i]}" if i < len(lines) else f"code cell {i + 1}"
        first = next((s for s in _text(b.get("source", "")).splitlines() if s.strip()), "")
        head = f"printed output of code cell {i + 1} ({where}: {first.strip()[:60]}):"
        body = []
        for name in sorted(set(before) | set(after)):
            if before.get(name) == after.get(name):
                continue
            diff = list(difflib.unified_diff(
                before.get(name, "").splitlines(), after.get(name, "").splitlines(),
                fromfile=f"build {name}", tofile=f"again {name}", lineterm="", n=0))
            if len(diff) > DIFF_LINES:
                diff = diff[:DIFF_LINES] + [f"… {len(diff) - DIFF_LINES} more diff line(s)"]
            body += diff
        diffs.append(head + "".join(f"\n    {line}" for line in body))
    return diffs


# -----------------------------------------------------------------------------
# glued values compared


def _show(mime: str, value) -> str:
    text = _text(value)
    if mime.startswith("image/"):
        return f"<{mime}, sha256 {hashlib.sha256(text.encode()).hexdigest()[:16]}>"
    text = text.replace("\n", "\\n")
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + "…"


def compare(
    reference: dict[str, dict[str, str]], again: dict[str, dict[str, str]], ignore: set[str]
) -> list[str]:
    """One line per difference between two sets of glued values (empty when they agree);
    keys named in `ignore` are left out."""
    diffs = []
    for key in sorted((set(reference) | set(again)) - set(ignore)):
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
            elif _text(a[mime]) != _text(b[mime]):
                diffs.append(
                    f"{key} [{mime}]:\n    build: {_show(mime, a[mime])}\n"
                    f"    again: {_show(mime, b[mime])}"
                )
    return diffs


# -----------------------------------------------------------------------------
# pages, references, execution


def plan(targets: list[Path]) -> list[Path]:
    """The pages to execute, in order: the notebooks among `targets` (folders: every page of
    theirs that the book's `_toc.yml` lists, else every `.md` in them), pages that write records
    before pages that read them; a page that reads records brings in every page of its folder
    (of its book's toc, when it has one) that writes them."""
    def folder_pages(folder: Path) -> list[Path]:
        root = layout.book_root(folder)
        if root is None:
            return sorted(folder.glob("*.md"))
        return [p for p in layout.toc_pages(root) if p.parent.resolve() == folder.resolve()]

    pages: list[Path] = []
    for t in targets:
        found = folder_pages(t) if t.is_dir() else [t]
        pages += [p for p in found if p not in pages and p.is_file() and layout.executes(p)]
    for reader in [p for p in pages if layout.reads_records(p)]:
        for writer in folder_pages(reader.parent):
            if writer.resolve() not in {p.resolve() for p in pages} and writer.is_file() \
                    and layout.executes(writer) and layout.writes_records(writer) \
                    and not layout.reads_records(writer):
                pages.append(writer)
    pages = [_short(p) for p in pages]
    return sorted(pages, key=lambda p: (layout.reads_records(p), not layout.writes_records(p)))


def _short(path: Path) -> Path:
    """The path relative to the working directory when it is under it (shorter messages)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def default_reference(page: Path, build: Path) -> Path:
    """Where the build put the page's executed notebook: under `jupyter_execute`, at the page's
    path in the book (the folder holding `_config.yml`, else this repository)."""
    page = page.resolve()
    root = next((f for f in page.parents if (f / "_config.yml").is_file()), ROOT)
    try:
        relative = page.relative_to(root)
    except ValueError:
        relative = Path(page.name)
    return build / "jupyter_execute" / relative.with_suffix(".ipynb")


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables (which the kernel inherits) for the duration of the block."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute(page: Path, timeout: int, cache) -> list[dict]:
    """Execute the page top to bottom in a fresh kernel, as the build reads it, and store it in
    `cache` (a jupyter-cache), where the pages executed after it read its records; return its
    executed cells."""
    from jupyter_cache.base import CacheBundleIn
    from nbclient import NotebookClient

    nb = layout.read_page(page)
    kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
    client = NotebookClient(
        nb, timeout=timeout, kernel_name=kernel, record_timing=False,  # cell metadata is hashed
        resources={"metadata": {"path": str(page.resolve().parent)}},
    )
    with environment(**{layout.RESULTS_ENV: str(cache.path)}):
        client.execute()
    cache.cache_notebook_bundle(CacheBundleIn(nb, str(page.resolve())), check_validity=False,
                                overwrite=True)
    return json.loads(json.dumps(nb))["cells"]  # plain dicts, like a notebook read from disk


def execute_all(pages: list[Path], timeout: int, folder: Path) -> dict[Path, list[dict] | str]:
    """Execute the pages in order into one jupyter-cache in `folder`: {page: cells, or why it
    failed}."""
    from jupyter_cache import get_cache

    cache = get_cache(str(folder))
    runs: dict[Path, list[dict] | str] = {}
    for page in pages:
        print(f"executing {page} …", flush=True)
        try:
            runs[page] = execute(page, timeout, cache)
        except Exception as err:  # a cell failed, or the kernel died: say which, in one line
            last = str(err).strip().splitlines()[-1:] or [type(err).__name__]
            runs[page] = last[0]
    return runs


# -----------------------------------------------------------------------------
# command line


def check_page(page: Path, reference: list[dict] | None, ref_glue: dict, ref_name: str,
               again: list[dict], ignore: set[str], strict: bool, built: bool = True) -> bool:
    """Compare one page's run with its reference; print the verdict; True when they agree."""
    timings = set() if strict else layout.timing_keys(ref_glue)
    left_out = sorted((timings | ignore) & (set(ref_glue) | set(layout.glue_of(again))))
    if not ref_glue:
        print(f"NOT REPRODUCIBLE: {page}: {ref_name} holds no glued value")
        return False
    diffs = compare(ref_glue, layout.glue_of(again), timings | ignore)
    if reference is not None:
        diffs += compare_printed(reference, again, page, built)
    if left_out:
        print(f"{page}: left out (timings, --ignore): {', '.join(left_out)}")
    if diffs:
        print(f"NOT REPRODUCIBLE: {page} differs from {ref_name} in {len(diffs)} place(s):")
        for d in diffs:
            print(f"  {d}")
        return False
    printed_note = "" if reference is not None else (
        " (printed outputs NOT compared: the build kept none, neither in an .ipynb nor in its "
        "cache; build from an empty cache to compare them)")
    compared = len(set(ref_glue) - set(left_out))
    cells = len(code_cells(reference)) if reference is not None else 0
    print(f"reproducible: {page}: the same {compared} glued value(s) and the printed output "
          f"of {cells} code cell(s) as {ref_name}{printed_note}")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="check_reproducible.py",
        description="Execute pages again and compare their glue and printed outputs with the "
                    "built book's.",
    )
    parser.add_argument("pages", type=Path, nargs="*",
                        help="pages or folders (default: book/), e.g. book/01_bigram.md")
    parser.add_argument(
        "--reference", type=Path, default=None,
        help="the build's executed .ipynb (or .glue.json) for a single page "
             "(default: under --build)",
    )
    parser.add_argument("--build", type=Path, default=ROOT / "_build",
                        help="the build folder holding jupyter_execute/ (default: _build)")
    parser.add_argument(
        "--twice", action="store_true",
        help="execute the pages twice and compare the runs (no built book needed)",
    )
    parser.add_argument(
        "--ignore", action="append", default=[], metavar="KEY",
        help="leave out this glue key (by name); repeatable",
    )
    parser.add_argument("--strict", action="store_true",
                        help="compare the timings too (the keys declared with timing_keys.K)")
    parser.add_argument(
        "--timeout", type=int, default=900, help="seconds allowed per cell (default: 900)"
    )
    args = parser.parse_args(argv)

    targets = args.pages or [ROOT / "book"]
    for t in targets:
        if not t.exists():
            print(f"check_reproducible: no such page or folder: {t}", file=sys.stderr)
            return 2
    pages = plan(targets)
    if not pages:
        print(f"check_reproducible: no executable page in {' '.join(map(str, targets))}",
              file=sys.stderr)
        return 2
    if args.reference is not None and len(pages) != 1:
        print("check_reproducible: --reference needs exactly one page to execute, not "
              f"{' '.join(map(str, pages))}", file=sys.stderr)
        return 2

    references: dict[Path, Path] = {}
    if not args.twice:
        for page in pages:
            ref = args.reference or default_reference(page, args.build)
            if not ref.is_file():
                print(f"check_reproducible: no built notebook at {ref}: build the book first "
                      "(make book) or use --twice", file=sys.stderr)
                return 2
            references[page] = ref

    with tempfile.TemporaryDirectory(prefix="makemore-reproducible-") as tmp:
        if args.twice:
            first = execute_all(pages, args.timeout, Path(tmp) / "first")
        again = execute_all(pages, args.timeout, Path(tmp) / "again")

    ok = True
    for page in pages:
        if args.twice:
            reference, ref_name, built = first[page], "a first execution", False
            if isinstance(reference, str):
                print(f"check_reproducible: {page} failed to execute: {reference}")
                ok = False
                continue
            ref_glue = layout.glue_of(reference)
        else:
            ref_name = str(_short(references[page]))
            ref_glue, reference = load_build(references[page])
            built = True
            if ref_glue and reference is not None and not any(
                    c.get("outputs") for c in code_cells(reference)):
                reference = cached_cells(page, args.build)  # replayed from the cache
                built = False
        if isinstance(again[page], str):
            print(f"check_reproducible: {page} failed to execute: {again[page]}")
            ok = False
            continue
        ok &= check_page(page, reference, ref_glue, ref_name, again[page], set(args.ignore),
                         args.strict, built=built)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
