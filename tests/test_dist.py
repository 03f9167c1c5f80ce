"""The package as a distribution (`make dist`): the wheel built from this tree, without a
network, holds every module of code/makemore, the data module with the pinned SHA-256 that
verifies names.txt, the licence, and metadata the index will take: the name makemore-book,
the package's version, lower bounds only, no build or check tool among the dependencies."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "code" / "makemore"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of what the build reads (the tree itself stays untouched)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(PACKAGE, src / "code" / "makemore",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    run = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation",
                          "--outdir", str(out), str(src)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    (found,) = out.glob("*.whl")
    return found


def metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(z.read(name).decode())


def test_the_wheel_holds_every_module_and_the_licence(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    modules = {f"makemore/{p.name}" for p in PACKAGE.glob("*.py")}
    assert modules - names == set(), f"modules missing from the wheel: {modules - names}"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not [n for n in names if n.startswith(("tests/", "book/", "tools/", "bench/"))]


def test_the_wheel_verifies_the_data_as_the_tree_does(wheel):
    """makemore.data in the wheel pins the same SHA-256 of names.txt as the source."""
    def pinned(source: str) -> str:
        for node in ast.parse(source).body:
            if isinstance(node, ast.Assign) and any(
                    getattr(t, "id", None) == "NAMES_SHA256" for t in node.targets):
                return node.value.value
        raise AssertionError("no NAMES_SHA256 in makemore/data.py")

    with zipfile.ZipFile(wheel) as z:
        in_wheel = pinned(z.read("makemore/data.py").decode())
    assert in_wheel == pinned((PACKAGE / "data.py").read_text("utf-8"))
    assert len(in_wheel) == 64 and int(in_wheel, 16) >= 0


def test_the_metadata_names_the_distribution_and_loose_runtime_needs(wheel):
    meta = metadata(wheel)
    import makemore

    assert meta["Name"] == "makemore-book"
    assert meta["Version"] == makemore.__version__
    assert meta["License-Expression"] == "MIT"
    needs = [Requirement(r) for r in meta.get_all("Requires-Dist")]
    runtime = {r.name: r for r in needs if r.marker is None}
    assert {"torch", "numpy", "scipy", "matplotlib", "pooch", "myst-nb"} <= set(runtime)
    for req in runtime.values():  # lower bounds only: exact pins are requirements.txt's
        assert all(s.operator == ">=" for s in req.specifier), f"{req}: not a lower bound"
    tools = {"jupyter-book", "pytest", "ruff", "selenium", "build", "twine", "sphinx"}
    assert not tools & set(runtime), f"tools as runtime needs: {tools & set(runtime)}"
