"""The reader's notebook (tools/book/reader.py): MyST turned into Markdown Jupyter renders.

Checked against independent oracles: myst-nb's own formatting of {glue:text}, the source code
`inspect` finds for a literalinclude, and the book's pages themselves (every role and directive
they use converts; no MyST is left for a reader to see). The built site's figure numbers and
anchors are checked against the HTML by tests/site/test_site_pages.py.
"""

from __future__ import annotations

import base64
import inspect
from pathlib import Path

import nbformat
import pytest
from myst_nb.core.variables import format_plain_text as myst_nb_format

from tools.book import layout, reader

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n fake").decode()


class AnyGlue(dict):
    """Glue that has every key: a number, Markdown and a figure (for converting real pages)."""

    def __missing__(self, key):
        return {"text/plain": "1.5", "text/markdown": f"**{key}**", "image/png": PNG}

    def __contains__(self, key):
        return True


def converter(glue: dict, other: dict | None = None, page: str = "02_mlp") -> reader.Converter:
    pages = layout.toc_pages()
    path = layout.ROOT / "book" / f"{page}.md"
    return reader.Converter(path, lambda name: glue if name == page else (other or {}),
                            reader.labels(pages), reader.bibliography(), "https://x.org/",
                            reader.figures_before(path, pages))


@pytest.mark.parametrize("text, spec", [("2.4543001651763916", ".4f"), ("3.0", ".0%"),
                                         ("12345", ","), ("'a string'", ""), ("0.5", "g"),
                                         ("7", "d"), ("'abc'", "s")])
def test_glue_text_formats_as_myst_nb_does(text, spec):
    """The role's key and format spec are split as myst-nb splits them, and formatted by it."""
    role = f"k:{spec}" if spec else "k"
    out = converter({"k": {"text/plain": text}}).role("glue:text", role)
    assert out == myst_nb_format(text, spec)


def test_roles_become_values_and_links():
    glue = {"loss": {"text/plain": "2.123456"}, "lr": {"text/markdown": "<span>0.1</span>"}}
    other = {"n": {"text/plain": "729"}}
    c = converter(glue, other)
    text = ("loss {glue:text}`loss:.3f`, rate {glue:md}`lr`, from Chapter 1:"
            " {glue:text}`01_bigram.md::n:,`; see {term}`the glossary <embedding>`"
            " and {doc}`the bigram chapter <01_bigram>` {cite}`bengio2003`")
    out, attachments = c.cell(text)
    assert out.startswith("loss 2.123, rate <span>0.1</span>, from Chapter 1: 729; see ")
    assert "[the glossary](https://x.org/book/glossary.html#term-embedding)" in out
    assert "[the bigram chapter](https://x.org/book/01_bigram.html)" in out
    assert "[Bengio et al. 2003](https://www.jmlr.org/" in out
    assert attachments == {}


def test_a_role_split_over_two_lines_is_converted():
    out, _ = converter({"a": {"text/plain": "3"}}).cell("x {glue:text}`a`, {term}`dead\nneuron`")
    assert "3" in out and "{" not in out and "glossary.html#term-dead-neuron)" in out


def test_a_missing_glue_key_is_an_error():
    with pytest.raises(KeyError, match="nope"):
        converter({}).cell("{glue:text}`nope`")


def test_figures_are_attached_and_numbered_book_wide():
    pages = layout.toc_pages()
    mlp = layout.ROOT / "book" / "02_mlp.md"
    before = reader.figures_before(mlp, pages)
    bigram = (layout.ROOT / "book" / "01_bigram.md").read_text(encoding="utf-8")
    assert before == bigram.count("```{glue:figure}") + bigram.count("```{figure}")
    c = converter({"fig_a": {"image/png": PNG}})
    out, attachments = c.cell("```{glue:figure} fig_a\n:name: fig-a\n:alt: a plot\n\n"
                              "What it shows.\n```\nAfter.")
    assert attachments == {"fig_a.png": {"image/png": PNG}}
    assert '<a id="fig-a"></a>' in out and "![a plot](attachment:fig_a.png)" in out
    assert f"*Fig. {before + 1}.* What it shows." in out and out.endswith("After.")


def test_directives_become_markdown():
    c = converter({"t": {"text/markdown": "| a |\n|---|\n| 1 |"}})
    source = ("(sec-x)=\n## A section\n\n```{glue:md} t\n:format: myst\n```\n\n"
              "```{exercise}\n:label: ex-x\n\nDo {math}`x^2`.\n```\n\n"
              "````{solution-start} ex-x\n:class: dropdown\n````\n"
              "```{literalinclude} ../code/makemore/bigram.py\n:language: python\n"
              ":pyobject: neural_loss\n```\n"
              "```{note}\nBe careful.\n```\n% a comment\n")
    out, _ = c.cell(source)
    from makemore.bigram import neural_loss

    assert '<a id="sec-x"></a>\n## A section' in out
    assert "| a |\n|---|\n| 1 |" in out
    assert '<a id="ex-x"></a>\n**Exercise.** Do $x^2$.' in out
    assert "**Solution.**" in out
    assert inspect.getsource(neural_loss).rstrip() in out
    assert "> **Note**\n>\n> Be careful." in out
    assert "a comment" not in out


@pytest.mark.parametrize("page", layout.executed_pages(layout.ROOT), ids=lambda p: p.stem)
def test_every_page_converts_completely(page):
    """Every role and directive the book's pages use has a conversion: none is left as text,
    every link target exists, and the code cells are the page's own, after the install cell."""
    import jupytext

    nb = reader.reader_notebook(page, lambda name: AnyGlue())
    assert reader.leftover_myst(nb) == []
    nbformat.validate(nb)
    chapter = jupytext.read(page)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code == [reader.INSTALL_SOURCE] + [
        c.source for c in chapter.cells if c.cell_type == "code"]
    assert nb.cells[0].source.startswith("# ")  # the title stays first


def test_install_cell_installs_only_when_missing():
    from IPython.core.inputtransformer2 import TransformerManager

    python = TransformerManager().transform_cell(reader.INSTALL_SOURCE)
    assert 'run_line_magic(\'pip\', \'install --quiet "makemore-book==' in python
    assert "if importlib.util.find_spec(\"makemore\") is None:" in python
    from makemore import __version__

    assert f"=={__version__}" in python


def test_the_distribution_name_is_pyprojects():
    import tomllib

    project = tomllib.loads(Path(layout.ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == reader.DISTRIBUTION
