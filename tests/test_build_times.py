"""tools/build_times.py: the table `make book` ends with reads each page's execution seconds and
its runs' training CPU from the execution the build shows, not from an older one."""

from __future__ import annotations

import nbformat
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn

from makemore import publish
from tools import build_times
from tools.book import layout

PAGE = """---
kernelspec:
  name: python3
  display_name: Python 3
---
# A chapter

```{{code-cell}} ipython3
x = {x}
```
"""


def store(cache, page, x, seconds, **timings):
    """The page (its source depends on `x`) executed in `seconds`, its cell holding what
    `publish.timing` glues for each of `timings`."""
    page.write_text(PAGE.format(x=x), encoding="utf-8")
    nb = layout.read_page(page)
    InteractiveShell.instance()
    with capture_output() as captured:
        for key, value in timings.items():
            publish.timing(key, value)
        publish.timing("t_loop_ms", 3.0)  # a timing that is not a run's budget
    next(c for c in nb.cells if c.cell_type == "code").outputs = [
        nbformat.v4.new_output("display_data", data=o.data, metadata=o.metadata)
        for o in captured.outputs]
    cache.cache_notebook_bundle(CacheBundleIn(nb, str(page), data={"execution_seconds": seconds}),
                                check_validity=False, overwrite=True)


def test_pages_runs_and_totals(tmp_path):
    cache = get_cache(str(tmp_path / "cache"))
    a, b, c = (tmp_path / f"{n}.md" for n in "abc")
    store(cache, a, 1, 40.0, mlp_cpu=30.5, seed2_cpu=29.5)
    store(cache, b, 2, 99.0, other_cpu=1.0)
    store(cache, b, 3, 12.0, other_cpu=7.0)  # b edited and executed again: this one is shown
    c.write_text(PAGE.format(x=4), encoding="utf-8")  # never executed
    assert build_times.page_times(a, cache) == (40.0, {"mlp_cpu": 30.5, "seed2_cpu": 29.5})
    assert build_times.page_times(b, cache) == (12.0, {"other_cpu": 7.0})
    assert build_times.page_times(c, cache) is None
    lines = build_times.report([a, b, c], cache, show_runs=True)
    assert lines[1].split() == ["a.md", "40.0", "2", "60.0"]
    assert lines[2].split() == ["mlp", "30.5"] and lines[3].split() == ["seed2", "29.5"]
    assert lines[4].split() == ["b.md", "12.0", "1", "7.0"]
    assert lines[6].split() == ["c.md", "missing"]
    assert lines[-1].split() == ["sum", "52.0", "67.0"]


def test_no_cache_is_one_line_and_status_2(tmp_path, capsys):
    assert build_times.main(["--cache", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "none").exists()

