"""A chapter's notebook, as a reader downloads it, runs outside the repository.

The site offers each chapter as a reader's notebook (_ext/ipynb_download.py): its first cell
installs the companion package when `makemore` cannot be imported. Here the notebook is copied
out of the repository into an empty folder and run top to bottom by a kernel in a fresh
virtual environment that has nothing but a kernel (ipykernel): the first cell must install
the package (`pip install makemore-book==<version>`, from the wheel `make dist` built, the
book's pinned versions as constraints), and the chapter must then glue exactly the values the
book's build glued (wall-clock timings aside, declared as such by the chapter), from a
`makemore` imported from that environment, not from the repository.

Each chapter runs in full, so this costs a chapter's execution plus installing torch: by
default only Chapter 1, the quickest; `MAKEMORE_NOTEBOOK_CHAPTERS=all` (or a comma-separated
list of page names) runs more. Needs `make book` and `make dist` first (`make notebook-test`).
Locally it skips without them; in CI (`CI=true`) that fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.book import layout

ROOT = layout.ROOT
SITE = ROOT / "_build" / "html"
DIST = ROOT / "_build" / "dist"
EXECUTED = ROOT / "_build" / "jupyter_execute" / "book"
KERNEL = "makemore-fresh-venv"
WHERE = "import makemore; print('makemore from', makemore.__file__)"


def chapters() -> list[str]:
    wanted = os.environ.get("MAKEMORE_NOTEBOOK_CHAPTERS", "01_bigram")
    pages = [p.stem for p in layout.executed_pages(ROOT) if p.stem != "results"]
    return pages if wanted == "all" else [w.strip() for w in wanted.split(",") if w.strip()]


def need(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(what)
    pytest.skip(what)


def pins(target: Path) -> Path:
    """requirements.txt's exact pins as a pip constraints file (no editable line)."""
    lines = [line.split("#")[0].strip() for line in
             (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()]
    target.write_text("\n".join(x for x in lines if "==" in x) + "\n", encoding="utf-8")
    return target


def pip_config_list(python: Path) -> dict[str, str]:
    out = subprocess.run([str(python), "-m", "pip", "config", "list"], capture_output=True,
                         text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        found[key.split(".", 1)[-1]] = value.strip().strip("'")
    return found


@pytest.fixture(scope="module")
def fresh_kernel(tmp_path_factory):
    """A virtual environment with only ipykernel, registered as the kernel KERNEL."""
    wheels = sorted(DIST.glob("makemore_book-*.whl"))
    if not wheels:
        need(f"no wheel in {DIST}: make dist")
    root = tmp_path_factory.mktemp("fresh")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # pip in the fresh environment (the kernel's %pip inherits this environment) finds the
    # wheel `make dist` built, besides wherever this machine's pip looks, and keeps to the
    # book's pins (requirements.txt)
    links = " ".join([str(DIST), pip_config_list(python).get("find-links", "")]).strip()
    env = {"PIP_FIND_LINKS": links, "PIP_CONSTRAINT": str(pins(root / "pins.txt"))}
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "ipykernel"], check=True,
                   env=os.environ | env)
    probe = subprocess.run([str(python), "-c", "import makemore"], capture_output=True)
    assert probe.returncode != 0, "the fresh environment must not have makemore yet"
    jupyter = root / "jupyter"
    subprocess.run([str(python), "-m", "ipykernel", "install", "--prefix", str(jupyter),
                    "--name", KERNEL], check=True, capture_output=True)
    return root, jupyter / "share" / "jupyter", env


@pytest.mark.parametrize("name", chapters())
def test_notebook_runs_outside_the_repository(name, fresh_kernel, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    notebook = SITE / "_sources" / "book" / f"{name}.ipynb"
    reference = EXECUTED / f"{name}.glue.json"
    if not notebook.is_file() or not reference.is_file():
        need(f"no {notebook} or {reference}: make book")
    root, jupyter_path, pip_env = fresh_kernel
    work = root / name
    work.mkdir()
    copy = work / notebook.name
    shutil.copy(notebook, copy)
    nb = nbformat.read(copy, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(WHERE))
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_path))
    for key, value in pip_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=3600,
                            resources={"metadata": {"path": str(work)}})
    client.execute()

    where = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "site-packages" in where and str(ROOT) not in where, where
    install = "".join(o.get("text", "") for o in nb.cells[2].outputs)
    assert "rror" not in install, install

    got = layout.glue_of(nb)
    built = layout.read_glue(reference)
    timings = layout.timing_keys(built) | {k for k in built if k.startswith("timing_keys.")}
    keys = sorted(set(built) - timings)
    assert set(got) - timings == set(keys), "the notebook glued other keys than the build"
    differ = [key for key in keys for mime in ("text/plain", "text/markdown")
              if built[key].get(mime) is not None and got[key].get(mime) != built[key][mime]]
    assert not differ, f"{name}: {len(differ)} values differ from the book's, e.g. " + ", ".join(
        f"{k}: {got[k].get('text/plain')!r} vs {built[k].get('text/plain')!r}"
        for k in differ[:3])
    assert any(re.search(r"\d", str(built[k].get("text/plain"))) for k in keys)  # numbers
