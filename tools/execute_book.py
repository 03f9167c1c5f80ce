#!/usr/bin/env python3
"""Execute the book's chapters two at a time, into the build's jupyter-cache, before Sphinx reads.

myst-nb executes the chapters one after the other while Sphinx reads them, so a clean build
takes the sum of every chapter's execution time even on a machine with cores to spare. This
script runs first (`make book` calls it): it reads each chapter exactly as myst-nb reads it
(`myst_nb.core.read`), executes it the way myst-nb's cache mode does (jupyter-cache's
`single_nb_execution`, the chapter's folder as working directory, the same timeout), and stores
the executed notebook in the same cache (`_build/.jupyter_cache`), keyed by the same hash of its
code cells. Sphinx then finds every chapter in the cache ("Using cached notebook") and executes
nothing itself. A chapter that fails here is reported with its traceback and the script exits 1:
the build fails as it would have.

The chapters run in a pool of `--jobs` processes, longest first: by the last build's times, kept
in the cache, or on an empty cache (a clean build, CI) by the times of a clean build kept in
tools/book/execution-times.json, so the longest chapter never starts last. A chapter already
in the cache is not executed again. A page that reads what the chapters recorded (the results
page: tools/book/layout.py says which) is left to the build, which executes it in every build
after the chapters (_ext/page_dependencies.py): it reads their records from this cache.

Usage: execute_book.py [--jobs 2] [--cache _build/.jupyter_cache]
Exit status: 0 when every page is in the cache, 1 when one failed, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import yaml

from makemore.files import atomic_write

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tools.book
from tools.book import layout

ROOT = layout.ROOT
TIMES = "book-execution-times.json"  # in the cache folder: the last build's seconds per page
HINT = Path(__file__).resolve().parent / "book" / "execution-times.json"  # a clean build's


def execute(path: str, timeout: int) -> tuple[str, float, str | None, str | None]:
    """Execute one page in a fresh kernel; return (path, seconds, the executed notebook as
    JSON text or None, the error's text or None)."""
    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution

    page = Path(path)
    nb = layout.read_page(page)
    result = single_nb_execution(nb, cwd=str(page.parent), timeout=timeout, allow_errors=False,
                                 meta_override=True)
    if result.err is not None:
        return path, result.time, None, result.exc_string or repr(result.err)
    return path, result.time, nbformat.writes(nb), None


def store(cache, page: Path, seconds: float, executed: str) -> None:
    """Put the executed notebook in the cache under the key myst-nb will look for."""
    import nbformat
    from jupyter_cache.base import CacheBundleIn

    nb = nbformat.reads(executed, as_version=4)
    cache.cache_notebook_bundle(CacheBundleIn(nb, str(page), data={"execution_seconds": seconds}),
                                check_validity=False, overwrite=True)


def run(pages: list[Path], cache, jobs: int, timeout: int, times: dict) -> list[str]:
    """Execute `pages` (longest first) in `jobs` processes; store each in the cache."""
    failures = []
    order = sorted(pages, key=lambda p: -times.get(p.name, float("inf")))
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(execute, str(p), timeout) for p in order]
        for future in as_completed(futures):
            path, seconds, executed, error = future.result()
            page = Path(path)
            if error is not None:
                failures.append(f"{page.relative_to(ROOT)} failed after {seconds:.1f} s:\n{error}")
                continue
            store(cache, page, seconds, executed)
            times[page.name] = seconds
            print(f"{page.relative_to(ROOT)}: executed in {seconds:.1f} s", flush=True)
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="pages executed at once (default 2)")
    parser.add_argument("--cache", default=str(ROOT / layout.CACHE))
    parser.add_argument("--timeout", type=int, default=None,
                        help="seconds per cell (default: execute.timeout of _config.yml)")
    args = parser.parse_args(argv)
    from jupyter_cache import get_cache

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    timeout = args.timeout or int(config.get("execute", {}).get("timeout", 30))
    cache = get_cache(args.cache)
    times_path = Path(args.cache) / TIMES
    times = json.loads(HINT.read_text()) | (
        json.loads(times_path.read_text()) if times_path.is_file() else {})

    pages = [p for p in layout.executed_pages(ROOT) if not layout.reads_records(p)]
    todo = [p for p in pages if layout.executed_notebook(p, cache) is None]
    if not todo:
        print("every chapter is in the cache: nothing to execute")
        return 0
    start = time.perf_counter()
    failures = run(todo, cache, args.jobs, timeout, times)
    atomic_write(times_path, lambda f: f.write(json.dumps(times, indent=1, sort_keys=True)),
                 mode="w")
    print(f"executed {len(todo)} page(s) in {time.perf_counter() - start:.1f} s of wall time, "
          f"{args.jobs} at a time")
    for failure in failures:
        print(f"\nERROR: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
