"""makemore.data: reading, validating, fetching and splitting word lists."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import warnings

import pytest
import torch

from makemore import data
from makemore.data import DataError, Vocab


# ---------------------------------------------------------------------------- reading files
def test_read_words_strips_blank_lines(tmp_path):
    f = tmp_path / "w.txt"
    f.write_text("anna\n\n  bob \ncy\n", encoding="utf-8")
    assert data.read_words(f) == ["anna", "bob", "cy"]


@pytest.mark.parametrize(
    "content, problem",
    [(None, "no such file"), (b"", "no words"), (b"\n \n", "no words"), (b"ab\xff\xfe\n", "UTF-8")],
)
def test_bad_word_lists_get_one_clear_line(tmp_path, content, problem):
    f = tmp_path / "words.txt"
    if content is not None:
        f.write_bytes(content)
    with pytest.raises(DataError) as err:
        data.read_words(f)
    message = str(err.value)
    assert str(f) in message and problem in message and "\n" not in message


def test_a_folder_is_not_a_word_list(tmp_path):
    with pytest.raises(DataError, match="not a file"):
        data.read_words(tmp_path)


def test_boundary_character_inside_a_word_is_refused(tmp_path):
    f = tmp_path / "w.txt"
    f.write_text("a.b\n", encoding="utf-8")
    with pytest.raises(DataError, match="boundary"):
        data.read_words(f)


# ---------------------------------------------------------------------------- vocabulary
def test_vocab_puts_boundary_first_and_round_trips(toy_words):
    v = Vocab.from_words(toy_words)
    assert v.itos[0] == "." and v.stoi["."] == 0
    assert list(v.itos[1:]) == sorted(set("".join(toy_words)))
    for w in toy_words:
        assert v.decode(v.encode(w)) == w


# ---------------------------------------------------------------------------- datasets
def test_bigram_pairs_of_one_word():
    v = Vocab.from_words(["emma"])
    xs, ys = data.bigram_pairs(["emma"], v)
    pairs = [(v.itos[a], v.itos[b]) for a, b in zip(xs.tolist(), ys.tolist(), strict=True)]
    assert pairs == [(".", "e"), ("e", "m"), ("m", "m"), ("m", "a"), ("a", ".")]


def test_context_windows_of_one_word():
    v = Vocab.from_words(["emma"])
    X, Y = data.context_windows(["emma"], v, block_size=3)
    got = [(v.decode(x), v.itos[y]) for x, y in zip(X.tolist(), Y.tolist(), strict=True)]
    assert got == [("...", "e"), ("..e", "m"), (".em", "m"), ("emm", "a"), ("mma", ".")]
    assert X.shape == (5, 3) and X.dtype == torch.long


def test_split_is_deterministic_disjoint_and_complete(toy_words):
    words = [f"{w}{i}" for i, w in enumerate(toy_words * 5)]  # 50 distinct words
    original = list(words)
    a = data.split_words(words)
    b = data.split_words(words)
    assert a == b and words == original  # same split twice; the caller's list untouched
    tr, dev, te = a
    assert (len(tr), len(dev), len(te)) == (40, 5, 5)
    assert sorted(tr + dev + te) == sorted(words)
    assert not (set(tr) & set(dev) or set(tr) & set(te) or set(dev) & set(te))
    assert data.split_words(words, seed=1) != a


def test_split_matches_the_lectures_global_shuffle(toy_words):
    import random

    words = list(toy_words)
    random.seed(42)
    random.shuffle(words)
    tr, dev, te = data.split_words(toy_words)
    assert tr + dev + te == words


# ---------------------------------------------------------------------------- the real dataset
def test_names_txt_facts(names_words):
    assert len(names_words) == 32033 and len(set(names_words)) == 29494
    v = Vocab.from_words(names_words)
    assert len(v) == 27 and "".join(v.itos) == ".abcdefghijklmnopqrstuvwxyz"
    xs, _ = data.bigram_pairs(names_words, v)
    assert xs.numel() == sum(len(w) + 1 for w in names_words)


def test_canonical_split_sizes(names_words):
    s = data.make_splits(names_words, block_size=3)
    sizes = (len(s.Ytr), len(s.Ydev), len(s.Yte))
    assert sizes == (182625, 22655, 22866)  # REFERENCE.md: the lectures' canonical split


# ---------------------------------------------------------------------------- cache and fallback
def test_seed_cache_refuses_a_wrong_file(tmp_path, monkeypatch):
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    wrong = tmp_path / "names.txt"
    wrong.write_text("not\nthe\nnames\n")
    with pytest.raises(DataError, match="sha256"):
        data.seed_cache(wrong)
    assert not (tmp_path / "cache" / "names.txt").exists()


def test_seed_cache_accepts_the_right_file_atomically(tmp_path, monkeypatch):
    source = data.fetch_names()  # the verified copy the suite already relies on
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    target = data.seed_cache(source)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == data.NAMES_SHA256
    assert [p.name for p in target.parent.iterdir()] == ["names.txt"]  # no temporary left


def test_corrupt_cache_and_no_network_falls_back_loudly(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "names.txt").write_text("truncated\n")  # a wrong file in the cache
    monkeypatch.setenv(data.CACHE_ENV, str(cache))
    monkeypatch.setattr(data, "NAMES_URL", "http://127.0.0.1:9/names.txt")  # nothing listens
    with pytest.warns(RuntimeWarning, match="FALLING BACK"):
        corpus = data.load_corpus()
    assert not corpus.canonical and "fallback" in corpus.source
    assert "truncated" not in corpus.words
    assert corpus.words == data.census_first_names()
    assert all(w.isalpha() and w == w.lower() for w in corpus.words)


def test_a_bug_is_not_mistaken_for_no_network(monkeypatch):
    """Only a failed download (OSError) or a wrong file (ValueError) falls back; any other
    exception is a bug and must surface, not turn silently into other data."""
    def broken(quiet: bool = True):
        raise TypeError("a bug in the code")

    monkeypatch.setattr(data, "fetch_names", broken)
    with pytest.raises(TypeError, match="a bug"):
        data.load_corpus()

    def offline(quiet: bool = True):
        raise ConnectionError("no network")  # requests' errors are OSErrors

    monkeypatch.setattr(data, "fetch_names", offline)
    with pytest.warns(RuntimeWarning, match="FALLING BACK"):
        assert not data.load_corpus().canonical


def test_census_fallback_is_a_real_word_list():
    words = data.census_first_names()
    assert len(words) == len(set(words)) > 5000
    assert {"mary", "james", "john"} <= set(words)


def test_explicit_word_list_is_used_as_given(tmp_path):
    f = tmp_path / "pokemon.txt"
    f.write_text("pikachu\nbulbasaur\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        corpus = data.load_corpus(f)
    assert corpus.words == ["pikachu", "bulbasaur"] and corpus.source == "pokemon.txt"


def test_seed_cache_command_line_reports_bad_file_in_one_line(tmp_path):
    wrong = tmp_path / "names.txt"
    wrong.write_text("x\n")
    result = subprocess.run(
        [sys.executable, "-m", "makemore.data", "--seed-cache", str(wrong)],
        capture_output=True, text=True, env={"MAKEMORE_CACHE": str(tmp_path / "c"), "PATH": ""},
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "sha256" in result.stderr
