"""One place where every chapter reports the models it trained, for the book's results page.

A chapter calls `record(...)` once per model. That glues the numbers into the chapter (so its
own prose quotes them) and writes the same numbers to a small JSON file in the build's results
folder. The results page reads those files to draw its comparison figure, its table quotes the
chapters through cross-page glue, and the build copies them into the site as `results.json`,
so one build's results can be compared with the last. Both views come from the same call, so
they cannot disagree.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

RESULTS_ENV = "MAKEMORE_RESULTS"  # overrides the folder the records go to
SPLITS = ("train", "dev", "test")


# -----------------------------------------------------------------------------
# where records live


def results_dir(start: str | os.PathLike | None = None) -> Path:
    """$MAKEMORE_RESULTS, else `_build/results` at the book's root (the folder holding
    `_config.yml` and `_toc.yml`, searched upward from `start`, by default the working
    directory), else `<start>/_build/results`."""
    env = os.environ.get(RESULTS_ENV)
    if env:
        return Path(env)
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file() and (folder / "_toc.yml").is_file():
            return folder / "_build" / "results"
    return here / "_build" / "results"


# -----------------------------------------------------------------------------
# writing and reading


def record(
    key: str,
    model: str,
    losses: dict[str, float],
    params: int,
    steps: int,
    chapter: str,
    glue: bool = True,
) -> dict:
    """Glue `{key}_{split}`, `{key}_params` and `{key}_steps`, and write `{key}.json`.

    `losses` maps split names ("train", "dev", "test"; any subset) to mean cross-entropy.
    The file is written to a temporary name and renamed, so a reader never sees half of it.
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
    if glue:
        from myst_nb import glue as nb_glue

        from makemore.publish import glue_losses

        glue_losses(key, entry["losses"])
        nb_glue(f"{key}_params", entry["params"], display=False)
        nb_glue(f"{key}_steps", entry["steps"], display=False)
    folder = results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{key}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(entry, f, indent=2)
        os.replace(tmp, folder / f"{key}.json")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return entry


def load(keys: list[str], folder: Path | None = None) -> list[dict]:
    """The records for `keys`, in that order; a missing one is an error that names it."""
    folder = folder or results_dir()
    entries = []
    for key in keys:
        path = folder / f"{key}.json"
        if not path.is_file():
            raise FileNotFoundError(
                f"no result recorded for {key!r} in {folder}: build the chapters before this page"
            )
        entries.append(json.loads(path.read_text(encoding="utf-8")))
    return entries


def as_rows(entries: list[dict]) -> list[dict]:
    """Flatten records to one row per (model, split), the shape of the site's results.json."""
    return [
        {"model": e["model"], "key": e["key"], "split": split, "loss": loss,
         "parameters": e["params"], "steps": e["steps"]}
        for e in entries
        for split, loss in e["losses"].items()
    ]
