"""Making more words: sampling from any model that reads a fixed window of context.

The MLPs of Parts 2-5 all map a window of the last `block_size` characters to logits over the
next one. To make a word, start from a window of '.', draw the next character from the softmax,
slide the window, and stop at the first '.'. All `n` words are drawn side by side, one batch per
position, from a seeded generator, so a seed always gives the same words.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from makemore.data import Vocab


@torch.inference_mode()
def sample(
    model,
    vocab: Vocab,
    n: int,
    generator: torch.Generator | None = None,
    temperature: float = 1.0,
    max_len: int = 50,
) -> list[str]:
    """`n` words from any context model (`model.block_size`, `model(X) -> logits`).

    All `n` words are drawn side by side: every row starts from a context of '.' and ends at its
    first '.' (which is not included). `max_len` caps a word whose model never says '.'. The model
    is sampled in eval mode (BatchNorm uses its running statistics) and put back as it was.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    was_training = bool(getattr(model, "training", False))
    if hasattr(model, "eval"):
        model.eval()
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    device = params[0].device if params else torch.device("cpu")
    context = torch.zeros((n, model.block_size), dtype=torch.long, device=device)  # all '.'
    out = torch.zeros((n, max_len), dtype=torch.long, device=device)
    done = torch.zeros(n, dtype=torch.bool, device=device)
    for t in range(max_len):
        logits = model(context)  # (n, vocab_size)
        probs = F.softmax(logits / temperature, dim=-1)
        ix = torch.multinomial(probs, num_samples=1, generator=generator).squeeze(1)  # (n,)
        ix = ix.masked_fill(done, 0)  # a finished word stays finished
        out[:, t] = ix
        done |= ix == 0
        if bool(done.all()):
            break
        context = torch.cat([context[:, 1:], ix[:, None]], dim=1)  # (n, block_size)
    if was_training and hasattr(model, "train"):
        model.train()
    words = []
    for row in out.tolist():
        end = row.index(0) if 0 in row else len(row)
        words.append(vocab.decode(row[:end]))
    return words
