"""Publish the book's results as `results.json` at the root of the built site.

Each chapter records the models it trains with `makemore.results.record`, which glues the
numbers into the chapter and writes them to `_build/results/<key>.json`. When the HTML build
finishes, this extension gathers the records *this build shows*, one row per (model, split),
into `<site>/results.json`, so one build's results can be compared with the last.

Which records this build shows. The results folder outlives a build: it keeps the records of
models no chapter trains any more, and, with the local execution cache, a chapter that was not
executed again did not write its records again (its page replays the outputs of the execution
that did). So a record is published when, and only when:

1. its chapter is a page of this build, and that page's executed notebook, as this build
   rendered it (the `<chapter>.glue.json` myst-nb keeps under `_build/jupyter_execute`), glues
   the record's keys (`<key>_<split>`, `<key>_params`, `<key>_steps`); and
2. the numbers glued there are exactly the record's.

A record that fails (1) is left out (logged); one that fails (2) is *stale*, written by an
execution whose outputs no page shows (the chapter served from the cache after another version
of it ran): it is left out with a warning, which fails a `-W` build, because the results page
may have drawn it. `make clean && make book` executes everything again.

Each record is also stamped with the id of the build that executed its chapter: this extension
sets `$MAKEMORE_BUILD_ID` when the build starts (`config-inited`) unless it is already set, and
the kernels inherit it.
`results.json` carries the id of this build and, on each row, the id of the build whose
execution recorded it: the same id when this build executed the chapter, an earlier one when
the cache replayed it.

Registered in `_config.yml` under `sphinx: local_extensions`.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)


def new_build_id(app: Sphinx, config: Config) -> None:
    """Give this build an id, which the chapters' kernels inherit and stamp on their records,
    unless the caller gave one (`make book` gives the same to tools/execute_book.py, which
    executes the chapters before Sphinx reads them)."""
    from makemore import results

    if not os.environ.get(results.BUILD_ENV):
        os.environ[results.BUILD_ENV] = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"


def rendered_glue(app: Sphinx) -> dict[str, dict[str, str]]:
    """{chapter: {glue key: text/plain}} for every page of this build that glued values."""
    folder = Path(app.env.mystnb_config.output_folder)
    glue = {}
    for docname in sorted(app.env.found_docs):
        path = folder.joinpath(*docname.split("/")[:-1], docname.split("/")[-1] + ".glue.json")
        if not path.is_file():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        glue[docname.split("/")[-1]] = {
            key: "".join(output.get("data", {}).get("text/plain", ""))
            for key, output in data.items()
        }
    return glue


def write_results(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from makemore import results

    folder = results.results_dir(app.srcdir)
    entries = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
    published, stale, left_out = results.shown_by_build(entries, rendered_glue(app))
    for entry, why in left_out:
        logger.info(f"results.json: left out {entry['key']!r}: {why}")
    for entry, why in stale:
        logger.warning(
            f"results.json: the record of {entry['key']!r} ({folder / (entry['key'] + '.json')})"
            f" is not what its page shows: {why}. It was written by an execution that no page "
            "of this build shows; run `make clean && make book`",
            type="makemore", subtype="stale_record",
        )
    target = Path(app.outdir) / "results.json"
    if not published:
        target.unlink(missing_ok=True)  # never leave an earlier build's file behind
        return  # a single-page build, or a book without recorded models
    published.sort(key=lambda e: (e["chapter"], e["key"]))
    build = os.environ.get(results.BUILD_ENV)
    payload = {"format": "makemore-results", "version": 2, "build": build,
               "rows": results.as_rows(published)}
    target.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    executed = sum(e.get("build") == build for e in published)
    logger.info(f"results.json: {len(payload['rows'])} rows from {len(published)} models "
                f"({executed} executed by this build, {len(published) - executed} from the cache)")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", new_build_id)
    app.connect("build-finished", write_results)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
