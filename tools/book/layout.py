"""The book's layout: its pages, which of them run, and what an executed page glued.

The tools that execute, check and publish the book (tools/execute_book.py,
tools/check_reproducible.py, tools/offline_notebooks.py, _ext/page_dependencies.py,
_ext/results_json.py) each need to know the same few things about it, and take them from here:

- the pages, in the order of `_toc.yml` (`toc_pages`), which of them execute: a MyST Markdown
  page whose front matter names a kernel (`executes`, `executed_pages`), how myst-nb reads one
  into the notebook that keys the jupyter-cache (`read_page`), and the execution of a page
  that a build shows: in the cache, the one matching its current source (`executed_notebook`);
- which pages write records and which read them (`writes_records`, `reads_records`), by one
  rule: what the page's code calls from `makemore.results` (`record`, `load`);
- the glue of an executed page (`glue_of`, {key: {MIME type: value}}) and the timings it
  declared (`timing_keys`: `makemore.publish.timing` glues `timing_keys.K` for each timing K);
- the environment the tools set for the kernels (`RESULTS_ENV`: the jupyter-cache `load` reads
  the records from) and the build's jupyter-cache (`CACHE`).

The names and the glue reader are `makemore`'s (the package writes the glue, and reads records
back itself): imported, never retyped.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import yaml
from IPython.core.inputtransformer2 import TransformerManager

from makemore.publish import TIMING_PREFIX
from makemore.results import (
    CACHE,
    GLUE_PREFIX,
    RESULTS_ENV,
    executed_notebook,
    glue_of,
    is_glue,
    read_page,
)
from tools.book import myst

ROOT = Path(__file__).resolve().parents[2]
__all__ = ["CACHE", "GLUE_PREFIX", "RESULTS_ENV", "ROOT", "book_root", "executed_notebook",
           "executed_pages", "executes", "glue_of", "is_glue", "read_glue", "read_page",
           "reads_records", "timing_keys", "toc_pages", "writes_records"]

# -----------------------------------------------------------------------------
# pages


def book_root(path: Path) -> Path | None:
    """The book `path` belongs to: the nearest folder holding a `_toc.yml`, or None."""
    path = Path(path).resolve()
    return next((f for f in (path, *path.parents) if (f / "_toc.yml").is_file()), None)


def toc_pages(root: Path = ROOT) -> list[Path]:
    """Every page `_toc.yml` lists, in reading order (the root first, then each chapter before
    its sections), as paths to their source files."""
    pages: list[Path] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    name = root / node[key]
                    pages.append(name if name.suffix else name.with_suffix(".md"))
            for value in node.values():
                if isinstance(value, list | dict):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8")))
    return pages


def executes(page: Path) -> bool:
    """A page the build executes: MyST Markdown whose front matter names a kernel."""
    meta, _ = myst.front_matter(Path(page).read_text(encoding="utf-8"))
    return "kernelspec" in meta


def executed_pages(root: Path = ROOT) -> list[Path]:
    """The pages of `_toc.yml` that the build executes, in order."""
    return [p for p in toc_pages(root) if p.is_file() and executes(p)]


# -----------------------------------------------------------------------------
# records: the one rule


def record_calls(page: Path) -> set[str]:
    """Which of `makemore.results.record` and `.load` the page's code cells call: as
    `results.record(...)` after `from makemore import results` (or `import makemore.results as
    r`: `r.record(...)`), or as `record(...)` after `from makemore.results import record`."""
    return set(_record_calls(Path(page).read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=64)
def _record_calls(text: str) -> frozenset[str]:
    ipython = TransformerManager()  # a cell may hold %magics
    trees = []
    for cell in myst.code_cells(text):
        try:
            trees.append(ast.parse(ipython.transform_cell(cell.body)))
        except SyntaxError:
            continue  # the build reports it
    modules, functions = set(), {}  # the names the module and its functions go by
    for node in (n for tree in trees for n in ast.walk(tree)):
        if isinstance(node, ast.ImportFrom) and node.module == "makemore":
            modules |= {a.asname or a.name for a in node.names if a.name == "results"}
        elif isinstance(node, ast.ImportFrom) and node.module == "makemore.results":
            functions |= {a.asname or a.name: a.name for a in node.names}
        elif isinstance(node, ast.Import):
            modules |= {a.asname for a in node.names if a.name == "makemore.results" and a.asname}
    calls = set()
    for node in (n for tree in trees for n in ast.walk(tree)):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in modules:
            calls.add(f.attr)
        elif isinstance(f, ast.Name) and f.id in functions:
            calls.add(functions[f.id])
    return frozenset(calls & {"record", "load"})


def writes_records(page: Path) -> bool:
    """A page whose code records models (a chapter): it must execute before the readers."""
    return "record" in record_calls(page)


def reads_records(page: Path) -> bool:
    """A page whose code loads records (the results page): it must execute after every page
    that writes them, and again whenever one of them does."""
    return "load" in record_calls(page)


# -----------------------------------------------------------------------------
# glue


def read_glue(path: Path) -> dict[str, dict]:
    """Glued values stored by a build: myst-nb's `<page>.glue.json` (beside the executed
    notebook in `_build/jupyter_execute/`) or an executed `.ipynb`; {key: {MIME type: value}}."""
    import json

    data = json.loads(path.read_text(encoding="utf-8"))
    if path.name.endswith(".glue.json"):
        return {key: output.get("data", {}) for key, output in data.items()}
    return glue_of(data)


def timing_keys(glued: dict[str, dict]) -> set[str]:
    """The keys a page declared as timings (wall-clock measurements, which cannot repeat)."""
    return {key.removeprefix(TIMING_PREFIX) for key in glued if key.startswith(TIMING_PREFIX)}
