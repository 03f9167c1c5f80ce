"""Data for makemore: the word list, its vocabulary, and the datasets every chapter trains on.

makemore's promise is "give it a file with one item per line and it makes more like it". The
canonical file is `names.txt` (32,033 first names, MIT licence, (c) 2022 Andrej Karpathy),
fetched from its public URL with pooch and pinned by sha256, so a wrong or truncated file is
never used silently. With no network and no verified cached copy, the book falls back to the
US census first names shipped by the PyPI package `names`, says so loudly, and records which
corpus it used (`Corpus.source`) so that the prose can state it.

Any other word list works too: `read_words(path)` validates it and `Vocab.from_words` builds
the character vocabulary with '.' (the start/end token) at index 0.

References: https://github.com/karpathy/makemore
"""

from __future__ import annotations

import os
import random
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from makemore.files import atomic_write
from makemore.lecture import SPLIT_FRACTIONS, SPLIT_SEED

# -----------------------------------------------------------------------------
# where the canonical file lives, and how we know it is the right one

NAMES_URL = "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt"
NAMES_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
CACHE_ENV = "MAKEMORE_CACHE"  # set this to choose the cache folder (CI pre-seeds it)
BOUNDARY = "."  # start/end token, always index 0 of the vocabulary


class DataError(ValueError):
    """A word list that cannot be used; the message is one line that names the file."""


def _pooch():
    """pooch, imported quietly: it imports tqdm.auto, which warns inside a notebook kernel
    that has no ipywidgets ("IProgress not found"), and we never show its progress bar."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import pooch
    return pooch


def cache_dir() -> Path:
    """The folder pooch downloads into: $MAKEMORE_CACHE, else the user's cache folder."""
    pooch = _pooch()
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path(pooch.os_cache("makemore"))


# What a failed download raises: an OSError (requests' errors are OSErrors: no network, an HTTP
# error, a full disk) or a ValueError (pooch's wrong hash; DataError for a bad file). Anything
# else is a bug, and must not turn into a silent fallback to other data.
FETCH_ERRORS = (OSError, ValueError)


def fetch_names(quiet: bool = True) -> Path:
    """Path to a verified `names.txt`: the cached copy if its hash matches, else downloaded.

    Raises whatever pooch raises when the file cannot be had (no network, wrong hash).
    pooch downloads to a temporary file and moves it into place, so the cache never holds a
    half-written file.
    """
    pooch = _pooch()

    logger = pooch.get_logger()
    level = logger.level
    if quiet:
        logger.setLevel("WARNING")
    try:
        path = pooch.retrieve(
            url=NAMES_URL,
            known_hash=f"sha256:{NAMES_SHA256}",
            fname="names.txt",
            path=cache_dir(),
            progressbar=False,
        )
    finally:
        logger.setLevel(level)
    return Path(path)


# -----------------------------------------------------------------------------
# reading and validating a word list


def read_words(path: str | os.PathLike) -> list[str]:
    """The words of a file with one item per line (blank lines and surrounding spaces dropped).

    Lines end at a newline only (not at the other characters Python's `splitlines` breaks on:
    U+0085, U+2028, ...), and a UTF-8 byte-order mark at the start is not part of the first
    word. Raises DataError, with a one-line message naming the file, when the file is missing,
    is not a file, cannot be decoded as UTF-8, holds no words, or holds a word with a character
    that is not a printable one (a control character would reach the terminal in `sample`'s
    words), a space or the boundary token '.'.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: not a file")
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: without a byte-order mark
    except UnicodeDecodeError as err:
        problem = f"not UTF-8 text (undecodable byte at offset {err.start})"
        raise DataError(f"{path}: {problem}") from None
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
    words = []
    for number, line in enumerate(text.split("\n"), start=1):
        word = line.strip()
        if not word:
            continue
        bad = next((c for c in word if c == BOUNDARY or c.isspace() or not c.isprintable()),
                   None)
        if bad is not None:
            why = ("'.' marks a word's boundary" if bad == BOUNDARY
                   else "a word is one line of printable characters, no spaces")
            raise DataError(f"{path}: line {number} holds {bad!r} ({why})")
        words.append(word)
    if not words:
        raise DataError(f"{path}: no words (the file is empty or blank)")
    return words


def census_first_names() -> list[str]:
    """US census first names (male and female) shipped by the PyPI package `names`, lower-cased."""
    import names as census

    words: set[str] = set()
    for key in ("first:male", "first:female"):
        with open(census.FILES[key], encoding="ascii") as f:
            words.update(line.split()[0].lower() for line in f if line.strip())
    return sorted(words)


@dataclass(frozen=True)
class Corpus:
    words: list[str]
    source: str  # a short human description of where the words came from, for the prose
    canonical: bool  # True when this is the verified names.txt


def load_corpus(path: str | os.PathLike | None = None, require_names: bool = False) -> Corpus:
    """The word list the book trains on.

    With a path: that file, validated. Without: the verified canonical `names.txt`, or, when it
    cannot be had, the census first names with a loud warning; or, with `require_names` (a
    tool whose yardsticks are names.txt numbers), a DataError saying how to get it.
    """
    if path is not None:
        return Corpus(read_words(path), source=Path(path).name, canonical=False)
    try:
        words = read_words(fetch_names())
        return Corpus(words, source="names.txt (makemore, sha256-verified)", canonical=True)
    except FETCH_ERRORS as err:  # no network, wrong hash: never use an unverified file
        if require_names:
            raise DataError(f"no verified names.txt ({type(err).__name__}): put a copy in "
                            f"{cache_dir()} (python -m makemore.data --seed-cache FILE)"
                            ) from None
        message = (
            f"could not get a verified names.txt ({type(err).__name__}: {err}); "
            "FALLING BACK to the US census first names of the `names` package. "
            f"Put a copy of names.txt in {cache_dir()} (or set {CACHE_ENV}) to use the real data."
        )
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        return Corpus(census_first_names(), source="US census first names (fallback)",
                      canonical=False)


# -----------------------------------------------------------------------------
# vocabulary


@dataclass(frozen=True)
class Vocab:
    itos: tuple[str, ...]  # index -> character; itos[0] is the boundary token '.'

    @classmethod
    def from_words(cls, words: list[str]) -> Vocab:
        chars = sorted(set("".join(words)) - {BOUNDARY})
        return cls(itos=(BOUNDARY, *chars))

    @property
    def stoi(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, word: str) -> list[int]:
        stoi = self.stoi
        return [stoi[c] for c in word]

    def decode(self, ix: list[int]) -> str:
        return "".join(self.itos[i] for i in ix)


# -----------------------------------------------------------------------------
# datasets: bigram pairs, context windows, the canonical split


def bigram_pairs(words: list[str], vocab: Vocab) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (previous, next) character pair of every word, boundary included, as index tensors."""
    stoi = vocab.stoi
    xs, ys = [], []
    for w in words:
        chs = [BOUNDARY, *w, BOUNDARY]
        for c1, c2 in zip(chs, chs[1:], strict=False):
            xs.append(stoi[c1])
            ys.append(stoi[c2])
    return torch.tensor(xs, dtype=torch.long), torch.tensor(ys, dtype=torch.long)


def context_windows(
    words: list[str], vocab: Vocab, block_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """X (N, block_size) of the previous block_size characters (padded with '.'), Y (N,) next."""
    stoi = vocab.stoi
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + BOUNDARY:
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    X_t = torch.tensor(X, dtype=torch.long).view(-1, block_size)  # (N, block_size)
    return X_t, torch.tensor(Y, dtype=torch.long)


def split_words(
    words: list[str], seed: int = SPLIT_SEED, fractions: tuple[float, float] = SPLIT_FRACTIONS
) -> tuple[list[str], list[str], list[str]]:
    """The canonical train/dev/test split: shuffle a copy with `seed`, cut at 80% and 90%.

    Same as the lectures' `random.seed(42); random.shuffle(words)`, without touching the
    global random state or the caller's list.
    """
    shuffled = list(words)
    random.Random(seed).shuffle(shuffled)
    n1, n2 = int(fractions[0] * len(shuffled)), int(fractions[1] * len(shuffled))
    return shuffled[:n1], shuffled[n1:n2], shuffled[n2:]


@dataclass(frozen=True)
class Splits:
    """Context-window tensors for the three splits, built once and shared by the chapters."""

    vocab: Vocab
    block_size: int
    Xtr: torch.Tensor
    Ytr: torch.Tensor
    Xdev: torch.Tensor
    Ydev: torch.Tensor
    Xte: torch.Tensor
    Yte: torch.Tensor

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        return {
            "train": (self.Xtr, self.Ytr),
            "dev": (self.Xdev, self.Ydev),
            "test": (self.Xte, self.Yte),
        }[name]


def make_splits(words: list[str], block_size: int = 3, seed: int = SPLIT_SEED) -> Splits:
    """The canonical split of `words` turned into context windows of `block_size`."""
    vocab = Vocab.from_words(words)
    tr, dev, te = split_words(words, seed=seed)
    return Splits(
        vocab,
        block_size,
        *context_windows(tr, vocab, block_size),
        *context_windows(dev, vocab, block_size),
        *context_windows(te, vocab, block_size),
    )


# -----------------------------------------------------------------------------
# seeding the cache from a local copy (offline work and CI)


def seed_cache(source: str | os.PathLike) -> Path:
    """Copy a local names.txt into the cache, but only if its sha256 is the pinned one.

    The copy is written to a temporary file in the cache folder and renamed into place, so the
    cache never holds a partial file. Raises DataError when the file is missing or wrong.
    """
    import hashlib

    source = Path(source)
    if not source.is_file():
        raise DataError(f"{source}: no such file")
    data = source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != NAMES_SHA256:
        raise DataError(f"{source}: sha256 {digest[:12]}… is not names.txt's {NAMES_SHA256[:12]}…")
    return atomic_write(cache_dir() / "names.txt", lambda f: f.write(data))


def _main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m makemore.data", description="Seed or locate the names.txt cache."
    )
    parser.add_argument(
        "--seed-cache", metavar="FILE", help="copy a verified names.txt into the cache"
    )
    args = parser.parse_args(argv)
    if args.seed_cache:
        try:
            print(f"names.txt cached at {seed_cache(args.seed_cache)}")
        except DataError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    else:
        print(f"cache folder: {cache_dir()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
