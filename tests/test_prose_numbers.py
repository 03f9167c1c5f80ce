"""tools/prose_numbers.py, the CI gate for "no number in prose is typed by hand", on small pages."""

from __future__ import annotations

import pytest

from tools import prose_numbers


def found(text: str) -> list[str]:
    return [finding[1] for finding in prose_numbers.find(text)]  # (line, token, ...)


# ---------------------------------------------------------------------------- what is flagged
@pytest.mark.parametrize(
    "prose, token",
    [
        ("The loss falls to 2.45 after training.", "2.45"),
        ("There are 32033 names.", "32033"),
        ("There are 32,033 names.", "32,033"),
        ("We train for 200k steps.", "200k"),
        ("It runs 3x faster.", "3x"),
        ("It runs 2.5× faster.", "2.5×"),
        ("A learning rate of 1e-3 works.", "1e-3"),
        ("About 12.5% of neurons are dead.", "12.5%"),
        ("| model | loss |\n|---|---|\n| mlp | 2.17 |", "2.17"),
        ("A loss of -2.5 is impossible.", "2.5"),
    ],
)
def test_typed_numbers_are_flagged(prose, token):
    assert found(prose) == [token]


@pytest.mark.parametrize(
    "page",
    [
        "```{note}\nThe dev loss is 2.17.\n```",  # an admonition is prose
        ":::{warning}\nThis takes 120 seconds.\n:::",
        "```{glue:figure} fig_loss\n:name: fig-loss\n:width: 600px\n\nThe loss ends at 2.17.\n```",
        "````{tip}\n```python\nx = 1.5\n```\nand then 2.75 in prose\n````",  # nested fences
        "::::{admonition} Note\n:class: tip\n---\nmore: 1\n---\nA rate of 0.1 here.\n::::",
    ],
)
def test_prose_inside_directives_is_checked(page):
    assert len(found(page)) == 1


# ---------------------------------------------------------------------------- what is not
@pytest.mark.parametrize(
    "page",
    [
        "---\njupytext:\n  format_version: 0.13\n---\nNo numbers here.",  # front matter
        "```{code-cell} ipython3\nlr = 0.1\nsteps = 200_000\n```",  # code cells
        "```python\nprint(3.14159)\n```",  # code blocks
        "~~~\n1234\n~~~",
        "The loss is {glue:text}`dev_loss:.4f` after {glue:text}`steps:,` steps.",  # glue roles
        "Cross-page: {glue:text}`01_bigram.md::nll:.3f`.",
        "Inline code `x = 0.01` and math $-\\ln(1/27) \\approx 27^n$.",
        "See [the paper](https://arxiv.org/abs/1502.03167) and <https://example.org/v1.5/x>.",
        "Ioffe and Szegedy (2015) introduced BatchNorm; Bengio et al. 2003.",  # years
        "The file is checked against a pinned SHA-256 checksum, read as UTF-8.",  # names
        "A 2x2 grid, log10 of the loss, GPT2 and x86.",
        "<!-- a comment with 3.14 -->\nText.\n<!--\n1234\n-->",
        "% a MyST comment with 2.71\n(sec-1.5)=\n+++ {\"tags\": [\"x\"]}",
        '<img src="fig.png" width="600"> an image',
        "```{glue} table_key\n:doc: 02_mlp.md\n```",
        "We use twenty-seven characters, one or two layers, and a 27-letter alphabet.",
    ],
)
def test_not_prose_or_not_a_result_is_skipped(page):
    assert found(page) == []


def test_line_numbers_point_at_the_typed_number():
    page = "---\ntitle: x\n---\n\n# Title\n\nfine\nthe loss is 2.17\n"
    assert [(f[0], f[1]) for f in prose_numbers.find(page)] == [(8, "2.17")]


# ---------------------------------------------------------------------------- numbers with units
@pytest.mark.parametrize(
    "prose, token",
    [
        ("It trains in 65s on a laptop.", "65s"),
        ("One step takes 5 ms.", "5 ms"),
        ("One step takes 120ms.", "120ms"),
        ("It takes 10 minutes, then 3 h more.", "10 minutes"),
        ("The checkpoint weighs 2GB.", "2GB"),
        ("It writes 40 MiB of records.", "40 MiB"),
        ("A call takes 3us.", "3us"),
        ("It trains at 17 steps/s.", "17 steps/s"),
    ],
)
def test_numbers_with_a_unit_are_flagged(prose, token):
    assert found(prose) == [token]


@pytest.mark.parametrize(
    "prose",
    [
        "Three of us and 2 h-bars.",  # `us`, `h` and `B` count only when attached
        "It grew in the 1990s, on a 2D grid, for the 1st time.",
        "We use 27 characters and 3 splits.",
    ],
)
def test_words_after_small_numbers_are_not_units(prose):
    assert found(prose) == []


# ---------------------------------------------------------------------------- percentages
@pytest.mark.parametrize(
    "prose, token",
    [
        ("About 5% of neurons are dead.", "5%"),
        ("A share of 62.4 % saturates.", "62.4 %"),
        ("Only 3 percent are unseen.", "3 percent"),
        ("| model | dead |\n|---|---|\n| mlp | 7% |", "7%"),
    ],
)
def test_percentages_of_any_size_are_flagged(prose, token):
    assert found(prose) == [token]


def test_a_glued_percentage_is_not_typed():
    assert found("A drop of {glue:text}`drop_pct:.1f`% in one step.") == []


# ---------------------------------------------------------------------------- years
@pytest.mark.parametrize(
    "prose",
    [
        "We train for 2000 steps.",
        "It converges in 2000 steps.",
        "The dev loss (2000 steps) is lower.",
        "Then, 2015 names were left.",
    ],
)
def test_a_year_used_as_a_count_is_flagged(prose):
    assert len(found(prose)) == 1


@pytest.mark.parametrize(
    "prose",
    [
        "Bengio et al. 2003 introduced it; so did Bengio et al. (2003) and (He et al., 2015).",
        "Ioffe & Szegedy, 2015 is the paper (Ioffe & Szegedy, 2015).",
        "Ioffe and Szegedy (2015) had an idea; Karpathy, 2022.",
        "In 2022 Karpathy recorded the lectures, published in 2022.",
        "The names (© 2022 Andrej Karpathy, (c) 2022) date from March 2015.",
    ],
)
def test_a_year_in_a_citation_is_allowed(prose):
    assert found(prose) == []


# ---------------------------------------------------------------------------- math and roles
@pytest.mark.parametrize(
    "page, token",
    [
        ("The loss is $L = 3.2958$ at first.", "3.2958"),
        ("$$\nL = 3.2958\n$$", "3.2958"),  # display math
        ("$$ L = 3.2958 $$", "3.2958"),
        ("```{math}\n\\sigma = 0.2\n```", "0.2"),
        ("\\begin{align}\nx &= 0.5\n\\end{align}", "0.5"),  # amsmath
        ("The power {math}`x^{200}` grows.", "200"),
        ("There are $32{,}033$ names.", "32,033"),
        ("A rate of $1e-3$.", "1e-3"),
        ("About $5\\%$ of them.", "5\\%"),
    ],
)
def test_numbers_in_math_are_flagged(page, token):
    assert found(page) == [token]


@pytest.mark.parametrize(
    "page, tokens",
    [
        # inline math over two lines: `2x` is algebra in it, `3x` a multiplier after it
        ("A sum, $\\log p_1 +\n2x$, runs 3x faster.", ["3x"]),
        ("\\begin{align}\nx &= 2x + 0.5\n\\end{align}", ["0.5"]),  # amsmath is math
    ],
)
def test_math_is_read_as_math_where_it_spans_lines(page, tokens):
    assert found(page) == tokens


@pytest.mark.parametrize(
    "page",
    [
        "$-\\ln(1/27)$, $10^{-3}$, $\\sqrt{30}$, $2x + 1$, $W_1$, $(5/3)/\\sqrt{n}$.",
        "$$\n\\text{softmax}(z)_i = \\frac{e^{z_i}}{\\sum_j e^{z_j}}\n$$",
        "Scores $-\\ln(1/27)$, here {glue:text}`uniform:.4f`, and costs $5 to fix.",
    ],
)
def test_math_without_a_typed_number_passes(page):
    assert found(page) == []


@pytest.mark.parametrize(
    "prose, token",
    [
        ("A superscript {sup}`200` here.", "200"),
        ("The {abbr}`LR (learning rate 0.1)` is fixed.", "0.1"),
        ("See {ref}`the 200 steps <sec-training>`.", "200"),
    ],
)
def test_numbers_in_other_roles_are_flagged(prose, token):
    assert found(prose) == [token]


def test_role_targets_code_and_glue_are_not_prose():
    assert found("See {ref}`sec-200`, {numref}`fig-1000`, {doc}`02_mlp`, {code}`lr = 0.1`, "
                 "{glue:text}`loss:.4f` and {glue:md}`tbl_1000`.") == []


# ---------------------------------------------------------------------------- substitutions
PAGE_WITH_SUBSTITUTIONS = """---
substitutions:
  steps: 200000
  rate: "0.1"
  who: Andrej Karpathy
myst:
  substitutions:
    small: 3
---
We train for {{ steps }} steps at {{rate}}, by {{ who }}, {{ small }} times.
"""


def test_substitutions_that_are_numbers_are_flagged_where_defined_and_used():
    findings = list(prose_numbers.find(PAGE_WITH_SUBSTITUTIONS))
    assert [(f[0], f[1]) for f in findings] == [
        (3, "steps"), (4, "rate"), (8, "small"),  # definitions, in the front matter
        (10, "{{ steps }}"), (10, "{{rate}}"), (10, "{{ small }}"),  # uses
    ]


def test_substitutions_of_the_book_are_checked(tmp_path, capsys):
    (tmp_path / "_config.yml").write_text("parse:\n  myst_substitutions:\n    lr: 0.1\n")
    (tmp_path / "book").mkdir()
    page = tmp_path / "book" / "page.md"
    page.write_text("The rate is {{ lr }}.\n", encoding="utf-8")
    assert prose_numbers.main([str(page)]) == 1
    assert f"{page}:1: {{{{ lr }}}}" in capsys.readouterr().out


# ---------------------------------------------------------------------------- the command
def test_exit_status_and_report(tmp_path, capsys):
    good, bad = tmp_path / "good.md", tmp_path / "bad.md"
    good.write_text("The loss is {glue:text}`loss:.3f`.\n", encoding="utf-8")
    bad.write_text("# Results\n\nThe loss is 2.17.\n", encoding="utf-8")
    assert prose_numbers.main([str(good)]) == 0
    assert prose_numbers.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:3: 2.17" in out and "1 hand-typed number(s) in the prose of 2 file(s)" in out


def test_a_gate_that_checks_nothing_does_not_pass(tmp_path):
    assert prose_numbers.main([str(tmp_path / "missing.md")]) == 2
    assert prose_numbers.main([str(tmp_path)]) == 2  # a folder without Markdown
