"""makemore.results: what chapters record is what the results page reads back."""

from __future__ import annotations

import pytest

from makemore import results


def test_record_then_load_round_trips(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path))
    results.record("mlp", "MLP", {"train": 2.1, "dev": 2.2}, params=4321, steps=10,
                   chapter="02_mlp", glue=False)
    results.record("bigram", "bigram", {"train": 2.4}, params=729, steps=0,
                   chapter="01_bigram", glue=False)
    got = results.load(["bigram", "mlp"])
    assert [e["key"] for e in got] == ["bigram", "mlp"]
    assert got[1]["losses"] == {"train": 2.1, "dev": 2.2} and got[1]["params"] == 4321
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


def test_records_are_stamped_with_the_build(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path))
    monkeypatch.setenv(results.BUILD_ENV, "build-1")
    results.record("mlp", "MLP", {"dev": 2.2}, params=5, steps=10, chapter="02_mlp", glue=False)
    monkeypatch.delenv(results.BUILD_ENV)
    results.record("bigram", "bigram", {"dev": 2.4}, params=7, steps=0, chapter="01_bigram",
                   glue=False)
    mlp, bigram = results.load(["mlp", "bigram"])
    assert mlp["build"] == "build-1" and bigram["build"] is None  # not written by a build
    assert {r["build"] for r in results.as_rows([mlp])} == {"build-1"}


def entry(key: str, chapter: str, dev: float, build: str | None = "b1") -> dict:
    return {"key": key, "model": key, "chapter": chapter, "params": 4321, "steps": 200000,
            "losses": {"train": 2.1, "dev": dev}, "build": build}


def glued(key: str, dev: float) -> dict[str, str]:
    """The text/plain myst-nb stores for what `record` glued (the repr of each number)."""
    return {f"{key}_train": repr(2.1), f"{key}_dev": repr(dev), f"{key}_params": "4321",
            f"{key}_steps": "200000", "other": "'x'"}


def test_a_build_publishes_only_the_records_its_pages_show():
    shown = entry("mlp", "02_mlp", 2.166419267654419, build="b0")  # from the cache: published
    overwritten = entry("stage_bn", "03_batchnorm", 2.2)  # another execution wrote it: stale
    orphan = entry("old_model", "02_mlp", 2.3)  # no page glues it any more
    outside = entry("rnn", "04_rnn", 2.0)  # its chapter is not part of this build
    glue = {"02_mlp": glued("mlp", 2.166419267654419),
            "03_batchnorm": glued("stage_bn", 2.1056840419769287)}
    published, stale, left_out = results.shown_by_build([shown, overwritten, orphan, outside],
                                                        glue)
    assert published == [shown]
    assert [(e["key"], why) for e, why in stale] == [
        ("stage_bn", "stage_bn_dev is 2.2 in the record but 2.1056840419769287 on the page")]
    assert [(e["key"], why) for e, why in left_out] == [
        ("old_model", "chapter '02_mlp' no longer records it"),
        ("rnn", "chapter '04_rnn' is not part of this build")]


def test_a_record_must_match_every_number_its_page_glued():
    record = entry("mlp", "02_mlp", 2.5)
    assert results.differs_from_glue(record, glued("mlp", 2.5)) is None
    assert "mlp_test is not glued" in results.differs_from_glue(
        {**record, "losses": {**record["losses"], "test": 2.6}}, glued("mlp", 2.5))
    assert "mlp_steps is 100" in results.differs_from_glue({**record, "steps": 100},
                                                           glued("mlp", 2.5))
    assert "not as a number" in results.differs_from_glue(
        record, {**glued("mlp", 2.5), "mlp_dev": "'n/a'"})
