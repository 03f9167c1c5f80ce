"""One place where every chapter reports the models it trained, for the book's results page.

A chapter calls `record(...)` once per model. That glues the numbers into the chapter under the
keys its prose quotes ({glue:text}`mlp_dev:.4f`), and the whole record once more, as JSON, under
`record.<key>`. Nothing is written anywhere else. The results page (`load`) and the site's
`results.json` (_ext/results_json.py) read each record back from its chapter's executed
notebook: the one the build shows, which in the book's jupyter-cache is the execution that
matches the chapter's current source. So the results page cannot show a number its chapter
does not: there is no second copy to go stale.

Where the executed chapters are: the jupyter-cache named by `$MAKEMORE_RESULTS` (the tools set
it: tools/check_reproducible.py to the cache of the notebooks it just executed), else the
book's own, `_build/.jupyter_cache` at the book's root (the folder holding `_config.yml` and
`_toc.yml`, searched upward from the working directory).
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Iterator
from pathlib import Path

from jupyter_cache import get_cache
from myst_nb import glue as nb_glue
from myst_nb.core.read import read_myst_markdown_notebook

from makemore.compare import CLAIM
from makemore.publish import glue_losses, timing
from makemore.stats import mean_std

RESULTS_ENV = "MAKEMORE_RESULTS"  # the jupyter-cache holding the executed chapters
CACHE = Path("_build", ".jupyter_cache")  # the book's, under its root (jupyter-book's default)
GLUE_PREFIX = "application/papermill.record/"  # myst-nb's glue: a MIME type Jupyter hides
RECORD = "record."  # a record is glued whole under this prefix + its key (a claim: CLAIM)
SPLITS = ("train", "dev", "test")


# -----------------------------------------------------------------------------
# writing: glue


def record(
    key: str,
    model: str,
    losses: dict[str, float],
    params: int,
    steps: int,
    chapter: str,
    seeds: dict[str, list[float]] | None = None,
    cpu_seconds: float | None = None,
) -> dict:
    """Glue `{key}_{split}`, `{key}_params`, `{key}_steps`, and the record as `record.{key}`.

    `losses` maps split names ("train", "dev", "test"; any subset) to mean cross-entropy.
    `seeds` (optional) maps split names to the losses of the same recipe trained with several
    seeds (the headline seed included): the record keeps them, and glues
    `{key}_{split}_mean`, `{key}_{split}_std` (sample standard deviation) and `{key}_seeds`,
    so a page can say which differences lie inside the seed-to-seed noise.

    `cpu_seconds` (optional) is the run's budget as it was spent: the CPU seconds of its
    training (`makemore.training.Clock`, `makemore.parallel.Run.cpu_seconds`). It is glued
    apart, as a timing, `{key}_cpu` (it differs from build to build; the record must not), and
    `load` puts it back into the record it belongs to.
    """
    unknown = set(losses) - set(SPLITS)
    if unknown:
        raise ValueError(f"unknown split(s) {sorted(unknown)}; expected some of {SPLITS}")
    entry = {
        "key": key,
        "model": model,
        "chapter": chapter,
        "params": int(params),
        "steps": int(steps),
        "losses": {s: float(losses[s]) for s in SPLITS if s in losses},
    }
    if seeds:
        if set(seeds) - set(SPLITS) or any(len(v) < 2 for v in seeds.values()):
            raise ValueError(f"seeds: some of {SPLITS}, each with at least two losses")
        entry["seeds"] = {s: [float(x) for x in seeds[s]] for s in SPLITS if s in seeds}
    glue_losses(key, entry["losses"])
    nb_glue(f"{key}_params", entry["params"], display=False)
    nb_glue(f"{key}_steps", entry["steps"], display=False)
    for split, values in entry.get("seeds", {}).items():
        mean, std = mean_std(values)
        nb_glue(f"{key}_{split}_mean", mean, display=False)
        nb_glue(f"{key}_{split}_std", std, display=False)
    if "seeds" in entry:
        nb_glue(f"{key}_seeds", max(len(v) for v in entry["seeds"].values()), display=False)
    nb_glue(RECORD + key, json.dumps(entry), display=False)
    if cpu_seconds is not None:
        timing(f"{key}_cpu", float(cpu_seconds))
    return entry


# -----------------------------------------------------------------------------
# reading: the glue of executed chapters


def is_glue(output: dict) -> bool:
    """Whether a cell's output is a value myst-nb's `glue` stored (not something printed)."""
    return output.get("metadata", {}).get("scrapbook") is not None


def glue_of(notebook) -> dict[str, dict]:
    """{key: {MIME type: value}} of every value an executed notebook (or its list of cells)
    glued: the outputs myst-nb's `glue` marks `scrapbook`, their MIME types without the prefix
    `application/papermill.record/` that hides them from Jupyter."""
    cells = notebook.get("cells", []) if isinstance(notebook, dict) else notebook
    glued = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            if not is_glue(output):
                continue
            meta = output["metadata"]["scrapbook"]
            glued[meta["name"]] = {
                mime.removeprefix(GLUE_PREFIX): "".join(v) if isinstance(v, list) else v
                for mime, v in output.get("data", {}).items()}
    return glued


def cache_dir(start: str | os.PathLike | None = None) -> Path:
    """$MAKEMORE_RESULTS, else `_build/.jupyter_cache` at the book's root (the folder holding
    `_config.yml` and `_toc.yml`, searched upward from `start`, by default the working
    directory), else under `start`."""
    env = os.environ.get(RESULTS_ENV)
    if env:
        return Path(env)
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file() and (folder / "_toc.yml").is_file():
            return folder / CACHE
    return here / CACHE


def read_page(page: Path):
    """A MyST Markdown page as myst-nb reads it: the notebook whose code cells key the cache."""
    return read_myst_markdown_notebook(Path(page).read_text(encoding="utf-8"))


def executed_notebook(page: Path, cache):
    """The page's execution in the jupyter-cache `cache` that matches its current source (the
    one a build shows), or None: a page edited since, or never executed there."""
    try:
        found = cache.match_cache_notebook(read_page(page))
    except KeyError:
        return None
    return cache.get_cache_bundle(found.pk).nb


def executed_pages(folder: Path, pages: set[Path] | None = None) -> Iterator[tuple[Path, dict]]:
    """(page, executed notebook) for every page the jupyter-cache in `folder` holds an
    execution of its current source for (only `pages`, resolved paths, when given)."""
    if not folder.is_dir():
        return  # jupyter-cache would make an empty cache
    cache = get_cache(str(folder))
    for uri in sorted({r.uri for r in cache.list_cache_records()}):
        page = Path(uri).resolve()
        if page.suffix != ".md" or not page.is_file() or (pages is not None and page not in pages):
            continue
        nb = executed_notebook(page, cache)
        if nb is not None:
            yield page, nb


def glued_json(prefix: str, folder: Path | None = None, pages: set[Path] | None = None
               ) -> dict[str, tuple[dict, dict[str, dict]]]:
    """{key: (value, the page's glue)} of every value the executed pages in the cache `folder`
    (default `cache_dir()`) glued as JSON under `prefix` + key (a record, a claim); a key glued
    by two pages is an error."""
    found: dict[str, tuple[dict, dict[str, dict]]] = {}
    where: dict[str, Path] = {}
    for page, nb in executed_pages(folder or cache_dir(), pages):
        glued = glue_of(nb)
        for name, data in glued.items():
            if not name.startswith(prefix):
                continue
            key = name.removeprefix(prefix)
            if key in found:
                raise ValueError(f"{key!r} is glued by two pages: {where[key]} and {page}")
            found[key] = (json.loads(ast.literal_eval(data["text/plain"])), glued)  # a str repr
            where[key] = page
    return found


def records(folder: Path | None = None, pages: set[Path] | None = None) -> dict[str, dict]:
    """{key: record} of every record the executed pages glued, each with the CPU seconds its
    page glued for it (`cpu_seconds`, None when it has none)."""
    found = {}
    for key, (entry, glued) in glued_json(RECORD, folder, pages).items():
        cpu = glued.get(f"{key}_cpu", {}).get("text/plain")
        found[key] = entry | {"cpu_seconds": None if cpu is None else float(cpu)}
    return found


def claims(folder: Path | None = None, pages: set[Path] | None = None) -> list[dict]:
    """Every claim the executed pages made (`makemore.compare.claim`), as rows, by page."""
    rows = [value for value, _ in glued_json(CLAIM, folder, pages).values()]
    return sorted(rows, key=lambda r: (r.get("page") or "", r["key"]))


def load(keys: list[str], folder: Path | None = None) -> list[dict]:
    """The records for `keys`, in that order, from the executed chapters; a missing one is an
    error that names it."""
    folder = folder or cache_dir()
    found = records(folder)
    for key in keys:
        if key not in found:
            raise LookupError(f"no result recorded for {key!r} by the executed pages in {folder}:"
                              " build the chapters before this page")
    return [found[key] for key in keys]


def as_rows(entries: list[dict]) -> list[dict]:
    """Flatten records to one row per (model, split), the shape of the site's results.json:
    the loss, and the budget the run got (its steps; its training CPU seconds, None where its
    chapter did not measure them) and, where its chapter trained several seeds, their losses
    on that split (else None)."""
    return [
        {"model": e["model"], "key": e["key"], "chapter": e["chapter"], "split": split,
         "loss": loss, "parameters": e["params"], "steps": e["steps"],
         "cpu_seconds": e.get("cpu_seconds"), "seeds": e.get("seeds", {}).get(split)}
        for e in entries
        for split, loss in e["losses"].items()
    ]
