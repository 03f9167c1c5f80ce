"""The package's shape: imports run one way, and every lecture fact is said once.

Imports run data -> models -> training -> diagnostics -> figures, publishing, results -> command
line and checkpoints, never back (a module may import only from its own layer or lower ones,
and never in a cycle), and no module hides an import inside a function. The lectures' seed
and every number the lectures printed stand in `makemore.lecture` only: anywhere else (the
package, the chapters, the tests, the benchmarks, the tools) they are imported from there.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from makemore import lecture

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "code" / "makemore"

# The layers, lowest first. A module may import from its own layer and the ones before it.
LAYERS = [
    {"lecture", "files", "stats"},  # facts, the atomic write, spreads: no package imports
    {"data"},
    {"layers"},  # the layer library: below every model, it imports none
    {"bigram", "ngram", "mlp", "sampling", "sequences", "transformer", "recurrent",
     "wavenet", "transformer_manual", "recurrent_manual"},  # models (and the
    #     Transformer's pieces and the recurrent cells with their hand-written backward)
    {"training"},
    {"diagnostics", "parallel", "zoo"},  # zoo: the registry of kinds of model
    {"figures", "publish", "results", "compare"},  # compare: the one rule, and its claims
    {"checkpoint", "cli", "__main__", "__init__"},
]


def _modules() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(encoding="utf-8")) for p in PACKAGE.glob("*.py")}



def _imports(tree: ast.Module) -> list[tuple[str, bool]]:
    """(imported makemore module, at module level?) for every import in the file."""
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("makemore"):
            if node.module == "makemore":
                names = [a.name for a in node.names]
            else:
                names = [node.module.split(".")[1]]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names
                     if a.name.startswith("makemore.")]
            names += ["__init__" for a in node.names if a.name == "makemore"]
        found += [(n, id(node) in top) for n in names]
    return found


# A model's module needs no entry above: whatever the registry imports that has no layer of
# its own is a model (adding a model is one module and one entry in zoo.KINDS).
_listed = set().union(*LAYERS)
LAYERS[2] |= {name for name, _ in _imports(_modules()["zoo"]) if name not in _listed}
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def test_every_module_has_a_layer():
    assert set(_modules()) <= set(RANK), set(_modules()) - set(RANK)


def test_imports_run_one_way_at_module_level():
    problems = []
    for name, tree in _modules().items():
        for target, at_top in _imports(tree):
            if not at_top:
                problems.append(f"{name} imports {target} inside a function")
            elif target in RANK and RANK[target] > RANK.get(name, 0):
                problems.append(f"{name} (layer {RANK[name]}) imports {target} "
                                f"(layer {RANK[target]})")
    assert not problems, "\n".join(problems)


def test_the_import_graph_has_no_cycle():
    graph = {name: {t for t, _ in _imports(tree) if t != name and t != "__init__"}
             for name, tree in _modules().items()}
    seen, stack = set(), []

    def visit(node: str) -> None:
        if node in stack:
            raise AssertionError("import cycle: " + " -> ".join([*stack, node]))
        if node in seen:
            return
        stack.append(node)
        for nxt in graph.get(node, ()):
            visit(nxt)
        stack.pop()
        seen.add(node)

    for node in graph:
        visit(node)


def test_the_cycle_check_can_fail():
    tree = ast.parse("from makemore.cli import main\n")
    assert _imports(tree) == [("cli", True)]
    tree = ast.parse("def f():\n    from makemore import training\n")
    assert _imports(tree) == [("training", False)]


# -----------------------------------------------------------------------------
# lecture facts, said once


def _sources() -> list[Path]:
    """Every file that holds code: the package, chapters, tests, benchmarks, tools."""
    files = [*PACKAGE.glob("*.py"), *(ROOT / "book").glob("*.md"), *(ROOT / "tests").rglob("*.py"),
             *(ROOT / "bench").glob("*.py"), *(ROOT / "tools").glob("*.py"),
             *(ROOT / "_ext").glob("*.py")]
    return [f for f in files if f.name != "lecture.py" and f != Path(__file__)]


def _quotes() -> list[lecture.Quote]:
    out = []
    for value in vars(lecture).values():
        if isinstance(value, lecture.Quote):
            out.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                out += [q for q in (v if isinstance(v, tuple) else (v,))
                        if isinstance(q, lecture.Quote)]
    return out


def test_the_seed_literal_stands_in_one_file():
    where = [str(f.relative_to(ROOT)) for f in _sources() if str(lecture.SEED) in f.read_text()]
    assert not where, f"the lectures' seed typed outside makemore/lecture.py: {where}"


@pytest.mark.parametrize("quote", _quotes(), ids=str)
def test_each_lecture_number_stands_in_one_file(quote):
    if quote.decimals == 0:  # a count: its digits, with or without a thousands separator
        forms = {f"{int(quote.value)}", f"{int(quote.value):,}", f"{int(quote.value):_}"}
        forms = {f for f in forms if len(f) >= 4}
        if not forms:
            pytest.skip("too short to be told apart from other numbers")
    else:
        forms = {f"{quote.value:.{quote.decimals}f}"}
        if len(forms.pop().replace(".", "").lstrip("0")) < 3:
            pytest.skip("too short to be told apart from other numbers")
        forms = {f"{quote.value:.{quote.decimals}f}"}
    pattern = re.compile(r"(?<![\d.])(" + "|".join(map(re.escape, forms)) + r")(?!\d)")
    where = [str(f.relative_to(ROOT)) for f in _sources() if pattern.search(f.read_text())]
    assert not where, f"{quote} ({quote.where}) typed outside makemore/lecture.py: {where}"
