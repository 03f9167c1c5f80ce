"""A page of the book read by the parser the build uses: its code cells, code blocks and prose.

Sphinx reads every page with myst-parser, whose markdown-it-py configuration (CommonMark,
tables, MyST roles, targets, comments and block breaks, footnotes, front matter) gains the
extensions `_config.yml` enables under `parse: myst_enable_extensions`. `tokens(text)` is that
token stream, so a tool sees a code cell, a directive, a math block or a role exactly where the
build does (never a fence inside a code block, nor a `$` inside inline code).

markdown-it leaves a directive's body as text: Sphinx parses it when it runs the directive. So
`directive(token)` splits a fenced directive into its name, argument, options and body, and the
walkers below parse the body again where it is Markdown (an admonition, a figure's caption, an
exercise). Line numbers are the page's, 1-based, whatever the depth.

- `code_cells(text)`: the notebook's code cells (`{code-cell}` at the top level, where myst-nb
  reads them), with their options (`:tags:`) and their first line;
- `code_blocks(text)`: every block of code a reader sees, at any depth: code cells, `{code}` and
  `{code-block}` directives, plain fenced blocks (```` ```python ````);
- `prose(text)`: what a reader reads, as pieces of text, math and substitutions, each with its
  line. Prose is the text tokens outside code (cells, blocks, inline code, code-like roles),
  outside glue and the targets of references (a link's address, a `{ref}`'s label, a bare URL),
  HTML, comments, targets and the front matter. Math is display math (`$$`, amsmath
  environments, the `{math}` directive) and inline math (`$`, the `{math}` role).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import yaml

ROOT = Path(__file__).resolve().parents[2]

# directives whose body is code or data for the machine, not text for the reader
CODE_DIRECTIVES = {
    "code-cell", "code", "code-block", "sourcecode", "literalinclude", "raw", "include",
    "glue", "glue:any", "glue:math", "glue:md", "glue:text", "mermaid", "graphviz", "toctree",
    "tableofcontents", "bibliography", "eval-rst",
}
SHOWN_CODE = {"code-cell", "code", "code-block", "sourcecode"}  # code a reader reads
MATH_DIRECTIVES = {"math"}
MATH_BLOCKS = {"math_block", "math_block_label", "amsmath"}  # `$$ ... $$` and \begin{align}
GLUE_ROLES = re.compile(r"^(glue|eval)(:|$)")  # pasted from execution
CODE_ROLES = {"code", "literal", "samp", "file", "command", "program", "kbd", "envvar",
              "option", "regexp", "makevar", "mailheader", "mimetype", "newsgroup", "dfn"}
REFERENCE_ROLES = re.compile(
    r"^(ref|numref|doc|eq|download|any|term|keyword|token|cite(:\w+)?|external(:.*)?|"
    r"prf:ref|py:\w+|std:\w+|c:\w+|cpp:\w+|js:\w+|rst:\w+|math:numref)$"
)
DIRECTIVE = re.compile(r"^\{([\w:.-]+)\}\s*(.*)$")  # a fence's info: {name} argument
OPTION = re.compile(r"^\s*:([\w-]+):(?:\s+(.*))?$")  # a directive's `:key: value` line
URL = re.compile(r"<?\b(?:https?|ftp|file)://[^\s>)]+>?|\bdoi:\S+|\barXiv:\S+", re.IGNORECASE)

# -----------------------------------------------------------------------------
# the parser


@functools.cache
def parser(config: Path = ROOT / "_config.yml"):
    """myst-parser's markdown-it, with the extensions the book's `_config.yml` enables."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    settings = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    extensions = (settings.get("parse") or {}).get("myst_enable_extensions") or []
    return create_md_parser(MdParserConfig(enable_extensions=set(extensions)), RendererHTML)


def tokens(text: str) -> list:
    """The page's block tokens, as the build's parser makes them."""
    return parser().parse(text)


def front_matter(text: str) -> tuple[dict, int]:
    """(the YAML front matter, the number of lines it takes); ({}, 0) when there is none."""
    first = next(iter(tokens(text)), None)
    if first is None or first.type != "front_matter":
        return {}, 0
    try:
        data = yaml.safe_load(first.content)
    except yaml.YAMLError:
        data = None
    return (data if isinstance(data, dict) else {}), first.map[1] + 1


# -----------------------------------------------------------------------------
# directives


@dataclass
class Directive:
    name: str | None  # "note", "code-cell"; None for a plain fence (```python) or a ::: div
    argument: str  # the rest of the opening line: a language, a title, a glue key
    body: str  # the content after the options
    line: int  # the page's line (1-based) of the body's first line
    start: int  # the page's line of the opening fence
    options: dict = field(default_factory=dict)  # `:key: value` lines or a `---` YAML block

    @property
    def tags(self) -> list[str]:
        tags = self.options.get("tags", [])
        if isinstance(tags, str):  # `:tags: [hide-input]` holds YAML
            tags = yaml.safe_load(tags)
        return list(tags or [])


def _options(lines: list[str]) -> tuple[dict, int]:
    """The options heading a directive's content, and how many lines they take."""
    options: dict = {}
    i = 0
    while i < len(lines):
        if lines[i].strip() == "---":  # a YAML block
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "---"), None)
            if end is None:
                break
            block = yaml.safe_load("\n".join(lines[i + 1:end]))
            options.update(block if isinstance(block, dict) else {})
            i = end + 1
        elif (m := OPTION.match(lines[i])) is not None:
            options[m.group(1)] = (m.group(2) or "").strip()
            i += 1
        else:
            break
    return options, i


def directive(token, offset: int = 0) -> Directive:
    """A fenced block (``` or :::) split into name, argument, options and body. `offset`: the
    page's lines before the text the token was parsed from."""
    m = DIRECTIVE.match(token.info.strip())
    name, argument = (m.group(1), m.group(2)) if m else (None, token.info.strip())
    lines = token.content.split("\n")
    options, skip = _options(lines) if name is not None else ({}, 0)
    start = offset + token.map[0] + 1
    return Directive(name, argument, "\n".join(lines[skip:]), start + 1 + skip, start, options)


def _is_markdown(token, d: Directive) -> bool:
    """A fenced block whose body Sphinx parses as Markdown: a directive of prose (an admonition,
    a figure's caption, an exercise) or a bare ::: div; not code, math, or a plain ``` block."""
    if d.name is None:
        return token.type == "colon_fence"
    return d.name not in CODE_DIRECTIVES | MATH_DIRECTIVES


def _fences(text: str, offset: int = 0, depth: bool = True):
    """Every fenced block of the text, and with `depth` those inside the Markdown ones."""
    for token in tokens(text):
        if token.type not in ("fence", "colon_fence"):
            continue
        found = directive(token, offset)
        yield token, found
        if depth and _is_markdown(token, found):
            yield from _fences(found.body, found.line - 1)


def code_cells(text: str) -> list[Directive]:
    """The page's code cells, in order, as myst-nb reads them (at the top level)."""
    return [d for _, d in _fences(text, depth=False) if d.name == "code-cell"]


def code_blocks(text: str) -> list[Directive]:
    """Every block of code a reader sees on the page, at any depth, in order."""
    return [d for token, d in _fences(text) if d.name in SHOWN_CODE
            or (d.name is None and token.type == "fence")]


# -----------------------------------------------------------------------------
# prose


class Piece(NamedTuple):
    line: int  # the page's line, 1-based
    column: int  # where it stands in that line's prose (orders the pieces of a line)
    kind: str  # "text", "math" or "substitution"
    text: str  # the text, the LaTeX, or the substitution as typed ("{{ steps }}")
    name: str | None = None  # the role it sits in ("sup", "math"), or the substitution's name


def prose(text: str) -> list[Piece]:
    """What a reader reads on the page, piece by piece, in reading order (see the docstring)."""
    return sorted(_blocks(text, text.splitlines(), 0), key=lambda p: (p.line, p.column))


def _blocks(text: str, page: list[str], offset: int):
    for token in tokens(text):
        if token.type in ("fence", "colon_fence"):
            d = directive(token, offset)
            if d.name in MATH_DIRECTIVES:
                yield from (Piece(d.line + i, 0, "math", line)
                            for i, line in enumerate(d.body.split("\n")))
            elif _is_markdown(token, d):
                yield from _blocks(d.body, page, d.line - 1)
        elif token.type in MATH_BLOCKS:  # its content starts on its first line
            yield from (Piece(offset + token.map[0] + 1 + i, 0, "math", line)
                        for i, line in enumerate(token.content.split("\n")))
        elif token.type == "inline":
            yield from _inline(token, page, offset + token.map[0] + 1, offset + token.map[1])
        elif token.type == "substitution_block":
            line = offset + token.map[0] + 1
            yield Piece(line, 0, "substitution", _as_typed(token.content, page, line),
                        _substitution_name(token.content))
        # anything else is no prose: front matter, HTML, indented code, (targets)=, % comments


def _inline(token, page: list[str], line: int, last: int):
    """The pieces of a paragraph (a heading, a table cell, ...): its text line by line, with
    what is not prose replaced by a space, and its math, roles and substitutions."""
    pieces: list[Piece] = []
    text = ""  # the prose of the current line so far

    def newline(to: int) -> None:
        nonlocal text, line
        if text.strip():
            pieces.append(Piece(line, 0, "text", text))
        text, line = "", to

    autolink = False
    for child in token.children or []:
        kind = child.type
        if autolink:  # <https://...>: an address, not prose
            autolink = kind != "link_close"
        elif kind in ("softbreak", "hardbreak"):
            newline(line + 1)
        elif kind == "text":
            # inline code and roles lose their line breaks in the tokens: find the line again
            if child.content.strip() and child.content not in page[min(line, len(page)) - 1]:
                ahead = [n for n in range(line + 1, last + 1) if child.content in page[n - 1]]
                if ahead:
                    newline(ahead[0])
            text += URL.sub(lambda m: " " * len(m.group(0)), child.content)
        elif kind == "image":
            text += child.content  # its alternative text
        elif kind in ("math_inline", "math_inline_double"):
            for i, part in enumerate(child.content.split("\n")):
                if i:
                    newline(line + 1)
                pieces.append(Piece(line, len(text), "math", part, None))
            text += " "
        elif kind == "myst_role":
            name = child.meta["name"]
            shown = _role_shows(name, child.content)
            if shown is not None:
                content = child.content
                if REFERENCE_ROLES.match(name):
                    content = content[: content.rindex("<")]  # the title the reader sees
                pieces.append(Piece(line, len(text), shown, content, name))
            text += " "
        elif kind == "substitution_inline":
            pieces.append(Piece(line, len(text), "substitution",
                                _as_typed(child.content, page, line),
                                _substitution_name(child.content)))
            text += " "
        elif kind == "link_open" and child.markup == "autolink":
            autolink = True
            text += " "
        elif kind in ("code_inline", "html_inline", "footnote_ref"):
            text += " "
        # emphasis and link markers: nothing, the words around them join
    newline(line)
    return pieces


def _role_shows(name: str, content: str) -> str | None:
    """What a role shows a reader: "math", "text", or None (glue, code, a bare target)."""
    if GLUE_ROLES.match(name) or name in CODE_ROLES:
        return None
    if name == "math":
        return "math"
    if REFERENCE_ROLES.match(name) and "<" not in content:
        return None  # a bare target: a label, a document, a citation key
    return "text"  # the content of {sup}, {abbr}, ...; the title of a reference


def _substitution_name(content: str) -> str:
    return content.split("|")[0].strip()


def _as_typed(content: str, page: list[str], line: int) -> str:
    """A substitution as the page types it (`{{rate}}`, `{{ steps }}`)."""
    typed = re.escape(content).replace(r"\ ", r"\s*")
    m = re.search(r"\{\{\s*" + typed + r"\s*\}\}", page[line - 1]) if line <= len(page) else None
    return m.group(0) if m else "{{ " + content + " }}"
