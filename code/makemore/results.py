"""One place where every chapter reports the models it trained, for the book's results page.

A chapter calls `record(...)` once per model. That glues the numbers into the chapter (so its
own prose quotes them) and writes the same numbers to a small JSON file in the build's results
folder. The results page reads those files to draw its comparison figure, its table quotes the
chapters through cross-page glue, and the build copies them into the site as `results.json`,
so one build's results can be compared with the last. Both views come from the same call, so
they cannot disagree.

Each record is stamped with the id of the build that wrote it (`$MAKEMORE_BUILD_ID`, which the
book's `_ext/page_dependencies.py` sets for every build, and the kernels inherit; `null` when a
chapter runs outside a build). `_ext/results_json.py` uses the stamp and the chapters' glue to
publish only the records this build shows (see its docstring).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from myst_nb import glue as nb_glue

from makemore.publish import glue_losses, timing

RESULTS_ENV = "MAKEMORE_RESULTS"  # overrides the folder the records go to
BUILD_ENV = "MAKEMORE_BUILD_ID"  # the build executing the chapter, stamped on its records
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
    seeds: dict[str, list[float]] | None = None,
    cpu_seconds: float | None = None,
) -> dict:
    """Glue `{key}_{split}`, `{key}_params` and `{key}_steps`, and write `{key}.json`.

    `seeds` (optional) maps split names to the losses of the same recipe trained with several
    seeds (the headline seed included): the record keeps them, and glues
    `{key}_{split}_mean`, `{key}_{split}_std` (sample standard deviation) and `{key}_seeds`,
    so a page can say which differences lie inside the seed-to-seed noise.

    `cpu_seconds` (optional) is the run's budget as it was spent: the CPU seconds of its
    training (`makemore.training.Clock`, `makemore.parallel.Run.cpu_seconds`). It is glued as
    a timing, `{key}_cpu` (it differs from build to build; the numbers must not).

    The record is stamped with `$MAKEMORE_BUILD_ID` (the build executing the chapter), never
    glued: the stamp differs from build to build, the glued numbers must not.

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
        "build": os.environ.get(BUILD_ENV) or None,
    }
    if seeds:
        if set(seeds) - set(SPLITS) or any(len(v) < 2 for v in seeds.values()):
            raise ValueError(f"seeds: some of {SPLITS}, each with at least two losses")
        entry["seeds"] = {s: [float(x) for x in seeds[s]] for s in SPLITS if s in seeds}
    if cpu_seconds is not None:
        entry["cpu_seconds"] = float(cpu_seconds)
        if glue:
            timing(f"{key}_cpu", float(cpu_seconds))
    if glue:
        glue_losses(key, entry["losses"])
        nb_glue(f"{key}_params", entry["params"], display=False)
        nb_glue(f"{key}_steps", entry["steps"], display=False)
        for split, values in entry.get("seeds", {}).items():
            mean = sum(values) / len(values)
            std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
            nb_glue(f"{key}_{split}_mean", mean, display=False)
            nb_glue(f"{key}_{split}_std", std, display=False)
        if "seeds" in entry:
            nb_glue(f"{key}_seeds", max(len(v) for v in entry["seeds"].values()), display=False)
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
         "parameters": e["params"], "steps": e["steps"], "build": e.get("build")}
        for e in entries
        for split, loss in e["losses"].items()
    ]


# -----------------------------------------------------------------------------
# which records a build shows


def glued_numbers(entry: dict) -> dict[str, float]:
    """The glue keys `record` pastes for this record, with their values."""
    key = entry["key"]
    numbers = {f"{key}_{split}": loss for split, loss in entry["losses"].items()}
    numbers[f"{key}_params"] = entry["params"]
    numbers[f"{key}_steps"] = entry["steps"]
    return numbers


def differs_from_glue(entry: dict, glued: dict[str, str]) -> str | None:
    """Why `entry` is not the record its chapter's page shows, or None when it is.

    `glued` maps the chapter's glue keys to the text the build stored for them (`text/plain`,
    a float's or an int's repr, as `record` glued them).
    """
    for name, value in glued_numbers(entry).items():
        if name not in glued:
            return f"{name} is not glued by chapter {entry['chapter']!r}"
        try:
            shown = float(glued[name])
        except ValueError:
            return f"{name} is glued as {glued[name]!r}, not as a number"
        if shown != float(value):
            return f"{name} is {value!r} in the record but {glued[name]} on the page"
    return None


def disagreeing_records(chapter: str, glued: dict[str, str], folder: Path | None = None
                        ) -> list[str]:
    """Why the records `chapter` left in `folder` are not the ones a page of it with this glue
    shows (an empty list when they are): for the build, which executes such a chapter again."""
    folder = folder or results_dir()
    reasons = []
    for path in sorted(folder.glob("*.json")):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if entry.get("chapter") != chapter or f"{entry.get('key')}_params" not in glued:
            continue
        why = differs_from_glue(entry, glued)
        if why is not None:
            reasons.append(f"{entry['key']}: {why}")
    return reasons


def shown_by_build(
    entries: list[dict], glue: dict[str, dict[str, str]]
) -> tuple[list[dict], list[tuple[dict, str]], list[tuple[dict, str]]]:
    """Split records into (published, stale, left out) against the glue of a build's pages.

    `glue` maps each chapter this build rendered (its file name without suffix, as `record`'s
    `chapter`) to the `text/plain` of its glued values. A record is published when its chapter
    was rendered and the page shows exactly its numbers. It is *stale* when the page glues the
    record's keys with other numbers (the record was overwritten by an execution the page does
    not show), and *left out* when no rendered page glues it (a model no chapter trains any more,
    or a chapter outside this build).
    """
    published, stale, left_out = [], [], []
    for entry in entries:
        glued = glue.get(entry["chapter"])
        if glued is None:
            left_out.append((entry, f"chapter {entry['chapter']!r} is not part of this build"))
            continue
        if f"{entry['key']}_params" not in glued:
            left_out.append((entry, f"chapter {entry['chapter']!r} no longer records it"))
            continue
        why = differs_from_glue(entry, glued)
        if why is None:
            published.append(entry)
        else:
            stale.append((entry, why))
    return published, stale, left_out
