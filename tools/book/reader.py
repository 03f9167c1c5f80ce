"""A chapter as a notebook a reader can run anywhere: MyST turned into what Jupyter renders.

The chapters are MyST Markdown notebooks. Opened as they are in Jupyter or Colab, their prose
shows raw roles (`{glue:text}` and the rest) and directives as text, and their first import
fails unless the reader cloned the repository. This module writes the notebook a reader gets
from the site's download menu, the notebooks published for Colab, and the offline notebooks
with outputs (tools/offline_notebooks.py), all from one conversion:

- glued values are replaced by what this build glued (`{glue:text}` formatted by myst-nb's
  own function, `{glue:md}` and ```{glue:md}``` blocks by their Markdown, ```{glue:figure}``` by
  its image, attached to the cell, and its caption);
- `{term}`, `{ref}`, `{numref}`, `{doc}` become Markdown links to the published site (a figure
  keeps its number, "Fig. N", counted as Sphinx counts them: captioned figures, page order);
  `{cite}` becomes the authors and year, linked to the work;
- directives become Markdown: an exercise a bold heading, a solution a "Solution" heading,
  `literalinclude` the code it includes; labels `(name)=` become anchors;
- a first code cell installs the companion package when `makemore` cannot be imported (the
  distribution `makemore-book`, pinned to this version), with a note on what the chapter needs
  (CPU, time) and why the numbers match the book's only with the same torch build.

Code cells are left exactly as the chapter has them: the reader runs the code the book ran.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import yaml
from myst_nb.core.variables import format_plain_text  # {glue:text}'s formatting, myst-nb's

from makemore import __version__
from tools.book import layout

ROOT = layout.ROOT
DISTRIBUTION = "makemore-book"  # pyproject.toml's name; the import name is makemore
FIGURE_DIRECTIVES = ("glue:figure", "figure")

INSTALL_SOURCE = f"""\
# Run this cell first. Outside the book's repository (Colab, a fresh Jupyter),
# it installs the book's companion package, pinned to this edition; where
# `makemore` is already importable it does nothing.
import importlib.util

if importlib.util.find_spec("makemore") is None:
    %pip install --quiet "{DISTRIBUTION}=={__version__}"
    importlib.invalidate_caches()
    if importlib.util.find_spec("makemore") is None:
        raise ImportError("could not install {DISTRIBUTION}=={__version__}: see pip above")
"""


def site_url(config: Path = ROOT / "_config.yml") -> str:
    """The published site's address (html.baseurl), ending in a slash."""
    url = yaml.safe_load(config.read_text(encoding="utf-8"))["html"]["baseurl"]
    return url if url.endswith("/") else url + "/"


# -----------------------------------------------------------------------------
# what the other pages define: labels, figure numbers, references


def labels(pages: list[Path]) -> dict[str, tuple[str, str]]:
    """{label: (page name, number or "")} for every section label `(name)=`, named figure,
    exercise and equation of `pages`; a figure's number is its "Fig. N", counted through the
    book in the order of `pages`, as the build numbers them."""
    found: dict[str, tuple[str, str]] = {}
    figures = 0
    for page in pages:
        name = page.stem
        lines = page.read_text(encoding="utf-8").splitlines()
        directive = None
        for line in lines:
            if m := re.fullmatch(r"\((?P<label>[^)\s]+)\)=", line.strip()):
                found[m["label"]] = (name, "")
            elif m := re.match(r"^(`{3,}|:{3,})\{(?P<name>[a-z:-]+)\}", line):
                directive = m["name"]
                if directive in FIGURE_DIRECTIVES:
                    figures += 1
            elif m := re.match(r"^:(name|label):\s*(?P<label>\S+)", line):
                number = f"Fig. {figures}" if directive in FIGURE_DIRECTIVES else ""
                found[m["label"]] = (name, number)
    return found


def figures_before(page: Path, pages: list[Path]) -> int:
    """How many figures the pages before `page` hold (the build numbers them book-wide)."""
    count = 0
    for other in pages:
        if other == page:
            return count
        count += len(re.findall(r"(?m)^(?:`{3,}|:{3,})\{(?:" + "|".join(FIGURE_DIRECTIVES)
                                + r")\}", other.read_text(encoding="utf-8")))
    return count


def glossary_anchors(path: Path = ROOT / "book" / "glossary.md") -> dict[str, str]:
    """{term, lower case: its anchor on the glossary page} (Sphinx keeps the term's case)."""
    text = path.read_text(encoding="utf-8")
    block = re.search(r"(?s)```\{glossary\}\n(.*?)\n```", text)
    terms = re.findall(r"(?m)^(\S.*)$", block[1]) if block else []
    return {t.lower(): "term-" + re.sub(r"[^\w]+", "-", t).strip("-") for t in terms}


def bibliography(path: Path = ROOT / "book" / "references.bib") -> dict[str, tuple[str, str]]:
    """{key: (short citation "Bengio et al. 2003", url)} from the book's BibTeX file."""
    entries: dict[str, tuple[str, str]] = {}
    text = path.read_text(encoding="utf-8")
    for m in re.finditer(r"@\w+\{(?P<key>[^,]+),(?P<body>.*?)\n\}", text, re.S):
        fields = dict(re.findall(r"(\w+)\s*=\s*\{(.*?)\},?\s*$", m["body"], re.M))
        authors = [a.split(",")[0].strip().strip("{}")
                   for a in fields.get("author", "").split(" and ") if a.strip()]
        who = (authors[0] if len(authors) == 1 else f"{authors[0]} and {authors[1]}"
               if len(authors) == 2 else f"{authors[0]} et al.") if authors else m["key"]
        who = re.sub(r"\\['`^\"~]\{?(\w)\}?", r"\1", who).replace("{", "").replace("}", "")
        entries[m["key"].strip()] = (f"{who} {fields.get('year', '')}".strip(),
                                     fields.get("url", ""))
    return entries


# -----------------------------------------------------------------------------
# glued values




# -----------------------------------------------------------------------------
# the conversion of one Markdown cell


class Converter:
    """Turns the MyST of one chapter's Markdown cells into Markdown Jupyter renders."""

    def __init__(self, page: Path, glue_of, all_labels: dict, bib: dict, site: str,
                 figures: int = 0):
        """`glue_of(name)`: the glue of the page `name` ({key: {MIME type: value}}), this
        build's; a role may quote another page's value (`{glue:text}`02_mlp.md::key``)."""
        self.page, self.glue_of, self.labels, self.bib = page, glue_of, all_labels, bib
        self.site = site
        self.figures = figures  # the book's figures so far, to number them as Sphinx does
        self.terms = glossary_anchors()

    # glued values -----------------------------------------------------------
    def value(self, key: str) -> dict:
        """The MIME bundle glued under `key` (`page.md::key`: on another page)."""
        page, sep, name = key.rpartition("::")
        glue = self.glue_of(Path(page).stem if sep else self.page.stem)
        if name not in glue:
            raise KeyError(f"{self.page.name}: glue key {key!r} is not in this build's glue")
        return glue[name]

    def plain(self, key: str) -> str:
        return self.value(key).get("text/plain", "")

    def markdown(self, key: str) -> str:
        data = self.value(key)
        return data.get("text/markdown", format_plain_text(data.get("text/plain", ""), ""))

    # links ------------------------------------------------------------------
    def _page_url(self, name: str) -> str:
        return f"{self.site}book/{name}.html"

    def _label_url(self, label: str) -> str:
        page, _ = self.labels[label]
        return f"{self._page_url(page)}#{label}"

    @staticmethod
    def _split(content: str) -> tuple[str | None, str]:
        """`text <target>` -> (text, target); `target` -> (None, target)."""
        m = re.fullmatch(r"(?s)(?P<text>.*?)\s*<(?P<target>[^<>]+)>", content)
        text, target = (m["text"], m["target"]) if m else (None, content)
        return text, " ".join(target.split())  # a target may be wrapped over two lines

    def role(self, name: str, content: str) -> str:
        if name == "glue:text" or name == "glue":
            key, spec = content, ""
            if m := re.fullmatch(r"(?P<key>.*?[^:]):(?P<spec>[^:]*)", content):
                key, spec = m["key"], m["spec"]
            return format_plain_text(self.plain(key), spec)
        if name == "glue:md":
            return self.markdown(content)
        if name == "term":
            text, target = self._split(content)
            anchor = self.terms[target.lower()]
            return f"[{text or target}]({self._page_url('glossary')}#{anchor})"
        if name == "ref":
            text, target = self._split(content)
            return f"[{text or target}]({self._label_url(target)})"
        if name == "numref":
            text, target = self._split(content)
            number = self.labels[target][1] or target
            return f"[{text or number}]({self._label_url(target)})"
        if name == "doc":
            text, target = self._split(content)
            page = Path(target).name
            return f"[{text or page}]({self._page_url(page)})"
        if name in ("cite", "cite:p", "cite:t"):
            cited = []
            for key in (k.strip() for k in content.split(",")):
                short, url = self.bib[key]
                cited.append(f"[{short}]({url})" if url else short)
            return "(" + "; ".join(cited) + ")"
        if name == "math":
            return f"${content}$"
        return content  # a role of the theme's own (kbd, abbr, ...): its text

    def inline(self, text: str) -> str:
        return re.sub(r"\{(?P<name>[a-z:-]+)\}`(?P<content>[^`]*)`",
                      lambda m: self.role(m["name"], m["content"]), text)

    # blocks -----------------------------------------------------------------
    def cell(self, source: str) -> tuple[str, dict]:
        """(Markdown, attachments) of one Markdown cell's MyST."""
        out: list[str] = []
        attachments: dict = {}
        prose: list[str] = []  # lines of plain text: a role may span two of them

        def flush() -> None:
            if prose:
                out.append(self.inline("\n".join(prose)))
                prose.clear()

        lines = source.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if m := re.fullmatch(r"\((?P<label>[^)\s]+)\)=", line.strip()):
                flush()
                out.append(f'<a id="{m["label"]}"></a>')
                i += 1
                continue
            if line.startswith("% "):  # a MyST comment
                i += 1
                continue
            m = re.match(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[a-z:-]+)\}\s*(?P<arg>.*)$", line)
            if not m:
                prose.append(line)
                i += 1
                continue
            flush()
            fence, name, arg = m["fence"], m["name"], m["arg"].strip()
            j = i + 1
            options: dict[str, str] = {}
            while j < len(lines) and (o := re.match(r"^:(\w[\w-]*):\s*(.*)$", lines[j])):
                options[o[1]] = o[2].strip()
                j += 1
            body: list[str] = []
            while j < len(lines) and lines[j].rstrip() != fence:
                body.append(lines[j])
                j += 1
            i = j + 1
            out.extend(self.directive(name, arg, options, body, attachments))
        flush()
        return "\n".join(out), attachments

    def directive(self, name: str, arg: str, options: dict, body: list[str],
                  attachments: dict) -> list[str]:
        text = self.inline("\n".join(body).strip())
        anchor = [f'<a id="{options["name"]}"></a>'] if "name" in options else []
        if name == "glue:md":
            return [self.markdown(arg)]
        if name in FIGURE_DIRECTIVES:
            self.figures += 1
            alt = options.get("alt", "").replace("]", ")").replace("[", "(")
            if name == "glue:figure":
                png = self.value(arg).get("image/png")
                if png is None:
                    raise KeyError(f"{self.page.name}: glue key {arg!r} is not a figure")
                file = f"{arg}.png"
                attachments[file] = {"image/png": png}
                image = f"![{alt}](attachment:{file})"
            else:
                image = f"![{alt}]({self.site}book/{arg})"
            caption = f"*Fig. {self.figures}.* {text}" if text else ""
            return anchor + [image, "", caption]
        if name == "exercise":
            label = options.get("label")
            head = [f'<a id="{label}"></a>'] if label else []
            return head + [f"**Exercise.** {text}"]
        if name == "solution-start":
            return ["**Solution.**"]
        if name == "solution-end":
            return []
        if name == "literalinclude":
            return ["```python", self._include(arg, options), "```"]
        if name == "math":
            return ["$$", text, "$$"]
        title = arg or name.capitalize()
        return ["> **" + self.inline(title) + "**", ">"] + [f"> {x}" for x in text.splitlines()]

    def _include(self, arg: str, options: dict) -> str:
        """The code a literalinclude shows: the whole file, or one `pyobject`."""
        import importlib
        import inspect

        path = (self.page.parent / arg).resolve()
        source = path.read_text(encoding="utf-8")
        obj = options.get("pyobject")
        if not obj:
            return source.rstrip()
        module = "makemore." + path.stem if path.parent.name == "makemore" else None
        if module is None:
            raise ValueError(f"literalinclude {arg}: only the package's modules are converted")
        target = importlib.import_module(module)
        for part in obj.split("."):
            target = getattr(target, part)
        return inspect.getsource(target).rstrip()


# -----------------------------------------------------------------------------
# the notebook


def note_source(page: Path, seconds: float | None) -> str:
    took = (f" The build that made the book executed it in {seconds / 60:.0f} minutes"
            f" on a 2-core CPU." if seconds else "")
    return (f"*This notebook is the chapter of the book [makemore, from scratch]"
            f"({site_url()}book/{page.stem}.html), as a notebook you can run.* "
            f"It runs on a CPU; a GPU is neither used nor needed.{took} The numbers in the "
            "text are the ones the book's build computed: run on the book's versions "
            "(torch's CPU build, the versions in the repository's requirements.txt), the "
            "cells print the same; another torch build may differ in the last digits.")


def convert(nb, page: Path, glue_of, seconds: float | None = None,
            pages: list[Path] | None = None):
    """Make `nb` (the chapter `page` read as a notebook, with or without outputs) a reader's
    notebook, in place: its Markdown converted with the values this build glued
    (`glue_of(page name)`: {key: {MIME type: value}}), the note and the install cell put
    after the title. Code cells are the chapter's, unchanged. Returns `nb`."""
    pages = pages or layout.toc_pages()
    converter = Converter(page, glue_of, labels(pages), bibliography(), site_url(),
                          figures_before(page, pages))
    nb.metadata.pop("jupytext", None)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source, attachments = converter.cell(cell.source)
            if attachments:
                cell.attachments = attachments
    first = 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0
    nb.cells[first:first] = [nbformat.v4.new_markdown_cell(note_source(page, seconds)),
                             nbformat.v4.new_code_cell(INSTALL_SOURCE)]
    return nb


def reader_notebook(page: Path, glue_of, seconds: float | None = None,
                    pages: list[Path] | None = None):
    """The chapter `page` as a notebook that runs anywhere, without outputs (`convert`)."""
    import jupytext

    return convert(jupytext.read(page), page, glue_of, seconds, pages)


def leftover_myst(nb) -> list[str]:
    """The MyST a reader would still see as text in `nb`'s Markdown cells (none, if the
    conversion is complete): roles, directive fences, labels."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        found += re.findall(r"\{[a-z:-]+\}`[^`]*`", cell.source)
        found += re.findall(r"(?m)^(?:`{3,}|:{3,})\{[a-z:-]+\}.*$", cell.source)
        found += re.findall(r"(?m)^\([^)\s]+\)=$", cell.source)
    return found

