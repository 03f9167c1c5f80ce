"""makemore.publish: tables glued from data render as Markdown tables."""

from __future__ import annotations

from makemore.publish import markdown_table


def test_markdown_table_has_a_header_rule_and_one_line_per_row():
    md = markdown_table(["model", "dev"], [("MLP", "2.1663"), ("bigram", 2.45)]).data
    lines = md.splitlines()
    assert lines[0] == "| model | dev |"
    assert set(lines[1]) <= set("|-") and lines[1].count("|") == 3
    assert lines[2:] == ["| MLP | 2.1663 |", "| bigram | 2.45 |"]
