"""makemore.py's recurrent models (RNN, GRU) and its causal bag-of-words (BoW).

Two other ways to let a prediction depend on the whole prefix of a word, not on a fixed window:

- A recurrent network keeps a hidden state h and updates it one character at a time,
  h_t = cell(x_t, h_{t-1}); the prediction at t is read from h_t. The whole past has to squeeze
  through one vector, and the gradient to an early character passes through every step in
  between. The vanilla `RNNCell` is one tanh layer; the `GRUCell` adds gates (a reset gate that
  chooses what of h to use, an update gate that chooses how much of h to overwrite), which keeps
  information and gradients alive over more steps.
- The bag-of-words model averages the embeddings of all previous positions with equal weights,
  computed for every position at once by one masked matrix product. It is self-attention with
  the scores frozen at zero: the Transformer (makemore.transformer) learns those weights.

All three map (B, T) character indices to (B, T, vocab) logits, causally, as the Transformer, so
one loss (makemore.training.split_loss) and one sampler (makemore.sampling.sample) serve them
all. The BoW trains on the loop's autograd step (makemore.training.AutogradStep, on minibatches
cut to their longest word); the RNN and the GRU on backpropagation through time written by
hand (makemore.recurrent_manual, the same steps, several times cheaper: a recurrence is a long
chain of tiny operations, where autograd's bookkeeping costs more than the arithmetic). Sizes
are makemore.py's: n_embd 64 for the embeddings, n_embd2 64 for the hidden state (or the BoW's
MLP).

References:
- Elman, "Finding Structure in Time", 1990 (the simple recurrent network).
- Cho et al., "Learning Phrase Representations using RNN Encoder-Decoder", 2014 (the GRU).
  https://arxiv.org/abs/1406.1078
- https://github.com/karpathy/makemore (makemore.py: RNNCell, GRUCell, RNN, CausalBoW, BoW)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from makemore.lecture import MAKEMORE_MODEL, MAKEMORE_SEED
from makemore.recurrent_manual import RecurrentStep
from makemore.sequences import WordModel, causal_mask, seeded

# -----------------------------------------------------------------------------
# configuration


@dataclass
class RecurrentConfig:
    """makemore.py's ModelConfig, for the RNN, the GRU and the BoW (which is not recurrent, but
    takes the same sizes)."""

    vocab_size: int = 27  # characters + the '.' token (names.txt: a-z and '.')
    block_size: int = 16  # longest input sequence: longest word + 1 (names.txt: 15 + 1)
    n_embd: int = MAKEMORE_MODEL["n_embd"]  # width of the character (and, for BoW, position)
    #                                         embeddings
    n_embd2: int = MAKEMORE_MODEL["n_embd2"]  # width of the hidden state (RNN, GRU) or of the
    #                                           BoW's MLP
    seed: int = MAKEMORE_SEED  # draws the initial weights (makemore.py's default seed)


# -----------------------------------------------------------------------------
# recurrent cells


class RNNCell(nn.Module):
    """h_t = tanh(W [x_t, h_{t-1}] + b): one layer on the input and the previous state."""

    def __init__(self, config: RecurrentConfig):
        super().__init__()
        self.xh_to_h = nn.Linear(config.n_embd + config.n_embd2, config.n_embd2)

    def forward(self, xt: torch.Tensor, hprev: torch.Tensor) -> torch.Tensor:
        xh = torch.cat([xt, hprev], dim=1)  # (B, n_embd + n_embd2)
        return torch.tanh(self.xh_to_h(xh))  # (B, n_embd2)


class GRUCell(nn.Module):
    """The gated recurrent unit, in makemore.py's form (Cho et al. 2014's original):

        r    = sigmoid(W_r [x, h] + b_r)           reset gate
        hbar = tanh(W_h [x, r * h] + b_h)          candidate state, from the reset state
        z    = sigmoid(W_z [x, h] + b_z)           update gate
        h'   = (1 - z) * h + z * hbar

    torch.nn.GRUCell differs in two details: it applies the reset gate after the matrix product,
    r * (W_hn h + b_hn), and its z means "keep" rather than "update", h' = (1 - z) * n + z * h.
    The first makes the two cells different functions (no mapping of weights makes them equal).
    """

    def __init__(self, config: RecurrentConfig):
        super().__init__()
        n_in = config.n_embd + config.n_embd2
        self.xh_to_z = nn.Linear(n_in, config.n_embd2)
        self.xh_to_r = nn.Linear(n_in, config.n_embd2)
        self.xh_to_hbar = nn.Linear(n_in, config.n_embd2)

    def forward(self, xt: torch.Tensor, hprev: torch.Tensor) -> torch.Tensor:
        xh = torch.cat([xt, hprev], dim=1)  # (B, n_embd + n_embd2)
        r = torch.sigmoid(self.xh_to_r(xh))  # (B, n_embd2), which channels of h to use
        xhr = torch.cat([xt, r * hprev], dim=1)  # (B, n_embd + n_embd2)
        hbar = torch.tanh(self.xh_to_hbar(xhr))  # (B, n_embd2), the candidate
        z = torch.sigmoid(self.xh_to_z(xh))  # (B, n_embd2), how much of each channel to update
        return (1 - z) * hprev + z * hbar


# -----------------------------------------------------------------------------
# the recurrent language model


class RNN(WordModel):
    """Embed each character, run the cell left to right from a learned start state, read the
    logits from every hidden state. `cell_type` is "rnn" or "gru"."""

    def __init__(self, config: RecurrentConfig | None = None, cell_type: str = "rnn"):
        super().__init__()
        config = config or RecurrentConfig()
        cells = {"rnn": RNNCell, "gru": GRUCell}
        if cell_type not in cells:
            raise ValueError(f"cell_type must be 'rnn' or 'gru', not {cell_type!r}")
        self.config, self.cell_type = config, cell_type
        self.block_size = config.block_size
        with seeded(config.seed):
            self.start = nn.Parameter(torch.zeros(1, config.n_embd2))  # the learned h_{-1}
            self.wte = nn.Embedding(config.vocab_size, config.n_embd)
            self.cell = cells[cell_type](config)
            self.lm_head = nn.Linear(config.n_embd2, config.vocab_size)

    def manual_step(self, cfg) -> RecurrentStep | None:
        """How `makemore.training.train` steps this model: backpropagation through time
        written by hand (`makemore.recurrent_manual`), each minibatch cut to its longest word.
        None (the loop's autograd step) while a forward hook watches a module (the hook needs
        the module's forward), or for a recipe with an l2 penalty, which the step does not add.
        """
        if cfg.l2 or any(m._forward_hooks or m._forward_pre_hooks for m in self.modules()):
            return None
        return RecurrentStep(self)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        B, T = idx.shape
        emb = self.wte(idx)  # (B, T, n_embd), all positions at once
        hprev = self.start.expand(B, -1)  # (B, n_embd2)
        hiddens = []
        for t in range(T):  # the recurrence: one step per character, in order
            hprev = self.cell(emb[:, t, :], hprev)  # (B, n_embd2)
            hiddens.append(hprev)
        hidden = torch.stack(hiddens, dim=1)  # (B, T, n_embd2)
        return self.lm_head(hidden)  # (B, T, vocab_size)


# -----------------------------------------------------------------------------
# the causal bag of words


class CausalBoW(nn.Module):
    """Each position gets the plain average of the vectors at positions 0..t.

    Written as makemore.py (and the GPT lecture's "version 3") writes it, to show the kinship
    with attention: scores all zero, future masked to -inf, softmax -> each row of `att` is
    1/(t+1) on the past and 0 on the future, and `att @ x` averages in one matrix product.
    """

    def __init__(self, config: RecurrentConfig):
        super().__init__()
        self.register_buffer("tril", causal_mask(config.block_size), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        att = torch.zeros((T, T), dtype=x.dtype, device=x.device)  # equal scores, every pair
        att = att.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)  # (T, T), row t: 1/(t+1) on columns 0..t
        return att @ x  # (T, T) @ (B, T, C) -> (B, T, C), the same weights for every example


class BoWBlock(nn.Module):
    """The averaged past added to the residual stream, then a tanh MLP (n_embd2 wide)."""

    def __init__(self, config: RecurrentConfig):
        super().__init__()
        self.cbow = CausalBoW(config)
        self.c_fc = nn.Linear(config.n_embd, config.n_embd2)
        self.c_proj = nn.Linear(config.n_embd2, config.n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.cbow(x)  # (B, T, n_embd)
        x = x + self.c_proj(torch.tanh(self.c_fc(x)))  # (B, T, n_embd)
        return x


class BoW(WordModel):
    """Token + position embeddings, one BoWBlock, a Linear to the vocabulary."""

    def __init__(self, config: RecurrentConfig | None = None):
        super().__init__()
        config = config or RecurrentConfig()
        self.config = config
        self.block_size = config.block_size
        with seeded(config.seed):
            self.wte = nn.Embedding(config.vocab_size, config.n_embd)
            self.wpe = nn.Embedding(config.block_size, config.n_embd)
            self.context_block = BoWBlock(config)
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        B, T = idx.shape
        if T > self.block_size:
            raise ValueError(f"sequence of length {T} is longer than block_size {self.block_size}")
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))  # (B, T, n_embd)
        x = self.context_block(x)
        return self.lm_head(x)  # (B, T, vocab_size)
