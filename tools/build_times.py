#!/usr/bin/env python3
"""Where the build spent its time: each page's execution seconds and its runs' training CPU.

`make book` ends with this table, so the book's budget (a clean build within 10 minutes on 2
cores) is read, not guessed. For every page the build executes (tools/book/layout.py), from its
execution in the build's jupyter-cache that matches its current source:

- the wall-clock seconds the execution took (jupyter-cache keeps them with the notebook, as
  `execution_seconds`, whether tools/execute_book.py or myst-nb executed it);
- the training CPU seconds of each run the page declared: every timing it glued under a key
  ending in `_cpu` (`makemore.results.record(..., cpu_seconds=)` glues `{key}_cpu`; a chapter
  glues its other runs' budgets the same way with `makemore.publish.timing`), measured by
  `makemore.training.Clock`, the training loop only, evaluation left out.

CPU seconds do not depend on the machine's load (wall seconds do): a page's runs may add up
to more than its wall time when they train in two worker processes at once.

Usage: build_times.py [--cache _build/.jupyter_cache] [--runs]
Exit status: 0 (a page with no execution in the cache is listed as missing), 2 when there is
no cache at all.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tools.book
from tools.book import layout

CPU_SUFFIX = "_cpu"  # the key of a run's training CPU seconds ends in it


def page_times(page: Path, cache) -> tuple[float | None, dict[str, float]] | None:
    """(execution seconds, {run key: training CPU seconds}) of the page's execution in the
    jupyter-cache `cache` that matches its current source, or None when there is none."""
    try:
        record = cache.match_cache_notebook(layout.read_page(page))
    except KeyError:
        return None
    seconds = record.data.get("execution_seconds")
    glued = layout.glue_of(cache.get_cache_bundle(record.pk).nb)
    runs = {key: float(glued[key]["text/plain"]) for key in sorted(layout.timing_keys(glued))
            if key.endswith(CPU_SUFFIX) and key in glued}
    return (None if seconds is None else float(seconds)), runs


def report(pages: list[Path], cache, show_runs: bool = False) -> list[str]:
    """The table's lines: one per page (its runs below it with `show_runs`), then the totals."""
    lines = [f"{'page':<22} {'executed (s)':>12} {'runs':>5} {'training CPU (s)':>17}"]
    total_wall = total_cpu = 0.0
    for page in pages:
        found = page_times(page, cache)
        if found is None:
            lines.append(f"{page.name:<22} {'missing':>12}")
            continue
        seconds, runs = found
        cpu = sum(runs.values())
        total_wall += seconds or 0.0
        total_cpu += cpu
        wall = "?" if seconds is None else f"{seconds:.1f}"
        lines.append(f"{page.name:<22} {wall:>12} {len(runs):>5} {cpu:>17.1f}")
        if show_runs:
            lines += [f"  {key.removesuffix(CPU_SUFFIX):<32} {value:>17.1f}"
                      for key, value in runs.items()]
    lines.append(f"{'sum':<22} {total_wall:>12.1f} {'':>5} {total_cpu:>17.1f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=str(layout.ROOT / layout.CACHE))
    parser.add_argument("--runs", action="store_true", help="list each page's runs too")
    args = parser.parse_args(argv)
    from jupyter_cache import get_cache

    if not Path(args.cache).is_dir():
        print(f"build_times: no jupyter-cache at {args.cache}: build the book first",
              file=sys.stderr)
        return 2
    cache = get_cache(args.cache)
    print("\n".join(report(layout.executed_pages(layout.ROOT), cache, args.runs)))
    print("(executed: wall seconds of each page's execution, chapters two at a time; training "
          "CPU: the sum of its runs' training loops, from makemore.training.Clock)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
