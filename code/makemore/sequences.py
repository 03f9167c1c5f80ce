"""Whole words as padded sequences: the data, the loss and the sampler of makemore.py's models.

Parts 1 to 5 cut every word into context windows, one example per character. makemore.py's
sequence models (RNN, GRU, bag-of-words, Transformer) read a whole word at once and predict every
next character in one forward pass, so a word is one example of fixed length T = longest word + 1:

    word "emma" (e=5, m=13, a=1), T = 8:
    x = [0, 5, 13, 13,  1,  0,  0,  0]   '.' then the word, then '.' padding
    y = [5, 13, 13,  1,  0, -1, -1, -1]  the word, its end '.', then -1: "no loss here"

Position t of y is the character that follows x[0..t]. The targets that are not -1 are exactly
the characters the context windows of `makemore.data.context_windows` predict (each character
of the word, then the final '.'), so the mean negative log-likelihood over the targets that
count (`makemore.training.split_loss`, which ignores the -1s) is the same per-character loss
the earlier chapters report on the same canonical split (`makemore.data.split_words`).

A model here is any causal `model(idx) -> logits`, idx (B, T) long and logits (B, T, vocab):
the logits at position t may depend only on idx[:, :t+1]. `SequenceStep` is how such a model
trains in the book's one loop; `generate` samples from it by feeding its own predictions back
in, as makemore.py's `generate`.

References: https://github.com/karpathy/makemore (makemore.py: CharDataset, evaluate, generate)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from makemore.data import Vocab

IGNORE = -1  # target index that F.cross_entropy(..., ignore_index=IGNORE) leaves out of the loss

SequenceModel = Callable[[torch.Tensor], torch.Tensor]  # (B, T) long -> (B, T, vocab) logits


# -----------------------------------------------------------------------------
# the data: one padded example per word


def padded_words(
    words: list[str], vocab: Vocab, block_size: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """X, Y (N, T) long, one row per word: X = '.' + word + '.'-padding, Y = word + '.' + -1s.

    T is `block_size`, by default the longest of these words + 1. Pass the whole corpus's
    (`max(len(w) for w in words) + 1`, makemore.py's `get_output_length`) so that the train, dev
    and test tensors of a split have the same width. Raises ValueError on a word longer than
    block_size - 1, which would lose its end token.
    """
    longest = max((len(w) for w in words), default=0)
    T = longest + 1 if block_size is None else block_size
    if longest + 1 > T:
        raise ValueError(f"a word of {longest} characters does not fit in block_size {T}")
    stoi = vocab.stoi
    X = torch.zeros((len(words), T), dtype=torch.long)  # (N, T), 0 is '.'
    Y = torch.full((len(words), T), IGNORE, dtype=torch.long)  # (N, T)
    for i, w in enumerate(words):
        ix = torch.tensor([stoi[c] for c in w], dtype=torch.long)
        n = len(w)
        X[i, 1:n + 1] = ix
        Y[i, :n] = ix
        Y[i, n] = 0  # the end token is a prediction like any other
    return X, Y


def trim_padding(X: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop the trailing columns in which every target is ignored.

    For a causal model this changes nothing but the work: the logits of the kept columns do not
    depend on the dropped ones, and the dropped ones carry no loss. A minibatch of 32 names is
    rarely as long as the longest name, so training on trimmed batches is cheaper.
    """
    active = (Y != IGNORE).any(0)  # (T,) columns with at least one target
    T = int(active.nonzero().max().item()) + 1 if active.any() else 1
    return X[:, :T], Y[:, :T]


# -----------------------------------------------------------------------------
# training: the recipe, and one step on a minibatch of padded words

# The book's recipe for the sequence models (Chapter 6, chosen on the dev split): AdamW with
# makemore.py's betas and minibatches of 32 words, a stronger weight decay than its 0.01, and a
# learning rate that warms up from 0 over `warmup` steps (or a tenth of a shorter run), then
# falls in a straight line to 0 at the last step (makemore.training.WarmupLinear).
RECIPE = dict(batch_size=32, weight_decay=0.1, warmup=300)
RECIPE_LR = {"transformer": 3e-3, "rnn": 5e-3, "gru": 5e-3, "bow": 5e-3}  # the peak rates


def warmup_steps(steps: int) -> int:
    """The recipe's warm-up for a run of `steps` steps."""
    return max(1, min(RECIPE["warmup"], steps // 10))


class SequenceStep:
    """The training step of the sequence models (`makemore.training.train` takes it from their
    `fast_path`): the lecture's step, forward, cross-entropy over the characters that count,
    `loss.backward()`, with two differences from the loop's plain autograd step.

    - The minibatch is cut to its longest word (`trim_padding`): for a causal model the loss and
      the gradients are the same (a test checks it), and a batch of 32 names is rarely as long
      as the longest name, so each step does less work.
    - Dropout draws from a random stream of its own, seeded with `seed`, instead of torch's
      global one: the same seed gives the same run whatever ran before it in the process, and
      the caller's global random state is left as it was.
    """

    grad_enabled = True  # the loop runs `step` with autograd on

    def __init__(self, model: torch.nn.Module, seed: int):
        self.model, self.params = model, list(model.parameters())
        self.rng_state = torch.Generator().manual_seed(seed).get_state()  # dropout's stream

    def batches(self, Xc: torch.Tensor, Yc: torch.Tensor):
        return zip(Xc.unbind(0), Yc.unbind(0), strict=True)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x, y = trim_padding(x, y)  # (B, T') with T' <= T
        with torch.random.fork_rng(devices=[]):  # the global state is put back afterwards
            torch.random.set_rng_state(self.rng_state)
            logits = self.model(x)  # (B, T', vocab); dropout masks drawn here
            self.rng_state = torch.random.get_rng_state()
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                               ignore_index=IGNORE)
        for p in self.params:
            p.grad = None
        loss.backward()
        return loss.detach()

    def fresh_grads(self) -> None:
        pass  # backward() makes new gradient tensors every step


# -----------------------------------------------------------------------------
# sampling


def _set_training(model, mode: bool) -> bool:
    """Put a model with train()/eval() into `mode`; return the mode it was in."""
    was = bool(getattr(model, "training", False))
    if hasattr(model, "train"):
        model.train(mode)
    return was


@torch.inference_mode()
def generate(
    model: SequenceModel,
    num: int,
    max_new_tokens: int,
    block_size: int | None = None,
    temperature: float = 1.0,
    top_k: int | None = None,
    do_sample: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(num, 1 + steps) indices: the start token 0, then characters drawn one at a time.

    Each step runs the model on everything so far (cropped to the last `block_size`
    characters, by default `model.block_size`), takes the logits of the last position, divides
    them by `temperature` (below 1 sharpens, above 1 flattens), keeps only the `top_k` largest
    if asked, and draws from the softmax with `generator` (or takes the argmax when
    `do_sample` is False). It stops early once every row has produced the end token: the
    characters after a row's first end token are never used, so the words are the same as
    makemore.py's fixed-length loop would give with the same draws.
    """
    if block_size is None:
        block_size = getattr(model, "block_size", None)
    was = _set_training(model, False)
    idx = torch.zeros((num, 1), dtype=torch.long)  # (num, 1) the start token '.'
    done = torch.zeros(num, dtype=torch.bool)
    for _ in range(max_new_tokens):
        idx_cond = idx if block_size is None else idx[:, -block_size:]
        logits = model(idx_cond)[:, -1, :] / temperature  # (num, vocab)
        if top_k is not None:
            v, _ = torch.topk(logits, min(top_k, logits.shape[-1]))  # (num, top_k)
            logits = logits.masked_fill(logits < v[:, [-1]], float("-inf"))
        probs = F.softmax(logits, dim=-1)
        if do_sample:
            idx_next = torch.multinomial(probs, num_samples=1, generator=generator)  # (num, 1)
        else:
            idx_next = probs.argmax(-1, keepdim=True)
        idx = torch.cat((idx, idx_next), dim=1)
        done |= idx_next.squeeze(1) == 0
        if done.all():
            break
    _set_training(model, was)
    return idx


def sample_words(
    model: SequenceModel,
    vocab: Vocab,
    n: int = 20,
    generator: torch.Generator | None = None,
    temperature: float = 1.0,
    top_k: int | None = None,
    max_len: int | None = None,
) -> list[str]:
    """`n` words sampled from `model` with `generator` (the same seed, the same words).

    The arguments are `makemore.sampling.sample`'s, for the models that read a window, plus
    `top_k`. A word is what comes between the start token and the first end token. At most
    `max_len` characters are drawn (by default the model's block_size - 1, the longest word it
    was trained on, as makemore.py), so the model never sees a sequence longer than it was
    trained on; a word with no end token by then is kept as drawn.
    """
    if max_len is None:
        max_len = model.block_size - 1
    idx = generate(model, n, max_len, temperature=temperature, top_k=top_k, generator=generator)
    words = []
    for row in idx[:, 1:].tolist():  # drop the start token
        end = row.index(0) if 0 in row else len(row)
        words.append(vocab.decode(row[:end]))
    return words
