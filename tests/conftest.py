"""Shared fixtures: small word lists the tests make, and the real dataset where it matters."""

from __future__ import annotations

import warnings

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def toy_words() -> list[str]:
    return ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "ella", "ada", "bo"]


@pytest.fixture(scope="session")
def names_words() -> list[str]:
    """The verified names.txt; tests that need it are skipped when it cannot be had."""
    from makemore.data import load_corpus

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a fallback corpus is not names.txt
        try:
            corpus = load_corpus()
        except RuntimeWarning as err:
            pytest.skip(f"names.txt not available: {err}")
    return corpus.words
