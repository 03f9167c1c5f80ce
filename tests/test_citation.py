"""CITATION.cff is valid Citation File Format 1.2.0 and says what the repository says.

Validated against the CFF 1.2.0 JSON schema (tests/data/cff-schema-1.2.0.json, the schema
cffconvert 2.0.0 ships) with the jsonschema the book's environment already has: cffconvert
itself would downgrade jsonschema to 3.2 under the book's pins, so it is not installed."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests" / "data" / "cff-schema-1.2.0.json").read_text("utf-8"))


def load_cff() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def errors(cff: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in validator.iter_errors(cff)]


def test_citation_cff_is_valid_cff_1_2_0():
    cff = load_cff()
    assert cff["cff-version"] == "1.2.0"
    assert errors(cff) == []


@pytest.mark.parametrize("broken", [
    lambda c: c.pop("authors"),
    lambda c: c.update(license="MIT-ish"),
    lambda c: c["preferred-citation"].update(type="tweet"),
])
def test_the_schema_check_catches_a_broken_file(broken):
    cff = load_cff()
    broken(cff)
    assert errors(cff), "the schema let a broken CITATION.cff through"


def test_version_and_licences_agree_with_the_package_and_licence():
    cff = load_cff()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    init = (ROOT / "code" / "makemore" / "__init__.py").read_text("utf-8")
    package_version = re.search(r'__version__ = "([^"]+)"', init).group(1)
    assert str(cff["version"]) == package_version
    assert project.get("version", package_version) == package_version
    assert cff["license"] == project["license"] == "MIT"
    assert cff["preferred-citation"]["license"] == "CC-BY-4.0"
    licence = (ROOT / "LICENSE").read_text("utf-8")
    assert "MIT License" in licence and "CC BY 4.0" in licence
    assert cff["repository-code"] == yaml.safe_load(
        (ROOT / "_config.yml").read_text("utf-8"))["repository"]["url"]
