"""Every kind of model the book trains by name, declared once: the registry.

makemore's promise is one command for every model: `python -m makemore train --model KIND`.
This module is what stands behind KIND. Each entry of `KINDS` says, for one kind of model:

- its config dataclass (the seed included) and how to build the model from it;
- the data it reads: bigram *pairs*, context *windows* of a fixed size, or whole padded *words*;
- its default recipe (steps, learning rate and schedule, batch size, optimizer);
- the size options it takes (config fields, with their defaults) and the checks they need;
- the memory one training example takes in a step (`STEP_FLOATS`, an estimate), so a run that
  would not fit is refused before it starts.

The command line, the checkpoints, the chapters that train "the command line's run", the
benchmarks and the tests all find a model here, and `plan` turns words and options into a run
ready for `makemore.training.train`. Adding a model is one module and one entry below (and a
row of the README): `tests/test_zoo.py` builds every kind, trains it a few steps, round-trips it
through a checkpoint and samples from it, with no new test code.

The book's own recipes, chosen in their chapters, stand here too (`WAVENET_BOOK_RECIPE`,
`TRANSFORMER_BOOK`): what the lectures set is in `makemore.lecture`, what the book chose is here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any

import torch

from makemore import lecture
from makemore.bigram import BigramConfig, NeuralBigram, stable_lr
from makemore.data import DataError, Vocab, bigram_pairs, context_windows, split_words
from makemore.lecture import SEED
from makemore.mlp import MLP, MLPConfig
from makemore.recurrent import RNN, BoW, RecurrentConfig
from makemore.sequences import padded_words
from makemore.training import (
    Constant,
    Drops,
    Schedule,
    StepDecay,
    TrainConfig,
    WarmupLinear,
    split_loss,
)
from makemore.transformer import Transformer, TransformerConfig
from makemore.wavenet import WaveNetConfig, wavenet

# What a run may ask for: beyond these a run would not fit in memory (or in a lifetime), and
# the options are refused with one line before anything is built.
MAX_STEPS = 10_000_000
MAX_BATCH = 65_536
MAX_SIZE = {"block_size": 256, "n_embd": 4096, "n_hidden": 16_384, "n_embd2": 4096,
            "n_layer": 64, "n_head": 256}
MAX_PARAMS = 100_000_000  # 400 MB of float32 weights (AdamW keeps two more copies)
MAX_DATA_BYTES = 2 << 30  # the training examples, as index tensors
MAX_WORD = 32  # the longest word a sequence model reads: its memory grows with length^2


class OptionError(ValueError):
    """An option a kind of model cannot take: `option` names it (a config or recipe field),
    `reason` says why, in one line; `value` is the value refused, if one was."""

    def __init__(self, option: str, reason: str, value: Any = None):
        super().__init__(f"{option}: {reason}")
        self.option, self.reason, self.value = option, reason, value


# -----------------------------------------------------------------------------
# recipes: how a kind of model trains by default


@dataclass(frozen=True)
class Recipe:
    """A kind's default run. `schedule(steps, lr)` and `train_config(...)` turn it, with the
    options a run asks for, into the `TrainConfig` the loop takes."""

    steps: int  # training steps, in all
    lr: float  # the learning rate (the peak one, with a warm-up)
    batch_size: int | None = lecture.PART2_RECIPE["batch_size"]  # None: every pair, every step
    decay: str = "step"  # "step": lr / 10 from `decay_at` of the steps on; "constant";
    #                      "warmup-linear": up over `warmup` steps, then down to 0 at the end
    decay_at: float = 0.5  # "step": where the drop comes, as a share of the steps
    warmup: int = 0  # "warmup-linear": warm-up steps (a tenth of a shorter run), at least 1
    optimizer: str = "sgd"  # "sgd" or "adamw"
    weight_decay: float = 0.0  # AdamW's decoupled weight decay
    l2: float = 0.0  # the loss's weight penalty (Part 1's)

    def warmup_steps(self, steps: int) -> int:
        """The warm-up of a run of `steps` steps: `warmup`, or a tenth of a shorter run."""
        return max(1, min(self.warmup, steps // 10))

    def schedule(self, steps: int, lr: float) -> Schedule:
        if self.decay == "constant":
            return Constant(lr)
        if self.decay == "step":
            return StepDecay(lr, int(steps * self.decay_at), lr / 10)
        return WarmupLinear(lr, self.warmup_steps(steps), steps)

    def train_config(self, settings: Settings) -> TrainConfig:
        """The `TrainConfig` of a run with these settings, from step 0."""
        return TrainConfig(steps=settings.steps, batch_size=settings.batch_size,
                           schedule=self.schedule(settings.steps, settings.lr),
                           optimizer=self.optimizer, betas=lecture.MAKEMORE_OPTIM["betas"],
                           weight_decay=settings.weight_decay, l2=self.l2, seed=settings.seed)


@dataclass(frozen=True)
class Settings:
    """What one run asks for, every default filled in: the recipe's side of a run."""

    steps: int
    lr: float
    batch_size: int | None
    weight_decay: float
    seed: int


# The book's recipe for makemore.py's sequence models (Chapter 6, chosen on the dev split):
# AdamW with makemore.py's betas and minibatches of 32 words, a stronger weight decay than its
# 0.01, and a learning rate that warms up from 0 over 300 steps (or a tenth of a shorter run),
# then falls in a straight line to 0 at the last step.
SEQUENCE_STEPS = 20_000


def _sequence_recipe(lr: float) -> Recipe:
    return Recipe(steps=SEQUENCE_STEPS, lr=lr, batch_size=32, decay="warmup-linear", warmup=300,
                  optimizer="adamw", weight_decay=0.1)


# The book's WaveNet recipe (Chapter 5; fields of TrainConfig): the lecture's minibatches and
# learning rate, with the drop to lr / 10 brought forward from step 150,000 to 60,000, a second
# drop to lr / 100 at 72,000, and 80,000 steps in all. At the lecture's lr the dev loss stops
# improving long before step 150,000 (the training loss does not: the extra steps buy
# overfitting); the drops are what bring the dev loss down. Chapter 5 compares the two recipes;
# bench/time_to_target.py times them.
_P5 = lecture.PART5_RECIPE
WAVENET_BOOK_RECIPE = dict(steps=80_000, batch_size=_P5["batch_size"],
                           schedule=Drops(_P5["lr"], ((60_000, _P5["lr"] / 10),
                                                      (72_000, _P5["lr"] / 100))))

# The book's headline Transformer (Chapter 6), chosen on the dev split within the chapter's CPU
# budget: half the depth of makemore.py's default and a wider residual stream (as many
# parameters, and each step cheaper on one core), dropout 0.1 against overfitting, trained with
# the sequence models' recipe for TRANSFORMER_BOOK_STEPS steps.
TRANSFORMER_BOOK = dict(n_layer=2, n_head=4, n_embd=96, dropout=0.1)
TRANSFORMER_BOOK_STEPS = 18_000


# -----------------------------------------------------------------------------
# the kinds


@dataclass(frozen=True)
class Kind:
    """One kind of model: how to build it, what it reads, how it trains by default."""

    name: str
    help: str  # one line for the command line's --help
    config: type  # the config dataclass: vocab_size, seed and the sizes
    build: Callable[[Any], Any]  # config -> a freshly initialised model
    reads: str  # "pairs", "windows" (block_size characters) or "words" (whole padded words)
    recipe: Recipe
    sizes: dict[str, Any] = field(default_factory=dict)  # the size options: field -> default
    derive: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # more config fields
    check: Callable[[dict[str, Any]], None] | None = None  # OptionError on sizes it can't take
    min_batch: int = 1  # BatchNorm needs a batch of at least 2
    lr_cap: Callable[..., float] | None = None  # (X, Y, vocab_size) -> the largest default lr
    # config -> the floats one training example keeps during a step (see `step_bytes`)
    step_floats: Callable[[Any], int] = lambda c: 0

    def settings(self, steps: int | None = None, lr: float | None = None,
                 batch_size: int | None = None, weight_decay: float | None = None,
                 seed: int = SEED) -> Settings:
        """The recipe's defaults where an option is None; OptionError on one it cannot take."""
        r = self.recipe
        if r.batch_size is None and batch_size is not None:
            raise OptionError("batch_size", f"the {self.name} trains on every pair at each step")
        if r.optimizer != "adamw" and weight_decay is not None:
            raise OptionError("weight_decay", f"the {self.name} trains with plain SGD (AdamW's "
                              "weight decay is for the sequence models)")
        batch = r.batch_size if batch_size is None else batch_size
        if batch is not None and batch < self.min_batch:
            raise OptionError("batch_size", f"BatchNorm needs a batch of at least "
                              f"{self.min_batch}")
        if batch is not None and batch > MAX_BATCH:
            raise OptionError("batch_size", f"at most {MAX_BATCH:,}", value=batch)
        if steps is not None and steps > MAX_STEPS:
            raise OptionError("steps", f"at most {MAX_STEPS:,}", value=steps)
        return Settings(steps=r.steps if steps is None else steps, lr=lr or r.lr,
                        batch_size=batch, seed=seed,
                        weight_decay=r.weight_decay if weight_decay is None else weight_decay)

    def model_config(self, vocab_size: int, seed: int = SEED, **sizes: Any) -> Any:
        """The config of a model of this kind: the sizes given, the defaults for the rest.
        OptionError on one the command line would not build: a size below 1 (a dropout
        outside [0, 1)) or beyond its bound (MAX_SIZE; a sequence model's block_size, from
        the data, at most MAX_WORD + 1), one the kind's check refuses, a seed outside
        [0, 2**63), or more than MAX_PARAMS parameters (counted without allocating them)."""
        # a sequence model's block_size is not an option: it comes from the data (see `plan`)
        allowed = set(self.sizes) | ({"block_size"} if self.reads == "words" else set())
        unknown = sorted(set(sizes) - allowed)
        if unknown:
            takes = ", ".join(self.sizes) or "no size options"
            raise OptionError(unknown[0], f"the {self.name} does not take it (it takes {takes})")
        sizes = {**self.sizes, **sizes}
        for size, value in sizes.items():
            if size == "dropout":
                if not 0 <= value < 1:
                    raise OptionError(size, "must be at least 0 and below 1", value=value)
            elif value < 1:
                raise OptionError(size, "must be a positive integer", value=value)
            elif size in MAX_SIZE and value > MAX_SIZE[size]:
                raise OptionError(size, f"at most {MAX_SIZE[size]:,}", value=value)
        if self.reads == "words" and sizes.get("block_size", 0) > MAX_WORD + 1:
            raise OptionError("block_size", f"the sequence models read words of up to "
                              f"{MAX_WORD} characters", value=sizes["block_size"])
        if vocab_size < 2:
            raise OptionError("vocab_size", "a vocabulary has '.' and at least one character",
                              value=vocab_size)
        if not 0 <= seed < 2**63:
            raise OptionError("seed", "must be between 0 and 2**63 - 1", value=seed)
        if self.check is not None:
            self.check(sizes)
        extra = self.derive(sizes) if self.derive is not None else {}
        config = self.config(vocab_size=vocab_size, seed=seed, **sizes, **extra)
        n_params = self.n_params(config)
        if n_params > MAX_PARAMS:
            raise OptionError("model", f"this one would have {n_params:,} parameters, more "
                              f"than {MAX_PARAMS:,}: choose smaller sizes", value=self.name)
        return config

    def step_bytes(self, config: Any, rows: int) -> int:
        """The memory a training step of this model takes at its peak, estimated: `rows`
        examples (a minibatch, or every pair for a full-batch step) of `step_floats` each,
        and the parameters with their gradients and AdamW's two running averages, in float32.
        See STEP_FLOATS for where the constants come from."""
        copies = 4 if self.recipe.optimizer == "adamw" else 2
        return 4 * (rows * self.step_floats(config) + copies * self.n_params(config))

    def n_params(self, config: Any) -> int:
        """The parameters a model of this config has, counted without allocating them (the
        model is built on torch's "meta" device, which has shapes and no data)."""
        with torch.device("meta"):
            model = self.build(config)
        return sum(p.numel() for p in model.parameters())

    def rebuild(self, config: dict[str, Any]) -> Any:
        """A freshly initialised model from a config saved as a dict (a checkpoint's), with
        every field checked before anything is allocated: ValueError on an unknown, missing or
        mistyped one, or unless it is the config `model_config` makes of its sizes, with the
        command line's bounds (a crafted checkpoint's sizes are refused here, not by running
        out of memory)."""
        _check_types(self.config, config)
        sizes = {size: config[size] for size in self.sizes}
        if self.reads == "words":
            sizes["block_size"] = config["block_size"]
        try:
            expected = self.model_config(config["vocab_size"], seed=config["seed"], **sizes)
        except OptionError as err:  # the config's field, and its value, named
            value = "" if err.value is None else f" {err.value!r}"
            raise ValueError(f"config {err.option}{value}: {err.reason}") from None
        differ = sorted(k for k, v in asdict(expected).items() if config[k] != v)
        if differ:
            raise ValueError(f"config field {differ[0]!r} is {config[differ[0]]!r}; the "
                             f"{self.name} of these sizes has {getattr(expected, differ[0])!r}")
        return self.build(expected)

    def data(self, words: list[str], vocab: Vocab, block_size: int | None
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """The (X, Y) examples this kind trains on, from `words`."""
        if self.reads == "pairs":
            return bigram_pairs(words, vocab)
        if self.reads == "windows":
            return context_windows(words, vocab, block_size)
        return padded_words(words, vocab, block_size)


def _check_types(cls: type, config: dict[str, Any]) -> None:
    """Refuse (ValueError) unknown or missing fields of `cls` (a saved config has them all)
    and fields of the wrong type."""
    unknown = sorted(set(config) - {f.name for f in fields(cls)})
    if unknown:
        raise ValueError(f"unknown config field(s) {unknown} for {cls.__name__}")
    required = [f.name for f in fields(cls) if f.default is MISSING]
    missing = sorted({f.name for f in fields(cls)} - set(config))
    if missing:
        raise ValueError(f"missing config field(s) {missing} for {cls.__name__}")
    defaults = asdict(cls(**{name: config[name] for name in required}))
    for key, value in config.items():
        if defaults[key] is None:
            continue  # an optional field: the config class checks it, if it cares
        want = type(defaults[key])
        ok = isinstance(value, want) or (want is float and type(value) is int)
        if not ok or (want is int and type(value) is bool):
            raise ValueError(f"config field {key!r} should be {want.__name__}, not {value!r}")


def _bn_mlp_fields(sizes: dict[str, Any]) -> dict[str, Any]:
    """Part 3's BatchNorm stage: BatchNorm before the tanh, a quiet output layer, and W1 at
    the Kaiming scale for tanh, gain 5/3 over sqrt(fan_in)."""
    fan_in = sizes["block_size"] * sizes["n_embd"]
    return dict(lecture.PART3_STAGE_FIELDS["BatchNorm"],
                w1_scale=lecture.TANH_GAIN / math.sqrt(fan_in))


def _wavenet_levels(sizes: dict[str, Any]) -> dict[str, Any]:
    return {"n_levels": sizes["block_size"].bit_length() - 1}  # block_size = 2 ** levels


def _check_wavenet(sizes: dict[str, Any]) -> None:
    block = sizes["block_size"]
    if block < 2 or block & (block - 1):
        raise OptionError("block_size", f"the wavenet fuses pairs of positions, so its context "
                          f"is a power of two (2, 4, 8, 16, ...), not {block}")


def _check_transformer(sizes: dict[str, Any]) -> None:
    if sizes["n_embd"] % sizes["n_head"]:
        raise OptionError("n_embd", f"not a multiple of n_head {sizes['n_head']}: the heads "
                          "split the embedding between them", value=sizes["n_embd"])


# The floats one training example keeps alive during a step, at the peak (the activations the
# backward needs, their gradients, the manual paths' buffers), per kind: a constant times the
# position-wise width (times the depth), plus 4 per logit and, for attention, per score (13
# for the Transformer's heads, 4 for the bag of words' averages). The constants are the slope
# of a step's peak resident memory against its batch size (the growth of ru_maxrss from a run
# at one batch size to one at three times it, over the examples added), measured with the
# pinned torch on one CPU thread for the default sizes and wider and deeper ones, and rounded
# up by about a quarter: the estimates came out 1.2 to 2.3 times the measured slopes (the
# bigram's 8: about 6 measured). Evaluation is not counted: it runs without gradients, in
# slices of EVAL_POSITIONS (makemore.training.split_loss).
STEP_FLOATS: dict[str, Callable[[Any], int]] = {
    # the fused loss picks one log-probability per pair (bigram.neural_loss): no V-wide row
    "bigram": lambda c: 8,
    "mlp": lambda c: 2 * c.block_size * c.n_embd + 8 * c.n_hidden + 4 * c.vocab_size,
    "bn-mlp": lambda c: 2 * c.block_size * c.n_embd + 14 * c.n_hidden + 4 * c.vocab_size,
    "wavenet": lambda c: c.block_size * (2 * c.n_embd + 15 * c.n_hidden) + 4 * c.vocab_size,
    "rnn": lambda c: c.block_size * (2 * c.n_embd + 9 * c.n_embd2 + 4 * c.vocab_size),
    "gru": lambda c: c.block_size * (2 * c.n_embd + 20 * c.n_embd2 + 4 * c.vocab_size),
    "bow": lambda c: c.block_size * (24 * c.n_embd + 4 * c.n_embd2 + 4 * c.block_size
                                     + 4 * c.vocab_size),
    "transformer": lambda c: c.block_size * (c.n_layer * (115 * c.n_embd
                                                          + 13 * c.n_head * c.block_size)
                                             + 4 * c.vocab_size),
}

_MLP_SIZES = {k: lecture.PART2_MLP[k] for k in ("block_size", "n_embd", "n_hidden")}
_WINDOW = Recipe(steps=lecture.PART2_RECIPE["steps"], lr=lecture.PART2_RECIPE["lr"])
_SEQUENCE_LR = {"transformer": 3e-3, "rnn": 5e-3, "gru": 5e-3, "bow": 5e-3}  # the peak rates

KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("bigram", "Part 1: the neural bigram, one V x V layer, full-batch descent",
         BigramConfig, lambda c: NeuralBigram(c.vocab_size, c.seed), "pairs",
         # full-batch steps: the loss has levelled off by 500
         Recipe(steps=500, lr=lecture.PART1_BIGRAM["lr"], batch_size=None, decay="constant",
                l2=lecture.PART1_BIGRAM["reg"]),
         # the lecture's rate, or three quarters of the stable one where that is lower (few,
         # heavy rows: a small alphabet)
         lr_cap=lambda X, Y, V: 0.75 * stable_lr(X, Y, V)),
    Kind("mlp", "Part 2: the MLP of Bengio et al. (2003), minibatch SGD",
         MLPConfig, MLP, "windows", _WINDOW, sizes=_MLP_SIZES),
    Kind("bn-mlp", "Part 3: the MLP with BatchNorm and Kaiming-like initial scales",
         MLPConfig, MLP, "windows", _WINDOW, sizes=_MLP_SIZES, derive=_bn_mlp_fields,
         min_batch=2),
    Kind("wavenet", "Part 5: the WaveNet, 8 characters fused two at a time (the lecture's "
         "recipe: lr drops tenfold after 3/4 of the steps)",
         WaveNetConfig, wavenet, "windows",
         Recipe(steps=_P5["steps"], lr=_P5["lr"], decay_at=_P5["lr_decay_step"] / _P5["steps"]),
         sizes={k: lecture.PART5_NET[k] for k in ("block_size", "n_embd", "n_hidden")},
         derive=_wavenet_levels, check=_check_wavenet, min_batch=2),
    Kind("rnn", "makemore.py's recurrent network (a tanh cell), whole words",
         RecurrentConfig, lambda c: RNN(c, "rnn"), "words", _sequence_recipe(_SEQUENCE_LR["rnn"]),
         sizes=dict(lecture.MAKEMORE_MODEL)),
    Kind("gru", "makemore.py's gated recurrent unit (Cho et al. 2014), whole words",
         RecurrentConfig, lambda c: RNN(c, "gru"), "words", _sequence_recipe(_SEQUENCE_LR["gru"]),
         sizes=dict(lecture.MAKEMORE_MODEL)),
    Kind("bow", "makemore.py's causal bag of words: the average of the past, whole words",
         RecurrentConfig, BoW, "words", _sequence_recipe(_SEQUENCE_LR["bow"]),
         sizes=dict(lecture.MAKEMORE_MODEL)),
    # fused: LayerNorm and GELU by torch's kernels, the same functions (tests), faster steps
    Kind("transformer", "Chapter 6: the Transformer (GPT), makemore.py's default sizes, "
         "whole words", TransformerConfig, Transformer, "words",
         _sequence_recipe(_SEQUENCE_LR["transformer"]),
         sizes=dict(lecture.MAKEMORE_TRANSFORMER, dropout=0.0),
         derive=lambda sizes: {"fused": True}, check=_check_transformer),
]}
KINDS = {name: replace(kind, step_floats=STEP_FLOATS[name]) for name, kind in KINDS.items()}


# -----------------------------------------------------------------------------
# a run: the model, its data, its recipe


@dataclass
class Plan:
    """A training run ready for `makemore.training.train(plan.model, plan.X, plan.Y,
    plan.tcfg)`: a fresh model, its training examples from the canonical split, its recipe."""

    kind: Kind
    model: Any
    config: Any  # the model's config dataclass (rebuilds it: makemore.checkpoint)
    settings: Settings
    vocab: Vocab
    X: torch.Tensor  # the training examples
    Y: torch.Tensor
    dev: tuple[torch.Tensor, torch.Tensor] | None  # None when the split leaves no dev words
    tcfg: TrainConfig  # the whole run, from step 0
    # the word list's provenance, for a checkpoint's metadata (the command line fills it in)
    source: str = ""  # where the words came from
    n_words: int = 0
    digest: str = ""  # the SHA-256 of the word list (makemore.cli.words_digest)

    def loss(self, X: torch.Tensor, Y: torch.Tensor) -> float:
        """The model's mean loss per character on (X, Y), in eval mode."""
        return split_loss(self.model, X, Y)


MEMORY_SHARE = 0.9  # of the available memory, a run may plan to take (STEP_FLOATS: rounded up)


def available_memory() -> int | None:
    """The bytes of memory this machine can still give a process without swapping: Linux's
    MemAvailable (free memory and the caches it can drop), else the free pages (os.sysconf),
    else None (not known: no run is refused for memory)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def sequence_length(words: list[str]) -> int:
    """The length of a padded word for the sequence models: '.' then the longest word."""
    return max(len(w) for w in words) + 1


def plan(words: list[str], kind: str, *, vocab: Vocab | None = None, steps: int | None = None,
         lr: float | None = None, batch_size: int | None = None,
         weight_decay: float | None = None, seed: int = SEED,
         device: torch.device | str = "cpu", memory: int | None = None, **sizes: Any) -> Plan:
    """The run `python -m makemore train --model KIND [options]` makes on `words`, from step 0.

    Options left out (None) take the kind's defaults; `sizes` are config fields (block_size,
    n_embd, ...). A sequence model reads words of `sequence_length(words)` unless `block_size`
    says otherwise (a resumed run keeps its model's). Raises OptionError on an option the kind
    cannot take, and, given the bytes of `memory` the machine has (`available_memory()`), on a
    run whose training examples and step (`Kind.step_bytes`) would take more than
    MEMORY_SHARE of it: refused before anything is allocated.
    """
    k = KINDS[kind]
    settings = k.settings(steps=steps, lr=lr, batch_size=batch_size,
                          weight_decay=weight_decay, seed=seed)
    vocab = vocab or Vocab.from_words(words)
    if k.reads == "words":
        longest = sequence_length(words) - 1
        if longest > MAX_WORD:
            raise DataError(f"a word of {longest} characters: the sequence models read words "
                            f"of up to {MAX_WORD}")
        sizes.setdefault("block_size", longest + 1)
    config = k.model_config(len(vocab), seed=seed, **sizes)
    tr, dev, _ = split_words(words)
    block = getattr(config, "block_size", None)
    width = 1 if k.reads == "pairs" else block
    examples = len("".join(tr)) + len(tr)  # a pair or a window per character and per end
    data_bytes = 8 * 2 * width * examples  # X and Y, as int64
    if data_bytes > MAX_DATA_BYTES:
        raise OptionError("block_size", f"{len(tr):,} training words in windows of {width} "
                          "would not fit in memory", value=block)
    rows = settings.batch_size if settings.batch_size is not None else examples
    need = data_bytes + k.step_bytes(config, rows)
    if memory is not None and need > MEMORY_SHARE * memory:
        option, value = ("batch_size", rows) if settings.batch_size is not None else ("model", kind)
        raise OptionError(option, f"a training step of this {kind} needs about "
                          f"{need / 2**30:.1f} GiB, and this machine has {memory / 2**30:.1f} "
                          f"GiB available: choose a smaller "
                          + ("--batch-size or smaller sizes" if option == "batch_size" else
                             "word list"), value=value)
    X, Y = k.data(tr, vocab, block)
    dev_data = k.data(dev, vocab, block) if dev else None
    if dev_data is not None and not len(dev_data[1]):
        dev_data = None
    if lr is None and k.lr_cap is not None:
        settings = replace(settings, lr=min(settings.lr, k.lr_cap(X, Y, len(vocab))))
    model = k.build(config)
    if hasattr(model, "to"):
        model.to(device)
    return Plan(k, model, config, settings, vocab, X.to(device), Y.to(device), dev_data,
                k.recipe.train_config(settings))
