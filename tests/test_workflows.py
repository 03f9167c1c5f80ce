"""The workflows do what the README says they do (actionlint checks their syntax; this checks
their intent): every action pinned to a full commit SHA; the book built on pushes to main and
once per pull request, torch from PyTorch's CPU index, pip's downloads cached, a pull request's
site kept; a tag builds the book before anything is published, and the release gets the PDF,
the notebooks and results.json; the links checked weekly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parent.parent / ".github" / "workflows"


def load(name: str) -> dict:
    flow = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    flow["on"] = flow.pop(True, flow.get("on"))  # YAML 1.1 reads the key `on` as True
    return flow


def steps(flow: dict) -> list[dict]:
    return [s for job in flow["jobs"].values() for s in job.get("steps", [])]


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit(path):
    flow = load(path.name)
    uses = [s["uses"] for s in steps(flow) if "uses" in s]
    uses += [j["uses"] for j in flow["jobs"].values() if "uses" in j]
    loose = [u for u in uses
             if not (u.startswith("./") or re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", u))]
    assert not loose, f"{path.name}: not pinned to a full commit SHA: {loose}"


def test_the_book_builds_main_and_pull_requests_with_torch_for_cpu():
    flow = load("book.yml")
    assert flow["on"]["push"] == {"branches": ["main"]}
    assert "pull_request" in flow["on"] and "workflow_call" in flow["on"]
    assert flow["env"]["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    build = flow["jobs"]["build"]["steps"]
    cache = [s for s in build if s.get("uses", "").startswith("actions/cache@")]
    assert cache and cache[0]["with"]["path"] == "~/.cache/pip"
    assert "hashFiles('requirements.txt'" in cache[0]["with"]["key"]
    ci = next(i for i, s in enumerate(build) if s.get("run") == "bash .ci/run")
    assert build.index(cache[0]) < ci, "the cache must be restored before .ci/run installs"
    site = [s for s in build if s.get("with", {}).get("name") == "site"]
    assert site and "pull_request" in site[0]["if"] and site[0]["with"]["path"] == "_build/html/"
    offline = next(s for s in build if s.get("with", {}).get("name") == "makemore-book-offline")
    paths = offline["with"]["path"].split()
    assert {"_build/pdf/makemore-book.pdf", "_build/offline/*.ipynb",
            "_build/html/results.json"} <= set(paths)


def test_a_tag_publishes_only_after_the_book_and_the_package_pass():
    flow = load("release.yml")
    assert flow["on"] == {"push": {"tags": ["v*"]}}
    jobs = flow["jobs"]
    assert jobs["book"]["uses"] == "./.github/workflows/book.yml"
    for publisher in ("pypi", "github-release"):
        assert set(jobs[publisher]["needs"]) == {"book", "dist"}, publisher
    pypi = jobs["pypi"]
    assert pypi["permissions"] == {"id-token": "write"}
    assert any(s.get("uses", "").startswith("pypa/gh-action-pypi-publish@")
               for s in pypi["steps"])
    release = jobs["github-release"]
    downloads = {s["with"]["name"] for s in release["steps"]
                 if s.get("uses", "").startswith("actions/download-artifact@")}
    assert downloads == {"makemore-book-offline", "dist"}
    assert any("gh release create" in s.get("run", "") for s in release["steps"])
    dist = " ".join(s.get("run", "") for s in jobs["dist"]["steps"])
    assert "twine check --strict" in dist and "build --no-isolation" in dist


def test_the_links_are_checked_weekly():
    flow = load("links.yml")
    (schedule,) = flow["on"]["schedule"]
    minute, hour, day, month, weekday = schedule["cron"].split()
    assert day == month == "*" and weekday.isdigit(), schedule["cron"]
    assert any("make setup links" in s.get("run", "") for s in steps(flow))
