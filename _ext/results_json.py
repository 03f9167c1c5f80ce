"""Publish the book's results as `results.json` at the root of the built site.

Each chapter records the models it trains with `makemore.results.record`, which glues the
numbers into the chapter and writes them to `_build/results/<key>.json`. When the HTML build
finishes, this extension gathers those records, one row per (model, split), into
`<site>/results.json`, so one build's results can be compared with the last.

Registered in `_config.yml` under `sphinx: local_extensions`.
"""

from __future__ import annotations

import json
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def write_results(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from makemore import results

    folder = results.results_dir(app.srcdir)
    entries = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
    if not entries:
        return  # a single-page build, or a book without recorded models
    entries.sort(key=lambda e: (e["chapter"], e["key"]))
    payload = {"format": "makemore-results", "version": 1, "rows": results.as_rows(entries)}
    target = Path(app.outdir) / "results.json"
    target.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    logger.info(f"results.json: {len(payload['rows'])} rows from {len(entries)} models")


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", write_results)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
