"""The substitutions _ext/package_settings.py hands to MyST come from the package."""

import sys
from pathlib import Path

from makemore import compare

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))
import package_settings  # noqa: E402


def test_the_confidence_level_is_the_package_s(monkeypatch):
    assert package_settings.settings()["ci_level"] == f"{round(100 * compare.LEVEL)}%"
    monkeypatch.setattr(compare, "LEVEL", 0.9)
    assert package_settings.settings()["ci_level"] == "90%"


def test_the_pages_use_the_substitution_not_the_number():
    book = Path(__file__).resolve().parents[1] / "book"
    for page in ("intro.md", "glossary.md"):
        text = (book / page).read_text(encoding="utf-8")
        assert "{{ ci_level }}" in text and "95%" not in text, page
