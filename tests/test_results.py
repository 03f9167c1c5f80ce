"""makemore.results: what chapters record is what the results page reads back."""

from __future__ import annotations

import pytest

from makemore import results


def test_record_then_load_round_trips(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path))
    results.record("mlp", "MLP", {"train": 2.1, "dev": 2.2}, params=11897, steps=10,
                   chapter="02_mlp", glue=False)
    results.record("bigram", "bigram", {"train": 2.4}, params=729, steps=0,
                   chapter="01_bigram", glue=False)
    got = results.load(["bigram", "mlp"])
    assert [e["key"] for e in got] == ["bigram", "mlp"]
    assert got[1]["losses"] == {"train": 2.1, "dev": 2.2} and got[1]["params"] == 11897
    rows = results.as_rows(got)
    assert [(r["key"], r["split"]) for r in rows] == [
        ("bigram", "train"), ("mlp", "train"), ("mlp", "dev")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bigram.json", "mlp.json"]


def test_missing_record_names_the_model(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="'deep'"):
        results.load(["deep"])


def test_unknown_split_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path))
    with pytest.raises(ValueError, match="val"):
        results.record("m", "m", {"val": 1.0}, params=1, steps=1, chapter="x", glue=False)
    assert list(tmp_path.iterdir()) == []


def test_default_folder_is_the_books_build(tmp_path, monkeypatch):
    monkeypatch.delenv(results.RESULTS_ENV, raising=False)
    (tmp_path / "_config.yml").write_text("")
    (tmp_path / "_toc.yml").write_text("")
    (tmp_path / "book").mkdir()
    monkeypatch.chdir(tmp_path / "book")
    assert results.results_dir() == tmp_path.resolve() / "_build" / "results"
