"""Publish the book's results as `results.json` at the root of the built site.

Each chapter glues the records of the models it trains (`makemore.results.record`). When the
HTML build finishes, this extension reads them back the way the results page does
(`makemore.results.records`): from the chapters' executions in the build's jupyter-cache, each
the one that matches its chapter's current source, i.e. what this build shows. It writes one
row per (model, split) into `<site>/results.json`, with the time this build wrote it, so one
build's results can be compared with the last. No other copy of the numbers exists to go stale.

Registered in `_config.yml` under `sphinx: local_extensions`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

from makemore import results
from makemore.files import atomic_write

logger = logging.getLogger(__name__)


def write_results(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    pages = {Path(app.env.doc2path(d)).resolve() for d in app.env.found_docs}
    found = results.records(Path(app.env.mystnb_config.execution_cache_path), pages)
    entries = sorted(found.values(), key=lambda e: (e["chapter"], e["key"]))
    target = Path(app.outdir) / "results.json"
    if not entries:
        target.unlink(missing_ok=True)  # never leave an earlier build's file behind
        return  # a book without recorded models
    payload = {"format": "makemore-results", "version": 3,
               "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "rows": results.as_rows(entries)}
    atomic_write(target, lambda f: f.write(json.dumps(payload, indent=2) + "\n"), mode="w")
    logger.info(f"results.json: {len(payload['rows'])} rows from {len(entries)} models")


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", write_results)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
