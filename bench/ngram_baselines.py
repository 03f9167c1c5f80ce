"""How good and how fast are the counting baselines on names.txt? Add-k and Kneser-Ney, timed.

For each context length n (n = 1 is the bigram) on the canonical split: add-one's dev loss (the
book's Chapter 2 yardstick), add-k with k tuned on dev, and interpolated Kneser-Ney with one
discount per order tuned on dev (from the closed form n1 / (n1 + 2 n2)), with their test
losses, and the wall time of each fit + tune + score on one torch thread. Then the table's
coverage for n = 1..8 (`makemore.ngram.table_coverage`). Not a test: numbers for the report.

Usage: python bench/ngram_baselines.py [--max-n 6]
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from makemore.data import DataError, Vocab, context_windows, load_corpus, split_words
from makemore.ngram import counting_loss, kneser_ney, table_coverage, tune_add_k, tune_discounts


def _show(model) -> str:
    """The discounts, lowest order first: D, or D1/D2/D3+ for modified KN."""
    return " ".join("/".join(f"{d:.3f}" for d in (Ds if model.modified else Ds[:1]))
                    for Ds in model.discounts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-n", type=int, default=6)
    args = parser.parse_args()
    torch.set_num_threads(1)

    try:  # the book's baselines are names.txt's
        words = load_corpus(require_names=True).words
    except DataError as err:
        print(f"ngram_baselines: error: {err}", file=sys.stderr)
        return 2
    vocab = Vocab.from_words(words)
    V = len(vocab)
    tr, dev, te = split_words(words)
    width = max(args.max_n, 8)
    Xtr, Ytr = context_windows(tr, vocab, width)
    Xdev, Ydev = context_windows(dev, vocab, width)
    Xte, Yte = context_windows(te, vocab, width)
    print(f"{Xtr.shape[0]:,} training characters, vocabulary {V}")

    print("n  add-1 dev | add-k: k dev test seconds")
    for n in range(1, args.max_n + 1):
        tr_n, dev_n, te_n = Xtr[:, -n:], Xdev[:, -n:], Xte[:, -n:]
        add1 = counting_loss(tr_n, Ytr, dev_n, Ydev, V)
        t0 = time.perf_counter()
        k, k_dev = tune_add_k(tr_n, Ytr, dev_n, Ydev, V)
        k_test = counting_loss(tr_n, Ytr, te_n, Yte, V, smoothing=k)
        print(f"{n}  {add1:.4f} | {k:.4g} {k_dev:.4f} {k_test:.4f} "
              f"{time.perf_counter() - t0:.2f}")

    for modified in (False, True):
        print(f"{'modified' if modified else 'plain'} Kneser-Ney: n, closed-form dev, tuned dev, "
              "test, seconds fit / tune / score dev+test, discounts D_0.. (closed -> tuned)")
        for n in range(0, args.max_n + 1):
            tr_n, dev_n, te_n = Xtr[:, width - n:], Xdev[:, width - n:], Xte[:, width - n:]
            t0 = time.perf_counter()
            closed = kneser_ney(tr_n, Ytr, V, modified=modified)
            t1 = time.perf_counter()
            kn, _ = tune_discounts(closed, dev_n, Ydev)
            t2 = time.perf_counter()
            kn_dev, kn_test = kn.loss(dev_n, Ydev), kn.loss(te_n, Yte)
            t3 = time.perf_counter()
            print(f"{n}  {closed.loss(dev_n, Ydev):.4f} {kn_dev:.4f} {kn_test:.4f}  "
                  f"{t1 - t0:.2f} / {t2 - t1:.2f} / {t3 - t2:.2f}  {_show(closed)} -> {_show(kn)}")

    print("n  cells  seen  contexts  unseen dev (predictions)  unseen dev (contexts)")
    for c in table_coverage(Xtr, Ytr, Xdev, V, range(1, 9)):
        print(f"{c.n}  {c.cells:.3g}  {c.seen:,}  {c.contexts:,}  {100 * c.unseen_dev:.2f}%  "
              f"{100 * c.unseen_dev_contexts:.2f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
