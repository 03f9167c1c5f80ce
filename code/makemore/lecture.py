"""What the lectures set and what they printed: every lecture fact the book uses, said once.

The book recomputes every result it shows. Two kinds of numbers are not results, and they come
from here only, each with where it comes from:

- *settings*: the lectures' configurations (sizes, seeds, steps, learning rates), which the book
  sets on purpose to reproduce a lecture. The chapters, the command line, the benchmarks and the
  tests build their models from these presets, so a lecture configuration is written once.
- *yardsticks*: numbers the lecture notebooks printed (a loss, a parameter count). A page shows
  them only through `makemore.publish.quoted`, labelled as quoted and with fixed decimals, never
  as something this build computed. A printed number can be stale (Part 1's 2.4765 was printed
  when `P` held something else): Chapter 1 shows that one recomputed, beside the print.

This module imports nothing from the package, so every other module may import it. Presets are
plain dicts of the fields they set; `MLPConfig(**PART2_MLP)` builds the Part 2 network.

Sources (all in https://github.com/karpathy/nn-zero-to-hero, lectures/makemore/):
makemore_part1_bigrams.ipynb, makemore_part2_mlp.ipynb, makemore_part3_bn.ipynb,
makemore_part4_backprop.ipynb, makemore_part5_cnn1.ipynb; and https://github.com/karpathy/makemore
(makemore.py and its README).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# -----------------------------------------------------------------------------
# seeds

SEED = 2147483647  # every lecture's `torch.Generator().manual_seed(2147483647)`
SPLIT_SEED = 42  # `random.seed(42); random.shuffle(words)` before the 80/10/10 split (Parts 3-5)
SPLIT_FRACTIONS = (0.8, 0.9)  # n1 = int(0.8 n), n2 = int(0.9 n)
TANH_GAIN = 5 / 3  # the gain the lectures use for tanh layers, torch.nn.init.calculate_gain('tanh')


# -----------------------------------------------------------------------------
# yardsticks: numbers as the lectures printed them

PRINTED = "printed in the lecture notebook"
VIDEO = "shown in the lecture video (the saved notebook does not print it)"
README = "reported in makemore's README"


@dataclass(frozen=True)
class Quote:
    """A number the lecture printed: its value, the decimals it was printed with, and where."""

    value: float
    decimals: int  # as printed: 2.07 has 2, 2.1701 has 4
    source: str  # PRINTED, VIDEO or README
    where: str  # notebook and cell, in words

    def __str__(self) -> str:
        return f"{self.value:,.{self.decimals}f}"

    def __float__(self) -> float:
        return float(self.value)


def _nb(part: str, cell: str, value: float, decimals: int) -> Quote:
    return Quote(value, decimals, PRINTED, f"makemore_{part}.ipynb, {cell}")


# Part 1 (bigrams): the notebook prints the counting model's average NLL over every bigram as
# 2.4765, but that cell ran when `P` held another table: Chapter 1 recomputes it.
PART1_COUNT_NLL = _nb("part1_bigrams", "the counting model's average negative log-likelihood",
                      2.4765, 4)
# The same cell's first line: the summed log-likelihood, printed with `grad_fn=<AddBackward0>`
# (so its `P` was computed from a tensor that required gradients, the network's `W`).
PART1_COUNT_LOGLIK = _nb("part1_bigrams", "log_likelihood in the average-NLL cell",
                         -564996.8125, 4)
# The steps the lecture video trains the neural bigram for: the book's reading of the video. The
# saved notebook's training cell runs one step per execution (`for k in range(1)`), run by hand
# many times: it records no count.
PART1_STEPS = Quote(100, 0, VIDEO, "Part 1: the steps the video trains the neural bigram for")
# The five names its sampling cell printed (seeded generator, the counting table), '.' included.
PART1_COUNT_SAMPLES = ("mor.", "axx.", "minaymoryles.", "kondlaisah.", "anchshizarie.")

# Part 2 (MLP): the final evaluation cells (its minibatches were not seeded).
PART2_TRAIN = _nb("part2_mlp", "final training-set loss", 2.1260, 4)
PART2_DEV = _nb("part2_mlp", "final dev-set loss", 2.1701, 4)
PART2_PARAMS = _nb("part2_mlp", "sum(p.nelement() for p in parameters)", 11897, 0)

# Part 3 (activations, gradients, BatchNorm): the loss log at the end of the notebook, one row per
# stage, and the first loss of the untouched network. For BatchNorm the log's row (2.0668 /
# 2.1048) and the final evaluation cell (2.0674 / 2.1057) differ; the book uses the cell, which
# is what its run of the notebook's code reproduces.
# The notebook as saved prints no step-0 loss of the untouched network (its step-0 prints are of
# fixed networks); the video shows it.
PART3_LOSS0 = Quote(27.8817, 4, VIDEO, "Part 3: the loss at step 0 of the original network")
PART3_STAGES = {  # stage -> (train, dev)
    "original": (_nb("part3_bn", "loss log: original", 2.1245, 4),
                 _nb("part3_bn", "loss log: original", 2.1682, 4)),
    "softmax fix": (_nb("part3_bn", "loss log: fix softmax confidently wrong", 2.07, 2),
                    _nb("part3_bn", "loss log: fix softmax confidently wrong", 2.13, 2)),
    "tanh fix": (_nb("part3_bn", "loss log: fix tanh layer too saturated at init", 2.0356, 4),
                 _nb("part3_bn", "loss log: fix tanh layer too saturated at init", 2.1027, 4)),
    "Kaiming": (_nb("part3_bn", "loss log: use semi-principled kaiming init", 2.0377, 4),
                _nb("part3_bn", "loss log: use semi-principled kaiming init", 2.1070, 4)),
    "BatchNorm": (_nb("part3_bn", "final evaluation cell with BatchNorm", 2.0674, 4),
                  _nb("part3_bn", "final evaluation cell with BatchNorm", 2.1057, 4)),
}
PART3_BN_PARAMS = _nb("part3_bn", "parameter count with BatchNorm", 12097, 0)
PART3_DEEP_PARAMS = _nb("part3_bn", "parameter count of the deep network", 47024, 0)

# Part 4 (backprop ninja): exercise 4, the network trained on the hand-written backward only.
PART4_PARAMS = _nb("part4_backprop", "parameter count of the exercise network", 4137, 0)
PART4_EX4_PARAMS = _nb("part4_backprop", "exercise 4: parameter count", 12297, 0)
PART4_EX4_TRAIN = _nb("part4_backprop", "exercise 4: training-set loss", 2.0705, 4)
PART4_EX4_DEV = _nb("part4_backprop", "exercise 4: validation loss", 2.1099, 4)

# Part 5 (WaveNet): the performance log (train / val) and the final model.
PART5_LOG = {
    "original": (_nb("part5_cnn1", "log: original (3 characters of context)", 2.058, 3),
                 _nb("part5_cnn1", "log: original (3 characters of context)", 2.105, 3)),
    "context 8": (_nb("part5_cnn1", "log: context 3 -> 8", 1.918, 3),
                  _nb("part5_cnn1", "log: context 3 -> 8", 2.027, 3)),
    "hierarchical": (_nb("part5_cnn1", "log: flat -> hierarchical", 1.941, 3),
                     _nb("part5_cnn1", "log: flat -> hierarchical", 2.029, 3)),
    "BatchNorm fixed": (_nb("part5_cnn1", "log: fix bug in batchnorm", 1.912, 3),
                        _nb("part5_cnn1", "log: fix bug in batchnorm", 2.022, 3)),
    "scaled up": (_nb("part5_cnn1", "log: scale up the network", 1.769, 3),
                  _nb("part5_cnn1", "final evaluation cell: val", 1.9937, 4)),
}
PART5_PARAMS = _nb("part5_cnn1", "parameter count of the scaled-up network", 76579, 0)

# makemore.py: its README's test loss for the default Transformer (its own split: a test set
# of min(1,000, 10%) words).
MAKEMORE_TRANSFORMER_TEST = Quote(1.92, 2, README, "makemore README, default transformer")


# -----------------------------------------------------------------------------
# settings: the lectures' configurations, as the fields they set

# Part 1: the neural bigram, full-batch gradient descent on every bigram.
PART1_BIGRAM = dict(lr=50.0, reg=0.01)  # the lecture's learning rate and weight decay

# Part 2: the Bengio et al. MLP and its recipe.
PART2_MLP = dict(block_size=3, n_embd=10, n_hidden=200)
PART2_RECIPE = dict(steps=200_000, batch_size=32, lr=0.1, lr_decay_step=100_000, lr_final=0.01)
PART2_LR_EXPONENTS = (-3.0, 0.0, 1000)  # torch.linspace(-3, 0, 1000): the learning-rate finder

# Part 3: the same MLP, one fix at a time (fields of makemore.mlp.MLPConfig), same recipe.
_FAN_IN = PART2_MLP["block_size"] * PART2_MLP["n_embd"]
KAIMING_W1 = TANH_GAIN / math.sqrt(_FAN_IN)  # W1 * (5/3) / sqrt(fan_in)
_SOFTMAX_FIX = dict(w2_scale=0.01, b2_scale=0.0)  # a quiet output layer: small logits at first
_TANH_FIX = dict(w1_scale=0.2, b1_scale=0.01)  # small pre-activations, by hand
PART3_STAGE_FIELDS = {
    "original": {},
    "softmax fix": dict(_SOFTMAX_FIX),
    "tanh fix": dict(_SOFTMAX_FIX, **_TANH_FIX),
    "Kaiming": dict(_SOFTMAX_FIX, w1_scale=KAIMING_W1, b1_scale=0.01),
    "BatchNorm": dict(_SOFTMAX_FIX, w1_scale=KAIMING_W1, batchnorm=True),
}
PART3_BN_MOMENTUM = 0.001  # the running statistics of the single-layer BatchNorm

# Part 3's "PyTorch-ified" deep network (fields of makemore.layers.DeepConfig).
PART3_DEEP = dict(block_size=3, n_embd=10, n_hidden=100, n_layers=5, last_scale=0.1)
PART3_DIAGNOSTIC_STEPS = 1000  # the lecture's dashboards are drawn after about this many steps

# Part 4: the exercise network (n_hidden 64) and exercise 4's (n_hidden 200).
PART4_NET = dict(block_size=3, n_embd=10, n_hidden=64)
PART4_EX4_NET = dict(block_size=3, n_embd=10, n_hidden=200)
PART4_RECIPE = dict(PART2_RECIPE)
# Part 4's initial scales (W1 is Kaiming's, gain / sqrt(fan_in)): small and non-zero, and the
# BatchNorm gain 1 + bn_scale * randn rather than 1, "because sometimes initializating with e.g.
# all zeros could mask an incorrect implementation of the backward pass".
PART4_INIT = dict(b1_scale=0.1, w2_scale=0.1, b2_scale=0.1, bn_scale=0.1)
PART4_BN_EPS = 1e-5  # inside the square root: (bnvar + 1e-5)**-0.5, torch.nn's default

# Part 5: WaveNet.
PART5_NET = dict(block_size=8, n_embd=24, n_hidden=128, n_levels=3)
PART5_RECIPE = dict(steps=200_000, batch_size=32, lr=0.1, lr_decay_step=150_000, lr_final=0.01)
# The networks of Part 5's performance log, one per row of PART5_LOG (fields of
# makemore.wavenet.WaveNetConfig; n_levels 1 is the flat MLP). n_hidden 68 keeps the
# hierarchical network near the flat one's 22K parameters; "hierarchical" ran with the bug.
_PART5_SMALL = dict(block_size=8, n_embd=10, n_hidden=68, n_levels=3)
PART5_STAGES = {
    "original": dict(block_size=3, n_embd=10, n_hidden=200, n_levels=1),
    "context 8": dict(block_size=8, n_embd=10, n_hidden=200, n_levels=1),
    "hierarchical": dict(_PART5_SMALL, batchnorm_bug=True),
    "BatchNorm fixed": dict(_PART5_SMALL),
    "scaled up": dict(PART5_NET),
}

# makemore.py's default seed (`--seed 3407`): its models' initial weights.
MAKEMORE_SEED = 3407
# makemore.py's default Transformer.
MAKEMORE_TRANSFORMER = dict(n_layer=4, n_head=4, n_embd=64)
# makemore.py's sizes for its other models (ModelConfig): n_embd for the character (and the
# bag-of-words' position) embeddings, n_embd2 for the hidden state of the RNN and the GRU, the
# hidden layer of its MLP and of the bag-of-words' MLP.
MAKEMORE_MODEL = dict(n_embd=64, n_embd2=64)
# makemore.py's optimization: AdamW at a constant learning rate, minibatches of 32 words.
MAKEMORE_OPTIM = dict(lr=5e-4, weight_decay=0.01, betas=(0.9, 0.99), batch_size=32)
# makemore.py's own split: a test set of min(1,000, 10%) of the words, the rest to train on.
MAKEMORE_TEST_WORDS = 1000
MAKEMORE_TEST_SHARE = 0.1
